//! What a session hands to its driver: [`Event`]s, [`Pending`] decisions,
//! and what the driver hands back: a [`Verdict`].

use std::fmt;

use crate::address::{Domain, ForwardPath, ReversePath};
use crate::data::DataStats;
use crate::params::{MailParams, RcptParams};
use crate::reply::Reply;
use crate::sasl::{Credentials, Mechanism};
use crate::session::info::Envelope;

/// Output of [`Session::poll_event`](crate::Session::poll_event).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Send this reply.
    Reply(Reply),
    /// The session waits for the application: resolve it with
    /// [`Session::decide`](crate::Session::decide).
    Decide(Pending),
    /// Flush the replies so far, then run the TLS handshake and report it
    /// with [`Session::tls_established`](crate::Session::tls_established).
    /// Plaintext received after STARTTLS has already been discarded.
    StartTls,
    /// A complete message: store it, then report the outcome with
    /// [`Session::decide`](crate::Session::decide): accept only once it is
    /// stored durably; reject (e.g. `451 4.3.0`) if it could not be.
    Deliver(Transaction),
    /// Flush the replies so far and close the connection.
    Close,
    /// A command line the client sent, for transcripts (only with
    /// [`SessionConfig::record_commands`](crate::SessionConfig::record_commands)).
    /// UTF-8 is shown as text; control characters and invalid octets are
    /// shown as `?`, long lines are cut, and
    /// AUTH secrets are replaced by `***`.
    Command(String),
}

impl Event {
    /// The reply, for [`Event::Reply`].
    pub fn as_reply(&self) -> Option<&Reply> {
        match self {
            Self::Reply(reply) => Some(reply),
            _ => None,
        }
    }
}

/// A decision the application must make before the session goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pending {
    /// A client connected. Accept gives the `220` greeting; reject gives
    /// `554` and closes.
    Connect,
    /// HELO, EHLO or LHLO with this name.
    Helo {
        /// The name the client gave.
        name: Domain,
        /// True for EHLO and LHLO.
        extended: bool,
    },
    /// STARTTLS.
    StartTls,
    /// AUTH with this mechanism, before any credentials are exchanged.
    Auth {
        /// The mechanism asked for.
        mechanism: Mechanism,
    },
    /// Check these credentials (the authenticator's job).
    Authenticate {
        /// What the client presented.
        credentials: Credentials,
    },
    /// MAIL FROM.
    MailFrom {
        /// The sender.
        reverse_path: ReversePath,
        /// Its parameters.
        params: MailParams,
    },
    /// RCPT TO.
    RcptTo {
        /// The recipient.
        forward_path: ForwardPath,
        /// Its parameters.
        params: RcptParams,
    },
    /// DATA, before the `354`, or the first BDAT of a transaction.
    Data,
    /// VRFY with this argument. Accept gives `252 2.5.2`.
    Vrfy {
        /// The string to verify.
        argument: String,
    },
}

/// A complete message at the end of DATA, with its envelope.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transaction {
    /// The envelope.
    pub envelope: Envelope,
    /// The content exactly as received, dot-stuffing removed, CRLF kept.
    pub data: Vec<u8>,
    /// What the DATA receiver saw (bare CR/LF, NUL, 8-bit, line length).
    pub stats: DataStats,
    /// What the client did against the rules in this transaction; empty
    /// for a conforming client.
    pub findings: Vec<crate::findings::Finding>,
}

/// Which RFC 5321 §4.5.3.2 timeout applies now. The session never reads a
/// clock: the driver maps this to a duration from
/// [`Limits`](crate::Limits) and calls
/// [`Session::timed_out`](crate::Session::timed_out) when it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Waiting for a command (also for the first one after the greeting).
    Command,
    /// Waiting for the next chunk of DATA.
    DataBlock,
    /// The server's own work after the end of data (policy and sink).
    DataTermination,
}

/// The application's answer to a [`Pending`] decision, or to an
/// [`Event::Deliver`].
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
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Verdict {
    pub(crate) accept: bool,
    pub(crate) reply: Option<Reply>,
    pub(crate) close: Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Close {
    No,
    AfterReply,
    WithoutReply,
}

impl Verdict {
    /// Accept, with the default reply.
    pub fn accept() -> Self {
        Self {
            accept: true,
            reply: None,
            close: Close::No,
        }
    }

    /// Accept, with this reply. Its first digit must match the default
    /// reply's (2xx, or 3xx for DATA); otherwise the session answers
    /// `451 4.3.0` and treats the command as rejected. For
    /// [`Pending::Auth`] the mechanism's own challenges are sent and an
    /// accepting reply is not used.
    pub fn accept_with(reply: Reply) -> Self {
        Self {
            accept: true,
            reply: Some(reply),
            close: Close::No,
        }
    }

    /// Reject, with the default reply for the stage.
    pub fn reject() -> Self {
        Self {
            accept: false,
            reply: None,
            close: Close::No,
        }
    }

    /// Reject, with this reply, which must be 4xx or 5xx; otherwise the
    /// session answers `451 4.3.0`.
    pub fn reject_with(reply: Reply) -> Self {
        Self {
            accept: false,
            reply: Some(reply),
            close: Close::No,
        }
    }

    /// Close the connection right away, without any reply.
    pub fn disconnect() -> Self {
        Self {
            accept: false,
            reply: None,
            close: Close::WithoutReply,
        }
    }

    /// Close the connection after sending the reply.
    pub fn and_close(mut self) -> Self {
        if self.close == Close::No {
            self.close = Close::AfterReply;
        }
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

/// The caller used the session API in a way it does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiMisuse {
    /// `decide` was called with no decision pending.
    NoPendingDecision,
    /// `tls_established` was called without a STARTTLS in progress.
    NoTlsHandshake,
    /// `decide_each` was given a number of verdicts other than the number
    /// of recipients, or was used outside an LMTP delivery.
    WrongVerdictCount,
}

impl fmt::Display for ApiMisuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoPendingDecision => "no decision is pending",
            Self::NoTlsHandshake => "no TLS handshake is in progress",
            Self::WrongVerdictCount => "one verdict per recipient is needed for an LMTP delivery",
        })
    }
}

impl std::error::Error for ApiMisuse {}

/// An [`Event`] as queued inside the session: the large payloads boxed,
/// so that an idle session's queue costs little memory.
#[derive(Debug)]
pub(crate) enum Queued {
    Reply(Reply),
    Decide(Box<Pending>),
    Deliver(Box<Transaction>),
    StartTls,
    Close,
    Command(String),
}

impl Queued {
    pub(crate) fn from_event(event: Event) -> Self {
        match event {
            Event::Reply(r) => Self::Reply(r),
            Event::Decide(p) => Self::Decide(Box::new(p)),
            Event::Deliver(t) => Self::Deliver(Box::new(t)),
            Event::StartTls => Self::StartTls,
            Event::Close => Self::Close,
            Event::Command(c) => Self::Command(c),
        }
    }

    pub(crate) fn into_event(self) -> Event {
        match self {
            Self::Reply(r) => Event::Reply(r),
            Self::Decide(p) => Event::Decide(*p),
            Self::Deliver(t) => Event::Deliver(*t),
            Self::StartTls => Event::StartTls,
            Self::Close => Event::Close,
            Self::Command(c) => Event::Command(c),
        }
    }
}
