//! [`FaultError`]: why a rule could not be built.

use std::fmt;

use mtakit_proto::{Reply, ReplyError};

/// A rule could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultError {
    /// The regular expression does not compile.
    Regex(String),
    /// The reply is not `CODE [x.y.z] text` with a valid code.
    Reply(String),
    /// An unknown stage name.
    Stage(String),
    /// A probability outside 0..=1.
    Probability,
    /// A rule needs exactly one action.
    Action,
    /// A recipient pattern on a stage other than `message`.
    RcptStage,
    /// An unknown scope name.
    Scope(String),
    /// A `delay_ms` or `drip_ms` (the field named) over
    /// [`MAX_PAUSE_MS`](super::MAX_PAUSE_MS) in a deserialized rule.
    Pause(&'static str),
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Regex(e) => write!(f, "bad regular expression: {e}"),
            Self::Reply(e) => write!(f, "bad reply: {e}"),
            Self::Stage(s) => write!(
                f,
                "unknown stage {s:?} (connect, helo, auth, mail, rcpt, data, message, starttls)"
            ),
            Self::Probability => f.write_str("probability must be between 0 and 1"),
            Self::Action => f.write_str(
                "a rule needs exactly one of reply, delay_ms, disconnect, \
                 disconnect_after_reply or drip_ms",
            ),
            Self::RcptStage => f.write_str("rcpt applies to the message stage only"),
            Self::Scope(s) => write!(f, "unknown scope {s:?} (global, peer, session)"),
            Self::Pause(field) => write!(f, "{field} must be at most {}", super::MAX_PAUSE_MS),
        }
    }
}

impl std::error::Error for FaultError {}

/// Parses `"550 5.1.1 No such user"` with [`Reply`]'s `FromStr`, naming
/// the text in the error.
pub(crate) fn parse_reply(text: &str) -> Result<Reply, FaultError> {
    text.parse()
        .map_err(|e: ReplyError| FaultError::Reply(format!("{e}: {text:?}")))
}
