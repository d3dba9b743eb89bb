//! SMTP commands (RFC 5321 §4.1.1) and their parser.
//!
//! [`Command::parse`] takes one command line without its CRLF, as bytes,
//! and returns a typed [`Command`] or a [`CommandError`] that knows its
//! reply. It checks only what the line itself says; what depends on the
//! session (HELO versus EHLO, SMTPUTF8, the order of commands) is the
//! session's job.

use std::fmt;

use crate::address::{Domain, ForwardPath, PathError, ReversePath};
use crate::params::{MailParams, ParamError, RcptParams};
use crate::reply::{EnhancedCode, Reply, ReplyCode};

/// One parsed SMTP command.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `HELO domain`
    Helo(Domain),
    /// `EHLO domain`
    Ehlo(Domain),
    /// `LHLO domain` (LMTP, RFC 2033)
    Lhlo(Domain),
    /// `MAIL FROM:<reverse-path> [parameters]`
    Mail {
        /// The sender, or the null path.
        reverse_path: ReversePath,
        /// The ESMTP parameters.
        params: MailParams,
        /// True when any parameter was given, even if all are defaults.
        has_params: bool,
    },
    /// `RCPT TO:<forward-path> [parameters]`
    Rcpt {
        /// The recipient.
        forward_path: ForwardPath,
        /// The ESMTP parameters.
        params: RcptParams,
        /// True when any parameter was given.
        has_params: bool,
    },
    /// `DATA`
    Data,
    /// `BDAT size [LAST]` (CHUNKING, RFC 3030): `size` octets of message
    /// content follow the command line.
    Bdat {
        /// The chunk size in octets.
        size: u64,
        /// True for the last chunk.
        last: bool,
    },
    /// `RSET`
    Rset,
    /// `NOOP [string]`: the string is ignored (RFC 5321 §4.1.1.9).
    Noop,
    /// `QUIT`
    Quit,
    /// `VRFY string`
    Vrfy(String),
    /// `EXPN string`
    Expn(String),
    /// `HELP [topic]`
    Help(Option<String>),
    /// `AUTH mechanism [initial-response]` (RFC 4954)
    Auth {
        /// The mechanism name, upper-cased.
        mechanism: String,
        /// The initial response, still base64-encoded; `=` stands for an
        /// empty response.
        initial_response: Option<String>,
    },
    /// `STARTTLS` (RFC 3207)
    StartTls,
}

impl Command {
    /// The verb, upper-case, as it names the command on the wire.
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Helo(_) => "HELO",
            Self::Ehlo(_) => "EHLO",
            Self::Lhlo(_) => "LHLO",
            Self::Bdat { .. } => "BDAT",
            Self::Mail { .. } => "MAIL",
            Self::Rcpt { .. } => "RCPT",
            Self::Data => "DATA",
            Self::Rset => "RSET",
            Self::Noop => "NOOP",
            Self::Quit => "QUIT",
            Self::Vrfy(_) => "VRFY",
            Self::Expn(_) => "EXPN",
            Self::Help(_) => "HELP",
            Self::Auth { .. } => "AUTH",
            Self::StartTls => "STARTTLS",
        }
    }

    /// Parses one command line, without its CRLF.
    ///
    /// ```
    /// use mtakit_proto::Command;
    ///
    /// let cmd = Command::parse(b"MAIL FROM:<alice@example.com> SIZE=1000").unwrap();
    /// assert!(matches!(cmd, Command::Mail { .. }));
    ///
    /// let err = Command::parse(b"FROB").unwrap_err();
    /// assert_eq!(err.reply().code().get(), 500);
    /// ```
    ///
    /// # Errors
    ///
    /// A [`CommandError`] for an unknown verb or bad arguments.
    pub fn parse(line: &[u8]) -> Result<Self, CommandError> {
        if line.iter().any(|&b| b < 0x20 || b == 0x7f) {
            return Err(CommandError::InvalidCharacter);
        }
        let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
        let verb = &line[..verb_end];
        if verb.is_empty() {
            return Err(CommandError::Empty);
        }
        if !verb.iter().all(u8::is_ascii_alphabetic) || verb.len() > 16 {
            return Err(CommandError::Unrecognized(quoted_verb(verb)));
        }
        let rest = &line[verb_end..];
        // Upper-cased on the stack: no allocation per command.
        let mut upper_buf = [0u8; 16];
        let upper_buf = &mut upper_buf[..verb.len()];
        upper_buf.copy_from_slice(verb);
        upper_buf.make_ascii_uppercase();
        let upper = std::str::from_utf8(upper_buf).unwrap_or_default();
        // Only MAIL and RCPT may carry 8-bit text (RFC 6531 addresses).
        if !matches!(upper, "MAIL" | "RCPT") && !rest.is_ascii() {
            return Err(CommandError::InvalidCharacter);
        }
        let rest = std::str::from_utf8(rest).map_err(|_| CommandError::InvalidUtf8)?;
        let arg = rest.trim_matches(' ');
        match upper {
            "HELO" => parse_hello(arg, "HELO").map(Self::Helo),
            "EHLO" => parse_hello(arg, "EHLO").map(Self::Ehlo),
            "LHLO" => parse_hello(arg, "LHLO").map(Self::Lhlo),
            "BDAT" => parse_bdat(arg),
            "MAIL" => {
                let path = strip_keyword(arg, "FROM:")
                    .ok_or(CommandError::Syntax("MAIL FROM:<address>"))?;
                let (reverse_path, params) = ReversePath::parse(path.trim_start_matches(' '))
                    .map_err(CommandError::Sender)?;
                let has_params = params_after_path(params, "MAIL FROM:<address> [parameters]")?;
                let params = MailParams::parse(params).map_err(CommandError::Param)?;
                Ok(Self::Mail {
                    reverse_path,
                    params,
                    has_params,
                })
            }
            "RCPT" => {
                let path =
                    strip_keyword(arg, "TO:").ok_or(CommandError::Syntax("RCPT TO:<address>"))?;
                let (forward_path, params) = ForwardPath::parse(path.trim_start_matches(' '))
                    .map_err(CommandError::Recipient)?;
                let has_params = params_after_path(params, "RCPT TO:<address> [parameters]")?;
                let params = RcptParams::parse(params).map_err(CommandError::Param)?;
                Ok(Self::Rcpt {
                    forward_path,
                    params,
                    has_params,
                })
            }
            "DATA" => no_arg(arg, Self::Data, "DATA"),
            "RSET" => no_arg(arg, Self::Rset, "RSET"),
            "QUIT" => no_arg(arg, Self::Quit, "QUIT"),
            "STARTTLS" => no_arg(arg, Self::StartTls, "STARTTLS"),
            "NOOP" => Ok(Self::Noop),
            "VRFY" => one_string(arg, "VRFY string").map(Self::Vrfy),
            "EXPN" => one_string(arg, "EXPN string").map(Self::Expn),
            "HELP" => Ok(Self::Help((!arg.is_empty()).then(|| arg.to_owned()))),
            "AUTH" => {
                let mut words = arg.split(' ').filter(|w| !w.is_empty());
                let mechanism = words
                    .next()
                    .ok_or(CommandError::Syntax("AUTH mechanism [initial-response]"))?;
                let initial_response = words.next().map(str::to_owned);
                if words.next().is_some() {
                    return Err(CommandError::Syntax("AUTH mechanism [initial-response]"));
                }
                Ok(Self::Auth {
                    mechanism: mechanism.to_ascii_uppercase(),
                    initial_response,
                })
            }
            "SEND" | "SOML" | "SAML" | "TURN" | "ETRN" | "ATRN" | "XCLIENT" => {
                Err(CommandError::NotImplemented(upper.to_owned()))
            }
            _ => Err(CommandError::Unrecognized(quoted_verb(verb))),
        }
    }
}

/// Parameters must be separated from the path by a space (RFC 5321
/// §4.1.2). Returns whether there are any.
fn params_after_path(rest: &str, syntax: &'static str) -> Result<bool, CommandError> {
    if rest.is_empty() {
        Ok(false)
    } else if rest.starts_with(' ') {
        Ok(!rest.trim().is_empty())
    } else {
        Err(CommandError::Syntax(syntax))
    }
}

fn strip_keyword<'a>(arg: &'a str, keyword: &str) -> Option<&'a str> {
    let head = arg.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| &arg[keyword.len()..])
}

fn parse_hello(arg: &str, verb: &'static str) -> Result<Domain, CommandError> {
    let syntax = match verb {
        "HELO" => "HELO domain",
        "LHLO" => "LHLO domain",
        _ => "EHLO domain",
    };
    if arg.is_empty() || arg.contains(' ') {
        return Err(CommandError::Syntax(syntax));
    }
    Domain::parse(arg).map_err(|_| CommandError::InvalidDomain)
}

/// `BDAT chunk-size [SP end-marker]` (RFC 3030 §2).
fn parse_bdat(arg: &str) -> Result<Command, CommandError> {
    const SYNTAX: &str = "BDAT chunk-size [LAST]";
    let mut words = arg.split(' ');
    let size = words.next().unwrap_or_default();
    if size.is_empty() || size.len() > 20 || !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CommandError::Syntax(SYNTAX));
    }
    let size: u64 = size.parse().map_err(|_| CommandError::Syntax(SYNTAX))?;
    let last = match words.next() {
        None => false,
        Some(w) if w.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(CommandError::Syntax(SYNTAX)),
    };
    if words.next().is_some() {
        return Err(CommandError::Syntax(SYNTAX));
    }
    Ok(Command::Bdat { size, last })
}

fn no_arg(arg: &str, cmd: Command, syntax: &'static str) -> Result<Command, CommandError> {
    if arg.is_empty() {
        Ok(cmd)
    } else {
        Err(CommandError::Syntax(syntax))
    }
}

fn one_string(arg: &str, syntax: &'static str) -> Result<String, CommandError> {
    if arg.is_empty() {
        Err(CommandError::Syntax(syntax))
    } else {
        Ok(arg.to_owned())
    }
}

/// Renders bytes for display: printable ASCII kept, anything else
/// replaced by `?`, cut to `max` characters with `...` (NUL-4: never echo
/// raw bytes into a reply or a log).
pub(crate) fn printable(bytes: &[u8], max: usize) -> String {
    let mut s: String = bytes
        .iter()
        .take(max)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    if bytes.len() > max {
        s.push_str("...");
    }
    s
}

/// Renders bytes for a transcript: valid UTF-8 is kept as text (so an
/// SMTPUTF8 address reads `jörg@example.com`), while control characters,
/// bidirectional formatting characters (which can make text read
/// backwards) and invalid octets become `?`; cut to `max` characters with
/// `...`.
pub(crate) fn printable_utf8(bytes: &[u8], max: usize) -> String {
    let mut s = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown == max {
                s.push_str("...");
                return s;
            }
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            s.push(if c.is_control() || bidi { '?' } else { c });
            shown += 1;
        }
        for _ in chunk.invalid() {
            if shown == max {
                s.push_str("...");
                return s;
            }
            s.push('?');
            shown += 1;
        }
    }
    s
}

/// A verb for a reply text, which quotes it: at most 32 characters, and
/// no `"` of its own.
fn quoted_verb(bytes: &[u8]) -> String {
    printable(bytes, 32).replace('"', "?")
}

/// Why a command line did not parse. Each variant knows its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// An empty line.
    Empty,
    /// An unknown verb (the verb, made printable).
    Unrecognized(String),
    /// A known verb this server does not implement.
    NotImplemented(String),
    /// Arguments that do not fit the syntax shown.
    Syntax(&'static str),
    /// A control character or NUL, or 8-bit text outside MAIL and RCPT.
    InvalidCharacter,
    /// 8-bit text that is not UTF-8.
    InvalidUtf8,
    /// A HELO or EHLO argument that is not a domain or address literal.
    InvalidDomain,
    /// A malformed reverse-path.
    Sender(PathError),
    /// A malformed forward-path.
    Recipient(PathError),
    /// Malformed or unknown ESMTP parameters.
    Param(ParamError),
}

impl CommandError {
    /// The reply this error gets.
    pub fn reply(&self) -> Reply {
        use EnhancedCode as E;
        let (code, enhanced, text): (ReplyCode, EnhancedCode, String) = match self {
            Self::Empty => (
                ReplyCode::SYNTAX_ERROR,
                E::SYNTAX,
                "Error: bad syntax".into(),
            ),
            Self::Unrecognized(verb) => (
                ReplyCode::SYNTAX_ERROR,
                E::SYNTAX,
                format!("unrecognized command \"{verb}\""),
            ),
            Self::NotImplemented(verb) => (
                ReplyCode::NOT_IMPLEMENTED,
                E::INVALID_COMMAND,
                format!("Command \"{verb}\" not implemented"),
            ),
            Self::Syntax(syntax) => (
                ReplyCode::PARAM_SYNTAX_ERROR,
                E::INVALID_ARGUMENTS,
                format!("Syntax: {syntax}"),
            ),
            Self::InvalidCharacter => (
                ReplyCode::PARAM_SYNTAX_ERROR,
                E::SYNTAX,
                "Invalid character in command".into(),
            ),
            Self::InvalidUtf8 => (
                ReplyCode::PARAM_SYNTAX_ERROR,
                E::SYNTAX,
                "Invalid UTF-8 in command".into(),
            ),
            Self::InvalidDomain => (
                ReplyCode::PARAM_SYNTAX_ERROR,
                E::INVALID_ARGUMENTS,
                "Invalid domain name".into(),
            ),
            Self::Sender(e) => (
                ReplyCode::PARAM_SYNTAX_ERROR,
                E::BAD_SENDER_SYNTAX,
                format!("Bad sender address syntax: {e}"),
            ),
            Self::Recipient(e) => (
                ReplyCode::PARAM_SYNTAX_ERROR,
                E::BAD_DESTINATION_SYNTAX,
                format!("Bad recipient address syntax: {e}"),
            ),
            Self::Param(e @ ParamError::Unknown(_)) => (
                ReplyCode::PARAMS_NOT_RECOGNIZED,
                E::INVALID_ARGUMENTS,
                e.to_string(),
            ),
            Self::Param(e) => (
                ReplyCode::PARAM_SYNTAX_ERROR,
                E::INVALID_ARGUMENTS,
                e.to_string(),
            ),
        };
        // Texts built here are printable ASCII; parameter and path errors
        // are too, but fall back safely if one ever is not.
        Reply::new(code.get(), Some(enhanced), text)
            .unwrap_or_else(|_| Reply::fixed(code, Some(enhanced), "Syntax error"))
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reply().text())
    }
}

impl std::error::Error for CommandError {}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
