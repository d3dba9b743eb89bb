//! The [`Verdict`]: the application's answer to a decision, with the data
//! of the stage it answers (a message size, EHLO extensions, LMTP replies).

use crate::reply::Reply;
use crate::session::config::Extensions;

/// The application's answer to a [`Pending`](crate::Pending) decision, or
/// to an [`Event::Deliver`](crate::Event::Deliver).
///
/// ```
/// use mtakit_proto::{EnhancedCode, Reply, Verdict};
///
/// let ok = Verdict::accept();
/// assert!(ok.is_accept());
///
/// let reply = Reply::multiline(553, Some(EnhancedCode::new(5, 7, 1).unwrap()), ["Go away", "Evil IP"])?;
/// let no = Verdict::reject_with(reply).and_close();
/// assert!(!no.is_accept() && no.closes());
/// # Ok::<(), mtakit_proto::ReplyError>(())
/// ```
///
/// # Stage data
///
/// An accepting verdict may carry what the stage decided besides the
/// reply, applied by [`Session::decide`](crate::Session::decide):
///
/// | Builder | Stage | Effect |
/// |---|---|---|
/// | [`with_max_message_size`](Self::with_max_message_size) | [`Pending::Connect`](crate::Pending::Connect), [`Pending::Helo`](crate::Pending::Helo) | the largest message of this connection, advertised in `SIZE` and enforced |
/// | [`with_extensions`](Self::with_extensions) | [`Pending::Helo`](crate::Pending::Helo) (EHLO, LHLO) | the extensions advertised in this reply and honoured until the next EHLO |
/// | [`each`](Self::each) | an LMTP [`Event::Deliver`](crate::Event::Deliver) | one verdict per recipient |
///
/// Data that the stage does not use is reported as a
/// [`PolicyError::Ignored`](crate::PolicyError::Ignored) event.
///
/// ```
/// use mtakit_proto::{Extensions, Verdict};
///
/// let mut ext = Extensions::default();
/// ext.pipelining = false;
/// let verdict = Verdict::accept().with_extensions(ext).with_max_message_size(1 << 20);
/// assert_eq!(verdict.max_message_size(), Some(1 << 20));
/// assert!(!verdict.extensions().unwrap().pipelining);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Verdict {
    pub(crate) accept: bool,
    pub(crate) reply: Option<Reply>,
    pub(crate) close: Close,
    /// Boxed: most verdicts carry none, and verdicts are cloned per
    /// recipient.
    pub(crate) data: Option<Box<StageData>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Close {
    No,
    AfterReply,
    WithoutReply,
}

/// What a verdict carries besides accept or reject and the reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StageData {
    pub(crate) max_message_size: Option<u64>,
    pub(crate) extensions: Option<Extensions>,
    pub(crate) each: Option<Vec<Verdict>>,
}

impl Verdict {
    fn new(accept: bool, reply: Option<Reply>, close: Close) -> Self {
        Self {
            accept,
            reply,
            close,
            data: None,
        }
    }

    /// Accept, with the default reply.
    pub fn accept() -> Self {
        Self::new(true, None, Close::No)
    }

    /// Accept, with this reply. Its first digit must match the default
    /// reply's (2xx, or 3xx for DATA); otherwise the session answers
    /// `451 4.3.0`, treats the command as rejected and reports a
    /// [`PolicyError::WrongClass`](crate::PolicyError::WrongClass). For
    /// [`Pending::Auth`](crate::Pending::Auth) and BDAT the mechanism's or
    /// the chunk's own replies are sent: an accepting reply there is not
    /// used, and reported as [`PolicyError::Ignored`](crate::PolicyError::Ignored).
    pub fn accept_with(reply: Reply) -> Self {
        Self::new(true, Some(reply), Close::No)
    }

    /// Reject, with the default reply for the stage.
    pub fn reject() -> Self {
        Self::new(false, None, Close::No)
    }

    /// Reject, with this reply, which must be 4xx or 5xx; otherwise the
    /// session answers `451 4.3.0` and reports a
    /// [`PolicyError::WrongClass`](crate::PolicyError::WrongClass).
    pub fn reject_with(reply: Reply) -> Self {
        Self::new(false, Some(reply), Close::No)
    }

    /// Close the connection right away, without any reply.
    pub fn disconnect() -> Self {
        Self::new(false, None, Close::WithoutReply)
    }

    /// One verdict per recipient of an LMTP message, in envelope order
    /// (RFC 2033 §4.2), as the answer to its
    /// [`Event::Deliver`](crate::Event::Deliver): the same as
    /// [`Session::decide_each`](crate::Session::decide_each). A list of
    /// another length gives every recipient `451 4.3.0`. The verdict
    /// accepts when any recipient's does.
    pub fn each(verdicts: impl IntoIterator<Item = Verdict>) -> Self {
        let verdicts: Vec<Verdict> = verdicts.into_iter().collect();
        let mut verdict = Self::new(verdicts.iter().any(Self::is_accept), None, Close::No);
        verdict.data_mut().each = Some(verdicts);
        verdict
    }

    /// Close the connection after sending the reply.
    pub fn and_close(mut self) -> Self {
        if self.close == Close::No {
            self.close = Close::AfterReply;
        }
        self
    }

    /// With the largest message accepted on this connection, in octets:
    /// advertised in `SIZE` and enforced. For the Connect and HELO/EHLO
    /// stages; without it the session keeps
    /// [`Limits::max_message_size`](crate::Limits::max_message_size), or
    /// what an earlier stage set.
    pub fn with_max_message_size(mut self, octets: u64) -> Self {
        self.data_mut().max_message_size = Some(octets);
        self
    }

    /// With the extensions to advertise in the reply to this EHLO or LHLO,
    /// made [`consistent`](Extensions::consistent), and honoured until the
    /// next EHLO. Without it each EHLO gets the configured
    /// [`SessionConfig::extensions`](crate::SessionConfig::extensions),
    /// which [`SessionInfo::configured_extensions`](crate::SessionInfo::configured_extensions)
    /// shows, to start from.
    pub fn with_extensions(mut self, extensions: Extensions) -> Self {
        self.data_mut().extensions = Some(extensions);
        self
    }

    /// True for an accepting verdict.
    pub fn is_accept(&self) -> bool {
        self.accept
    }

    /// The custom reply, if any.
    pub fn reply(&self) -> Option<&Reply> {
        self.reply.as_ref()
    }

    /// True when the connection closes after this verdict.
    pub fn closes(&self) -> bool {
        self.close != Close::No
    }

    /// The message size set with [`with_max_message_size`](Self::with_max_message_size).
    pub fn max_message_size(&self) -> Option<u64> {
        self.data.as_ref()?.max_message_size
    }

    /// The extensions set with [`with_extensions`](Self::with_extensions).
    pub fn extensions(&self) -> Option<&Extensions> {
        self.data.as_ref()?.extensions.as_ref()
    }

    /// The per-recipient verdicts of [`each`](Self::each).
    pub fn recipients(&self) -> Option<&[Verdict]> {
        self.data.as_ref()?.each.as_deref()
    }

    /// Takes the per-recipient verdicts of [`each`](Self::each) out.
    pub(crate) fn take_each(&mut self) -> Option<Vec<Verdict>> {
        self.data.as_mut()?.each.take()
    }

    fn data_mut(&mut self) -> &mut StageData {
        self.data.get_or_insert_with(Box::default)
    }
}

impl From<bool> for Verdict {
    /// `true` accepts and `false` rejects, with default replies.
    fn from(accept: bool) -> Self {
        if accept {
            Self::accept()
        } else {
            Self::reject()
        }
    }
}
