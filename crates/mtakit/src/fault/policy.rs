//! [`Faulted`]: a [`FaultPlan`] in front of a [`Policy`], the plan as a
//! policy of its own, and [`FaultedConnection`], the policy each of them
//! makes for one connection.

use std::future::Future;
use std::sync::Arc;

use mtakit_proto::ConnectionInfo;
use tokio::io::{AsyncRead, AsyncWrite};

use mtakit_proto::{SessionInfo, Verdict};

use super::drip::{DripIo, DripState};
use super::plan::FaultPlan;
use super::rule::{Action, Stage};
use crate::message::Message;
use crate::policy::{AcceptAll, MakePolicy, Policy, Stage as PolicyStage};
use crate::sink::temporary_failure;

/// A [`FaultPlan`] in front of a policy; from [`FaultPlan::wrap`]. Give
/// it to [`Builder::policy`](crate::Builder::policy): it is a
/// [`MakePolicy`] whose connections are [`FaultedConnection`]s.
#[derive(Debug)]
pub struct Faulted<P> {
    plan: FaultPlan,
    policy: Arc<P>,
}

impl<P> Clone for Faulted<P> {
    fn clone(&self) -> Self {
        Self {
            plan: self.plan.clone(),
            policy: self.policy.clone(),
        }
    }
}

/// The policy of one connection served with a [`FaultPlan`] or a
/// [`Faulted`] policy: the plan's rules in front of `P`, and the drip state
/// it shares with the connection's [`DripIo`] stream, and no other
/// connection.
#[derive(Debug)]
pub struct FaultedConnection<P> {
    plan: FaultPlan,
    policy: P,
    drip: Arc<DripState>,
}

impl<P> Faulted<P> {
    /// The plan, to change its rules while the server runs.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }
}

/// What an action means for the reply, when it decides it.
fn decided(action: &Action) -> Option<Verdict> {
    match action {
        Action::Reply(reply) => Some(if reply.code().is_positive() {
            Verdict::accept_with(reply.clone())
        } else {
            Verdict::reject_with(reply.clone())
        }),
        Action::Disconnect => Some(Verdict::disconnect()),
        Action::DisconnectAfterReply => Some(Verdict::accept().and_close()),
        _ => None,
    }
}

impl FaultPlan {
    /// Puts this plan in front of `policy`: a firing rule decides, and
    /// otherwise `policy` does. `policy` may be any [`MakePolicy`]: a
    /// [`Policy`] shared by all connections, or a maker of per-connection
    /// policies (whose stream the plan then wraps in turn).
    pub fn wrap<P: MakePolicy>(self, policy: P) -> Faulted<P> {
        Faulted {
            plan: self,
            policy: Arc::new(policy),
        }
    }

    /// One connection's policy in front of `policy`, and its stream.
    fn connection<IO, P>(&self, io: IO, policy: P) -> (DripIo<IO>, FaultedConnection<P>) {
        let drip = Arc::new(DripState::default());
        let io = DripIo::new(io, drip.clone());
        let plan = self.clone();
        (io, FaultedConnection { plan, policy, drip })
    }

    /// Carries out an action that does not decide the reply (a delay or
    /// a drip).
    async fn side_effect(action: &Action, drip: &DripState) {
        match action {
            Action::Delay(delay) => tokio::time::sleep(*delay).await,
            Action::Drip(pace) => drip.set(*pace),
            _ => {}
        }
    }

    /// Runs the rules for one stage: `Some(verdict)` when a rule decides.
    async fn apply<A: AsRef<str>>(
        &self,
        stage: Stage,
        argument: impl FnOnce() -> A,
        session: &SessionInfo,
        drip: &DripState,
    ) -> Option<Verdict> {
        let action = self.check(stage, argument, session)?;
        Self::side_effect(&action, drip).await;
        decided(&action)
    }

    /// Runs the `message`-stage rules: one entry per recipient with
    /// `per_recipient`, else one; `Some(verdict)` where a rule decides.
    async fn apply_message(
        &self,
        session: &SessionInfo,
        message: &Message,
        per_recipient: bool,
        drip: &DripState,
    ) -> Vec<Option<Verdict>> {
        let actions = self.check_message(message, session, per_recipient).await;
        if actions.iter().flatten().any(|a| *a == Action::Disconnect) {
            // One connection: a disconnect for one recipient is one for all.
            return vec![Some(Verdict::disconnect()); actions.len()];
        }
        let delay = (actions.iter().flatten())
            .filter_map(|a| match a {
                Action::Delay(d) => Some(*d),
                _ => None,
            })
            .max();
        if let Some(delay) = delay {
            Self::side_effect(&Action::Delay(delay), drip).await;
        }
        if let Some(pace) = (actions.iter().flatten()).find(|a| matches!(a, Action::Drip(_))) {
            Self::side_effect(pace, drip).await;
        }
        actions
            .iter()
            .map(|a| a.as_ref().and_then(decided))
            .collect()
    }
}

impl FaultPlan {
    /// Runs the rules for `stage` in front of `policy`: a firing rule
    /// decides, and otherwise `policy` does.
    async fn decide_before<P: Policy>(
        &self,
        policy: &P,
        session: &SessionInfo,
        stage: PolicyStage<'_>,
        drip: &DripState,
    ) -> Verdict {
        let fault = match stage {
            PolicyStage::Connect => {
                self.session_started(session);
                let ip = || session.peer().ip().to_string();
                self.apply(Stage::Connect, ip, session, drip).await
            }
            PolicyStage::Helo { name, .. } => {
                self.apply(Stage::Helo, || name.to_string(), session, drip)
                    .await
            }
            PolicyStage::StartTls => self.apply(Stage::StartTls, || "", session, drip).await,
            PolicyStage::Auth { mechanism } => {
                self.apply(Stage::Auth, || mechanism.name(), session, drip)
                    .await
            }
            PolicyStage::MailFrom { reverse_path, .. } => {
                let argument = || reverse_path.to_string();
                self.apply(Stage::Mail, argument, session, drip).await
            }
            PolicyStage::RcptTo { forward_path, .. } => {
                let argument = || forward_path.to_string();
                self.apply(Stage::Rcpt, argument, session, drip).await
            }
            PolicyStage::Data => self.apply(Stage::Data, || "", session, drip).await,
            PolicyStage::Message { message } => {
                let faults = self.apply_message(session, message, false, drip).await;
                faults.into_iter().next().flatten()
            }
            PolicyStage::MessageEach { message } => {
                return self.decide_each(policy, session, message, drip).await;
            }
            _ => None,
        };
        match fault {
            Some(verdict) => verdict,
            None => policy.decide(session, stage).await,
        }
    }

    /// The LMTP message stage: the rules decide per recipient, and
    /// `policy` for the recipients no rule decided.
    async fn decide_each<P: Policy>(
        &self,
        policy: &P,
        session: &SessionInfo,
        message: &Message,
        drip: &DripState,
    ) -> Verdict {
        let faults = self.apply_message(session, message, true, drip).await;
        if faults.iter().all(Option::is_some) {
            return Verdict::each(faults.into_iter().flatten());
        }
        let theirs = policy
            .decide(session, PolicyStage::MessageEach { message })
            .await;
        let theirs: Vec<Verdict> = match theirs.recipients() {
            Some(each) if each.len() == faults.len() => each.to_vec(),
            Some(_) => vec![Verdict::reject_with(temporary_failure()); faults.len()],
            None => vec![theirs; faults.len()],
        };
        Verdict::each(
            faults
                .into_iter()
                .zip(theirs)
                .map(|(fault, theirs)| fault.unwrap_or(theirs)),
        )
    }
}

impl<P: Policy> Policy for FaultedConnection<P> {
    fn decide(
        &self,
        session: &SessionInfo,
        stage: PolicyStage<'_>,
    ) -> impl Future<Output = Verdict> + Send {
        self.plan
            .decide_before(&self.policy, session, stage, &self.drip)
    }
}

/// Each connection gets the plan's rules in front of the policy that the
/// wrapped [`MakePolicy`] makes for it (for a plain [`Policy`], the shared
/// one), over the stream it makes.
impl<P: MakePolicy> MakePolicy for Faulted<P> {
    type Policy = FaultedConnection<P::Policy>;
    type Io<IO: AsyncRead + AsyncWrite + Unpin + Send> = DripIo<P::Io<IO>>;

    fn connect<IO: AsyncRead + AsyncWrite + Unpin + Send>(
        this: &Arc<Self>,
        io: IO,
        info: &ConnectionInfo,
    ) -> (Self::Io<IO>, Self::Policy) {
        let (io, policy) = P::connect(&this.policy, io, info);
        this.plan.connection(io, policy)
    }
}

/// A plan on its own accepts whatever no rule refuses.
impl MakePolicy for FaultPlan {
    type Policy = FaultedConnection<AcceptAll>;
    type Io<IO: AsyncRead + AsyncWrite + Unpin + Send> = DripIo<IO>;

    fn connect<IO: AsyncRead + AsyncWrite + Unpin + Send>(
        this: &Arc<Self>,
        io: IO,
        _: &ConnectionInfo,
    ) -> (DripIo<IO>, Self::Policy) {
        this.connection(io, AcceptAll)
    }
}
