//! Fault rules as data: the `{"rules": [...]}` of `GET`/`PUT`/`DELETE
//! /api/faults` and the `[[rules]]` tables of `--faults FILE`, turned into
//! [`FaultRule`]s of the server's shared [`FaultPlan`]. The form of one
//! rule is [`FaultRule`]'s own serde form (mtakit's `serde` feature).

use std::path::Path;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing;
use mtakit::fault::{FaultPlan, FaultRule};
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiError, JsonBody};
use crate::http::state::App;

/// `{"rules": [...]}`, and the TOML file with `[[rules]]` tables. Each
/// rule is kept as a value until [`build`](Self::build), so that an error
/// can name the rule it is in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSet {
    #[serde(default)]
    pub(crate) rules: Vec<serde_json::Value>,
}

/// A rule as shown by `GET /api/faults`, with how often it fired.
#[derive(Debug, Serialize)]
struct RuleView<'a> {
    #[serde(flatten)]
    rule: &'a FaultRule,
    fired: u64,
}

impl RuleSet {
    /// Every rule, or the first error, naming the rule (counting from 1).
    /// A rule's `fired` count, as `GET` shows it, is ignored, so that a
    /// listed rule set can be sent back.
    pub(crate) fn build(self) -> Result<Vec<FaultRule>, String> {
        self.rules
            .into_iter()
            .enumerate()
            .map(|(i, mut value)| {
                if let Some(table) = value.as_object_mut() {
                    table.remove("fired");
                }
                FaultRule::deserialize(value).map_err(|e| format!("rule {}: {e}", i + 1))
            })
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
    let rules = plan.rules();
    let rules: Vec<RuleView> = rules
        .iter()
        .enumerate()
        .map(|(i, rule)| RuleView {
            rule,
            fired: fired.get(i).copied().unwrap_or(0),
        })
        .collect();
    serde_json::json!({ "rules": rules })
}

/// `GET`, `PUT` and `DELETE /api/faults`.
pub(super) fn routes() -> Router<App> {
    Router::new().route("/api/faults", routing::get(get).put(put).delete(delete))
}

/// `GET /api/faults`.
async fn get(State(app): State<App>) -> Json<serde_json::Value> {
    Json(view(&app.plan))
}

/// `PUT /api/faults`: replaces every rule (and resets the counters), or
/// changes nothing and answers 400.
async fn put(
    State(app): State<App>,
    JsonBody(set): JsonBody<RuleSet>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rules = set.build().map_err(ApiError::bad_request)?;
    app.plan.set_rules(rules);
    tracing::info!(rules = app.plan.rules().len(), "fault rules replaced");
    Ok(Json(view(&app.plan)))
}

/// `DELETE /api/faults`.
async fn delete(State(app): State<App>) -> StatusCode {
    app.plan.clear();
    tracing::info!("fault rules cleared");
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(json: &str) -> Result<Vec<FaultRule>, String> {
        serde_json::from_str::<RuleSet>(json).unwrap().build()
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
        let err = |json: &str| build(&format!(r#"{{"rules": [{json}]}}"#)).unwrap_err();
        assert!(err(r#"{"stage": "rcpt"}"#).contains("exactly one of"));
        assert!(err(r#"{"stage": "nowhere", "disconnect": true}"#).contains("unknown stage"));
        assert!(
            err(r#"{"stage": "rcpt", "match": "(", "disconnect": true}"#)
                .contains("bad regular expression")
        );
        assert!(err(r#"{"stage": "mail", "reply": "hello"}"#).contains("bad reply"));
        assert!(err(r#"{"stage": "mail", "delay_ms": 3600001}"#).contains("at most"));
        assert!(err(r#"{"stage": "mail", "delay_ms": -1}"#).contains("rule 1: invalid value"));
        assert!(err(r#"{"stage": "mail", "disconnect": "yes"}"#).contains("rule 1: invalid type"));
        assert!(err(r#""mail""#).contains("rule 1: invalid type"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let set: RuleSet =
            toml::from_str("[[rules]]\nstage = \"mail\"\nrepyl = \"550 x\"").unwrap();
        assert!(set.build().unwrap_err().contains("unknown field `repyl`"));
        assert!(toml::from_str::<RuleSet>("rulez = []").is_err());
        assert_eq!(
            build(r#"{"rules": [{"stage": "mail", "reply": "550 5.7.1 no", "fired": 3}]}"#)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn errors_name_the_rule() {
        let err = build(
            r#"{"rules": [{"stage": "mail", "reply": "550 5.7.1 no"}, {"stage": "rcpt", "match": "[", "reply": "550 5.1.1 no"}]}"#,
        )
        .unwrap_err();
        assert!(err.starts_with("rule 2: bad regular expression"), "{err}");
    }
}
