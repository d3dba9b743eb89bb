//! `mtakit.Fault`: a rule that makes a test server fail on purpose, built
//! on mtakit's fault engine.

use std::time::Duration;

use mtakit::fault::{Action, FaultRule, MAX_PAUSE_MS, Scope, Stage};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A fault rule: at `stage`, when the argument matches `matching` (a
/// regular expression), answer `reply`, or wait `delay` seconds first, or
/// `disconnect`, or send the normal reply and then close
/// (`disconnect_after_reply`), or send the reply one octet every `drip`
/// seconds. `after` skips the first matches, `times` limits how often it
/// fires, `probability` makes it random (with a fixed seed), and `scope`
/// (`"global"`, `"peer"` or `"session"`) says whose matches are counted.
///
/// `Fault("rcpt", reply="452 4.2.2 Mailbox full", matching="^<full@", times=2)`
#[pyclass(frozen, module = "mtakit", name = "Fault")]
#[derive(Clone, Debug)]
pub(crate) struct PyFault {
    pub(crate) rule: FaultRule,
    text: String,
}

fn pause(name: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| d.as_millis() <= u128::from(MAX_PAUSE_MS))
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "{name} must be between 0 and {} seconds",
                MAX_PAUSE_MS / 1000
            ))
        })
}

fn bad(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

#[pymethods]
impl PyFault {
    #[new]
    #[pyo3(signature = (
        stage,
        *,
        reply = None,
        delay = None,
        drip = None,
        disconnect = false,
        disconnect_after_reply = false,
        matching = None,
        rcpt_matching = None,
        after = 0,
        times = None,
        probability = None,
        scope = "global",
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        stage: &str,
        reply: Option<&str>,
        delay: Option<f64>,
        drip: Option<f64>,
        disconnect: bool,
        disconnect_after_reply: bool,
        matching: Option<&str>,
        rcpt_matching: Option<&str>,
        after: u64,
        times: Option<u64>,
        probability: Option<f64>,
        scope: &str,
    ) -> PyResult<Self> {
        let stage_kind = Stage::from_name(stage).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown stage '{stage}': expected connect, helo, starttls, auth, mail, rcpt, data or message"
            ))
        })?;
        let actions = [
            reply.is_some(),
            delay.is_some(),
            drip.is_some(),
            disconnect,
            disconnect_after_reply,
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err(PyValueError::new_err(
                "a fault needs exactly one of reply=, delay=, drip=, disconnect=True or disconnect_after_reply=True",
            ));
        }
        let mut rule = FaultRule::new(stage_kind)
            .scope(Scope::from_name(scope).map_err(bad)?)
            .after(after);
        rule = if let Some(reply) = reply {
            rule.reply(reply).map_err(bad)?
        } else if let Some(delay) = delay {
            rule.delay(pause("delay", delay)?)
        } else if let Some(drip) = drip {
            rule.action(Action::Drip(pause("drip", drip)?))
        } else if disconnect {
            rule.disconnect()
        } else {
            rule.action(Action::DisconnectAfterReply)
        };
        if let Some(pattern) = matching {
            rule = rule.matching(pattern).map_err(bad)?;
        }
        if let Some(pattern) = rcpt_matching {
            rule = rule.rcpt_matching(pattern).map_err(bad)?;
        }
        if let Some(n) = times {
            rule = rule.times(n);
        }
        if let Some(p) = probability {
            rule = rule.probability(p).map_err(bad)?;
        }
        let text = format!("Fault({stage:?}, {})", describe(&rule));
        Ok(Self { rule, text })
    }

    fn __repr__(&self) -> String {
        self.text.clone()
    }
}

/// The action of `rule`, as its keyword argument.
fn describe(rule: &FaultRule) -> String {
    match rule.action_ref() {
        Action::Reply(reply) => format!("reply={:?}", reply.to_string().trim_end()),
        Action::Delay(d) => format!("delay={}", d.as_secs_f64()),
        Action::Drip(d) => format!("drip={}", d.as_secs_f64()),
        Action::Disconnect => "disconnect=True".to_owned(),
        Action::DisconnectAfterReply => "disconnect_after_reply=True".to_owned(),
        _ => "...".to_owned(),
    }
}
