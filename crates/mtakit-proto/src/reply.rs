//! Typed SMTP replies: [`ReplyCode`], [`EnhancedCode`] and [`Reply`].
//!
//! A reply is a three-digit code (RFC 5321 §4.2), an optional enhanced
//! status code (RFC 2034, RFC 3463) and one or more lines of text. A
//! [`Reply`] can only be built in a form that is safe to put on the wire:
//! the code is 2xx to 5xx, the enhanced class agrees with the code, and the
//! text contains no CR, LF or NUL, so user-supplied text can never inject a
//! second reply (see `reference/security.md` HDR-4).

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

/// The longest reply line, including the code and CRLF (RFC 5321 §4.5.3.1.5).
pub const MAX_REPLY_LINE: usize = 512;

/// A three-digit SMTP reply code, 200 to 599.
///
/// This is an open newtype: every valid code can be expressed, and the
/// codes this crate sends have named constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyCode(u16);

/// The class of a reply, given by its first digit (RFC 5321 §4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplyClass {
    /// 2xx: the action completed.
    PositiveCompletion,
    /// 3xx: more input is needed (354, 334).
    PositiveIntermediate,
    /// 4xx: a temporary failure; the client may retry.
    TransientNegative,
    /// 5xx: a permanent failure.
    PermanentNegative,
}

impl ReplyCode {
    /// 214: help message.
    pub const HELP: Self = Self(214);
    /// 220: service ready (greeting, STARTTLS go-ahead).
    pub const SERVICE_READY: Self = Self(220);
    /// 221: service closing the transmission channel.
    pub const CLOSING: Self = Self(221);
    /// 235: authentication succeeded (RFC 4954).
    pub const AUTH_SUCCESS: Self = Self(235);
    /// 250: requested action okay, completed.
    pub const OK: Self = Self(250);
    /// 252: cannot VRFY the user, but will accept the message.
    pub const CANNOT_VERIFY: Self = Self(252);
    /// 334: SASL continuation (RFC 4954).
    pub const AUTH_CONTINUE: Self = Self(334);
    /// 354: start mail input.
    pub const START_MAIL_INPUT: Self = Self(354);
    /// 421: service not available, closing the channel.
    pub const SERVICE_UNAVAILABLE: Self = Self(421);
    /// 451: local error in processing.
    pub const LOCAL_ERROR: Self = Self(451);
    /// 452: insufficient system storage (also too many recipients).
    pub const INSUFFICIENT_STORAGE: Self = Self(452);
    /// 454: TLS not available, or temporary authentication failure.
    pub const TEMPORARY_FAILURE: Self = Self(454);
    /// 500: syntax error, command unrecognised (also: line too long).
    pub const SYNTAX_ERROR: Self = Self(500);
    /// 501: syntax error in parameters or arguments.
    pub const PARAM_SYNTAX_ERROR: Self = Self(501);
    /// 502: command not implemented.
    pub const NOT_IMPLEMENTED: Self = Self(502);
    /// 503: bad sequence of commands.
    pub const BAD_SEQUENCE: Self = Self(503);
    /// 504: command parameter not implemented.
    pub const PARAM_NOT_IMPLEMENTED: Self = Self(504);
    /// 530: authentication required.
    pub const AUTH_REQUIRED: Self = Self(530);
    /// 535: authentication credentials invalid (RFC 4954).
    pub const AUTH_INVALID: Self = Self(535);
    /// 538: encryption required for the requested mechanism (RFC 4954).
    pub const ENCRYPTION_REQUIRED: Self = Self(538);
    /// 550: mailbox unavailable, or action not taken by policy.
    pub const MAILBOX_UNAVAILABLE: Self = Self(550);
    /// 552: exceeded storage allocation (message too big).
    pub const EXCEEDED_STORAGE: Self = Self(552);
    /// 553: mailbox name not allowed.
    pub const MAILBOX_NAME_NOT_ALLOWED: Self = Self(553);
    /// 554: transaction failed.
    pub const TRANSACTION_FAILED: Self = Self(554);
    /// 555: MAIL or RCPT parameters not recognised (RFC 5321 §4.2.3).
    pub const PARAMS_NOT_RECOGNIZED: Self = Self(555);

    /// Builds a code, or `None` unless it lies in 200..=599.
    pub const fn new(code: u16) -> Option<Self> {
        if code >= 200 && code <= 599 {
            Some(Self(code))
        } else {
            None
        }
    }

    /// The numeric value.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The class given by the first digit.
    pub const fn class(self) -> ReplyClass {
        match self.0 / 100 {
            2 => ReplyClass::PositiveCompletion,
            3 => ReplyClass::PositiveIntermediate,
            4 => ReplyClass::TransientNegative,
            _ => ReplyClass::PermanentNegative,
        }
    }

    /// True for 2xx and 3xx.
    pub const fn is_positive(self) -> bool {
        self.0 < 400
    }

    /// True for 4xx.
    pub const fn is_transient(self) -> bool {
        self.0 / 100 == 4
    }

    /// True for 5xx.
    pub const fn is_permanent(self) -> bool {
        self.0 / 100 == 5
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An enhanced mail system status code `class.subject.detail` (RFC 3463).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    class: u8,
    subject: u16,
    detail: u16,
}

macro_rules! enhanced_consts {
    ($($(#[$doc:meta])* $name:ident = ($c:literal, $s:literal, $d:literal);)*) => {
        impl EnhancedCode {
            $($(#[$doc])* pub const $name: Self = Self { class: $c, subject: $s, detail: $d };)*
        }
    };
}

enhanced_consts! {
    /// 2.0.0: success.
    SUCCESS = (2, 0, 0);
    /// 2.1.0: originator address valid.
    SENDER_OK = (2, 1, 0);
    /// 2.1.5: destination address valid.
    DESTINATION_OK = (2, 1, 5);
    /// 2.5.2: VRFY cannot verify, will attempt delivery.
    CANNOT_VERIFY = (2, 5, 2);
    /// 2.7.0: authentication succeeded.
    AUTH_SUCCESS = (2, 7, 0);
    /// 4.3.0: other or undefined mail system status (temporary).
    TEMP_SYSTEM = (4, 3, 0);
    /// 4.3.2: system not accepting network messages (shutdown).
    SHUTTING_DOWN = (4, 3, 2);
    /// 4.4.2: bad connection (timeout).
    TIMEOUT = (4, 4, 2);
    /// 4.5.3: too many recipients.
    TOO_MANY_RECIPIENTS = (4, 5, 3);
    /// 4.7.0: other security or policy status (temporary).
    TEMP_SECURITY = (4, 7, 0);
    /// 5.0.0: other undefined status.
    PERMANENT = (5, 0, 0);
    /// 5.1.3: bad destination mailbox address syntax.
    BAD_DESTINATION_SYNTAX = (5, 1, 3);
    /// 5.1.7: bad sender's mailbox address syntax.
    BAD_SENDER_SYNTAX = (5, 1, 7);
    /// 5.3.4: message too big for system.
    TOO_BIG = (5, 3, 4);
    /// 5.5.0: other or undefined protocol status.
    PROTOCOL = (5, 5, 0);
    /// 5.5.1: invalid command (bad sequence, not implemented).
    INVALID_COMMAND = (5, 5, 1);
    /// 5.5.2: syntax error.
    SYNTAX = (5, 5, 2);
    /// 5.5.3: too many recipients (permanent).
    TOO_MANY_RECIPIENTS_PERMANENT = (5, 5, 3);
    /// 5.5.4: invalid command arguments.
    INVALID_ARGUMENTS = (5, 5, 4);
    /// 5.5.6: authentication exchange line or command line too long.
    LINE_TOO_LONG = (5, 5, 6);
    /// 5.6.0: other or undefined media error (NUL in content).
    MEDIA = (5, 6, 0);
    /// 5.6.7: non-ASCII address without SMTPUTF8 (RFC 6531).
    NON_ASCII_ADDRESS = (5, 6, 7);
    /// 5.7.0: other or undefined security status (authentication required).
    SECURITY = (5, 7, 0);
    /// 5.7.1: delivery not authorised, message refused.
    NOT_AUTHORIZED = (5, 7, 1);
    /// 5.7.8: authentication credentials invalid.
    BAD_CREDENTIALS = (5, 7, 8);
    /// 5.7.11: encryption required for requested authentication mechanism.
    ENCRYPTION_REQUIRED = (5, 7, 11);
}

impl EnhancedCode {
    /// Builds a code. The class must be 2, 4 or 5, and the subject and
    /// detail at most three digits (RFC 3463 §2).
    pub const fn new(class: u8, subject: u16, detail: u16) -> Option<Self> {
        if (class == 2 || class == 4 || class == 5) && subject < 1000 && detail < 1000 {
            Some(Self {
                class,
                subject,
                detail,
            })
        } else {
            None
        }
    }

    /// Parses `x.y.z`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let class = parse_digits(parts.next()?, 1)?;
        let subject = parse_digits(parts.next()?, 3)?;
        let detail = parse_digits(parts.next()?, 3)?;
        if parts.next().is_some() {
            return None;
        }
        Self::new(u8::try_from(class).ok()?, subject, detail)
    }

    /// The class digit: 2, 4 or 5.
    pub const fn class(self) -> u8 {
        self.class
    }

    /// The subject number.
    pub const fn subject(self) -> u16 {
        self.subject
    }

    /// The detail number.
    pub const fn detail(self) -> u16 {
        self.detail
    }
}

fn parse_digits(s: &str, max_len: usize) -> Option<u16> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// Why a [`Reply`] could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyError {
    /// The code is outside 200..=599.
    InvalidCode(u16),
    /// The enhanced code's class disagrees with the reply code (RFC 2034 §4),
    /// or an enhanced code was given for a 3xx reply.
    EnhancedMismatch,
    /// The text contains CR, LF or NUL.
    ForbiddenCharacter,
    /// A multi-line reply was built from no lines at all.
    NoLines,
    /// The text given to [`Reply::from_str`](std::str::FromStr::from_str)
    /// does not start with a three-digit code.
    NoCode,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCode(c) => write!(f, "reply code {c} is not in 200..=599"),
            Self::EnhancedMismatch => f.write_str("enhanced status code disagrees with reply code"),
            Self::ForbiddenCharacter => f.write_str("reply text contains CR, LF or NUL"),
            Self::NoLines => f.write_str("a reply needs at least one line"),
            Self::NoCode => f.write_str("a reply starts with a 3-digit code"),
        }
    }
}

impl std::error::Error for ReplyError {}

/// A complete SMTP reply.
///
/// The text is stored as one string whose lines are separated by `\n`;
/// static replies therefore never allocate.
///
/// ```
/// use mtakit_proto::{EnhancedCode, Reply};
///
/// let reply = Reply::new(550, Some(EnhancedCode::new(5, 1, 1).unwrap()), "No such user")?;
/// let mut wire = Vec::new();
/// reply.write_to(&mut wire);
/// assert_eq!(wire, b"550 5.1.1 No such user\r\n");
///
/// let multi = Reply::multiline(553, None, ["Bad helo string", "Evil IP"])?;
/// assert_eq!(multi.to_string(), "553-Bad helo string\r\n553 Evil IP\r\n");
///
/// // Text cannot smuggle a second reply onto the wire.
/// assert!(Reply::new(250, None, "OK\r\n250 fake").is_err());
/// # Ok::<(), mtakit_proto::ReplyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    code: ReplyCode,
    enhanced: Option<EnhancedCode>,
    text: Cow<'static, str>,
}

impl Reply {
    /// Builds a single-line reply, checking the code, the enhanced code and
    /// the text.
    ///
    /// # Errors
    ///
    /// See [`ReplyError`].
    pub fn new(
        code: u16,
        enhanced: Option<EnhancedCode>,
        text: impl Into<Cow<'static, str>>,
    ) -> Result<Self, ReplyError> {
        let text = text.into();
        if text.contains(['\r', '\n', '\0']) {
            return Err(ReplyError::ForbiddenCharacter);
        }
        Self::checked(code, enhanced, text)
    }

    /// Builds a multi-line reply from its lines.
    ///
    /// # Errors
    ///
    /// See [`ReplyError`].
    pub fn multiline<I, S>(
        code: u16,
        enhanced: Option<EnhancedCode>,
        lines: I,
    ) -> Result<Self, ReplyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut text = String::new();
        let mut count = 0;
        for (i, line) in lines.into_iter().enumerate() {
            count += 1;
            let line = line.as_ref();
            if line.contains(['\r', '\n', '\0']) {
                return Err(ReplyError::ForbiddenCharacter);
            }
            if i > 0 {
                text.push('\n');
            }
            text.push_str(line);
        }
        if count == 0 {
            return Err(ReplyError::NoLines);
        }
        Self::checked(code, enhanced, Cow::Owned(text))
    }

    fn checked(
        code: u16,
        enhanced: Option<EnhancedCode>,
        text: Cow<'static, str>,
    ) -> Result<Self, ReplyError> {
        let code = ReplyCode::new(code).ok_or(ReplyError::InvalidCode(code))?;
        if let Some(e) = enhanced
            && (code.class() == ReplyClass::PositiveIntermediate
                || u16::from(e.class()) != code.get() / 100)
        {
            return Err(ReplyError::EnhancedMismatch);
        }
        Ok(Self {
            code,
            enhanced,
            text,
        })
    }

    /// Builds a reply from parts known to be valid. Used for the crate's own
    /// default replies; checked in debug builds.
    pub(crate) const fn fixed(
        code: ReplyCode,
        enhanced: Option<EnhancedCode>,
        text: &'static str,
    ) -> Self {
        Self {
            code,
            enhanced,
            text: Cow::Borrowed(text),
        }
    }

    /// Builds a reply from the crate's own text, which may contain `\n`
    /// separated lines but no CR or NUL.
    pub(crate) fn owned(code: ReplyCode, enhanced: Option<EnhancedCode>, text: String) -> Self {
        debug_assert!(!text.contains(['\r', '\0']));
        Self {
            code,
            enhanced,
            text: Cow::Owned(text),
        }
    }

    /// The reply code.
    pub const fn code(&self) -> ReplyCode {
        self.code
    }

    /// The enhanced status code, if any.
    pub const fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }

    /// The lines of text, without codes.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text.split('\n')
    }

    /// The text with lines joined by `\n`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when this reply ends the session (221 and 421).
    pub const fn is_closing(&self) -> bool {
        matches!(self.code.get(), 221 | 421)
    }

    /// The same reply without its enhanced status code. The session uses
    /// this when the client did not use EHLO (RFC 2034 §3).
    pub fn without_enhanced(mut self) -> Self {
        self.enhanced = None;
        self
    }

    /// Replaces the enhanced code, which must agree with the reply code.
    ///
    /// # Errors
    ///
    /// [`ReplyError::EnhancedMismatch`] when it does not.
    pub fn with_enhanced(self, enhanced: EnhancedCode) -> Result<Self, ReplyError> {
        Self::checked(self.code.get(), Some(enhanced), self.text)
    }

    /// Appends the wire form to `out`: `code-` continuation lines, the last
    /// line `code `, each ended by CRLF, and the enhanced code repeated on
    /// every line. A line longer than [`MAX_REPLY_LINE`] octets is split
    /// into several reply lines (RFC 5321 §4.5.3.1.5).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let c = self.code.get();
        let code = [
            b'0' + (c / 100) as u8,
            b'0' + (c / 10 % 10) as u8,
            b'0' + (c % 10) as u8,
        ];
        // Formatted once, on the stack: even u8.u16.u16 needs 15 octets.
        let mut enhanced_buf = [0u8; 16];
        let enhanced: &[u8] = match self.enhanced {
            Some(e) => {
                let mut w = &mut enhanced_buf[..];
                // Cannot fail: the buffer holds the longest form.
                let _ = write!(w, "{e}");
                let len = 16 - w.len();
                &enhanced_buf[..len]
            }
            None => &[],
        };
        let head = 4 + if enhanced.is_empty() {
            0
        } else {
            enhanced.len() + 1
        };
        let room = MAX_REPLY_LINE - head - 2;

        let mut emit = |piece: &str, last: bool| {
            out.extend_from_slice(&code);
            out.push(if last { b' ' } else { b'-' });
            if !enhanced.is_empty() {
                out.extend_from_slice(enhanced);
                if !piece.is_empty() {
                    out.push(b' ');
                }
            }
            out.extend_from_slice(piece.as_bytes());
            out.extend_from_slice(b"\r\n");
        };
        let mut lines = self.text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let last_line = lines.peek().is_none();
            let mut rest = line;
            while rest.len() > room {
                let mut cut = room;
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                emit(&rest[..cut], false);
                rest = &rest[cut..];
            }
            emit(rest, last_line);
        }
    }

    /// Parses one complete reply from the start of `input`, as a client
    /// does. Returns the reply and the number of bytes it used, or `None`
    /// if more input is needed.
    ///
    /// An enhanced code is recognised when every line starts with the same
    /// `x.y.z` that agrees with the reply code.
    ///
    /// # Errors
    ///
    /// [`ParseReplyError`] when the input is not a well-formed reply.
    pub fn parse(input: &[u8]) -> Result<Option<(Self, usize)>, ParseReplyError> {
        let mut pos = 0;
        let mut lines: Vec<&str> = Vec::new();
        let mut code: Option<u16> = None;
        loop {
            let Some(end) = find_crlf(&input[pos..]) else {
                if input.len() - pos > 4 * MAX_REPLY_LINE {
                    return Err(ParseReplyError);
                }
                return Ok(None);
            };
            let line = &input[pos..pos + end];
            pos += end + 2;
            if line.len() < 3 {
                return Err(ParseReplyError);
            }
            let line = std::str::from_utf8(line).map_err(|_| ParseReplyError)?;
            let this: u16 = line
                .get(..3)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse().ok())
                .ok_or(ParseReplyError)?;
            if *code.get_or_insert(this) != this {
                return Err(ParseReplyError);
            }
            let (more, text) = match line.as_bytes().get(3) {
                None => (false, ""),
                Some(b' ') => (false, &line[4..]),
                Some(b'-') => (true, &line[4..]),
                Some(_) => return Err(ParseReplyError),
            };
            lines.push(text);
            if !more {
                break;
            }
        }
        let code = code.ok_or(ParseReplyError)?;
        let rc = ReplyCode::new(code).ok_or(ParseReplyError)?;
        let enhanced = lines
            .first()
            .and_then(|l| l.split(' ').next())
            .and_then(EnhancedCode::parse)
            .filter(|e| {
                rc.class() != ReplyClass::PositiveIntermediate
                    && u16::from(e.class()) == code / 100
                    && lines
                        .iter()
                        .all(|l| l.split(' ').next().and_then(EnhancedCode::parse) == Some(*e))
            });
        let texts: Vec<&str> = lines
            .iter()
            .map(|l| match enhanced {
                Some(_) => l.split_once(' ').map_or("", |(_, t)| t),
                None => l,
            })
            .collect();
        let reply = Self {
            code: rc,
            enhanced,
            text: Cow::Owned(texts.join("\n")),
        };
        Ok(Some((reply, pos)))
    }
}

fn find_crlf(s: &[u8]) -> Option<usize> {
    s.windows(2).position(|w| w == b"\r\n")
}

/// The input is not a well-formed SMTP reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseReplyError;

impl fmt::Display for ParseReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed SMTP reply")
    }
}

impl std::error::Error for ParseReplyError {}

impl fmt::Display for Reply {
    /// The exact wire form, CRLFs included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write_to(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

#[path = "reply_build.rs"]
mod build;

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
