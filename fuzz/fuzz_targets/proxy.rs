//! `proxy::parse` (PROXY protocol v1/v2 headers) on arbitrary bytes.
//!
//! It must never panic. When it finds a complete header of `used` octets,
//! `used` is within the input, the header alone (`input[..used]`) parses to
//! the same header, and every proper prefix of it asks for more input
//! (`Ok(None)`), as the documentation promises for incremental reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtakit_proto::proxy;

fuzz_target!(|data: &[u8]| {
    let Ok(Some((header, used))) = proxy::parse(data) else {
        return;
    };
    assert!(used <= data.len(), "used {used} of {}", data.len());
    assert_eq!(
        proxy::parse(&data[..used]),
        Ok(Some((header.clone(), used))),
        "the header alone parses differently"
    );
    // Proper prefixes: all of a v1 line, a sample of a (longer) v2 block.
    let step = (used / 128).max(1);
    for k in (0..used).step_by(step).chain(used.saturating_sub(2)..used) {
        assert_eq!(
            proxy::parse(&data[..k]),
            Ok(None),
            "prefix of {k} octets of a valid {used}-octet header: {header:?}"
        );
    }
});
