//! Checking a verdict against the stage it answers: the class of its
//! reply, and the stage data it carries, applied here or reported.

use crate::session::event::Event;
use crate::session::info::Greeting;
use crate::session::machine::Session;
use crate::session::policy_error::{PolicyError, StageKind};
use crate::session::replies as r;
use crate::session::state::Awaiting;
use crate::session::verdict::Verdict;

impl Awaiting {
    /// The stage this decision is, as reported.
    pub(super) fn kind(&self) -> StageKind {
        match self {
            Self::Connect => StageKind::Connect,
            Self::Helo {
                greeting: Greeting::Helo,
                ..
            } => StageKind::Helo,
            Self::Helo { .. } => StageKind::Ehlo,
            Self::StartTls => StageKind::StartTls,
            Self::Auth { .. } => StageKind::Auth,
            Self::Authenticate { .. } => StageKind::Authenticate,
            Self::Mail { .. } => StageKind::MailFrom,
            Self::Rcpt { .. } => StageKind::RcptTo,
            Self::Data => StageKind::Data,
            Self::Bdat { .. } => StageKind::Bdat,
            Self::Deliver { .. } => StageKind::Deliver,
            Self::Vrfy => StageKind::Vrfy,
        }
    }
}

impl Session {
    /// Checks a policy-supplied reply against the stage: an accepting reply
    /// must have the default reply's class, a rejecting one must be 4xx or
    /// 5xx; otherwise the command is rejected with `451 4.3.0` and a
    /// [`PolicyError`] is reported.
    pub(super) fn check_verdict(&mut self, awaiting: &Awaiting, mut verdict: Verdict) -> Verdict {
        let stage = awaiting.kind();
        let positive = verdict
            .reply
            .as_ref()
            .is_none_or(|r| r.code().is_positive());
        let class = match awaiting {
            Awaiting::Data => 3,
            // The mechanism and the chunk replies drive these exchanges: an
            // accepting custom reply is not sent.
            Awaiting::Auth { .. } | Awaiting::Bdat { .. } if verdict.accept && positive => {
                if verdict.reply.take().is_some() {
                    self.policy_error(PolicyError::Ignored {
                        stage,
                        what: "reply",
                    });
                }
                return verdict;
            }
            _ => 2,
        };
        let Some(reply) = &verdict.reply else {
            return verdict;
        };
        let fits = if verdict.accept {
            reply.code().get() / 100 == class
        } else {
            !reply.code().is_positive()
        };
        if fits {
            return verdict;
        }
        self.policy_error(PolicyError::WrongClass {
            stage,
            reply: reply.clone(),
            accept: verdict.accept,
        });
        Verdict {
            accept: false,
            reply: Some(r::POLICY_ERROR),
            close: verdict.close,
            data: None,
        }
    }

    /// Applies the stage data of an accepting Connect or HELO verdict;
    /// reports data that the stage does not use. Per-recipient verdicts
    /// are left for the delivery to take.
    pub(super) fn apply_stage_data(&mut self, awaiting: &Awaiting, verdict: &mut Verdict) {
        let stage = awaiting.kind();
        let ehlo = stage == StageKind::Ehlo;
        if ehlo && verdict.accept {
            // Each EHLO starts from the configuration (RFC 5321 §4.1.4:
            // it resets what an earlier one offered).
            let extensions = verdict
                .data
                .as_mut()
                .and_then(|d| d.extensions.take())
                .unwrap_or_else(|| self.config.extensions.clone());
            self.extensions = extensions.consistent();
        }
        let Some(data) = verdict.data.as_mut() else {
            return;
        };
        let mut ignored = Vec::new();
        if let Some(size) = data.max_message_size.take() {
            match stage {
                StageKind::Connect | StageKind::Helo | StageKind::Ehlo if verdict.accept => {
                    self.info.max_message_size = size;
                }
                _ => ignored.push("max_message_size"),
            }
        }
        if data.extensions.take().is_some() && stage != StageKind::Helo {
            // At HELO no extensions are offered: the data is moot, not
            // wrong. Elsewhere (or on a rejection) it is a mistake.
            ignored.push("extensions");
        }
        if data.each.is_some() && !(stage == StageKind::Deliver && self.config.lmtp) {
            data.each = None;
            ignored.push("each");
        }
        for what in ignored {
            self.policy_error(PolicyError::Ignored { stage, what });
        }
    }

    fn policy_error(&mut self, error: PolicyError) {
        self.emit(Event::PolicyError(error));
    }
}
