//! [`Faulted`]: a [`FaultPlan`] in front of a [`Policy`], and the plan as
//! a policy of its own.

use std::future::Future;
use std::time::Duration;

use mtakit_proto::{SessionInfo, Verdict};

use super::plan::FaultPlan;
use super::rule::{Action, Stage};
use crate::message::Message;
use crate::policy::{AcceptAll, Policy, Stage as PolicyStage};
use crate::sink::temporary_failure;

/// A [`FaultPlan`] in front of a policy; from [`FaultPlan::wrap`].
#[derive(Clone, Debug)]
pub struct Faulted<P> {
    plan: FaultPlan,
    policy: P,
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
    /// otherwise `policy` does.
    pub fn wrap<P: Policy>(self, policy: P) -> Faulted<P> {
        Faulted { plan: self, policy }
    }

    /// Carries out an action that does not decide the reply (a delay or
    /// a drip).
    async fn side_effect(&self, action: &Action, session: &SessionInfo) {
        match action {
            Action::Delay(delay) => tokio::time::sleep(*delay).await,
            Action::Drip(pace) => self.set_drip(session, *pace),
            _ => {}
        }
    }

    /// Runs the rules for one stage: `Some(verdict)` when a rule decides.
    async fn apply<A: AsRef<str>>(
        &self,
        stage: Stage,
        argument: impl FnOnce() -> A,
        session: &SessionInfo,
    ) -> Option<Verdict> {
        let action = self.check(stage, argument, session)?;
        self.side_effect(&action, session).await;
        decided(&action)
    }

    /// Runs the `message`-stage rules: one entry per recipient with
    /// `per_recipient`, else one; `Some(verdict)` where a rule decides.
    async fn apply_message(
        &self,
        session: &SessionInfo,
        message: &Message,
        per_recipient: bool,
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
            self.side_effect(&Action::Delay(delay), session).await;
        }
        if let Some(drip) = (actions.iter().flatten()).find(|a| matches!(a, Action::Drip(_))) {
            self.side_effect(drip, session).await;
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
    ) -> Verdict {
        let fault = match stage {
            PolicyStage::Connect => {
                self.session_started(session);
                let ip = || session.peer().ip().to_string();
                self.apply(Stage::Connect, ip, session).await
            }
            PolicyStage::Helo { name, .. } => {
                self.apply(Stage::Helo, || name.to_string(), session).await
            }
            PolicyStage::StartTls => self.apply(Stage::StartTls, || "", session).await,
            PolicyStage::Auth { mechanism } => {
                self.apply(Stage::Auth, || mechanism.name(), session).await
            }
            PolicyStage::MailFrom { reverse_path, .. } => {
                let argument = || reverse_path.to_string();
                self.apply(Stage::Mail, argument, session).await
            }
            PolicyStage::RcptTo { forward_path, .. } => {
                let argument = || forward_path.to_string();
                self.apply(Stage::Rcpt, argument, session).await
            }
            PolicyStage::Data => self.apply(Stage::Data, || "", session).await,
            PolicyStage::Message { message } => {
                let faults = self.apply_message(session, message, false).await;
                faults.into_iter().next().flatten()
            }
            PolicyStage::MessageEach { message } => {
                return self.decide_each(policy, session, message).await;
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
    ) -> Verdict {
        let faults = self.apply_message(session, message, true).await;
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

impl<P: Policy> Policy for Faulted<P> {
    fn decide(
        &self,
        session: &SessionInfo,
        stage: PolicyStage<'_>,
    ) -> impl Future<Output = Verdict> + Send {
        self.plan.decide_before(&self.policy, session, stage)
    }

    fn reply_pace(&self, session: &SessionInfo) -> Option<Duration> {
        self.plan
            .take_drip(session)
            .or_else(|| self.policy.reply_pace(session))
    }
}

/// A plan on its own accepts whatever no rule refuses.
impl Policy for FaultPlan {
    fn decide(
        &self,
        session: &SessionInfo,
        stage: PolicyStage<'_>,
    ) -> impl Future<Output = Verdict> + Send {
        self.decide_before(&AcceptAll, session, stage)
    }

    fn reply_pace(&self, session: &SessionInfo) -> Option<Duration> {
        self.take_drip(session)
    }
}
