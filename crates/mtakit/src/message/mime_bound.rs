//! mail-parser's full parse, made safe (feature `mime`): [`parse`] runs
//! the [scan](super::mime_scan::check) first, then the parse, then checks
//! the parsed tree again (iteratively) in case the scan and mail-parser
//! disagree, and wraps the result in [`Parsed`], whose `Drop` takes the
//! tree apart iteratively, so no depth can overflow the stack.

use std::ops::Deref;

use mail_parser::{Message, MessageParser, PartType};

use super::mime_scan::{self, MAX_MIME_DEPTH, MAX_MIME_PARTS, TooComplex};

/// A message parsed by mail-parser whose drop cannot overflow the stack:
/// nested messages are taken apart one by one instead of recursively.
/// It dereferences to [`mail_parser::Message`].
#[derive(Debug)]
pub struct Parsed<'x>(Option<Message<'x>>);

impl<'x> Deref for Parsed<'x> {
    type Target = Message<'x>;

    fn deref(&self) -> &Message<'x> {
        // Only `drop` takes the message out.
        self.0.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Parsed<'_> {
    fn drop(&mut self) {
        let mut pending: Vec<Message<'_>> = self.0.take().into_iter().collect();
        while let Some(mut message) = pending.pop() {
            for part in &mut message.parts {
                if matches!(part.body, PartType::Message(_))
                    && let PartType::Message(inner) = std::mem::take(&mut part.body)
                {
                    pending.push(inner);
                }
            }
            // `message` now holds no nested message: its drop is shallow.
        }
    }
}

/// The full parse of `raw`, if it is within [`MAX_MIME_DEPTH`],
/// [`MAX_MIME_PARTS`] and [`MAX_RFC2231_PARAMS`](super::mime_scan::MAX_RFC2231_PARAMS);
/// `Ok(None)` when mail-parser finds no message in it. Linear in the
/// size of `raw` before the parse; run it off the I/O thread for large
/// messages.
///
/// ```
/// let parsed = mtakit::mime::parse(b"Subject: hi\r\n\r\nbody\r\n").unwrap().unwrap();
/// assert_eq!(parsed.subject(), Some("hi"));
///
/// let mut deep = Vec::new();
/// for _ in 0..100 {
///     deep.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
/// }
/// assert_eq!(mtakit::mime::parse(&deep).unwrap_err(), mtakit::mime::TooComplex::Depth);
/// ```
///
/// # Errors
///
/// Which limit `raw` is over.
pub fn parse(raw: &[u8]) -> Result<Option<Parsed<'_>>, TooComplex> {
    mime_scan::check(raw)?;
    let Some(message) = MessageParser::new().parse(raw) else {
        return Ok(None);
    };
    let parsed = Parsed(Some(message));
    check_tree(&parsed)?;
    Ok(Some(parsed))
}

/// The same limits on the parsed tree, walked without recursion.
fn check_tree(message: &Message<'_>) -> Result<(), TooComplex> {
    let mut parts = 0usize;
    let mut work = vec![(message, 0usize)];
    while let Some((message, depth)) = work.pop() {
        parts += message.parts.len();
        if parts > MAX_MIME_PARTS {
            return Err(TooComplex::Parts);
        }
        for part in &message.parts {
            if let PartType::Message(inner) = &part.body {
                if depth + 1 > MAX_MIME_DEPTH {
                    return Err(TooComplex::Depth);
                }
                work.push((inner, depth + 1));
            }
        }
    }
    Ok(())
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
    use crate::message::mime_scan::nested_rfc822;

    #[test]
    fn siblings_are_not_depth() {
        let mut raw = b"Content-Type: multipart/digest; boundary=d\r\n\r\n".to_vec();
        for _ in 0..200 {
            raw.extend_from_slice(b"--d\r\n\r\nSubject: part\r\n\r\nbody\r\n");
        }
        raw.extend_from_slice(b"--d--\r\n");
        assert_eq!(mime_scan::check(&raw), Ok(()));
        let parsed = parse(&raw).unwrap().unwrap();
        assert_eq!(parsed.attachments().count(), 200);
    }

    #[test]
    fn the_tree_check_catches_what_the_scan_misses() {
        // Parsed without the scan: the tree walk sees the depth, and the
        // guard drops 20,000 levels without overflowing the stack.
        let raw: &'static [u8] = Box::leak(nested_rfc822(20_000).into_boxed_slice());
        let message = Parsed(MessageParser::new().parse(raw));
        assert_eq!(check_tree(&message), Err(TooComplex::Depth));
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || drop(message))
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn deep_multipart_and_rfc822_nesting_is_refused() {
        assert!(parse(&nested(10)).unwrap().is_some());
        assert_eq!(parse(&nested(20)).unwrap_err(), TooComplex::Depth);
        let hidden = base64_wrapped(&nested(20));
        assert_eq!(parse(&hidden).unwrap_err(), TooComplex::Depth);
    }
}
