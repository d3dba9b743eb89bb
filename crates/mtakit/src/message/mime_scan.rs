//! The cheap scan of a message before mail-parser's full parse, and the
//! limits it enforces (feature `mime`).
//!
//! mail-parser 0.11 builds nested `message/*` parts as a tree with no depth
//! limit and drops it recursively: 50,000 nested `message/rfc822` parts
//! (1.6 MB) overflow a 2 MiB thread stack, and a stack overflow aborts the
//! process. Its RFC 2231 parameter continuations cost quadratic time (16 s
//! of CPU for 800,000 of them). [`check`] reads the bytes once, line by
//! line, following the MIME structure (boundaries, `message/*` parts, and
//! `message/*` parts in base64 or quoted-printable, decoded as mail-parser
//! does), and refuses:
//!
//! - nesting deeper than [`MAX_MIME_DEPTH`] (multipart and `message/*`
//!   levels together);
//! - more than [`MAX_MIME_PARTS`] parts;
//! - more than [`MAX_RFC2231_PARAMS`] RFC 2231 parameter sections
//!   (`name*=`, `name*N=`, `name*N*=`) anywhere in the message.

use std::fmt;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;

/// The deepest MIME nesting (multipart and `message/*` levels counted
/// together) that is handed to the full parser: 32. Real mail seldom
/// nests beyond 5; mail-parser's recursive drop overflowed a 2 MiB thread
/// stack between 30,000 and 50,000 levels, three orders of magnitude more.
pub const MAX_MIME_DEPTH: usize = 32;
/// The most MIME parts handed to the full parser: 10,000.
pub const MAX_MIME_PARTS: usize = 10_000;
/// The most RFC 2231 parameter sections (`name*=`, `name*N=`,
/// `name*N*=`) in a message handed to the full parser: 2,000. mail-parser
/// merges them in quadratic time; 2,000 cost well under a millisecond.
pub const MAX_RFC2231_PARAMS: usize = 2_000;
/// Levels of base64 / quoted-printable `message/*` parts mail-parser
/// parses (its `MAX_NESTED_ENCODED`); deeper ones stay opaque.
const ENCODED_LEVELS: usize = 3;

/// Why a message is not taken apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TooComplex {
    /// Nested deeper than [`MAX_MIME_DEPTH`].
    Depth,
    /// More than [`MAX_MIME_PARTS`] parts.
    Parts,
    /// More than [`MAX_RFC2231_PARAMS`] RFC 2231 parameter sections.
    Parameters,
}

impl fmt::Display for TooComplex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TooComplex::Depth => write!(
                f,
                "its MIME structure is nested more than {MAX_MIME_DEPTH} levels deep"
            ),
            TooComplex::Parts => write!(f, "it has more than {MAX_MIME_PARTS} MIME parts"),
            TooComplex::Parameters => write!(
                f,
                "it has more than {MAX_RFC2231_PARAMS} RFC 2231 parameter sections"
            ),
        }
    }
}

impl std::error::Error for TooComplex {}

/// The cheap scan before a full parse: linear in the size of `raw` (plus
/// the decoded size of encoded `message/*` parts, at most three levels).
pub fn check(raw: &[u8]) -> Result<(), TooComplex> {
    if rfc2231_sections(raw) > MAX_RFC2231_PARAMS {
        return Err(TooComplex::Parameters);
    }
    let mut parts = 0;
    Scanner::new(0, &mut parts).scan(raw, 0)
}

/// Occurrences of `*=`, `*DIGITS=` and `*DIGITS*=` (spaces allowed before
/// the `=`), wherever they are: a cheap upper bound of what mail-parser
/// sees as RFC 2231 sections in any header it parses.
fn rfc2231_sections(raw: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while let Some(at) = raw[i..].iter().position(|&b| b == b'*') {
        let mut j = i + at + 1;
        while raw.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if raw.get(j) == Some(&b'*') {
            j += 1;
        }
        while raw.get(j).is_some_and(|&b| b == b' ' || b == b'\t') {
            j += 1;
        }
        if raw.get(j) == Some(&b'=') {
            count += 1;
            i = j + 1;
        } else {
            i += at + 1;
        }
    }
    count
}

/// A multipart entity whose parts are being scanned.
struct Frame {
    boundary: Vec<u8>,
    /// Depth of the multipart entity itself.
    depth: usize,
    digest: bool,
}

/// What the header section of the entity being scanned said.
#[derive(Default)]
struct Entity {
    content_type: Vec<u8>,
    encoding: Vec<u8>,
    /// Which field the last line belonged to: 1 Content-Type, 2
    /// Content-Transfer-Encoding, 0 another.
    field: u8,
    /// The enclosing multipart is a digest (parts default to
    /// `message/rfc822`).
    in_digest: bool,
}

/// How much of a Content-Type or Content-Transfer-Encoding value is kept
/// for the scan.
const VALUE_KEPT: usize = 4096;

struct Scanner<'p> {
    /// Depth of the entity the scan starts in.
    base: usize,
    parts: &'p mut usize,
}

enum Mode {
    Headers(Entity),
    Body,
    /// The body of an encoded `message/*` part, from this offset.
    Encoded {
        start: usize,
        base64: bool,
    },
}

impl<'p> Scanner<'p> {
    fn new(base: usize, parts: &'p mut usize) -> Scanner<'p> {
        Scanner { base, parts }
    }

    fn scan(&mut self, raw: &[u8], level: usize) -> Result<(), TooComplex> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut depth = self.base;
        let mut mode = Mode::Headers(Entity::default());
        let mut at = 0;
        while at < raw.len() {
            let end = raw[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(raw.len(), |p| at + p + 1);
            let line = trim_eol(&raw[at..end]);
            let line_start = at;
            at = end;
            if let Some((index, closing)) = boundary(line, &stack) {
                if let Mode::Encoded { start, base64 } = mode {
                    self.encoded(&raw[start..line_start], base64, depth, level)?;
                }
                let frame = &stack[index];
                if closing {
                    depth = frame.depth;
                    stack.truncate(index);
                    mode = Mode::Body;
                } else {
                    depth = frame.depth + 1;
                    *self.parts += 1;
                    if *self.parts > MAX_MIME_PARTS {
                        return Err(TooComplex::Parts);
                    }
                    let in_digest = frame.digest;
                    stack.truncate(index + 1);
                    mode = Mode::Headers(Entity {
                        in_digest,
                        ..Entity::default()
                    });
                }
                continue;
            }
            let Mode::Headers(entity) = &mut mode else {
                continue;
            };
            if !line.is_empty() {
                entity.add_line(line);
                continue;
            }
            // The end of a header section.
            let entity = std::mem::take(entity);
            let content_type = entity.content_type.to_ascii_lowercase();
            let media = media_type(&content_type);
            if media.starts_with(b"multipart/")
                && let Some(boundary) = boundary_param(&entity.content_type)
            {
                if depth + 1 > MAX_MIME_DEPTH {
                    return Err(TooComplex::Depth);
                }
                stack.push(Frame {
                    boundary,
                    depth,
                    digest: media == b"multipart/digest",
                });
                mode = Mode::Body;
            } else if media == b"message/rfc822"
                || media == b"message/global"
                || (media.is_empty() && entity.in_digest)
            {
                let encoding = entity.encoding.trim_ascii().to_ascii_lowercase();
                if encoding == b"base64" || encoding == b"quoted-printable" {
                    mode = Mode::Encoded {
                        start: at,
                        base64: encoding == b"base64",
                    };
                } else {
                    depth += 1;
                    if depth > MAX_MIME_DEPTH {
                        return Err(TooComplex::Depth);
                    }
                    mode = Mode::Headers(Entity::default());
                }
            } else {
                mode = Mode::Body;
            }
        }
        if let Mode::Encoded { start, base64 } = mode {
            self.encoded(&raw[start..], base64, depth, level)?;
        }
        Ok(())
    }

    /// An encoded `message/*` body: decoded and scanned as a message one
    /// level deeper, as mail-parser parses it.
    fn encoded(
        &mut self,
        body: &[u8],
        base64: bool,
        depth: usize,
        level: usize,
    ) -> Result<(), TooComplex> {
        if level >= ENCODED_LEVELS {
            return Ok(());
        }
        let decoded = if base64 {
            base64_decode(body)
        } else {
            quoted_printable_decode(body)
        };
        let Some(decoded) = decoded else {
            return Ok(()); // mail-parser keeps it as text
        };
        if depth + 1 > MAX_MIME_DEPTH {
            return Err(TooComplex::Depth);
        }
        if rfc2231_sections(&decoded) > MAX_RFC2231_PARAMS {
            return Err(TooComplex::Parameters);
        }
        Scanner::new(depth + 1, self.parts).scan(&decoded, level + 1)
    }
}

impl Entity {
    fn add_line(&mut self, line: &[u8]) {
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            match self.field {
                1 => keep(&mut self.content_type, line),
                2 => keep(&mut self.encoding, line),
                _ => {}
            }
            return;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            self.field = 0;
            return;
        };
        let name = line[..colon].trim_ascii();
        let value = &line[colon + 1..];
        self.field = if name.eq_ignore_ascii_case(b"content-type") {
            self.content_type.clear();
            keep(&mut self.content_type, value);
            1
        } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
            self.encoding.clear();
            keep(&mut self.encoding, value);
            2
        } else {
            0
        };
    }
}

fn keep(value: &mut Vec<u8>, more: &[u8]) {
    let room = VALUE_KEPT.saturating_sub(value.len());
    value.extend_from_slice(&more[..more.len().min(room)]);
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `type/subtype` of a lower-cased Content-Type value, without spaces or
/// comments; empty when none.
fn media_type(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut comment = 0usize;
    for &b in value {
        match b {
            b'(' => comment += 1,
            b')' => comment = comment.saturating_sub(1),
            _ if comment > 0 => {}
            b';' => break,
            b' ' | b'\t' | b'\r' | b'\n' | b'"' => {}
            _ => out.push(b),
        }
    }
    out
}

/// The `boundary` parameter of a Content-Type value, unquoted.
fn boundary_param(value: &[u8]) -> Option<Vec<u8>> {
    let lower = value.to_ascii_lowercase();
    let at = lower.windows(9).position(|w| w == b"boundary=")?;
    let rest = value[at + 9..].trim_ascii_start();
    let boundary: Vec<u8> = if let Some(quoted) = rest.strip_prefix(b"\"") {
        quoted.iter().take_while(|&&b| b != b'"').copied().collect()
    } else {
        rest.iter()
            .take_while(|&&b| !matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n'))
            .copied()
            .collect()
    };
    (!boundary.is_empty()).then_some(boundary)
}

/// Whether `line` is a boundary of an open multipart (innermost first):
/// the frame's index, and whether it is the closing one.
fn boundary(line: &[u8], stack: &[Frame]) -> Option<(usize, bool)> {
    let rest = line.strip_prefix(b"--")?;
    stack.iter().enumerate().rev().find_map(|(i, frame)| {
        let after = rest.strip_prefix(frame.boundary.as_slice())?;
        Some((i, after.starts_with(b"--")))
    })
}

/// A message of `depth` nested `message/rfc822` parts, for tests.
#[cfg(test)]
pub(super) fn nested_rfc822(depth: usize) -> Vec<u8> {
    let mut raw = b"Subject: outer\r\n".to_vec();
    for _ in 0..depth {
        raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
    }
    raw.extend_from_slice(b"Subject: x\r\n\r\nx\r\n");
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_multipart(depth: usize) -> Vec<u8> {
        let mut raw = Vec::new();
        for i in 0..depth {
            raw.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\nhi\r\n");
        raw
    }

    #[test]
    fn deep_rfc822_nesting_is_refused_before_parsing() {
        assert_eq!(check(&nested_rfc822(MAX_MIME_DEPTH)), Ok(()));
        assert_eq!(
            check(&nested_rfc822(MAX_MIME_DEPTH + 1)),
            Err(TooComplex::Depth)
        );
        assert_eq!(check(&nested_rfc822(50_000)), Err(TooComplex::Depth));
        assert!(matches!(
            super::super::mime_bound::parse(&nested_rfc822(3)),
            Ok(Some(_))
        ));
    }

    #[test]
    fn deep_multipart_nesting_is_refused() {
        assert_eq!(check(&nested_multipart(MAX_MIME_DEPTH)), Ok(()));
        assert_eq!(
            check(&nested_multipart(MAX_MIME_DEPTH + 1)),
            Err(TooComplex::Depth)
        );
    }

    #[test]
    fn encoded_nesting_is_decoded() {
        // A base64 message/rfc822 part hiding 40 levels of plain nesting.
        let inner = nested_rfc822(40);
        let mut encoded = Vec::new();
        for chunk in inner.chunks(57) {
            encoded.extend_from_slice(base64(chunk).as_bytes());
            encoded.extend_from_slice(b"\r\n");
        }
        let mut raw = b"Content-Type: message/rfc822\r\n\
                         Content-Transfer-Encoding: base64\r\n\r\n"
            .to_vec();
        raw.extend_from_slice(&encoded);
        assert_eq!(check(&raw), Err(TooComplex::Depth));
    }

    #[test]
    fn many_rfc2231_sections_are_refused() {
        let mut raw = b"Content-Type: text/plain; name*0=a".to_vec();
        for i in 1..=MAX_RFC2231_PARAMS {
            raw.extend_from_slice(format!("; name*{i}=a").as_bytes());
        }
        raw.extend_from_slice(b"\r\n\r\nbody\r\n");
        assert_eq!(check(&raw), Err(TooComplex::Parameters));
        assert_eq!(rfc2231_sections(b"a*=1 b*0 =2 c*1*=3 d=4 e*x=5"), 3);
    }

    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
