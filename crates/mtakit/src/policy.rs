//! The [`Policy`] trait: one async hook per SMTP stage.

use std::future::{Future, ready};
use std::sync::Arc;

use mtakit_proto::{
    Domain, Extensions, ForwardPath, MailParams, Mechanism, RcptParams, ReversePath, SessionInfo,
    Verdict,
};

use crate::message::Message;

/// Decides, command by command, what the server accepts. This is pymta's
/// `IMTAPolicy`, made async.
///
/// Every method has a default that accepts, so a policy only writes the
/// stages it cares about. Each receives a read-only view of the session
/// (peer, HELO name, TLS, authenticated identity, envelope so far) and
/// returns a [`Verdict`]: accept or reject, with the default reply or a
/// custom one (single or multi-line), optionally closing the connection.
/// Methods may be written as `async fn`.
///
/// Which reply to use for common outcomes:
/// - unknown user at RCPT: `550 5.1.1`;
/// - relaying denied: `550 5.7.1` (the default reject);
/// - try again later (greylisting, overload): `451 4.7.1` or `450 4.2.0`;
/// - message too big for this sender: `552 5.3.4`;
/// - content refused: `550 5.7.1` or `554 5.7.1`.
///
/// ```
/// use mtakit::{Policy, Verdict};
/// use mtakit::proto::{ForwardPath, RcptParams, Reply, SessionInfo};
///
/// struct OnlyExampleCom;
///
/// impl Policy for OnlyExampleCom {
///     async fn accept_rcpt_to(&self, _: &SessionInfo, to: &ForwardPath, _: &RcptParams) -> Verdict {
///         match to.mailbox() {
///             Some(m) if m.domain().to_string() == "example.com" => Verdict::accept(),
///             // `550 5.1.1 No such user here`; any other with `"550 5.1.1 ...".parse()?`.
///             _ => Verdict::reject_with(Reply::no_such_user()),
///         }
///     }
/// }
/// ```
pub trait Policy: Send + Sync + 'static {
    /// A client connected, before the greeting. Reject gives `554` and
    /// closes.
    fn accept_connection(&self, session: &SessionInfo) -> impl Future<Output = Verdict> + Send {
        let _ = session;
        ready(Verdict::accept())
    }

    /// The largest message this client may send, advertised in SIZE and
    /// enforced; `None` keeps [`Limits::max_message_size`](crate::proto::Limits::max_message_size).
    /// Asked once, after the connection was accepted.
    fn max_message_size(&self, session: &SessionInfo) -> Option<u64> {
        let _ = session;
        None
    }

    /// HELO or EHLO (`extended`) with this name.
    fn accept_helo(
        &self,
        session: &SessionInfo,
        name: &Domain,
        extended: bool,
    ) -> impl Future<Output = Verdict> + Send {
        let _ = (session, name, extended);
        ready(Verdict::accept())
    }

    /// Adjusts the extensions advertised in the reply to an accepted
    /// EHLO or LHLO with this `name`, before it is sent. `extensions`
    /// starts from the server's configuration every time, so a change
    /// applies to this reply (and the session until the next EHLO) only.
    fn ehlo_extensions(&self, session: &SessionInfo, name: &Domain, extensions: &mut Extensions) {
        let _ = (session, name, extensions);
    }

    /// STARTTLS, before the `220`.
    fn accept_starttls(&self, session: &SessionInfo) -> impl Future<Output = Verdict> + Send {
        let _ = session;
        ready(Verdict::accept())
    }

    /// AUTH with this mechanism, before credentials are exchanged. The
    /// credentials themselves go to the [`Authenticator`](crate::Authenticator).
    fn accept_auth(
        &self,
        session: &SessionInfo,
        mechanism: Mechanism,
    ) -> impl Future<Output = Verdict> + Send {
        let _ = (session, mechanism);
        ready(Verdict::accept())
    }

    /// MAIL FROM, after syntax and SIZE checks.
    fn accept_mail_from(
        &self,
        session: &SessionInfo,
        reverse_path: &ReversePath,
        params: &MailParams,
    ) -> impl Future<Output = Verdict> + Send {
        let _ = (session, reverse_path, params);
        ready(Verdict::accept())
    }

    /// Each RCPT TO, after syntax and the recipient limit. The default
    /// reject is `550 5.7.1 relay not permitted`.
    fn accept_rcpt_to(
        &self,
        session: &SessionInfo,
        forward_path: &ForwardPath,
        params: &RcptParams,
    ) -> impl Future<Output = Verdict> + Send {
        let _ = (session, forward_path, params);
        ready(Verdict::accept())
    }

    /// DATA, before the `354`.
    fn accept_data(&self, session: &SessionInfo) -> impl Future<Output = Verdict> + Send {
        let _ = session;
        ready(Verdict::accept())
    }

    /// The whole message, after the end of data and before delivery.
    fn accept_message(
        &self,
        session: &SessionInfo,
        message: &Message,
    ) -> impl Future<Output = Verdict> + Send {
        let _ = (session, message);
        ready(Verdict::accept())
    }

    /// The whole message in LMTP mode, where each recipient gets its own
    /// reply after the data (RFC 2033 §4.2): one verdict per recipient of
    /// `message`, in envelope order. Only recipients whose verdict accepts
    /// are handed to the [`MessageSink`](crate::MessageSink); the others
    /// get their verdict's reply. A list of another length gives every
    /// recipient `451 4.3.0`.
    ///
    /// The default asks [`accept_message`](Self::accept_message) once and
    /// gives its verdict to every recipient, so a policy that does not
    /// care about LMTP need not write this.
    fn accept_message_each(
        &self,
        session: &SessionInfo,
        message: &Message,
    ) -> impl Future<Output = Vec<Verdict>> + Send {
        let count = message.recipients().len();
        let verdict = self.accept_message(session, message);
        async move { vec![verdict.await; count] }
    }

    /// How long to wait between octets when writing the next replies, for
    /// testing how a client copes with a slow server (transport chaos).
    /// Asked before each write; `None`, the default, writes at once.
    fn reply_pace(&self, session: &SessionInfo) -> Option<std::time::Duration> {
        let _ = session;
        None
    }

    /// VRFY. Accept gives `252 2.5.2`; a policy that knows its users may
    /// accept with `250` and the mailbox.
    fn accept_vrfy(
        &self,
        session: &SessionInfo,
        argument: &str,
    ) -> impl Future<Output = Verdict> + Send {
        let _ = (session, argument);
        ready(Verdict::accept())
    }
}

/// The policy that accepts every well-formed command.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptAll;

impl Policy for AcceptAll {}

impl<P: Policy> Policy for Arc<P> {
    fn accept_connection(&self, session: &SessionInfo) -> impl Future<Output = Verdict> + Send {
        (**self).accept_connection(session)
    }
    fn max_message_size(&self, session: &SessionInfo) -> Option<u64> {
        (**self).max_message_size(session)
    }
    fn accept_helo(
        &self,
        session: &SessionInfo,
        name: &Domain,
        extended: bool,
    ) -> impl Future<Output = Verdict> + Send {
        (**self).accept_helo(session, name, extended)
    }
    fn ehlo_extensions(&self, session: &SessionInfo, name: &Domain, extensions: &mut Extensions) {
        (**self).ehlo_extensions(session, name, extensions);
    }
    fn accept_starttls(&self, session: &SessionInfo) -> impl Future<Output = Verdict> + Send {
        (**self).accept_starttls(session)
    }
    fn accept_auth(
        &self,
        session: &SessionInfo,
        mechanism: Mechanism,
    ) -> impl Future<Output = Verdict> + Send {
        (**self).accept_auth(session, mechanism)
    }
    fn accept_mail_from(
        &self,
        session: &SessionInfo,
        reverse_path: &ReversePath,
        params: &MailParams,
    ) -> impl Future<Output = Verdict> + Send {
        (**self).accept_mail_from(session, reverse_path, params)
    }
    fn accept_rcpt_to(
        &self,
        session: &SessionInfo,
        forward_path: &ForwardPath,
        params: &RcptParams,
    ) -> impl Future<Output = Verdict> + Send {
        (**self).accept_rcpt_to(session, forward_path, params)
    }
    fn accept_data(&self, session: &SessionInfo) -> impl Future<Output = Verdict> + Send {
        (**self).accept_data(session)
    }
    fn accept_message(
        &self,
        session: &SessionInfo,
        message: &Message,
    ) -> impl Future<Output = Verdict> + Send {
        (**self).accept_message(session, message)
    }
    fn accept_message_each(
        &self,
        session: &SessionInfo,
        message: &Message,
    ) -> impl Future<Output = Vec<Verdict>> + Send {
        (**self).accept_message_each(session, message)
    }
    fn accept_vrfy(
        &self,
        session: &SessionInfo,
        argument: &str,
    ) -> impl Future<Output = Verdict> + Send {
        (**self).accept_vrfy(session, argument)
    }
    fn reply_pace(&self, session: &SessionInfo) -> Option<std::time::Duration> {
        (**self).reply_pace(session)
    }
}
