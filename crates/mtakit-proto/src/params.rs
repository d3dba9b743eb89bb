//! ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 `Mail-parameters`
//! and `Rcpt-parameters`), typed: SIZE (RFC 1870), BODY (RFC 6152,
//! RFC 3030), SMTPUTF8 (RFC 6531), AUTH (RFC 4954 §5), and the Delivery
//! Status Notification parameters of RFC 3461: RET and ENVID on MAIL
//! (§4.3, §4.4), NOTIFY and ORCPT on RCPT (§4.1, §4.2).
//!
//! The input is the rest of the command line after the path, as returned by
//! [`ReversePath::parse`](crate::address::ReversePath::parse) or
//! [`ForwardPath::parse`](crate::address::ForwardPath::parse). Items are
//! `keyword[=value]`, separated by spaces; keywords match in any case.
//!
//! # xtext
//!
//! The values of AUTH, ENVID and ORCPT are xtext (RFC 3461 §4): `+XX` stands
//! for the octet with hex value `XX`, and the parsed values hold the
//! *decoded* text. RFC 3461 asks for upper-case hex digits; lower case is
//! accepted too, for all three (`+2b` decodes like `+2B`). A `+` not
//! followed by two hex digits (`+G1`, a trailing `+4`) is
//! [`ParamError::Invalid`], and so is decoded text that is not UTF-8 or
//! holds a control character.
//!
//! # Advertising
//!
//! Parsing does not know which extensions the server advertised: a session
//! must itself refuse RET, ENVID, NOTIFY and ORCPT with `555` when it did
//! not advertise `DSN`, as it does for the other parameters.

use std::fmt;

/// The longest item text echoed back in an error message, in characters.
const MAX_ECHO: usize = 64;

/// The longest decoded ENVID, in characters (RFC 3461 §4.4).
const MAX_ENVID: usize = 100;

/// The longest decoded ORCPT address, in octets (RFC 3461 §4.2).
const MAX_ORCPT: usize = 500;

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
    /// `RET=FULL|HDRS` (RFC 3461 §4.3): how much of the message a failure
    /// DSN returns.
    pub ret: Option<Ret>,
    /// `ENVID=<xtext>` (RFC 3461 §4.4): the envelope identifier, to be
    /// quoted in any DSN. The value is xtext-decoded: 1 to 100 printable
    /// ASCII characters (33 to 126; no space).
    pub envid: Option<String>,
}

/// The RET parameter of MAIL (RFC 3461 §4.3): whether a failure DSN returns
/// the whole message or only its headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ret {
    /// `RET=FULL`: return the full message.
    Full,
    /// `RET=HDRS`: return the headers only.
    Headers,
}

/// The NOTIFY parameter of RCPT (RFC 3461 §4.1): the conditions under which
/// a DSN is wanted for the recipient.
///
/// All flags false is `NOTIFY=NEVER`. When RCPT carries no NOTIFY, the
/// absent value is `None` in [`RcptParams::notify`], and the RFC leaves the
/// default (`FAILURE` or `FAILURE,DELAY`) to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Notify {
    /// `SUCCESS`: notify on successful delivery.
    pub success: bool,
    /// `FAILURE`: notify on failure to deliver.
    pub failure: bool,
    /// `DELAY`: notify on delayed delivery.
    pub delay: bool,
}

/// The ORCPT parameter of RCPT (RFC 3461 §4.2): the original recipient
/// address, as `addr-type;xtext`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Orcpt {
    /// The address type, an atom such as `rfc822` or `utf-8` (RFC 6533),
    /// kept as given (compare it ignoring case).
    pub addr_type: String,
    /// The original recipient, xtext-decoded; for addr-type `utf-8` the
    /// `\x{HEX}` escapes of RFC 6533 §3 are decoded too. Never empty, at
    /// most 500 octets and free of control characters.
    pub address: String,
}

/// The parameters of a RCPT command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RcptParams {
    /// `NOTIFY=` (RFC 3461 §4.1).
    pub notify: Option<Notify>,
    /// `ORCPT=` (RFC 3461 §4.2).
    pub orcpt: Option<Orcpt>,
}

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

impl Ret {
    /// The value as written in `RET=` (RFC 3461 §4.3): `FULL` or `HDRS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ret::Full => "FULL",
            Ret::Headers => "HDRS",
        }
    }
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Notify {
    /// `NOTIFY=NEVER` (RFC 3461 §4.1): no DSN at all.
    pub const fn never() -> Notify {
        Notify::new(false, false, false)
    }

    /// The given conditions; all false is [`Notify::never`].
    pub const fn new(success: bool, failure: bool, delay: bool) -> Notify {
        Notify {
            success,
            failure,
            delay,
        }
    }

    /// Whether this is `NOTIFY=NEVER`: no condition is set.
    pub const fn is_never(&self) -> bool {
        !self.success && !self.failure && !self.delay
    }
}

/// The canonical wire form of the value (RFC 3461 §4.1): `NEVER`, or the
/// set conditions in the order `SUCCESS,FAILURE,DELAY`.
impl fmt::Display for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return f.write_str("NEVER");
        }
        let words = [
            (self.success, "SUCCESS"),
            (self.failure, "FAILURE"),
            (self.delay, "DELAY"),
        ];
        let mut sep = "";
        for (_, word) in words.iter().filter(|(set, _)| *set) {
            f.write_str(sep)?;
            f.write_str(word)?;
            sep = ",";
        }
        Ok(())
    }
}

impl Orcpt {
    /// An original recipient (RFC 3461 §4.2): `addr_type` is an atom such
    /// as `rfc822`, `address` the plain (not xtext-encoded) address.
    pub fn new(addr_type: impl Into<String>, address: impl Into<String>) -> Orcpt {
        Orcpt {
            addr_type: addr_type.into(),
            address: address.into(),
        }
    }

    /// Whether the address type is `utf-8` (RFC 6533), in any case.
    pub fn is_utf8(&self) -> bool {
        self.addr_type.eq_ignore_ascii_case("utf-8")
    }
}

/// The wire form of the value (RFC 3461 §4.2): `addr-type;xtext`. The
/// address is xtext-encoded with `+XX` (RFC 3461 §4), or for addr-type
/// `utf-8` with the `\x{HEX}` escapes of RFC 6533 §3, so a parsed value
/// round-trips.
impl fmt::Display for Orcpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.addr_type)?;
        f.write_str(";")?;
        if self.is_utf8() {
            encode_utf8_xtext(&self.address, f)
        } else {
            encode_xtext(&self.address, f)
        }
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
///
/// With `unicode_escapes` (ORCPT addr-type `utf-8`, RFC 6533 §3),
/// `\x{HEX}` is also the Unicode scalar value `HEX` (1 to 6 hex digits),
/// and any other backslash is rejected.
///
/// Decoded control characters and invalid UTF-8 are rejected.
fn decode_xtext(s: &str, unicode_escapes: bool) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => {
                let hi = hex_digit(bytes.next()?)?;
                let lo = hex_digit(bytes.next()?)?;
                out.push(hi << 4 | lo);
            }
            b'\\' if unicode_escapes => {
                if bytes.next()? != b'x' || bytes.next()? != b'{' {
                    return None;
                }
                let mut code: u32 = 0;
                let mut digits = 0;
                loop {
                    let b = bytes.next()?;
                    if b == b'}' {
                        break;
                    }
                    digits += 1;
                    if digits > 6 {
                        return None;
                    }
                    code = code << 4 | u32::from(hex_digit(b)?);
                }
                if digits == 0 {
                    return None;
                }
                let mut buf = [0; 4];
                out.extend_from_slice(char::from_u32(code)?.encode_utf8(&mut buf).as_bytes());
            }
            _ => out.push(b),
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

/// Writes `s` as RFC 3461 §4 xtext: octets 33 to 126 but `+` and `=` as
/// they are, any other as `+XX` (upper-case hex).
fn encode_xtext(s: &str, out: &mut impl fmt::Write) -> fmt::Result {
    for b in s.bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.write_char(char::from(b))?;
        } else {
            write!(out, "+{b:02X}")?;
        }
    }
    Ok(())
}

/// Writes `s` as RFC 6533 §3 `utf-8-addr-xtext`: QCHAR (printable ASCII but
/// `+`, `=` and `\`) as it is, any other character as `\x{HEX}`.
fn encode_utf8_xtext(s: &str, out: &mut impl fmt::Write) -> fmt::Result {
    for c in s.chars() {
        if c.is_ascii_graphic() && !matches!(c, '+' | '=' | '\\') {
            out.write_char(c)?;
        } else {
            write!(out, "\\x{{{:X}}}", u32::from(c))?;
        }
    }
    Ok(())
}

/// Whether `b` is RFC 5322 `atext`, the characters of an atom.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// The error for a repeated keyword.
fn duplicate_item(keyword: &str) -> ParamError {
    ParamError::Invalid(format!("Duplicate parameter {keyword}"))
}

impl MailParams {
    /// Parses the parameters of MAIL: the text after the reverse-path.
    ///
    /// Empty or blank text gives the defaults. Known keywords are `SIZE`,
    /// `BODY`, `SMTPUTF8`, `AUTH`, and the DSN keywords `RET` and `ENVID`
    /// (RFC 3461 §4.3, §4.4); any other is [`ParamError::Unknown`]. A bad
    /// value, a missing or superfluous value, a repeated keyword or a
    /// malformed item is [`ParamError::Invalid`]. Whether the extension of
    /// a keyword was advertised is for the caller to check.
    ///
    /// ```
    /// use mtakit_proto::params::{Body, MailParams, ParamError, Ret};
    ///
    /// let p = MailParams::parse(" SIZE=1000 body=8bitmime SMTPUTF8")?;
    /// assert_eq!(p.size, Some(1000));
    /// assert_eq!(p.body, Some(Body::EightBitMime));
    /// assert!(p.smtputf8);
    /// assert!(MailParams::parse("")?.is_empty());
    ///
    /// let p = MailParams::parse("RET=hdrs ENVID=QQ314159+2B1")?;
    /// assert_eq!(p.ret, Some(Ret::Headers));
    /// assert_eq!(p.envid.as_deref(), Some("QQ314159+1"));
    /// assert!(matches!(MailParams::parse("RET=ALL"), Err(ParamError::Invalid(_))));
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
                "RET" => params.ret.is_some(),
                "ENVID" => params.envid.is_some(),
                _ => return Err(unknown_item(item.text)),
            };
            if duplicate {
                return Err(duplicate_item(&keyword));
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
                "AUTH" => params.auth = Some(parse_auth(item.value)?),
                "RET" => params.ret = Some(parse_ret(item.value)?),
                _ => params.envid = Some(parse_envid(item.value)?),
            }
        }
        Ok(params)
    }

    /// Whether no parameter was given.
    pub fn is_empty(&self) -> bool {
        self.size.is_none()
            && self.body.is_none()
            && !self.smtputf8
            && self.auth.is_none()
            && self.ret.is_none()
            && self.envid.is_none()
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
        Some(v) => decode_xtext(v, false)
            .ok_or_else(|| ParamError::Invalid("Invalid AUTH value".to_owned())),
        None => Err(ParamError::Invalid("Missing AUTH value".to_owned())),
    }
}

/// RET (RFC 3461 §4.3): `FULL` or `HDRS`, in any case.
fn parse_ret(value: Option<&str>) -> Result<Ret, ParamError> {
    let value = value.unwrap_or_default();
    if value.eq_ignore_ascii_case("FULL") {
        Ok(Ret::Full)
    } else if value.eq_ignore_ascii_case("HDRS") {
        Ok(Ret::Headers)
    } else {
        Err(ParamError::Invalid("Invalid RET value".to_owned()))
    }
}

/// ENVID (RFC 3461 §4.4): xtext decoding to 1 to 100 printable ASCII
/// characters.
fn parse_envid(value: Option<&str>) -> Result<String, ParamError> {
    value
        .and_then(|v| decode_xtext(v, false))
        .filter(|v| (1..=MAX_ENVID).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| ParamError::Invalid("Invalid ENVID value".to_owned()))
}

/// NOTIFY (RFC 3461 §4.1): `NEVER`, or a non-empty comma-separated list of
/// distinct `SUCCESS`, `FAILURE` and `DELAY`, in any case.
fn parse_notify(value: Option<&str>) -> Result<Notify, ParamError> {
    let bad = || ParamError::Invalid("Invalid NOTIFY value".to_owned());
    let value = value.ok_or_else(bad)?;
    let mut notify = Notify::never();
    if value.eq_ignore_ascii_case("NEVER") {
        return Ok(notify);
    }
    for word in value.split(',') {
        let flag = if word.eq_ignore_ascii_case("SUCCESS") {
            &mut notify.success
        } else if word.eq_ignore_ascii_case("FAILURE") {
            &mut notify.failure
        } else if word.eq_ignore_ascii_case("DELAY") {
            &mut notify.delay
        } else {
            return Err(bad());
        };
        if *flag {
            return Err(bad());
        }
        *flag = true;
    }
    Ok(notify)
}

/// ORCPT (RFC 3461 §4.2): `addr-type;xtext`, the address decoding to 1 to
/// 500 octets without control characters.
fn parse_orcpt(value: Option<&str>) -> Result<Orcpt, ParamError> {
    let bad = || ParamError::Invalid("Invalid ORCPT value".to_owned());
    let (addr_type, xtext) = value.and_then(|v| v.split_once(';')).ok_or_else(bad)?;
    if addr_type.is_empty() || !addr_type.bytes().all(is_atext) {
        return Err(bad());
    }
    let unicode_escapes = addr_type.eq_ignore_ascii_case("utf-8");
    let address = decode_xtext(xtext, unicode_escapes)
        .filter(|a| (1..=MAX_ORCPT).contains(&a.len()))
        .ok_or_else(bad)?;
    Ok(Orcpt::new(addr_type, address))
}

impl RcptParams {
    /// Parses the parameters of RCPT: the text after the forward-path.
    ///
    /// Empty or blank text gives the defaults. Known keywords are the DSN
    /// keywords `NOTIFY` and `ORCPT` (RFC 3461 §4.1, §4.2); any other is
    /// [`ParamError::Unknown`]. A bad or missing value, a repeated keyword
    /// or a malformed item is [`ParamError::Invalid`]. Whether DSN was
    /// advertised is for the caller to check.
    ///
    /// `NOTIFY` is `NEVER` or a list of distinct `SUCCESS`, `FAILURE` and
    /// `DELAY`, in any case. `ORCPT` is `addr-type;xtext`; the address is
    /// xtext-decoded (and for addr-type `utf-8`, RFC 6533, `\x{HEX}` too).
    ///
    /// ```
    /// use mtakit_proto::params::RcptParams;
    /// use mtakit_proto::params::{Notify, ParamError};
    ///
    /// let p = RcptParams::parse(" NOTIFY=failure,Success ORCPT=rfc822;b+2Bfoo@example.com")?;
    /// assert_eq!(p.notify, Some(Notify::new(true, true, false)));
    /// assert_eq!(p.notify.unwrap().to_string(), "SUCCESS,FAILURE");
    /// let orcpt = p.orcpt.as_ref().unwrap();
    /// assert_eq!(orcpt.addr_type, "rfc822");
    /// assert_eq!(orcpt.address, "b+foo@example.com");
    /// assert_eq!(orcpt.to_string(), "rfc822;b+2Bfoo@example.com");
    ///
    /// let p = RcptParams::parse("NOTIFY=NEVER ORCPT=utf-8;\\x{E9}t\\x{E9}@example.com")?;
    /// assert!(p.notify.is_some_and(|n| n.is_never()));
    /// assert_eq!(p.orcpt.unwrap().address, "été@example.com");
    ///
    /// assert!(RcptParams::parse(" ")?.is_empty());
    /// assert!(matches!(RcptParams::parse("NOTIFY=NEVER,DELAY"), Err(ParamError::Invalid(_))));
    /// assert!(matches!(RcptParams::parse("ORCPT=rfc822;a+0Db"), Err(ParamError::Invalid(_))));
    /// assert!(matches!(RcptParams::parse("FOO=BAR"), Err(ParamError::Unknown(_))));
    /// assert!(matches!(RcptParams::parse("=x"), Err(ParamError::Invalid(_))));
    /// # Ok::<(), ParamError>(())
    /// ```
    pub fn parse(s: &str) -> Result<RcptParams, ParamError> {
        let mut params = RcptParams::default();
        for item in items(s)? {
            let keyword = item.keyword.to_ascii_uppercase();
            let duplicate = match keyword.as_str() {
                "NOTIFY" => params.notify.is_some(),
                "ORCPT" => params.orcpt.is_some(),
                _ => return Err(unknown_item(item.text)),
            };
            if duplicate {
                return Err(duplicate_item(&keyword));
            }
            if keyword == "NOTIFY" {
                params.notify = Some(parse_notify(item.value)?);
            } else {
                params.orcpt = Some(parse_orcpt(item.value)?);
            }
        }
        Ok(params)
    }

    /// Whether no parameter was given.
    pub fn is_empty(&self) -> bool {
        self.notify.is_none() && self.orcpt.is_none()
    }
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "params_props.rs"]
mod props;
