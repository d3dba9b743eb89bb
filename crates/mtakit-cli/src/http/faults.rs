//! Fault rules as data: the `{"rules": [...]}` of `GET`/`PUT`/`DELETE
//! /api/faults` and the `[[rules]]` tables of `--faults FILE`, turned into
//! [`FaultRule`]s of the server's shared [`FaultPlan`].

use std::path::Path;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mtakit::fault::{Action, FaultError, FaultPlan, FaultRule, Scope, Stage};
use mtakit::proto::Reply;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, JsonBody};
use super::state::App;

/// The longest `delay_ms` or `drip_ms`: one hour.
const MAX_PAUSE_MS: u64 = 3_600_000;

/// A rule as written in JSON or TOML.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub(crate) stage: String,
    #[serde(rename = "match")]
    pub(crate) pattern: Option<String>,
    /// At the `message` stage: the recipients the rule answers for.
    pub(crate) rcpt: Option<String>,
    /// `global` (the default), `peer` or `session`.
    pub(crate) scope: Option<String>,
    pub(crate) reply: Option<String>,
    pub(crate) delay_ms: Option<u64>,
    pub(crate) disconnect: Option<bool>,
    pub(crate) disconnect_after_reply: Option<bool>,
    pub(crate) drip_ms: Option<u64>,
    pub(crate) after: Option<u64>,
    pub(crate) times: Option<u64>,
    pub(crate) probability: Option<f64>,
    /// Shown by `GET`; ignored when a rule list is sent back.
    #[serde(default)]
    fired: Option<IgnoredAny>,
}

/// `{"rules": [...]}`, and the TOML file with `[[rules]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSet {
    #[serde(default)]
    pub(crate) rules: Vec<RuleSpec>,
}

/// A rule as shown by `GET /api/faults`, with how often it fired.
#[derive(Debug, Serialize)]
pub(crate) struct RuleView {
    stage: &'static str,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rcpt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disconnect: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disconnect_after_reply: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drip_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    times: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probability: Option<f64>,
    fired: u64,
}

/// The reply in the form [`mtakit::fault::parse_reply`] reads.
fn reply_text(reply: &Reply) -> String {
    let mut text = reply.code().to_string();
    if let Some(enhanced) = reply.enhanced() {
        text.push(' ');
        text.push_str(&enhanced.to_string());
    }
    if !reply.text().is_empty() {
        text.push(' ');
        text.push_str(reply.text());
    }
    text
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RuleView {
    fn new(rule: &FaultRule, fired: u64) -> RuleView {
        let mut view = RuleView {
            stage: rule.stage().name(),
            pattern: rule.pattern_text().map(str::to_owned),
            rcpt: rule.rcpt_text().map(str::to_owned),
            scope: Some(rule.scope_ref())
                .filter(|s| *s != Scope::Global)
                .map(Scope::name),
            reply: None,
            delay_ms: None,
            disconnect: None,
            disconnect_after_reply: None,
            drip_ms: None,
            after: Some(rule.skipped()).filter(|n| *n > 0),
            times: rule.limit(),
            probability: rule.chance(),
            fired,
        };
        match rule.action_ref() {
            Action::Reply(reply) => view.reply = Some(reply_text(reply)),
            Action::Delay(d) => view.delay_ms = Some(millis(*d)),
            Action::Disconnect => view.disconnect = Some(true),
            Action::DisconnectAfterReply => view.disconnect_after_reply = Some(true),
            Action::Drip(d) => view.drip_ms = Some(millis(*d)),
            _ => {}
        }
        view
    }
}

fn pause(name: &str, ms: u64) -> Result<Duration, String> {
    if ms > MAX_PAUSE_MS {
        return Err(format!("{name} must be at most {MAX_PAUSE_MS}"));
    }
    Ok(Duration::from_millis(ms))
}

impl RuleSpec {
    /// The rule, or why it is not one.
    pub(crate) fn build(&self) -> Result<FaultRule, String> {
        let stage = Stage::from_name(&self.stage)
            .ok_or_else(|| FaultError::Stage(self.stage.clone()).to_string())?;
        let mut actions = Vec::new();
        if let Some(reply) = &self.reply {
            actions.push(Action::Reply(
                mtakit::fault::parse_reply(reply).map_err(|e| e.to_string())?,
            ));
        }
        if let Some(ms) = self.delay_ms {
            actions.push(Action::Delay(pause("delay_ms", ms)?));
        }
        if self.disconnect == Some(true) {
            actions.push(Action::Disconnect);
        }
        if self.disconnect_after_reply == Some(true) {
            actions.push(Action::DisconnectAfterReply);
        }
        if let Some(ms) = self.drip_ms {
            actions.push(Action::Drip(pause("drip_ms", ms)?));
        }
        let Ok([action]) = <[Action; 1]>::try_from(actions) else {
            return Err("a rule needs exactly one of reply, delay_ms, disconnect, \
                        disconnect_after_reply or drip_ms"
                .to_owned());
        };
        let mut rule = FaultRule::new(stage).action(action);
        if let Some(pattern) = &self.pattern {
            rule = rule.matching(pattern).map_err(|e| e.to_string())?;
        }
        if let Some(pattern) = &self.rcpt {
            rule = rule.rcpt_matching(pattern).map_err(|e| e.to_string())?;
        }
        if let Some(scope) = &self.scope {
            rule = rule.scope(Scope::from_name(scope).map_err(|e| e.to_string())?);
        }
        if let Some(n) = self.after {
            rule = rule.after(n);
        }
        if let Some(n) = self.times {
            rule = rule.times(n);
        }
        if let Some(p) = self.probability {
            rule = rule.probability(p).map_err(|e| e.to_string())?;
        }
        Ok(rule)
    }
}

impl RuleSet {
    /// Every rule, or the first error, naming the rule (counting from 1).
    pub(crate) fn build(&self) -> Result<Vec<FaultRule>, String> {
        self.rules
            .iter()
            .enumerate()
            .map(|(i, spec)| spec.build().map_err(|e| format!("rule {}: {e}", i + 1)))
            .collect()
    }
}

/// Reads `--faults FILE`.
pub(crate) fn load_file(path: &Path) -> Result<Vec<FaultRule>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let set: RuleSet = toml::from_str(&text).map_err(|e| e.to_string().trim_end().to_owned())?;
    set.build()
}

/// The rules of `plan` as `{"rules": [...]}`.
fn view(plan: &FaultPlan) -> serde_json::Value {
    let fired = plan.fired();
    let rules: Vec<RuleView> = plan
        .rules()
        .iter()
        .enumerate()
        .map(|(i, rule)| RuleView::new(rule, fired.get(i).copied().unwrap_or(0)))
        .collect();
    serde_json::json!({ "rules": rules })
}

/// `GET /api/faults`.
pub(crate) async fn get(State(app): State<App>) -> Json<serde_json::Value> {
    Json(view(&app.plan))
}

/// `PUT /api/faults`: replaces every rule (and resets the counters), or
/// changes nothing and answers 400.
pub(crate) async fn put(
    State(app): State<App>,
    JsonBody(set): JsonBody<RuleSet>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rules = set.build().map_err(ApiError::bad_request)?;
    app.plan.set_rules(rules);
    tracing::info!(rules = app.plan.rules().len(), "fault rules replaced");
    Ok(Json(view(&app.plan)))
}

/// `DELETE /api/faults`.
pub(crate) async fn delete(State(app): State<App>) -> StatusCode {
    app.plan.clear();
    tracing::info!("fault rules cleared");
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(stage: &str) -> RuleSpec {
        RuleSpec {
            stage: stage.to_owned(),
            ..RuleSpec::default()
        }
    }

    #[test]
    fn every_action_round_trips() {
        let text = r#"
            [[rules]]
            stage = "rcpt"
            match = "^<bob@"
            reply = "550 5.1.1 No such user"
            after = 1
            times = 2
            probability = 0.5

            [[rules]]
            stage = "DATA"
            disconnect_after_reply = true

            [[rules]]
            stage = "mail"
            delay_ms = 250

            [[rules]]
            stage = "helo"
            drip_ms = 5

            [[rules]]
            stage = "connect"
            disconnect = true

            [[rules]]
            stage = "message"
            rcpt = "^<full@"
            reply = "452 4.2.2 Mailbox full"
            scope = "peer"
        "#;
        let set: RuleSet = toml::from_str(text).unwrap();
        let plan = FaultPlan::new();
        plan.set_rules(set.build().unwrap());
        let shown = view(&plan);
        assert_eq!(
            shown["rules"][0],
            serde_json::json!({"stage": "rcpt", "match": "^<bob@",
                "reply": "550 5.1.1 No such user", "after": 1, "times": 2,
                "probability": 0.5, "fired": 0})
        );
        assert_eq!(shown["rules"][1]["stage"], "data");
        assert_eq!(shown["rules"][1]["disconnect_after_reply"], true);
        assert_eq!(shown["rules"][2]["delay_ms"], 250);
        assert_eq!(shown["rules"][3]["drip_ms"], 5);
        assert_eq!(shown["rules"][4]["disconnect"], true);
        assert_eq!(
            shown["rules"][5],
            serde_json::json!({"stage": "message", "rcpt": "^<full@",
                "reply": "452 4.2.2 Mailbox full", "scope": "peer", "fired": 0})
        );
        // What GET shows can be sent back as it is.
        let again: RuleSet = serde_json::from_value(shown).unwrap();
        assert_eq!(again.build().unwrap(), plan.rules());
    }

    #[test]
    fn bad_rules_say_why() {
        let err = |s: RuleSpec| s.build().unwrap_err();
        assert!(err(spec("rcpt")).contains("exactly one of"));
        assert!(err(spec("nowhere")).contains("unknown stage"));
        let mut two = spec("rcpt");
        two.reply = Some("550 no".to_owned());
        two.disconnect = Some(true);
        assert!(err(two).contains("exactly one of"));
        let mut regex = spec("rcpt");
        regex.disconnect = Some(true);
        regex.pattern = Some("(".to_owned());
        assert!(err(regex).contains("bad regular expression"));
        let mut reply = spec("mail");
        reply.reply = Some("hello".to_owned());
        assert!(err(reply).contains("bad reply"));
        let mut p = spec("mail");
        p.disconnect = Some(true);
        p.probability = Some(1.5);
        assert!(err(p).contains("probability"));
        let mut long = spec("mail");
        long.delay_ms = Some(MAX_PAUSE_MS + 1);
        assert!(err(long).contains("at most"));
        let mut huge = spec("message");
        huge.disconnect = Some(true);
        huge.pattern = Some("(?:[a-j]{1,100}){20}Q".to_owned());
        assert!(err(huge).contains("pattern too large"));
        let mut scope = spec("mail");
        scope.disconnect = Some(true);
        scope.scope = Some("everyone".to_owned());
        assert!(err(scope).contains("unknown scope"));
        let mut rcpt = spec("mail");
        rcpt.disconnect = Some(true);
        rcpt.rcpt = Some("^<a@".to_owned());
        assert!(err(rcpt).contains("message stage only"));
        let mut off = spec("mail");
        off.disconnect = Some(false);
        off.reply = Some("451 4.3.0 later".to_owned());
        assert!(off.build().is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(
            toml::from_str::<RuleSet>("[[rules]]\nstage = \"mail\"\nrepyl = \"550 x\"").is_err()
        );
        let set: RuleSet = serde_json::from_str(
            r#"{"rules": [{"stage": "mail", "reply": "550 5.7.1 no", "fired": 3}]}"#,
        )
        .unwrap();
        assert_eq!(set.build().unwrap().len(), 1);
    }

    #[test]
    fn errors_name_the_rule() {
        let set: RuleSet = serde_json::from_str(
            r#"{"rules": [{"stage": "mail", "reply": "550 5.7.1 no"}, {"stage": "rcpt", "match": "[", "reply": "550 5.1.1 no"}]}"#,
        )
        .unwrap();
        let err = set.build().unwrap_err();
        assert!(err.starts_with("rule 2: bad regular expression"), "{err}");
    }
}
