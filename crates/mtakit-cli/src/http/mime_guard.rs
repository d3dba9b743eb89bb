//! mail-parser's full parse, made safe: [`parse`] runs
//! [`mime_scan::check`] first, then the parse, then checks the parsed tree
//! again (iteratively) in case the scan and mail-parser disagree, and
//! wraps the result in [`Parsed`], whose `Drop` takes the tree apart
//! iteratively, so no depth can overflow the stack.
//!
//! A refused message is still listed and its raw bytes served; its detail
//! carries a notice instead of its parts.

use std::ops::Deref;

use mail_parser::{Message, MessageParser, PartType};

pub(crate) use super::mime_scan::TooComplex;
use super::mime_scan::{self, MAX_MIME_DEPTH, MAX_MIME_PARTS};

/// A fully parsed message whose drop cannot overflow the stack.
#[derive(Debug)]
pub(crate) struct Parsed<'x>(Option<Message<'x>>);

impl<'x> Deref for Parsed<'x> {
    type Target = Message<'x>;

    fn deref(&self) -> &Message<'x> {
        self.0.as_ref().expect("taken only in drop")
    }
}

impl Drop for Parsed<'_> {
    fn drop(&mut self) {
        let mut work: Vec<Message<'_>> = self.0.take().into_iter().collect();
        while let Some(mut message) = work.pop() {
            for part in &mut message.parts {
                if matches!(part.body, PartType::Message(_))
                    && let PartType::Message(inner) = std::mem::take(&mut part.body)
                {
                    work.push(inner);
                }
            }
            // `message` now holds no nested message: its drop is shallow.
        }
    }
}

/// The full parse of `raw`, if it is within the limits; `Ok(None)` when
/// mail-parser finds no message in it.
pub(crate) fn parse(raw: &[u8]) -> Result<Option<Parsed<'_>>, TooComplex> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::mime_scan::nested_rfc822;

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
}
