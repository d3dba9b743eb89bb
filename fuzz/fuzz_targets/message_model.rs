//! The dev server's message model (`mtakit serve`'s HTTP API) on
//! arbitrary bytes taken as a received message: the list entry (summary),
//! a `q` search, the detail, the HTML body and the attachments.
//!
//! Nothing may panic, abort (a stack overflow on deep MIME nesting) or
//! take long (mail-parser's quadratic RFC 2231 merging); list strings stay
//! within their bound, and each attachment the model counts can be
//! fetched.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mtakit_cli::fuzzing::message_model(data);
});
