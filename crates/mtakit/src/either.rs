//! [`Either`]: one of two parts chosen at run time (from a flag, say), as
//! a [`Policy`], a [`MessageSink`] or an [`Authenticator`], without a
//! hand-written enum or a `dyn`.

use std::future::Future;

use mtakit_proto::{Credentials, Mechanism, Reply, SessionInfo, Verdict};

use crate::auth::{AuthResult, Authenticator};
use crate::message::Message;
use crate::policy::{Policy, Stage};
use crate::sink::MessageSink;

/// One of two policies, sinks or authenticators, chosen at run time. It
/// forwards every method to the one it holds.
///
/// ```
/// use mtakit::{Either, MaildirSink, MemorySink, Server};
///
/// # fn run(maildir: Option<&str>) -> std::io::Result<()> {
/// let sink = match maildir {
///     Some(dir) => Either::Left(MaildirSink::create(dir)?),
///     None => Either::Right(MemorySink::new()),
/// };
/// let server = Server::builder().sink(sink).build();
/// # let _ = server; Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Either<L, R> {
    /// The first kind.
    Left(L),
    /// The second kind.
    Right(R),
}

impl<L: Policy, R: Policy> Policy for Either<L, R> {
    async fn decide(&self, session: &SessionInfo, stage: Stage<'_>) -> Verdict {
        match self {
            Self::Left(policy) => policy.decide(session, stage).await,
            Self::Right(policy) => policy.decide(session, stage).await,
        }
    }
}

impl<L: MessageSink, R: MessageSink> MessageSink for Either<L, R> {
    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        match self {
            Self::Left(sink) => sink.deliver(message).await,
            Self::Right(sink) => sink.deliver(message).await,
        }
    }

    fn keeps_content(&self) -> bool {
        match self {
            Self::Left(sink) => sink.keeps_content(),
            Self::Right(sink) => sink.keeps_content(),
        }
    }

    async fn deliver_each(&self, message: Message) -> Vec<Result<(), Reply>> {
        match self {
            Self::Left(sink) => sink.deliver_each(message).await,
            Self::Right(sink) => sink.deliver_each(message).await,
        }
    }
}

impl<L: Authenticator, R: Authenticator> Authenticator for Either<L, R> {
    fn mechanisms(&self) -> Vec<Mechanism> {
        match self {
            Self::Left(auth) => auth.mechanisms(),
            Self::Right(auth) => auth.mechanisms(),
        }
    }

    fn authenticate(
        &self,
        credentials: &Credentials,
        session: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        let (left, right) = match self {
            Self::Left(auth) => (Some(auth.authenticate(credentials, session)), None),
            Self::Right(auth) => (None, Some(auth.authenticate(credentials, session))),
        };
        async move {
            match (left, right) {
                (Some(left), _) => left.await,
                (_, Some(right)) => right.await,
                (None, None) => AuthResult::Failure,
            }
        }
    }
}
