//! The bounded MIME parse (feature `mime`): mail-parser's full parse of a
//! message, refused when its structure is too costly to take apart, and
//! dropped without recursion.
//!
//! mail-parser 0.11 builds nested `message/*` parts as a tree with no
//! depth limit and drops it recursively: 50,000 nested `message/rfc822`
//! parts (1.6 MB) overflow a 2 MiB thread stack, and a stack overflow
//! aborts the process. Its RFC 2231 parameter continuations cost quadratic
//! time. [`parse`] first [checks](check) the bytes in one linear pass that
//! follows the MIME structure as mail-parser does (boundaries, `message/*`
//! parts, and encoded `message/*` parts decoded, three levels deep), then
//! parses, then checks the parsed tree, and returns a [`Parsed`] whose
//! drop is iterative.
//!
//! The limits: [`MAX_MIME_DEPTH`] levels of nesting, [`MAX_MIME_PARTS`]
//! parts, [`MAX_RFC2231_PARAMS`] RFC 2231 parameter sections. The
//! assertion helpers of [`Message`](crate::Message) (feature `test-util`)
//! and the web UI of `mtakit serve` both parse through here.

pub use super::mime_bound::{Parsed, parse};
pub use super::mime_scan::{MAX_MIME_DEPTH, MAX_MIME_PARTS, MAX_RFC2231_PARAMS, TooComplex, check};
