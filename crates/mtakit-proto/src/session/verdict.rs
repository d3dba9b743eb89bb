//! Checking a policy's verdict against the stage it answers.

use crate::session::event::Verdict;
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::Awaiting;

impl Session {
    /// Checks a policy-supplied reply against the stage: an accepting reply
    /// must have the default reply's class, a rejecting one must be 4xx or
    /// 5xx; otherwise the command is rejected with `451 4.3.0`.
    pub(super) fn check_verdict(&self, awaiting: &Awaiting, verdict: Verdict) -> Verdict {
        let positive = verdict
            .reply
            .as_ref()
            .is_none_or(|r| r.code().is_positive());
        match awaiting {
            Awaiting::Data => verdict_with_class(verdict, 3),
            // The mechanism and the chunk replies drive these exchanges: an
            // accepting custom reply is not sent, so any positive one is fine.
            Awaiting::Auth { .. } | Awaiting::Bdat { .. } if verdict.accept && positive => verdict,
            _ => verdict_with_class(verdict, 2),
        }
    }
}

/// Keeps `verdict` if its reply fits `class` (accept) or is 4xx/5xx
/// (reject); otherwise turns it into the policy-error rejection.
fn verdict_with_class(verdict: Verdict, class: u16) -> Verdict {
    let Some(reply) = &verdict.reply else {
        return verdict;
    };
    let ok = if verdict.accept {
        reply.code().get() / 100 == class
    } else {
        !reply.code().is_positive()
    };
    if ok {
        verdict
    } else {
        Verdict {
            accept: false,
            reply: Some(r::POLICY_ERROR),
            close: verdict.close,
        }
    }
}
