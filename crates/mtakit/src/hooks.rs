//! The application's hooks, as the driver runs them: a pending decision
//! goes to the policy or the authenticator, a complete message to the
//! message policy and the sink. Each runs within its time budget, and a
//! panicking sink costs its message a `451`, not the connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use mtakit_proto::{Pending, Session, Transaction, Verdict};

use crate::auth::{AuthResult, Authenticator};
use crate::message::Message;
use crate::policy::{Policy, Stage};
use crate::shared::Shared;
use crate::sink::{MessageSink, temporary_failure};

/// Resolves one pending decision with the policy or the authenticator.
/// The policy is asked through [`Policy::decide`] only.
pub(crate) async fn decide<M, P, A, S>(
    shared: &Shared<M, A, S>,
    policy: &P,
    session: &Session,
    pending: Pending,
) -> Verdict
where
    P: Policy,
    A: Authenticator,
    S: MessageSink,
{
    let budget = shared.config.limits.command_timeout;
    let info = session.info();
    let fut = async {
        let stage = match &pending {
            Pending::Authenticate { credentials } => {
                return match shared.authenticator.authenticate(credentials, info).await {
                    AuthResult::Success => Verdict::accept(),
                    AuthResult::Failure => {
                        tracing::info!(
                            user = credentials.username(),
                            mechanism = ?credentials.mechanism(),
                            "authentication failed"
                        );
                        Verdict::reject()
                    }
                    AuthResult::Error(reply) => Verdict::reject_with(reply),
                };
            }
            Pending::Connect => Stage::Connect,
            Pending::Helo { name, extended } => Stage::Helo {
                name,
                extended: *extended,
            },
            Pending::StartTls => Stage::StartTls,
            Pending::Auth { mechanism } => Stage::Auth {
                mechanism: *mechanism,
            },
            Pending::MailFrom {
                reverse_path,
                params,
            } => Stage::MailFrom {
                reverse_path,
                params,
            },
            Pending::RcptTo {
                forward_path,
                params,
            } => Stage::RcptTo {
                forward_path,
                params,
            },
            Pending::Data => Stage::Data,
            Pending::Vrfy { argument } => Stage::Vrfy { argument },
            _ => return Verdict::reject(),
        };
        policy.decide(info, stage).await
    };
    with_budget(budget, fut).await
}

/// Runs the message policy and the sink for a complete message. Returns
/// one verdict, or one per recipient for LMTP, and the message id.
pub(crate) async fn deliver<M, P, A, S>(
    shared: &Arc<Shared<M, A, S>>,
    policy: &P,
    session: &Session,
    transaction: Transaction,
) -> (Vec<Verdict>, String)
where
    P: Policy,
    A: Authenticator,
    S: MessageSink,
{
    let budget = shared.config.limits.data_termination_timeout;
    let lmtp = shared.config.lmtp;
    let recipients = transaction.envelope.recipients.len();
    let mut message = Message::new(session.info(), transaction);
    let id = message.id().to_owned();
    let verdicts = if lmtp {
        // One verdict per recipient; only the accepted ones are delivered.
        let stage = Stage::MessageEach { message: &message };
        let verdict = with_budget(budget, policy.decide(session.info(), stage)).await;
        match verdict.recipients() {
            Some(each) if each.len() == recipients => each.to_vec(),
            Some(each) => {
                tracing::warn!(%id, got = each.len(), recipients, "policy error: the LMTP message verdict has the wrong number of recipients");
                vec![Verdict::reject_with(temporary_failure()); recipients]
            }
            None => vec![verdict; recipients],
        }
    } else {
        let stage = Stage::Message { message: &message };
        vec![with_budget(budget, policy.decide(session.info(), stage)).await]
    };
    let accepted: Vec<bool> = verdicts.iter().map(Verdict::is_accept).collect();
    if !accepted.contains(&true) {
        return (verdicts, id);
    }
    message.retain_recipients(&accepted);
    let recipients = message.recipients().len();
    // A panic in the sink costs this message (451), not the connection
    // or the server. It runs on this task: no spawn, no cross-thread wake.
    let delivery = CatchUnwind(Box::pin(async {
        if lmtp {
            shared.sink.deliver_each(message).await
        } else {
            vec![shared.sink.deliver(message).await]
        }
    }));
    let expected = if lmtp { recipients } else { 1 };
    let outcomes = match tokio::time::timeout(budget, delivery).await {
        Ok(Ok(outcomes)) if outcomes.len() == expected => outcomes,
        Ok(Ok(outcomes)) => {
            tracing::error!(%id, got = outcomes.len(), recipients, "sink reported the wrong number of outcomes");
            vec![Err(temporary_failure()); expected]
        }
        Ok(Err(())) => {
            tracing::error!(%id, "message sink panicked");
            vec![Err(temporary_failure()); expected]
        }
        Err(_) => {
            tracing::error!(%id, "message sink timed out");
            vec![Err(temporary_failure()); expected]
        }
    };
    // Each delivery outcome answers the next accepted recipient.
    let mut outcomes = outcomes.into_iter();
    let verdicts = verdicts
        .into_iter()
        .map(
            |verdict| match verdict.is_accept().then(|| outcomes.next()).flatten() {
                Some(Ok(())) => {
                    tracing::debug!(%id, "message accepted");
                    verdict
                }
                Some(Err(reply)) => Verdict::reject_with(reply),
                None => verdict,
            },
        )
        .collect();
    (verdicts, id)
}

/// Gives an accepted message's default reply its id, as Postfix does:
/// `250 2.0.0 Ok: queued as ID`, so that a client's log line can be matched
/// with the server's log, Maildir file and API entry.
pub(crate) fn queued_as(verdict: &mut Verdict, id: &str) {
    if !verdict.is_accept() || verdict.reply().is_some() {
        return;
    }
    let text = format!("Ok: queued as {id}");
    let Ok(reply) = mtakit_proto::Reply::new(250, mtakit_proto::EnhancedCode::new(2, 0, 0), text)
    else {
        return;
    };
    let closes = verdict.closes();
    *verdict = Verdict::accept_with(reply);
    if closes {
        *verdict = verdict.clone().and_close();
    }
}

/// Polls a future, turning a panic into `Err(())`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

/// Runs a hook within its time budget; past it the command gets
/// `451 4.3.0` (security.md TO-6).
async fn with_budget(budget: Duration, fut: impl Future<Output = Verdict>) -> Verdict {
    match tokio::time::timeout(budget, fut).await {
        Ok(verdict) => verdict,
        Err(_) => {
            tracing::warn!("policy hook exceeded its time budget");
            Verdict::reject_with(temporary_failure())
        }
    }
}
