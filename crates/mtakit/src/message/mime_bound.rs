//! Bounds on what the decoded view hands to mail-parser.
//!
//! mail-parser 0.11 builds nested `message/*` parts as a tree with no
//! depth limit and walks it recursively (when it copies a part that came
//! base64 or quoted-printable encoded, and when the tree is dropped): some
//! 50,000 nested `message/rfc822` parts overflow a thread's stack, which
//! aborts the process. Its RFC 2231 parameter continuations cost quadratic
//! time. A test helper must neither abort nor hang, so before the parse
//! [`within_bounds`] counts, cheaply and generously:
//!
//! - the `multipart` and `message` media types (each nesting level needs
//!   one, save the `message/rfc822` parts of a `multipart/digest`, which
//!   still need one `multipart` per two levels), in the bytes as they are,
//!   quoted-printable decoded, and in every base64 block decoded, three
//!   encoding levels deep as mail-parser parses them;
//! - RFC 2231 parameter sections (`name*=`, `name*0=`, `name*0*=`).
//!
//! The counts overestimate (a word "message/" in a body counts too), which
//! only matters for messages near the limits. [`ShallowDrop`] then drops
//! the parsed tree without recursion, whatever its depth.

use std::ops::Deref;

use mail_parser::Message;
use mail_parser::PartType;
use mail_parser::decoders::base64::base64_decode;

/// The most `multipart`/`message` media types a message may name (counted
/// as described in the [module docs](self)) for the decoded view to parse
/// it: 100. Real mail names a handful; nesting stays under 201 levels,
/// two orders of magnitude below what overflows a 2 MiB stack.
pub(crate) const MAX_MIME_CONTAINERS: usize = 100;

/// The most RFC 2231 parameter sections a message may hold for the
/// decoded view to parse it: 2,000 (mail-parser merges them in quadratic
/// time; 2,000 cost well under a millisecond).
pub(crate) const MAX_RFC2231_SECTIONS: usize = 2_000;

/// Levels of encoded `message/*` parts mail-parser parses (its
/// `MAX_NESTED_ENCODED`).
const ENCODED_LEVELS: usize = 3;

/// Whether `data` is within [`MAX_MIME_CONTAINERS`] and
/// [`MAX_RFC2231_SECTIONS`]. Linear in the size of `data` (each encoding
/// level decodes at most twice the bytes of the one above).
pub(crate) fn within_bounds(data: &[u8]) -> bool {
    let mut counts = Counts::default();
    counts.scan(data, ENCODED_LEVELS)
}

#[derive(Default)]
struct Counts {
    containers: usize,
    sections: usize,
}

impl Counts {
    /// Adds what `data` and its encoded contents name; false as soon as a
    /// count is over its limit.
    fn scan(&mut self, data: &[u8], levels: usize) -> bool {
        let decoded = quoted_printable_lenient(data);
        self.containers += media_types(&decoded);
        self.sections += rfc2231_sections(&decoded);
        if !self.ok() {
            return false;
        }
        if levels == 0 {
            return true;
        }
        if decoded != data && !self.scan(&decoded, levels - 1) {
            return false;
        }
        base64_blocks(&decoded)
            .iter()
            .filter_map(|block| base64_decode(block))
            .all(|inner| self.scan(&inner, levels - 1))
    }

    fn ok(&self) -> bool {
        self.containers <= MAX_MIME_CONTAINERS && self.sections <= MAX_RFC2231_SECTIONS
    }
}

/// Occurrences of `multipart` or `message` (any case) followed, after
/// optional white space, by `/` or a comment's `(`.
fn media_types(data: &[u8]) -> usize {
    let mut count = 0;
    for (i, _) in data.iter().enumerate() {
        for word in [&b"multipart"[..], b"message"] {
            let Some(candidate) = data.get(i..i + word.len()) else {
                continue;
            };
            if !candidate.eq_ignore_ascii_case(word) {
                continue;
            }
            let next = data[i + word.len()..]
                .iter()
                .find(|b| !b.is_ascii_whitespace());
            if matches!(next, Some(b'/' | b'(')) {
                count += 1;
            }
        }
    }
    count
}

/// Occurrences of `*=`, `*DIGITS=` and `*DIGITS*=` (white space allowed
/// before the `=`).
fn rfc2231_sections(data: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < data.len() {
        i += 1;
        if data[i - 1] != b'*' {
            continue;
        }
        let rest = &data[i..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut end = digits;
        if digits > 0 && rest.get(end) == Some(&b'*') {
            end += 1;
        }
        end += rest[end..]
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if rest.get(end) == Some(&b'=') {
            count += 1;
            i += end + 1;
        }
    }
    count
}

/// `data` with `=XX` replaced by its octet and soft line breaks removed;
/// anything else (including malformed `=`) kept as it is.
fn quoted_printable_lenient(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'=' {
            let hex = |b: u8| (b as char).to_digit(16);
            match (data.get(i + 1), data.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => {
                    i += 3;
                    continue;
                }
                (Some(b'\n'), _) => {
                    i += 2;
                    continue;
                }
                (Some(&h), Some(&l)) => {
                    if let (Some(h), Some(l)) = (hex(h), hex(l)) {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

/// Runs of lines made only of the base64 alphabet, each run joined.
fn base64_blocks(data: &[u8]) -> Vec<Vec<u8>> {
    let mut blocks = Vec::new();
    let mut block = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        let line = line.trim_ascii_end();
        let base64 = !line.is_empty()
            && line
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if base64 {
            block.extend_from_slice(line);
        } else if !block.is_empty() {
            blocks.push(std::mem::take(&mut block));
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

/// A parsed message whose drop takes nested messages apart one by one
/// instead of recursing.
pub(crate) struct ShallowDrop<'x>(Option<Message<'x>>);

impl<'x> ShallowDrop<'x> {
    pub(crate) fn new(message: Message<'x>) -> Self {
        Self(Some(message))
    }
}

impl<'x> Deref for ShallowDrop<'x> {
    type Target = Message<'x>;

    fn deref(&self) -> &Message<'x> {
        // Only `drop` takes the message out.
        self.0.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for ShallowDrop<'_> {
    fn drop(&mut self) {
        let mut pending: Vec<Message<'_>> = self.0.take().into_iter().collect();
        while let Some(mut message) = pending.pop() {
            for part in &mut message.parts {
                if let PartType::Message(inner) = std::mem::take(&mut part.body) {
                    pending.push(inner);
                }
            }
        }
    }
}

/// `levels` nested `message/rfc822` parts, each in a multipart.
#[cfg(test)]
pub(super) fn nested(levels: usize) -> Vec<u8> {
    let mut raw = Vec::new();
    for i in 0..levels {
        raw.extend_from_slice(
            format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n\
                 Content-Type: message/rfc822\r\n\r\n"
            )
            .as_bytes(),
        );
    }
    raw.extend_from_slice(b"Subject: inner\r\n\r\nbody\r\n");
    for i in (0..levels).rev() {
        raw.extend_from_slice(format!("\r\n--b{i}--\r\n").as_bytes());
    }
    raw
}

/// `inner` as a base64-encoded `message/rfc822` part of a multipart.
#[cfg(test)]
pub(super) fn base64_wrapped(inner: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let mut raw = b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n\
        Content-Type: message/rfc822\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    let encoded = base64::engine::general_purpose::STANDARD.encode(inner);
    for chunk in encoded.as_bytes().chunks(76) {
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--outer--\r\n");
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_media_types_in_any_case_and_spacing() {
        assert_eq!(media_types(b"Content-Type: MULTIPART/mixed"), 1);
        assert_eq!(media_types(b"Content-Type: message /rfc822"), 1);
        assert_eq!(media_types(b"Content-Type: message(c)/rfc822"), 1);
        assert_eq!(media_types(b"This message is fine."), 0);
        assert!(within_bounds(&nested(40)));
        assert!(!within_bounds(&nested(60)));
    }

    #[test]
    fn sees_nesting_through_quoted_printable_and_base64() {
        let deep = nested(60);
        let qp: Vec<u8> = deep
            .iter()
            .flat_map(|&b| format!("={b:02X}").into_bytes())
            .collect();
        assert!(!within_bounds(&qp), "quoted-printable");
        let b64 = base64_wrapped(&deep);
        assert!(!within_bounds(&b64), "base64");
    }

    #[test]
    fn counts_rfc2231_sections() {
        assert_eq!(
            rfc2231_sections(b"name*=x; name*0=a; name*1*=b; name* = c"),
            4
        );
        assert_eq!(rfc2231_sections(b"a*b, *x, 2*3"), 0);
        let many = "Content-Type: text/plain; x*0=a\r\n".repeat(MAX_RFC2231_SECTIONS + 1);
        assert!(!within_bounds(many.as_bytes()));
    }

    #[test]
    fn drops_any_depth_without_recursion() {
        let raw: &'static [u8] = Box::leak(nested(20_000).into_boxed_slice());
        let message = ShallowDrop::new(mail_parser::MessageParser::new().parse(raw).unwrap());
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || drop(message))
            .unwrap()
            .join()
            .unwrap();
    }
}
