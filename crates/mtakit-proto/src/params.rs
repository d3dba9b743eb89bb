//! ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 `Mail-parameters`),
//! typed: SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531)
//! and AUTH (RFC 4954 §5).
//!
//! The input is the rest of the command line after the path, as returned by
//! [`ReversePath::parse`](crate::address::ReversePath::parse) or
//! [`ForwardPath::parse`](crate::address::ForwardPath::parse). Items are
//! `keyword[=value]`, separated by spaces; keywords match in any case.

use std::fmt;

/// The longest item text echoed back in an error message, in characters.
const MAX_ECHO: usize = 64;

/// The BODY parameter of MAIL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Body {
    /// `BODY=7BIT`
    SevenBit,
    /// `BODY=8BITMIME` (RFC 6152)
    EightBitMime,
    /// `BODY=BINARYMIME` (RFC 3030)
    BinaryMime,
}

/// The parameters of a MAIL command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailParams {
    /// `SIZE=n`: the client's estimate of the message size.
    pub size: Option<u64>,
    /// `BODY=`
    pub body: Option<Body>,
    /// `SMTPUTF8` was given.
    pub smtputf8: bool,
    /// `AUTH=<mailbox>` (xtext-decoded), or `AUTH=<>` as `Some("<>")`.
    pub auth: Option<String>,
}

/// The parameters of a RCPT command. None are defined yet; DSN's NOTIFY and
/// ORCPT come with RFC 3461 support.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RcptParams {}

/// Why the parameters did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamError {
    /// A keyword this server does not know: reply `555 5.5.4`.
    Unknown(String),
    /// A known keyword with a bad or missing value, a duplicate, or a
    /// malformed `keyword=value` item: reply `501 5.5.4`.
    Invalid(String),
}

impl ParamError {
    /// The human-readable message, suitable for a reply text (it never
    /// holds control characters).
    pub fn message(&self) -> &str {
        match self {
            ParamError::Unknown(m) | ParamError::Invalid(m) => m,
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ParamError {}

impl Body {
    /// The value as written in `BODY=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Body::SevenBit => "7BIT",
            Body::EightBitMime => "8BITMIME",
            Body::BinaryMime => "BINARYMIME",
        }
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `keyword[=value]` item.
struct Item<'a> {
    /// The whole item as written.
    text: &'a str,
    keyword: &'a str,
    value: Option<&'a str>,
}

/// Quotes item text for an error message: printable ASCII is kept, anything
/// else is escaped, and long text is cut.
fn echo(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == MAX_ECHO {
            out.push_str("...");
            break;
        }
        if c == ' ' || c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

fn invalid_item(item: &str) -> ParamError {
    ParamError::Invalid(format!("Invalid arguments: \"{}\"", echo(item)))
}

fn unknown_item(item: &str) -> ParamError {
    ParamError::Unknown(format!("Invalid extension: \"{}\"", echo(item)))
}

/// Whether `s` is an esmtp-keyword: ALPHA / DIGIT, then ALPHA / DIGIT / "-".
fn is_keyword(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether `s` is an esmtp-value: printable ASCII but `=`, or non-ASCII
/// UTF-8 (RFC 6531 §3.3).
fn is_value(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| (c.is_ascii_graphic() && c != '=') || (!c.is_ascii() && !c.is_control()))
}

/// Splits the parameter text into checked items.
fn items(s: &str) -> Result<Vec<Item<'_>>, ParamError> {
    if s.chars().any(char::is_control) {
        return Err(ParamError::Invalid(
            "Invalid character in parameters".to_owned(),
        ));
    }
    s.split(' ')
        .filter(|item| !item.is_empty())
        .map(|text| {
            let (keyword, value) = match text.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (text, None),
            };
            if is_keyword(keyword) && value.is_none_or(is_value) {
                Ok(Item {
                    text,
                    keyword,
                    value,
                })
            } else {
                Err(invalid_item(text))
            }
        })
        .collect()
}

/// Decodes RFC 3461 §4 xtext: `+XX` is the octet with hex value `XX`.
/// Decoded control characters and invalid UTF-8 are rejected.
fn decode_xtext(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'+' {
            let hi = hex_digit(bytes.next()?)?;
            let lo = hex_digit(bytes.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    if decoded.chars().any(char::is_control) {
        return None;
    }
    Some(decoded)
}

/// The value of a hex digit. RFC 3461 asks for upper case; lower case is
/// accepted too.
fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

impl MailParams {
    /// Parses the parameters of MAIL: the text after the reverse-path.
    ///
    /// Empty or blank text gives the defaults. Known keywords are `SIZE`,
    /// `BODY`, `SMTPUTF8` and `AUTH`; any other is
    /// [`ParamError::Unknown`]. A bad value, a missing or superfluous value,
    /// a repeated keyword or a malformed item is [`ParamError::Invalid`].
    ///
    /// ```
    /// use mtakit_proto::params::{Body, MailParams, ParamError};
    ///
    /// let p = MailParams::parse(" SIZE=1000 body=8bitmime SMTPUTF8")?;
    /// assert_eq!(p.size, Some(1000));
    /// assert_eq!(p.body, Some(Body::EightBitMime));
    /// assert!(p.smtputf8);
    /// assert!(MailParams::parse("")?.is_empty());
    ///
    /// let err = MailParams::parse("FNORD=INVALID").unwrap_err();
    /// assert!(matches!(err, ParamError::Unknown(_)));
    /// assert_eq!(err.to_string(), "Invalid extension: \"FNORD=INVALID\"");
    /// assert!(matches!(MailParams::parse("SIZE=-1"), Err(ParamError::Invalid(_))));
    /// # Ok::<(), ParamError>(())
    /// ```
    pub fn parse(s: &str) -> Result<MailParams, ParamError> {
        let mut params = MailParams::default();
        let mut seen_smtputf8 = false;
        for item in items(s)? {
            let keyword = item.keyword.to_ascii_uppercase();
            let duplicate = match keyword.as_str() {
                "SIZE" => params.size.is_some(),
                "BODY" => params.body.is_some(),
                "SMTPUTF8" => seen_smtputf8,
                "AUTH" => params.auth.is_some(),
                _ => return Err(unknown_item(item.text)),
            };
            if duplicate {
                return Err(ParamError::Invalid(format!(
                    "Duplicate parameter {keyword}"
                )));
            }
            match keyword.as_str() {
                "SIZE" => params.size = Some(parse_size(item.value)?),
                "BODY" => params.body = Some(parse_body(item.value)?),
                "SMTPUTF8" => {
                    if item.value.is_some() {
                        return Err(ParamError::Invalid(
                            "SMTPUTF8 does not take a value".to_owned(),
                        ));
                    }
                    seen_smtputf8 = true;
                    params.smtputf8 = true;
                }
                _ => params.auth = Some(parse_auth(item.value)?),
            }
        }
        Ok(params)
    }

    /// Whether no parameter was given.
    pub fn is_empty(&self) -> bool {
        self.size.is_none() && self.body.is_none() && !self.smtputf8 && self.auth.is_none()
    }
}

fn parse_size(value: Option<&str>) -> Result<u64, ParamError> {
    value
        .filter(|v| (1..=20).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ParamError::Invalid("Invalid SIZE value".to_owned()))
}

fn parse_body(value: Option<&str>) -> Result<Body, ParamError> {
    let value = value.unwrap_or_default();
    if value.eq_ignore_ascii_case("7BIT") {
        Ok(Body::SevenBit)
    } else if value.eq_ignore_ascii_case("8BITMIME") {
        Ok(Body::EightBitMime)
    } else if value.eq_ignore_ascii_case("BINARYMIME") {
        Ok(Body::BinaryMime)
    } else {
        Err(ParamError::Invalid("Invalid BODY value".to_owned()))
    }
}

fn parse_auth(value: Option<&str>) -> Result<String, ParamError> {
    match value {
        Some("<>") => Ok("<>".to_owned()),
        Some(v) => {
            decode_xtext(v).ok_or_else(|| ParamError::Invalid("Invalid AUTH value".to_owned()))
        }
        None => Err(ParamError::Invalid("Missing AUTH value".to_owned())),
    }
}

impl RcptParams {
    /// Parses the parameters of RCPT: the text after the forward-path.
    ///
    /// Empty or blank text gives the defaults. No keyword is supported
    /// yet, so any well-formed item is [`ParamError::Unknown`]; a malformed
    /// one is [`ParamError::Invalid`].
    ///
    /// ```
    /// use mtakit_proto::params::{ParamError, RcptParams};
    ///
    /// assert_eq!(RcptParams::parse(" ")?, RcptParams::default());
    /// assert!(matches!(RcptParams::parse("NOTIFY=NEVER"), Err(ParamError::Unknown(_))));
    /// assert!(matches!(RcptParams::parse("=x"), Err(ParamError::Invalid(_))));
    /// # Ok::<(), ParamError>(())
    /// ```
    pub fn parse(s: &str) -> Result<RcptParams, ParamError> {
        match items(s)?.first() {
            Some(item) => Err(unknown_item(item.text)),
            None => Ok(RcptParams::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mail(
        size: Option<u64>,
        body: Option<Body>,
        smtputf8: bool,
        auth: Option<&str>,
    ) -> MailParams {
        MailParams {
            size,
            body,
            smtputf8,
            auth: auth.map(str::to_owned),
        }
    }

    #[test]
    fn mail_accepted() {
        let cases: Vec<(&str, MailParams)> = vec![
            ("", MailParams::default()),
            ("   ", MailParams::default()),
            ("SIZE=100", mail(Some(100), None, false, None)),
            ("size=100", mail(Some(100), None, false, None)),
            (" SIZE=0 ", mail(Some(0), None, false, None)),
            (
                "SIZE=18446744073709551615",
                mail(Some(u64::MAX), None, false, None),
            ),
            (
                "SIZE=00000000000000000001",
                mail(Some(1), None, false, None),
            ),
            ("BODY=7BIT", mail(None, Some(Body::SevenBit), false, None)),
            (
                "bOdY=8bitmime",
                mail(None, Some(Body::EightBitMime), false, None),
            ),
            (
                "BODY=BinaryMIME",
                mail(None, Some(Body::BinaryMime), false, None),
            ),
            ("SMTPUTF8", mail(None, None, true, None)),
            ("smtputf8", mail(None, None, true, None)),
            ("AUTH=<>", mail(None, None, false, Some("<>"))),
            (
                "AUTH=foo@example.com",
                mail(None, None, false, Some("foo@example.com")),
            ),
            (
                "AUTH=e+3Dmc2@example.com",
                mail(None, None, false, Some("e=mc2@example.com")),
            ),
            ("AUTH=a+2Bb+2bc@x", mail(None, None, false, Some("a+b+c@x"))),
            (
                "AUTH=üser@example.com",
                mail(None, None, false, Some("üser@example.com")),
            ),
            ("AUTH=+C3+BC@x", mail(None, None, false, Some("ü@x"))),
            (
                "  SIZE=10   BODY=8BITMIME  SMTPUTF8 AUTH=<>  ",
                mail(Some(10), Some(Body::EightBitMime), true, Some("<>")),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(MailParams::parse(input), Ok(want), "{input:?}");
        }
        assert!(MailParams::parse(" ").unwrap().is_empty());
        assert!(!MailParams::parse("SMTPUTF8").unwrap().is_empty());
        assert!(!MailParams::parse("SIZE=0").unwrap().is_empty());
    }

    fn invalid(m: &str) -> ParamError {
        ParamError::Invalid(m.to_owned())
    }

    fn unknown(m: &str) -> ParamError {
        ParamError::Unknown(m.to_owned())
    }

    #[test]
    fn mail_rejected() {
        let size = invalid("Invalid SIZE value");
        let cases: Vec<(&str, ParamError)> = vec![
            ("SIZE", size.clone()),
            ("SIZE=", invalid("Invalid arguments: \"SIZE=\"")),
            ("SIZE=-1", size.clone()),
            ("SIZE=fnord", size.clone()),
            ("SIZE=1.5", size.clone()),
            ("SIZE=+1", size.clone()),
            ("SIZE=99999999999999999999999", size.clone()),
            ("SIZE=18446744073709551616", size.clone()),
            ("SIZE=1 SIZE=2", invalid("Duplicate parameter SIZE")),
            ("size=1 Size=1", invalid("Duplicate parameter SIZE")),
            ("BODY", invalid("Invalid BODY value")),
            ("BODY=8BIT", invalid("Invalid BODY value")),
            ("BODY=7BIT BODY=7BIT", invalid("Duplicate parameter BODY")),
            ("SMTPUTF8=yes", invalid("SMTPUTF8 does not take a value")),
            ("SMTPUTF8 smtputf8", invalid("Duplicate parameter SMTPUTF8")),
            ("AUTH", invalid("Missing AUTH value")),
            ("AUTH=a+", invalid("Invalid AUTH value")),
            ("AUTH=a+4", invalid("Invalid AUTH value")),
            ("AUTH=a+GG", invalid("Invalid AUTH value")),
            ("AUTH=a+00b", invalid("Invalid AUTH value")),
            ("AUTH=a+0D+0Ab", invalid("Invalid AUTH value")),
            ("AUTH=a+FF", invalid("Invalid AUTH value")),
            ("AUTH=<> AUTH=<>", invalid("Duplicate parameter AUTH")),
            (
                "FNORD=INVALID",
                unknown("Invalid extension: \"FNORD=INVALID\""),
            ),
            ("SIZE=1 X-FOO", unknown("Invalid extension: \"X-FOO\"")),
            ("RET=HDRS", unknown("Invalid extension: \"RET=HDRS\"")),
            ("=x", invalid("Invalid arguments: \"=x\"")),
            ("-X=1", invalid("Invalid arguments: \"-X=1\"")),
            ("SIZE=1=2", invalid("Invalid arguments: \"SIZE=1=2\"")),
            ("S_IZE=1", invalid("Invalid arguments: \"S_IZE=1\"")),
            ("SIZE=1 <x@y>", invalid("Invalid arguments: \"<x@y>\"")),
            ("SÏZE=1", invalid("Invalid arguments: \"S\\u{cf}ZE=1\"")),
            ("SIZE=1\u{0}", invalid("Invalid character in parameters")),
            ("AUTH=a\u{0}b", invalid("Invalid character in parameters")),
            (
                "SIZE=1\tBODY=7BIT",
                invalid("Invalid character in parameters"),
            ),
            ("SIZE=1\r\n", invalid("Invalid character in parameters")),
            ("X=\u{85}", invalid("Invalid character in parameters")),
        ];
        for (input, want) in cases {
            assert_eq!(MailParams::parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn rcpt() {
        assert_eq!(RcptParams::parse(""), Ok(RcptParams::default()));
        assert_eq!(RcptParams::parse("   "), Ok(RcptParams::default()));
        let cases: Vec<(&str, ParamError)> = vec![
            (
                "NOTIFY=NEVER",
                unknown("Invalid extension: \"NOTIFY=NEVER\""),
            ),
            (
                " ORCPT=rfc822;a@b.c ",
                unknown("Invalid extension: \"ORCPT=rfc822;a@b.c\""),
            ),
            ("SIZE=1", unknown("Invalid extension: \"SIZE=1\"")),
            ("FOO", unknown("Invalid extension: \"FOO\"")),
            ("=", invalid("Invalid arguments: \"=\"")),
            ("FOO=", invalid("Invalid arguments: \"FOO=\"")),
            ("FOO=\u{0}", invalid("Invalid character in parameters")),
            ("FOO=a\u{7f}", invalid("Invalid character in parameters")),
            ("FOO=1 =x", invalid("Invalid arguments: \"=x\"")),
        ];
        for (input, want) in cases {
            assert_eq!(RcptParams::parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn messages() {
        let e = MailParams::parse("FNORD=INVALID").unwrap_err();
        assert_eq!(e.message(), "Invalid extension: \"FNORD=INVALID\"");
        assert_eq!(e.to_string(), e.message());
        let long = format!("X={}", "a".repeat(500));
        let e = MailParams::parse(&long).unwrap_err();
        assert!(e.message().len() < 100, "{}", e.message());
        assert!(e.message().ends_with("...\""));
        let e = MailParams::parse("X=ü").unwrap_err();
        assert!(e.message().is_ascii());
        assert_eq!(Body::EightBitMime.to_string(), "8BITMIME");
    }

    fn check(s: &str) -> Result<(), TestCaseError> {
        for e in [MailParams::parse(s).err(), RcptParams::parse(s).err()]
            .into_iter()
            .flatten()
        {
            prop_assert!(!e.message().is_empty());
            prop_assert!(
                e.message().bytes().all(|b| (0x20..0x7f).contains(&b)),
                "{:?}",
                e
            );
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn never_panics_any(s in ".*") {
            check(&s)?;
        }

        #[test]
        fn never_panics_smtpish(s in "[<>@.\"\\\\ a-zA-Z0-9:\\[\\]=+-]{0,300}") {
            check(&s)?;
        }

        #[test]
        fn size_round_trip(n in any::<u64>()) {
            prop_assert_eq!(MailParams::parse(&format!("SIZE={n}")).unwrap().size, Some(n));
        }

        #[test]
        fn auth_xtext_round_trip(s in "[ -~ü]{1,40}") {
            let mut encoded = String::new();
            for b in s.bytes() {
                if (33..=126).contains(&b) && b != b'+' && b != b'=' {
                    encoded.push(char::from(b));
                } else {
                    encoded.push_str(&format!("+{b:02X}"));
                }
            }
            let p = MailParams::parse(&format!("AUTH={encoded}")).unwrap();
            prop_assert_eq!(p.auth.as_deref(), Some(s.as_str()));
        }
    }
}
