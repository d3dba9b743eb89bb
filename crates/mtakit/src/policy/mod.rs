//! The [`Policy`] trait: one dispatch point, [`Policy::decide`], over one
//! async hook per SMTP [`Stage`].

mod compose;
mod make;
mod stage;

use std::future::{Future, ready};
use std::sync::Arc;

use mtakit_proto::{
    Domain, ForwardPath, MailParams, Mechanism, RcptParams, ReversePath, SessionInfo, Verdict,
};

use crate::message::Message;

pub use compose::{Chain, PolicyFn, policy_fn};
pub use make::MakePolicy;
pub use stage::Stage;

/// Decides, command by command, what the server accepts. This is pymta's
/// `IMTAPolicy`, made async.
///
/// Every method has a default that accepts, so a policy only writes the
/// stages it cares about. Each receives a read-only view of the session
/// (peer, HELO name, TLS, authenticated identity, envelope so far) and
/// returns a [`Verdict`]: accept or reject, with the default reply or a
/// custom one (single or multi-line), optionally closing the connection,
/// and, at some stages, [stage data](Verdict#stage-data) such as the
/// message size or the EHLO extensions. Methods may be written as
/// `async fn`.
///
/// # One dispatch point
///
/// The server calls only [`decide`](Self::decide), whose default
/// dispatches each [`Stage`] to its `accept_*` method. A wrapper (a
/// logging policy, [`Arc`], a fault plan, [`Chain`], [`Either`](crate::Either)) forwards
/// `decide` alone and so sees every stage, including any added later. A
/// policy that overrides `decide` and still wants the per-stage methods for
/// some stages calls [`dispatch`] for them. [`policy_fn`] makes a policy
/// of one closure over the stage. To ask a policy you did not write, call
/// `decide`, not an `accept_*` method: a wrapper's own `accept_*` methods
/// are the defaults.
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
///             Some(m) if m.domain().eq_ignore_ascii_case("example.com") => Verdict::accept(),
///             // `550 5.1.1 No such user here`; any other with `"550 5.1.1 ...".parse()?`.
///             _ => Verdict::reject_with(Reply::no_such_user()),
///         }
///     }
/// }
/// ```
pub trait Policy: Send + Sync + 'static {
    /// Decides one stage. The default calls the stage's `accept_*` method
    /// (see [`dispatch`]); wrappers forward this method only.
    fn decide(
        &self,
        session: &SessionInfo,
        stage: Stage<'_>,
    ) -> impl Future<Output = Verdict> + Send {
        dispatch(self, session, stage)
    }

    /// This policy, then `next`: the first verdict that does not accept
    /// wins, and accepting verdicts merge; see [`Chain`].
    fn and_then<B: Policy>(self, next: B) -> Chain<Self, B>
    where
        Self: Sized,
    {
        Chain::new(self, next)
    }

    /// A client connected, before the greeting. Reject gives `554` and
    /// closes. An accepting verdict may set this connection's largest
    /// message with [`Verdict::with_max_message_size`]; otherwise
    /// [`Limits::max_message_size`](crate::proto::Limits::max_message_size)
    /// applies.
    fn accept_connection(&self, session: &SessionInfo) -> impl Future<Output = Verdict> + Send {
        let _ = session;
        ready(Verdict::accept())
    }

    /// HELO or EHLO (`extended`) with this name. An accepting verdict
    /// for EHLO or LHLO may carry the extensions to offer, edited from
    /// [`SessionInfo::configured_extensions`], with
    /// [`Verdict::with_extensions`]: they apply to this reply and the
    /// session until the next EHLO.
    fn accept_helo(
        &self,
        session: &SessionInfo,
        name: &Domain,
        extended: bool,
    ) -> impl Future<Output = Verdict> + Send {
        let _ = (session, name, extended);
        ready(Verdict::accept())
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
    fn decide(
        &self,
        session: &SessionInfo,
        stage: Stage<'_>,
    ) -> impl Future<Output = Verdict> + Send {
        (**self).decide(session, stage)
    }
}

/// Calls the `accept_*` method of `stage` on `policy`: what the default
/// [`Policy::decide`] does, for a policy that overrides `decide` for some
/// stages only. [`Stage::MessageEach`] gives
/// [`Verdict::each`] of [`Policy::accept_message_each`].
pub async fn dispatch<P: Policy + ?Sized>(
    policy: &P,
    session: &SessionInfo,
    stage: Stage<'_>,
) -> Verdict {
    match stage {
        Stage::Connect => policy.accept_connection(session).await,
        Stage::Helo { name, extended } => policy.accept_helo(session, name, extended).await,
        Stage::StartTls => policy.accept_starttls(session).await,
        Stage::Auth { mechanism } => policy.accept_auth(session, mechanism).await,
        Stage::MailFrom {
            reverse_path,
            params,
        } => policy.accept_mail_from(session, reverse_path, params).await,
        Stage::RcptTo {
            forward_path,
            params,
        } => policy.accept_rcpt_to(session, forward_path, params).await,
        Stage::Data => policy.accept_data(session).await,
        Stage::Message { message } => policy.accept_message(session, message).await,
        Stage::MessageEach { message } => {
            Verdict::each(policy.accept_message_each(session, message).await)
        }
        Stage::Vrfy { argument } => policy.accept_vrfy(session, argument).await,
    }
}
