//! `Reply::parse` on arbitrary bytes, as a client reads a server.
//!
//! It must never panic. A parsed reply used no more than the input; its
//! enhanced code, if recognised, agrees with the reply code; and writing the
//! parsed reply back out never panics and keeps the code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtakit_proto::{Reply, ReplyClass};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    // Read replies one after another, as a pipelining client does.
    while let Ok(Some((reply, used))) = Reply::parse(rest) {
        assert!(used > 0 && used <= rest.len(), "used {used} of {}", rest.len());
        let code = reply.code().get();
        if let Some(e) = reply.enhanced() {
            assert_eq!(u16::from(e.class()), code / 100, "{reply:?}");
            assert_ne!(reply.code().class(), ReplyClass::PositiveIntermediate);
        }
        let mut wire = Vec::new();
        reply.write_to(&mut wire);
        assert!(wire.starts_with(format!("{code:03}").as_bytes()), "{wire:?}");
        rest = &rest[used..];
    }
});
