//! [`Faulted`]: a [`FaultPlan`] in front of a [`Policy`], and the plan as
//! a policy of its own.

use std::future::Future;
use std::time::Duration;

use mtakit_proto::{
    Domain, Extensions, ForwardPath, MailParams, Mechanism, RcptParams, ReversePath, SessionInfo,
    Verdict,
};

use super::plan::FaultPlan;
use super::rule::{Action, Stage};
use crate::message::Message;
use crate::policy::{AcceptAll, Policy};
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

async fn or_else<F: Future<Output = Verdict>>(fault: Option<Verdict>, then: F) -> Verdict {
    match fault {
        Some(verdict) => verdict,
        None => then.await,
    }
}

impl<P: Policy> Policy for Faulted<P> {
    async fn accept_connection(&self, session: &SessionInfo) -> Verdict {
        self.plan.session_started(session);
        let ip = || session.peer().ip().to_string();
        let fault = self.plan.apply(Stage::Connect, ip, session).await;
        or_else(fault, self.policy.accept_connection(session)).await
    }

    fn max_message_size(&self, session: &SessionInfo) -> Option<u64> {
        self.policy.max_message_size(session)
    }

    async fn accept_helo(&self, session: &SessionInfo, name: &Domain, extended: bool) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Helo, || name.to_string(), session)
            .await;
        or_else(fault, self.policy.accept_helo(session, name, extended)).await
    }

    fn ehlo_extensions(&self, session: &SessionInfo, name: &Domain, extensions: &mut Extensions) {
        self.policy.ehlo_extensions(session, name, extensions);
    }

    async fn accept_starttls(&self, session: &SessionInfo) -> Verdict {
        let fault = self.plan.apply(Stage::StartTls, || "", session).await;
        or_else(fault, self.policy.accept_starttls(session)).await
    }

    async fn accept_auth(&self, session: &SessionInfo, mechanism: Mechanism) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Auth, || mechanism.name(), session)
            .await;
        or_else(fault, self.policy.accept_auth(session, mechanism)).await
    }

    async fn accept_mail_from(
        &self,
        session: &SessionInfo,
        reverse_path: &ReversePath,
        params: &MailParams,
    ) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Mail, || reverse_path.to_string(), session)
            .await;
        or_else(
            fault,
            self.policy.accept_mail_from(session, reverse_path, params),
        )
        .await
    }

    async fn accept_rcpt_to(
        &self,
        session: &SessionInfo,
        forward_path: &ForwardPath,
        params: &RcptParams,
    ) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Rcpt, || forward_path.to_string(), session)
            .await;
        or_else(
            fault,
            self.policy.accept_rcpt_to(session, forward_path, params),
        )
        .await
    }

    async fn accept_data(&self, session: &SessionInfo) -> Verdict {
        let fault = self.plan.apply(Stage::Data, || "", session).await;
        or_else(fault, self.policy.accept_data(session)).await
    }

    async fn accept_message(&self, session: &SessionInfo, message: &Message) -> Verdict {
        let fault = self.plan.apply_message(session, message, false).await;
        let fault = fault.into_iter().next().flatten();
        or_else(fault, self.policy.accept_message(session, message)).await
    }

    async fn accept_message_each(&self, session: &SessionInfo, message: &Message) -> Vec<Verdict> {
        let faults = self.plan.apply_message(session, message, true).await;
        let mut theirs = if faults.iter().any(Option::is_none) {
            self.policy.accept_message_each(session, message).await
        } else {
            Vec::new()
        }
        .into_iter();
        faults
            .into_iter()
            .map(|fault| {
                let next = theirs.next();
                fault
                    .or(next)
                    .unwrap_or_else(|| Verdict::reject_with(temporary_failure()))
            })
            .collect()
    }

    async fn accept_vrfy(&self, session: &SessionInfo, argument: &str) -> Verdict {
        self.policy.accept_vrfy(session, argument).await
    }

    fn reply_pace(&self, session: &SessionInfo) -> Option<Duration> {
        self.plan
            .take_drip(session)
            .or_else(|| self.policy.reply_pace(session))
    }
}

impl FaultPlan {
    fn as_policy(&self) -> Faulted<AcceptAll> {
        self.clone().wrap(AcceptAll)
    }
}

/// A plan on its own accepts whatever no rule refuses.
impl Policy for FaultPlan {
    async fn accept_connection(&self, session: &SessionInfo) -> Verdict {
        self.as_policy().accept_connection(session).await
    }

    async fn accept_helo(&self, session: &SessionInfo, name: &Domain, extended: bool) -> Verdict {
        self.as_policy().accept_helo(session, name, extended).await
    }

    async fn accept_starttls(&self, session: &SessionInfo) -> Verdict {
        self.as_policy().accept_starttls(session).await
    }

    async fn accept_auth(&self, session: &SessionInfo, mechanism: Mechanism) -> Verdict {
        self.as_policy().accept_auth(session, mechanism).await
    }

    async fn accept_mail_from(
        &self,
        session: &SessionInfo,
        reverse_path: &ReversePath,
        params: &MailParams,
    ) -> Verdict {
        self.as_policy()
            .accept_mail_from(session, reverse_path, params)
            .await
    }

    async fn accept_rcpt_to(
        &self,
        session: &SessionInfo,
        forward_path: &ForwardPath,
        params: &RcptParams,
    ) -> Verdict {
        self.as_policy()
            .accept_rcpt_to(session, forward_path, params)
            .await
    }

    async fn accept_data(&self, session: &SessionInfo) -> Verdict {
        self.as_policy().accept_data(session).await
    }

    async fn accept_message(&self, session: &SessionInfo, message: &Message) -> Verdict {
        self.as_policy().accept_message(session, message).await
    }

    async fn accept_message_each(&self, session: &SessionInfo, message: &Message) -> Vec<Verdict> {
        self.as_policy().accept_message_each(session, message).await
    }

    fn reply_pace(&self, session: &SessionInfo) -> Option<Duration> {
        self.take_drip(session)
    }
}
