//! [`FaultError`]: why a rule could not be built; and [`parse_reply`],
//! which reads the reply of a rule.

use std::fmt;

use mtakit_proto::{Reply, ReplyCode};

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
            Self::Action => {
                f.write_str("a rule needs exactly one of reply, delay_ms, disconnect or drip_ms")
            }
            Self::RcptStage => f.write_str("rcpt applies to the message stage only"),
            Self::Scope(s) => write!(f, "unknown scope {s:?} (global, peer, session)"),
        }
    }
}

impl std::error::Error for FaultError {}

/// Parses `"550 5.1.1 No such user"` (the enhanced code is optional; a
/// `\n` in the text makes a multi-line reply).
///
/// # Errors
///
/// [`FaultError::Reply`] when it is not a valid reply.
pub fn parse_reply(text: &str) -> Result<Reply, FaultError> {
    let bad = |why: &str| FaultError::Reply(format!("{why}: {text:?}"));
    let (code, rest) = text.split_once(' ').unwrap_or((text, ""));
    let code: u16 = code.parse().map_err(|_| bad("no 3-digit code"))?;
    if ReplyCode::new(code).is_none() {
        return Err(bad("code outside 200..=599"));
    }
    let (enhanced, text) = match rest.split_once(' ') {
        Some((first, tail)) => match mtakit_proto::EnhancedCode::parse(first) {
            Some(e) => (Some(e), tail),
            None => (None, rest),
        },
        None => match mtakit_proto::EnhancedCode::parse(rest) {
            Some(e) => (Some(e), ""),
            None => (None, rest),
        },
    };
    Reply::multiline(code, enhanced, text.split('\n')).map_err(|e| bad(&e.to_string()))
}
