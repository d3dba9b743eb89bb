//! The typed values of `mtakit serve`'s flags, and their parsers.

use std::fmt;

use clap::ValueEnum;
use mtakit::proto::LineEndingPolicy;
use mtakit::proxy::Cidr;

/// An extension that `--disable` can switch off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Extension {
    /// PIPELINING (RFC 2920).
    Pipelining,
    /// SIZE (RFC 1870).
    Size,
    /// 8BITMIME (RFC 6152).
    #[value(name = "8bitmime")]
    EightBitMime,
    /// SMTPUTF8 (RFC 6531).
    #[value(name = "smtputf8")]
    SmtpUtf8,
    /// ENHANCEDSTATUSCODES (RFC 2034).
    #[value(name = "enhancedstatuscodes")]
    EnhancedStatusCodes,
    /// CHUNKING and the BDAT command (RFC 3030).
    Chunking,
    /// BINARYMIME (RFC 3030).
    #[value(name = "binarymime")]
    BinaryMime,
    /// DSN (RFC 3461).
    Dsn,
    /// STARTTLS (RFC 3207).
    #[value(name = "starttls")]
    StartTls,
    /// AUTH (RFC 4954).
    Auth,
}

/// The values of `--line-endings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LineEndings {
    /// Refuse the message with 550; nothing is stored (the default).
    Reject,
    /// Turn each bare CR and bare LF into CRLF, and accept.
    Normalize,
    /// Accept the bytes unchanged, and record the finding on the message.
    Record,
}

impl From<LineEndings> for LineEndingPolicy {
    fn from(value: LineEndings) -> Self {
        match value {
            LineEndings::Reject => LineEndingPolicy::Reject,
            LineEndings::Normalize => LineEndingPolicy::Normalize,
            LineEndings::Record => LineEndingPolicy::Record,
        }
    }
}

/// One `--auth USER:PASS` value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) password: String,
}

impl fmt::Debug for User {
    /// Never shows the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Parses `USER:PASS`; the password may itself contain colons.
pub(super) fn parse_user(value: &str) -> Result<User, String> {
    match value.split_once(':') {
        Some((name, password)) if !name.is_empty() && !password.is_empty() => Ok(User {
            name: name.to_owned(),
            password: password.to_owned(),
        }),
        _ => Err("expected USER:PASS, with a non-empty user name and password".to_owned()),
    }
}

/// Parses a network such as `10.0.0.0/8`.
pub(super) fn parse_cidr(value: &str) -> Result<Cidr, String> {
    value.parse::<Cidr>().map_err(|e| e.to_string())
}

/// Parses a count of at least 1.
pub(super) fn positive(value: &str) -> Result<usize, String> {
    at_least(value, 1, "")
}

/// Parses a command line length: RFC 5321 §4.5.3.1.4 requires 512.
pub(super) fn command_line_length(value: &str) -> Result<usize, String> {
    at_least(
        value,
        512,
        " octets: RFC 5321 §4.5.3.1.4 requires servers to accept command lines of 512 \
         octets, counting the CRLF",
    )
}

/// Parses a text line length: RFC 5321 §4.5.3.1.6 requires 1000.
pub(super) fn text_line_length(value: &str) -> Result<usize, String> {
    at_least(
        value,
        1000,
        " octets: RFC 5321 §4.5.3.1.6 requires servers to accept text lines of 1000 \
         octets, counting the CRLF",
    )
}

fn at_least(value: &str, min: usize, why: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n < min => Err(format!("must be at least {min}{why}")),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}
