//! RFC 5321 §4.1.2 paths and mailboxes, with RFC 6531 (SMTPUTF8) addresses.
//!
//! [`ReversePath::parse`] and [`ForwardPath::parse`] read the path at the
//! start of the argument of `MAIL FROM:` / `RCPT TO:` and hand back the rest
//! of the line, where the ESMTP parameters are. The parser follows RFC 5321
//! with a few widely deployed leniencies (the same ones Postfix has):
//!
//! - a bare mailbox without angle brackets (`MAIL FROM:foo@example.com`) is
//!   accepted; it ends at the first space;
//! - source routes (`<@relay.example:user@example.com>`) are accepted and
//!   the route is dropped (RFC 5321 §4.1.2, Appendix C);
//! - local parts longer than 64 octets are accepted;
//! - `_` is allowed in domain labels;
//! - non-ASCII (UTF-8) local parts and domain labels are accepted; callers
//!   check [`Mailbox::is_ascii`] when the client did not use SMTPUTF8.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The longest reverse- or forward-path, punctuation included (RFC 5321 §4.5.3.1.3).
pub const MAX_PATH: usize = 256;
/// The longest domain (RFC 5321 §4.5.3.1.2).
pub const MAX_DOMAIN: usize = 255;

/// The longest domain label, in characters (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;

/// A domain: a name, or an address literal in brackets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Domain {
    /// A domain name, as written (case preserved). May hold U-labels when
    /// parsed with UTF-8 allowed.
    Name(String),
    /// `[...]`: an IPv4, IPv6 or general address literal.
    Literal(AddressLiteral),
}

/// An address literal (RFC 5321 §4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressLiteral {
    /// `[192.0.2.1]`
    Ipv4(Ipv4Addr),
    /// `[IPv6:2001:db8::1]`
    Ipv6(Ipv6Addr),
    /// `[tag:content]`, a standardized-tag literal other than IPv6.
    General {
        /// The tag before the colon.
        tag: String,
        /// The content after the colon.
        content: String,
    },
}

/// A mailbox `local-part@domain`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mailbox {
    local_part: String,
    domain: Domain,
}

/// The argument of MAIL FROM.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReversePath {
    /// `<>`: the null reverse-path, used by bounces.
    Null,
    /// A sender mailbox.
    Mailbox(Mailbox),
}

/// The argument of RCPT TO.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForwardPath {
    /// `<Postmaster>` without a domain (RFC 5321 §4.5.1), any case.
    Postmaster,
    /// A recipient mailbox.
    Mailbox(Mailbox),
}

/// Why a path or domain did not parse. `Display` gives a human sentence
/// suitable for a 501 reply text (no CR, LF or NUL, printable ASCII only).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// Nothing was given.
    Empty,
    /// `<` without `>` or the reverse.
    UnbalancedBrackets,
    /// The path is longer than [`MAX_PATH`].
    TooLong,
    /// The local part is not a dot-string or quoted-string.
    InvalidLocalPart,
    /// No `@`, or more than one outside quotes.
    MissingAt,
    /// The domain is malformed (or longer than [`MAX_DOMAIN`]).
    InvalidDomain,
    /// The address literal is malformed.
    InvalidAddressLiteral,
    /// The text is not valid UTF-8, or has control characters.
    InvalidCharacter,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::Empty => "No address given",
            PathError::UnbalancedBrackets => {
                "Invalid email address format - use balanced angle brackets"
            }
            PathError::TooLong => "Path too long",
            PathError::InvalidLocalPart => "Invalid local part",
            PathError::MissingAt => "An email address must contain a single '@'",
            PathError::InvalidDomain => "Invalid domain",
            PathError::InvalidAddressLiteral => "Invalid address literal",
            PathError::InvalidCharacter => "Invalid character in address",
        })
    }
}

impl std::error::Error for PathError {}

// ---------------------------------------------------------------------------
// Domain

impl Domain {
    /// Parses a domain name or an address literal.
    ///
    /// A name is a dot-separated list of labels of 1 to 63 letters, digits,
    /// hyphens or underscores, neither starting nor ending with a hyphen.
    /// Non-ASCII letters and digits (U-labels) are accepted; check
    /// [`Domain::is_ascii`] when SMTPUTF8 is not in use. An address literal
    /// is `[192.0.2.1]`, `[IPv6:2001:db8::1]` or `[tag:content]`.
    ///
    /// ```
    /// use mtakit_proto::address::{AddressLiteral, Domain, PathError};
    ///
    /// let d = Domain::parse("Mail.Example.COM")?;
    /// assert_eq!(d, Domain::Name("Mail.Example.COM".into()));
    /// assert_eq!(
    ///     Domain::parse("[192.0.2.1]")?,
    ///     Domain::Literal(AddressLiteral::Ipv4([192, 0, 2, 1].into())),
    /// );
    /// assert_eq!(Domain::parse("example..com"), Err(PathError::InvalidDomain));
    /// assert_eq!(Domain::parse("[300.1.1.1]"), Err(PathError::InvalidAddressLiteral));
    /// # Ok::<(), PathError>(())
    /// ```
    pub fn parse(s: &str) -> Result<Domain, PathError> {
        if s.chars().any(char::is_control) {
            return Err(PathError::InvalidCharacter);
        }
        if let Some(rest) = s.strip_prefix('[') {
            if s.len() > MAX_DOMAIN {
                return Err(PathError::InvalidAddressLiteral);
            }
            let inner = rest
                .strip_suffix(']')
                .ok_or(PathError::InvalidAddressLiteral)?;
            return parse_literal(inner).map(Domain::Literal);
        }
        if is_domain_name(s) {
            Ok(Domain::Name(s.to_owned()))
        } else {
            Err(PathError::InvalidDomain)
        }
    }

    /// Whether the domain is plain ASCII (no U-labels). Address literals are
    /// always ASCII.
    pub fn is_ascii(&self) -> bool {
        match self {
            Domain::Name(name) => name.is_ascii(),
            Domain::Literal(_) => true,
        }
    }

    /// True when this is the domain `other`, ignoring ASCII case (domain
    /// names are case-insensitive, RFC 5321 §2.4), without allocating. An
    /// address literal matches the literal it parses from, so
    /// `[IPv6:2001:db8::1]` matches `[ipv6:2001:DB8:0::1]`.
    ///
    /// ```
    /// use mtakit_proto::address::Domain;
    ///
    /// let d = Domain::parse("Mail.Example.COM")?;
    /// assert!(d.eq_ignore_ascii_case("mail.example.com"));
    /// assert!(!d.eq_ignore_ascii_case("example.com"));
    /// assert!(Domain::parse("[192.0.2.1]")?.eq_ignore_ascii_case("[192.0.2.1]"));
    /// # Ok::<(), mtakit_proto::address::PathError>(())
    /// ```
    pub fn eq_ignore_ascii_case(&self, other: &str) -> bool {
        match self {
            Domain::Name(name) => name.eq_ignore_ascii_case(other),
            Domain::Literal(_) => Domain::parse(other).is_ok_and(|d| d == *self),
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Name(name) => f.write_str(name),
            Domain::Literal(lit) => write!(f, "{lit}"),
        }
    }
}

impl fmt::Display for AddressLiteral {
    /// Renders the literal with its brackets: `[192.0.2.1]`,
    /// `[IPv6:2001:db8::1]`, `[tag:content]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressLiteral::Ipv4(ip) => write!(f, "[{ip}]"),
            AddressLiteral::Ipv6(ip) => write!(f, "[IPv6:{ip}]"),
            AddressLiteral::General { tag, content } => write!(f, "[{tag}:{content}]"),
        }
    }
}

/// Whether `s` is a valid domain name (not a literal).
fn is_domain_name(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_DOMAIN {
        return false;
    }
    s.split('.').all(|label| {
        let count = label.chars().count();
        (1..=MAX_LABEL).contains(&count)
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || c == '-'
                    || c == '_'
                    || (!c.is_ascii() && c.is_alphanumeric())
            })
    })
}

/// Whether `s` is an RFC 5321 Ldh-str that starts and ends with a letter
/// or digit.
fn is_ldh(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses the text between the brackets of an address literal.
fn parse_literal(inner: &str) -> Result<AddressLiteral, PathError> {
    match inner.split_once(':') {
        None => parse_dotted_quad(inner)
            .map(AddressLiteral::Ipv4)
            .ok_or(PathError::InvalidAddressLiteral),
        Some((tag, content)) if tag.eq_ignore_ascii_case("IPv6") => content
            .parse::<Ipv6Addr>()
            .map(AddressLiteral::Ipv6)
            .map_err(|_| PathError::InvalidAddressLiteral),
        Some((tag, content)) => {
            let content_ok =
                !content.is_empty() && content.bytes().all(|b| matches!(b, 33..=90 | 94..=126));
            if is_ldh(tag) && content_ok {
                Ok(AddressLiteral::General {
                    tag: tag.to_owned(),
                    content: content.to_owned(),
                })
            } else {
                Err(PathError::InvalidAddressLiteral)
            }
        }
    }
}

/// Parses a strict dotted quad: four groups of 1 to 3 digits, each 0..=255.
fn parse_dotted_quad(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

// ---------------------------------------------------------------------------
// Mailbox

impl Mailbox {
    /// Builds a mailbox from its parts without checking them.
    ///
    /// The local part is kept as written: a quoted local part must include
    /// its quotes (`"\"john doe\""`).
    pub fn new(local_part: impl Into<String>, domain: Domain) -> Self {
        Mailbox {
            local_part: local_part.into(),
            domain,
        }
    }

    /// The local part, as written (a quoted string keeps its quotes and
    /// backslashes).
    pub fn local_part(&self) -> &str {
        &self.local_part
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Whether both the local part and the domain are plain ASCII. A
    /// mailbox that is not needs SMTPUTF8 (RFC 6531).
    pub fn is_ascii(&self) -> bool {
        self.local_part.is_ascii() && self.domain.is_ascii()
    }

    /// Parses `local-part@domain`, with nothing around it.
    fn parse(s: &str) -> Result<Mailbox, PathError> {
        let (local, domain) = if s.starts_with('"') {
            let end = quoted_string_end(s).ok_or(PathError::InvalidLocalPart)?;
            let (local, rest) = s.split_at(end);
            match rest.strip_prefix('@') {
                Some(domain) => (local, domain),
                None if rest.is_empty() => return Err(PathError::MissingAt),
                None => return Err(PathError::InvalidLocalPart),
            }
        } else {
            let (local, domain) = s.split_once('@').ok_or(PathError::MissingAt)?;
            if domain.contains('@') {
                return Err(PathError::MissingAt);
            }
            if !is_dot_string(local) {
                return Err(PathError::InvalidLocalPart);
            }
            (local, domain)
        };
        if domain.contains('@') {
            return Err(PathError::MissingAt);
        }
        let domain = Domain::parse(domain)?;
        Ok(Mailbox::new(local, domain))
    }
}

impl fmt::Display for Mailbox {
    /// Renders `local-part@domain`, without angle brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local_part, self.domain)
    }
}

/// RFC 5322 atext, plus any non-ASCII character (RFC 6531).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && !c.is_control())
}

/// Whether `s` is a Dot-string: non-empty atoms separated by single dots.
fn is_dot_string(s: &str) -> bool {
    s.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// Given `s` starting with `"`, the byte index just past the closing quote
/// of a valid RFC 5321 Quoted-string, or `None`.
fn quoted_string_end(s: &str) -> Option<usize> {
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(i + 1),
            '\\' => match chars.next() {
                Some((_, ' '..='~')) => {}
                _ => return None,
            },
            ' '..='~' => {}
            c if !c.is_ascii() && !c.is_control() => {}
            _ => return None,
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Paths

/// What was between the brackets (or the bare token).
enum Parsed {
    Null,
    Postmaster,
    Mailbox(Mailbox),
}

/// Splits the path off the start of `input` and parses it.
fn parse_path(input: &str) -> Result<(Parsed, &str), PathError> {
    let input = input.trim_start();
    if input.is_empty() {
        return Err(PathError::Empty);
    }
    let (inner, rest) = if let Some(after) = input.strip_prefix('<') {
        let close = scan(after, true)?.ok_or(PathError::UnbalancedBrackets)?;
        // `<` + inner + `>`
        if close + 2 > MAX_PATH {
            return Err(PathError::TooLong);
        }
        (&after[..close], &after[close + 1..])
    } else {
        let end = scan(input, false)?.unwrap_or(input.len());
        if end + 2 > MAX_PATH {
            return Err(PathError::TooLong);
        }
        input.split_at(end)
    };
    Ok((parse_inner(inner)?, rest))
}

/// Scans a path for its end, outside quoted strings. In brackets the end is
/// the index of `>`, or `None` when there is none. For a bare path the end is
/// the first space, or `None` for the end of input; a bracket there is
/// unbalanced. Control characters before the end are rejected.
fn scan(s: &str, bracketed: bool) -> Result<Option<usize>, PathError> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if c.is_control() {
            return Err(PathError::InvalidCharacter);
        }
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '>' if bracketed => return Ok(Some(i)),
            ' ' if !bracketed => return Ok(Some(i)),
            '<' | '>' if !bracketed => return Err(PathError::UnbalancedBrackets),
            _ => {}
        }
    }
    Ok(None)
}

/// Parses the text of a path without its brackets.
fn parse_inner(inner: &str) -> Result<Parsed, PathError> {
    if inner.is_empty() {
        return Ok(Parsed::Null);
    }
    let mailbox = if inner.starts_with('@') {
        strip_source_route(inner)?
    } else {
        if inner.eq_ignore_ascii_case("postmaster") {
            return Ok(Parsed::Postmaster);
        }
        inner
    };
    Mailbox::parse(mailbox).map(Parsed::Mailbox)
}

/// Checks and drops an A-d-l source route (`@a.example,@b.example:`),
/// returning the mailbox after it.
fn strip_source_route(inner: &str) -> Result<&str, PathError> {
    // No colon: this is `@domain`, a mailbox with an empty local part.
    let (route, mailbox) = inner.split_once(':').ok_or(PathError::InvalidLocalPart)?;
    for hop in route.split(',') {
        let domain = hop.strip_prefix('@').ok_or(PathError::InvalidDomain)?;
        if !is_domain_name(domain) {
            return Err(PathError::InvalidDomain);
        }
    }
    Ok(mailbox)
}

impl ReversePath {
    /// Parses the reverse-path at the start of `input`, the text after
    /// `MAIL FROM:`, and returns it with the rest of the input (where the
    /// ESMTP parameters are, with their leading space).
    ///
    /// `<>` is the null path. A mailbox needs a domain. A bare mailbox
    /// without brackets is accepted and ends at the first space.
    ///
    /// ```
    /// use mtakit_proto::address::{PathError, ReversePath};
    ///
    /// let (path, rest) = ReversePath::parse("<foo@example.com> SIZE=100")?;
    /// let mailbox = path.mailbox().unwrap();
    /// assert_eq!(mailbox.local_part(), "foo");
    /// assert_eq!(mailbox.domain().to_string(), "example.com");
    /// assert_eq!(rest, " SIZE=100");
    ///
    /// assert_eq!(ReversePath::parse("<>")?, (ReversePath::Null, ""));
    /// assert_eq!(
    ///     ReversePath::parse("<foo@example.com"),
    ///     Err(PathError::UnbalancedBrackets),
    /// );
    /// # Ok::<(), PathError>(())
    /// ```
    pub fn parse(input: &str) -> Result<(ReversePath, &str), PathError> {
        let (parsed, rest) = parse_path(input)?;
        let path = match parsed {
            Parsed::Null => ReversePath::Null,
            Parsed::Postmaster => return Err(PathError::MissingAt),
            Parsed::Mailbox(m) => ReversePath::Mailbox(m),
        };
        Ok((path, rest))
    }

    /// The sender mailbox, or `None` for the null path.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            ReversePath::Null => None,
            ReversePath::Mailbox(m) => Some(m),
        }
    }

    /// Whether the path is plain ASCII (the null path is).
    pub fn is_ascii(&self) -> bool {
        self.mailbox().is_none_or(Mailbox::is_ascii)
    }
}

impl fmt::Display for ReversePath {
    /// Renders `<>` or `<mailbox>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => f.write_str("<>"),
            ReversePath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

impl ForwardPath {
    /// Parses the forward-path at the start of `input`, the text after
    /// `RCPT TO:`, and returns it with the rest of the input (where the
    /// ESMTP parameters are, with their leading space).
    ///
    /// `<Postmaster>` in any case and without a domain is
    /// [`ForwardPath::Postmaster`]; `<>` is an error. A bare mailbox without
    /// brackets is accepted and ends at the first space.
    ///
    /// ```
    /// use mtakit_proto::address::{ForwardPath, PathError};
    ///
    /// let (path, rest) = ForwardPath::parse("<@relay.example:user@example.com>")?;
    /// assert_eq!(path.to_string(), "<user@example.com>");
    /// assert_eq!(rest, "");
    ///
    /// assert_eq!(ForwardPath::parse("<postmaster>")?.0, ForwardPath::Postmaster);
    /// assert_eq!(ForwardPath::parse("<>"), Err(PathError::Empty));
    /// # Ok::<(), PathError>(())
    /// ```
    pub fn parse(input: &str) -> Result<(ForwardPath, &str), PathError> {
        let (parsed, rest) = parse_path(input)?;
        let path = match parsed {
            Parsed::Null => return Err(PathError::Empty),
            Parsed::Postmaster => ForwardPath::Postmaster,
            Parsed::Mailbox(m) => ForwardPath::Mailbox(m),
        };
        Ok((path, rest))
    }

    /// The recipient mailbox, or `None` for the bare `<Postmaster>`.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            ForwardPath::Postmaster => None,
            ForwardPath::Mailbox(m) => Some(m),
        }
    }

    /// Whether the path is plain ASCII (`<Postmaster>` is).
    pub fn is_ascii(&self) -> bool {
        self.mailbox().is_none_or(Mailbox::is_ascii)
    }
}

impl fmt::Display for ForwardPath {
    /// Renders `<Postmaster>` or `<mailbox>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardPath::Postmaster => f.write_str("<Postmaster>"),
            ForwardPath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
