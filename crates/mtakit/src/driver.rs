//! The per-connection driver: socket bytes into the [`Session`], events out
//! to the socket, the policy, the authenticator and the sink.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mtakit_proto::{
    ConnectionInfo, Event, Pending, Reply, Session, TimeoutKind, Transaction, Verdict,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::auth::{AuthResult, Authenticator};
use crate::error::ConnectionError;
use crate::message::Message;
use crate::policy::Policy;
use crate::server::Shared;
use crate::sink::{MessageSink, temporary_failure};

/// The size of one read.
const READ_SIZE: usize = 16 * 1024;

/// Drives one connection to its end.
pub(crate) async fn drive<IO, P, A, S>(
    mut io: IO,
    info: ConnectionInfo,
    shared: Arc<Shared<P, A, S>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ConnectionError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
    P: Policy,
    A: Authenticator,
    S: MessageSink,
{
    let mut session = Session::new(shared.config.clone(), info);
    let mut out: Vec<u8> = Vec::with_capacity(512);
    let mut buf = vec![0u8; READ_SIZE];
    let limits = &shared.config.limits;
    let mut draining = *shutdown.borrow();
    if draining {
        session.shutdown();
    }
    loop {
        while let Some(event) = session.poll_event() {
            match event {
                Event::Reply(reply) => reply.write_to(&mut out),
                Event::Decide(pending) => {
                    let verdict = decide(&shared, &mut session, pending).await;
                    session.decide(verdict).map_err(ConnectionError::internal)?;
                }
                Event::Deliver(transaction) => {
                    let verdict = deliver(&shared, &session, transaction).await;
                    session.decide(verdict).map_err(ConnectionError::internal)?;
                }
                Event::StartTls => {
                    // TLS is not configured in this build: the session only
                    // offers STARTTLS when the driver says it can.
                    flush(&mut io, &mut out).await?;
                    return Err(ConnectionError::internal("STARTTLS without TLS support"));
                }
                Event::Close => {
                    flush(&mut io, &mut out).await?;
                    let _ = io.shutdown().await;
                    return Ok(());
                }
                _ => {}
            }
        }
        flush(&mut io, &mut out).await?;
        let wait = match session.timeout() {
            Some(TimeoutKind::DataBlock) => limits.data_block_timeout,
            Some(TimeoutKind::DataTermination) => limits.data_termination_timeout,
            _ => limits.command_timeout,
        };
        tokio::select! {
            read = tokio::time::timeout(wait, io.read(&mut buf)) => match read {
                Err(_) => session.timed_out(),
                Ok(Ok(0)) => {
                    session.peer_closed();
                    return Ok(());
                }
                Ok(Ok(n)) => session.receive(&buf[..n]),
                Ok(Err(e)) => {
                    session.peer_closed();
                    return Err(ConnectionError::Io(e));
                }
            },
            changed = shutdown.changed(), if !draining => {
                let _ = changed;
                draining = true;
                session.shutdown();
            }
        }
    }
}

async fn flush<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    out: &mut Vec<u8>,
) -> Result<(), ConnectionError> {
    if !out.is_empty() {
        io.write_all(out).await?;
        io.flush().await?;
        out.clear();
    }
    Ok(())
}

/// Resolves one pending decision with the policy or the authenticator.
async fn decide<P, A, S>(
    shared: &Shared<P, A, S>,
    session: &mut Session,
    pending: Pending,
) -> Verdict
where
    P: Policy,
    A: Authenticator,
    S: MessageSink,
{
    let budget = shared.config.limits.command_timeout;
    let policy = &shared.policy;
    let verdict = {
        let info = session.info();
        let fut = async {
            match &pending {
                Pending::Connect => policy.accept_connection(info).await,
                Pending::Helo { name, extended } => policy.accept_helo(info, name, *extended).await,
                Pending::StartTls => policy.accept_starttls(info).await,
                Pending::Auth { mechanism } => policy.accept_auth(info, *mechanism).await,
                Pending::Authenticate { credentials } => {
                    match shared.authenticator.authenticate(credentials, info).await {
                        AuthResult::Success => Verdict::accept(),
                        AuthResult::Failure => Verdict::reject(),
                        AuthResult::Error(reply) => Verdict::reject_with(reply),
                    }
                }
                Pending::MailFrom {
                    reverse_path,
                    params,
                } => policy.accept_mail_from(info, reverse_path, params).await,
                Pending::RcptTo {
                    forward_path,
                    params,
                } => policy.accept_rcpt_to(info, forward_path, params).await,
                Pending::Data => policy.accept_data(info).await,
                Pending::Vrfy { argument } => policy.accept_vrfy(info, argument).await,
                _ => Verdict::reject(),
            }
        };
        with_budget(budget, fut).await
    };
    match pending {
        Pending::Connect if verdict.is_accept() => {
            if let Some(size) = policy.max_message_size(session.info()) {
                session.set_max_message_size(size);
            }
        }
        Pending::Helo { extended: true, .. } if verdict.is_accept() => {
            let mut extensions = session.extensions().clone();
            policy.ehlo_extensions(session.info(), &mut extensions);
            session.set_extensions(extensions);
        }
        _ => {}
    }
    verdict
}

/// Runs the message policy and the sink for a complete message.
async fn deliver<P, A, S>(
    shared: &Arc<Shared<P, A, S>>,
    session: &Session,
    transaction: Transaction,
) -> Verdict
where
    P: Policy,
    A: Authenticator,
    S: MessageSink,
{
    let budget = shared.config.limits.data_termination_timeout;
    let message = Message::new(session.info(), transaction);
    let verdict = with_budget(
        budget,
        shared.policy.accept_message(session.info(), &message),
    )
    .await;
    if !verdict.is_accept() {
        return verdict;
    }
    let id = message.id().to_owned();
    // The sink runs in its own task, so that a panic there costs one
    // message (451), not the connection or the server.
    let task = {
        let shared = shared.clone();
        tokio::spawn(async move { shared.sink.deliver(message).await })
    };
    let stored = match tokio::time::timeout(budget, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => {
            tracing::error!(%id, error = %join, "message sink panicked");
            Err(temporary_failure())
        }
        Err(_) => {
            tracing::error!(%id, "message sink timed out");
            Err(temporary_failure())
        }
    };
    match stored {
        Ok(()) => {
            tracing::debug!(%id, "message accepted");
            verdict
        }
        Err(reply) => Verdict::reject_with(reply),
    }
}

/// Runs a hook within its time budget; past it the command gets
/// `451 4.3.0` (security.md TO-6).
async fn with_budget(budget: Duration, fut: impl Future<Output = Verdict>) -> Verdict {
    match tokio::time::timeout(budget, fut).await {
        Ok(verdict) => verdict,
        Err(_) => {
            tracing::warn!("policy hook exceeded its time budget");
            Verdict::reject_with(hook_timeout_reply())
        }
    }
}

fn hook_timeout_reply() -> Reply {
    temporary_failure()
}
