//! The serde form of a [`FaultRule`] (feature `serde`), described in the
//! module docs of [`fault`](crate::fault#as-data).

use std::time::Duration;

use mtakit_proto::Reply;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::MAX_PAUSE_MS;
use super::error::{FaultError, parse_reply};
use super::rule::{Action, FaultRule, Scope, Stage};

/// A rule as its keys: every field optional but `stage`.
#[derive(Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RuleFields {
    stage: String,
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rcpt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disconnect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disconnect_after_reply: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drip_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    probability: Option<f64>,
}

fn pause(field: &'static str, ms: u64) -> Result<Duration, FaultError> {
    if ms > MAX_PAUSE_MS {
        return Err(FaultError::Pause(field));
    }
    Ok(Duration::from_millis(ms))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl TryFrom<RuleFields> for FaultRule {
    type Error = FaultError;

    fn try_from(f: RuleFields) -> Result<Self, FaultError> {
        let stage = Stage::from_name(&f.stage).ok_or_else(|| FaultError::Stage(f.stage.clone()))?;
        let mut actions = Vec::new();
        if let Some(reply) = &f.reply {
            actions.push(Action::Reply(parse_reply(reply)?));
        }
        if let Some(ms) = f.delay_ms {
            actions.push(Action::Delay(pause("delay_ms", ms)?));
        }
        if f.disconnect == Some(true) {
            actions.push(Action::Disconnect);
        }
        if f.disconnect_after_reply == Some(true) {
            actions.push(Action::DisconnectAfterReply);
        }
        if let Some(ms) = f.drip_ms {
            actions.push(Action::Drip(pause("drip_ms", ms)?));
        }
        let Ok([action]) = <[Action; 1]>::try_from(actions) else {
            return Err(FaultError::Action);
        };
        let mut rule = FaultRule::new(stage).action(action);
        if let Some(pattern) = &f.pattern {
            rule = rule.matching(pattern)?;
        }
        if let Some(pattern) = &f.rcpt {
            rule = rule.rcpt_matching(pattern)?;
        }
        if let Some(scope) = &f.scope {
            rule = rule.scope(Scope::from_name(scope)?);
        }
        if let Some(n) = f.after {
            rule = rule.after(n);
        }
        if let Some(n) = f.times {
            rule = rule.times(n);
        }
        if let Some(p) = f.probability {
            rule = rule.probability(p)?;
        }
        Ok(rule)
    }
}

impl From<&FaultRule> for RuleFields {
    fn from(rule: &FaultRule) -> Self {
        let mut f = RuleFields {
            stage: rule.stage().name().to_owned(),
            pattern: rule.pattern_text().map(str::to_owned),
            rcpt: rule.rcpt_text().map(str::to_owned),
            scope: Some(rule.scope_ref())
                .filter(|s| *s != Scope::Global)
                .map(|s| s.name().to_owned()),
            after: Some(rule.skipped()).filter(|n| *n > 0),
            times: rule.limit(),
            probability: rule.chance(),
            ..RuleFields::default()
        };
        match rule.action_ref() {
            Action::Reply(reply) => f.reply = Some(Reply::to_text(reply)),
            Action::Delay(d) => f.delay_ms = Some(millis(*d)),
            Action::Disconnect => f.disconnect = Some(true),
            Action::DisconnectAfterReply => f.disconnect_after_reply = Some(true),
            Action::Drip(d) => f.drip_ms = Some(millis(*d)),
        }
        f
    }
}

/// The keys of the [`fault`](crate::fault#as-data) docs; only the keys that differ from the
/// defaults are written.
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl Serialize for FaultRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RuleFields::from(self).serialize(serializer)
    }
}

/// The keys of the [`fault`](crate::fault#as-data) docs. A rule that cannot be built fails
/// with the [`FaultError`]'s text, e.g. `bad regular expression: ...`.
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl<'de> Deserialize<'de> for FaultRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = RuleFields::deserialize(deserializer)?;
        FaultRule::try_from(fields).map_err(serde::de::Error::custom)
    }
}

/// A stage as its [`name`](Stage::name), e.g. `"rcpt"`.
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl Serialize for Stage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A stage by its [`name`](Stage::name), in any case.
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl<'de> Deserialize<'de> for Stage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Stage::from_name(&name).ok_or_else(|| serde::de::Error::custom(FaultError::Stage(name)))
    }
}

/// A scope as its [`name`](Scope::name), e.g. `"peer"`.
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A scope by its [`name`](Scope::name), in any case.
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Scope::from_name(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> Result<FaultRule, String> {
        serde_json::from_str::<FaultRule>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn every_action_round_trips() {
        for json in [
            r#"{"stage":"rcpt","match":"^<bob@","reply":"550 5.1.1 No such user","after":1,"times":2,"probability":0.5}"#,
            r#"{"stage":"data","disconnect_after_reply":true}"#,
            r#"{"stage":"mail","delay_ms":250}"#,
            r#"{"stage":"helo","drip_ms":5}"#,
            r#"{"stage":"connect","disconnect":true}"#,
            r#"{"stage":"message","rcpt":"^<full@","scope":"peer","reply":"452 4.2.2 Mailbox full"}"#,
            r#"{"stage":"mail","reply":"553 5.7.1 Go away\nEvil IP"}"#,
        ] {
            let parsed = rule(json).unwrap();
            let written = serde_json::to_string(&parsed).unwrap();
            let back: serde_json::Value = serde_json::from_str(&written).unwrap();
            let sent: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(back, sent, "{json}");
            assert_eq!(rule(&written).unwrap(), parsed);
        }
        let built = FaultRule::new(Stage::Rcpt)
            .matching("^<bob@")
            .unwrap()
            .reply("550 5.1.1 No such user")
            .unwrap()
            .times(1);
        assert_eq!(rule(&serde_json::to_string(&built).unwrap()), Ok(built));
    }

    #[test]
    fn bad_rules_say_why() {
        let err = |json: &str| rule(json).unwrap_err();
        assert!(err(r#"{"stage":"rcpt"}"#).contains("exactly one of"));
        assert!(err(r#"{"stage":"nowhere","disconnect":true}"#).contains("unknown stage"));
        assert!(
            err(r#"{"stage":"rcpt","reply":"550 no","disconnect":true}"#)
                .contains("exactly one of")
        );
        assert!(
            err(r#"{"stage":"rcpt","match":"(","disconnect":true}"#)
                .contains("bad regular expression")
        );
        assert!(err(r#"{"stage":"mail","reply":"hello"}"#).contains("bad reply"));
        assert!(err(r#"{"stage":"mail","reply":"700 x"}"#).contains("bad reply"));
        assert!(
            err(r#"{"stage":"mail","disconnect":true,"probability":1.5}"#).contains("probability")
        );
        let long = format!(r#"{{"stage":"mail","delay_ms":{}}}"#, MAX_PAUSE_MS + 1);
        assert!(err(&long).contains("delay_ms must be at most 3600000"));
        let long = format!(r#"{{"stage":"mail","drip_ms":{}}}"#, MAX_PAUSE_MS + 1);
        assert!(err(&long).contains("drip_ms must be at most"));
        assert!(rule(&format!(r#"{{"stage":"mail","delay_ms":{MAX_PAUSE_MS}}}"#)).is_ok());
        assert!(
            err(r#"{"stage":"message","match":"(?:[a-j]{1,100}){20}Q","disconnect":true}"#)
                .contains("pattern too large")
        );
        assert!(
            err(r#"{"stage":"mail","disconnect":true,"scope":"everyone"}"#)
                .contains("unknown scope")
        );
        assert!(
            err(r#"{"stage":"mail","disconnect":true,"rcpt":"^<a@"}"#)
                .contains("message stage only")
        );
        assert!(err(r#"{"stage":"mail","repyl":"550 x"}"#).contains("unknown field"));
        assert!(rule(r#"{"stage":"mail","disconnect":false,"reply":"451 4.3.0 later"}"#).is_ok());
    }

    #[test]
    fn stage_and_scope_are_their_names() {
        assert_eq!(
            serde_json::to_string(&Stage::StartTls).unwrap(),
            r#""starttls""#
        );
        assert_eq!(
            serde_json::from_str::<Stage>(r#""DATA""#).unwrap(),
            Stage::Data
        );
        assert!(serde_json::from_str::<Stage>(r#""later""#).is_err());
        assert_eq!(serde_json::to_string(&Scope::Peer).unwrap(), r#""peer""#);
        assert_eq!(
            serde_json::from_str::<Scope>(r#""session""#).unwrap(),
            Scope::Session
        );
        assert!(serde_json::from_str::<Scope>(r#""galaxy""#).is_err());
    }
}
