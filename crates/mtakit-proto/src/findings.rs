//! Conformance findings: what a client did that a strict server would
//! refuse, recorded on the message so that a test can assert on it.
//!
//! Users test their own mail senders this way: with
//! [`LineEndingPolicy::Record`](crate::LineEndingPolicy::Record) the
//! server accepts what it would otherwise refuse and says what was wrong.

use std::fmt;

/// One way a message or its session broke the rules.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Finding {
    /// LF not preceded by CR in the content (RFC 5321 §2.3.8).
    BareLf {
        /// How many.
        count: u64,
    },
    /// CR not followed by LF in the content.
    BareCr {
        /// How many.
        count: u64,
    },
    /// A content line longer than 998 octets before its CRLF
    /// (RFC 5321 §4.5.3.1.6, RFC 5322 §2.1.1).
    LongLine {
        /// The longest line, in octets.
        length: usize,
    },
    /// 8-bit octets in the content without `BODY=8BITMIME` or
    /// `BODY=BINARYMIME` (RFC 6152).
    EightBitWithoutBody {
        /// How many octets.
        count: u64,
    },
    /// A non-ASCII address in the envelope without `SMTPUTF8` (RFC 6531).
    Utf8EnvelopeWithoutSmtputf8,
    /// NUL octets in the content.
    Nul {
        /// How many.
        count: u64,
    },
    /// The client sent data before the server's greeting (RFC 5321
    /// §3.1 says it waits for the 220).
    EarlyTalker,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BareLf { count } => write!(f, "{count} bare LF in the content"),
            Self::BareCr { count } => write!(f, "{count} bare CR in the content"),
            Self::LongLine { length } => {
                write!(f, "a content line of {length} octets (over 998)")
            }
            Self::EightBitWithoutBody { count } => {
                write!(f, "{count} 8-bit octets without BODY=8BITMIME")
            }
            Self::Utf8EnvelopeWithoutSmtputf8 => {
                f.write_str("a UTF-8 envelope address without SMTPUTF8")
            }
            Self::Nul { count } => write!(f, "{count} NUL octets in the content"),
            Self::EarlyTalker => f.write_str("the client talked before the greeting"),
        }
    }
}
