//! The bounded MIME parse the routes use: the library's
//! [`mtakit::mime::parse`], which scans the structure first, refuses a
//! message nested too deeply, with too many parts or RFC 2231 sections
//! ([`TooComplex`]), and drops the parsed tree without recursion.
//!
//! A refused message is still listed and its raw bytes served; its detail
//! carries a notice instead of its parts.

pub(crate) use mtakit::mime::{TooComplex, parse};
