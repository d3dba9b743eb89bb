//! The DATA receiver and the BDAT chunk receiver, fed in arbitrary pieces.
//!
//! Input layout: a config byte (maximum size, text line cap), a count byte
//! and that many "cut" bytes (piece lengths), a count byte and that many
//! BDAT chunk-size bytes, then the payload.
//!
//! `DataReceiver`, for each `LineEndingPolicy`:
//! - the payload fed in one call and fed in pieces gives the same consumed
//!   count, the same `is_done` and the same `DataOutcome`;
//! - it ends exactly at the first `<CRLF>.<CRLF>` (the CRLF of the DATA
//!   command counts), and nothing else ends it;
//! - the content is the payload up to the terminator with line-start dots
//!   removed (and, under `Normalize`, bare CR / bare LF made CRLF);
//!   `size`, `oversized` and the NUL / 8-bit / bare CR / bare LF counters
//!   agree with that model.
//!
//! `ChunkReceiver`: chunk sizes from the input, chunk octets fed whole or in
//! pieces give the same consumed counts and outcome, and the content is
//! exactly the octets consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtakit_fuzz::{Input, pieces};
use mtakit_proto::bdat::ChunkReceiver;
use mtakit_proto::{DataOutcome, DataReceiver, LineEndingPolicy};

const POLICIES: [LineEndingPolicy; 3] = [
    LineEndingPolicy::Reject,
    LineEndingPolicy::Normalize,
    LineEndingPolicy::Record,
];

/// What a correct receiver must produce, computed the obvious way.
struct Model {
    /// Octets up to and including the terminator, if there is one.
    end: Option<usize>,
    /// Content after unstuffing, before any normalisation.
    raw: Vec<u8>,
}

fn model(payload: &[u8]) -> Model {
    // The CRLF that ended the DATA command precedes the payload.
    let mut s = b"\r\n".to_vec();
    s.extend_from_slice(payload);
    let end = s
        .windows(5)
        .position(|w| w == b"\r\n.\r\n")
        .map(|i| i + 5 - 2);
    let body = match end {
        // The content keeps the CRLF before the dot.
        Some(e) => &payload[..e - 3],
        None => payload,
    };
    let mut raw = Vec::with_capacity(body.len());
    let mut line_start = true;
    for (i, &b) in body.iter().enumerate() {
        if !(line_start && b == b'.') {
            raw.push(b);
        }
        line_start = b == b'\n' && i > 0 && body[i - 1] == b'\r';
    }
    let held_cr = end.is_none()
        && body.len() >= 2
        && body.ends_with(b".\r")
        && (body.len() == 2 || body[..body.len() - 2].ends_with(b"\r\n"));
    if held_cr {
        raw.pop();
    }
    Model { end, raw }
}

/// Bare LF, bare CR, NUL and 8-bit counts of unstuffed content.
fn counts(raw: &[u8]) -> (u64, u64, u64, u64) {
    let mut bare_lf = 0;
    let mut bare_cr = 0;
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            bare_lf += 1;
        }
        // A CR at the very end is undecided (its LF may still come).
        if b == b'\r' && raw.get(i + 1).is_some_and(|&n| n != b'\n') {
            bare_cr += 1;
        }
    }
    let nul = raw.iter().filter(|&&b| b == 0).count() as u64;
    let eight_bit = raw.iter().filter(|&&b| b >= 0x80).count() as u64;
    (bare_lf, bare_cr, nul, eight_bit)
}

fn normalize(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    for (i, &b) in raw.iter().enumerate() {
        match b {
            b'\r' if raw.get(i + 1) != Some(&b'\n') && i + 1 < raw.len() => {
                out.extend_from_slice(b"\r\n")
            }
            b'\n' if i == 0 || raw[i - 1] != b'\r' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
    }
    out
}

fn run_data(
    policy: LineEndingPolicy,
    max_size: u64,
    text_line: Option<usize>,
    reads: &[&[u8]],
) -> (usize, bool, DataOutcome) {
    let mut rx = DataReceiver::new(max_size, policy, text_line);
    let mut used = 0;
    for read in reads {
        let n = rx.feed(read);
        assert!(n <= read.len());
        if rx.is_done() {
            used += n;
            // Once done it consumes nothing more.
            assert_eq!(rx.feed(read), 0);
            break;
        }
        assert_eq!(n, read.len(), "not done, yet it left octets unused");
        used += n;
    }
    let done = rx.is_done();
    (used, done, rx.finish())
}

fn check_data(payload: &[u8], cuts: &[u8], config: u8) {
    let max_size = match config & 3 {
        0 => 10 * 1024 * 1024,
        1 => u64::from(config >> 2),
        2 => 0,
        _ => 64 * u64::from(config >> 2),
    };
    let text_line = (config & 0x80 != 0).then_some(usize::from(config & 0x3f) + 2);
    let split = pieces(payload, cuts);
    let m = model(payload);
    for policy in POLICIES {
        let whole = run_data(policy, max_size, text_line, &[payload]);
        let chunked = run_data(policy, max_size, text_line, &split);
        assert_eq!(whole, chunked, "{policy:?}: one feed differs from pieces");

        let (used, done, outcome) = whole;
        assert_eq!(done, m.end.is_some(), "{policy:?}: terminator");
        assert_eq!(used, m.end.unwrap_or(payload.len()), "{policy:?}: consumed");

        let expected = match policy {
            LineEndingPolicy::Normalize => normalize(&m.raw),
            _ => m.raw.clone(),
        };
        // Without a terminator a trailing CR is still undecided under
        // Normalize; compare only the settled part then.
        let undecided = !done && policy == LineEndingPolicy::Normalize && m.raw.ends_with(b"\r");
        if !undecided {
            assert_eq!(outcome.size, expected.len() as u64, "{policy:?}: size");
            assert_eq!(
                outcome.oversized,
                expected.len() as u64 > max_size,
                "{policy:?}: oversized"
            );
            if !outcome.oversized {
                assert_eq!(outcome.content, expected, "{policy:?}: content");
            }
        }
        if !outcome.oversized {
            assert_eq!(outcome.size, outcome.content.len() as u64, "{policy:?}");
        } else {
            assert!(outcome.content.is_empty(), "{policy:?}: oversized content kept");
        }
        let (bare_lf, bare_cr, nul, eight_bit) = counts(&m.raw);
        assert_eq!(outcome.stats.nul, nul, "{policy:?}: NUL count");
        assert_eq!(outcome.stats.eight_bit, eight_bit, "{policy:?}: 8-bit count");
        assert_eq!(outcome.stats.bare_lf, bare_lf, "{policy:?}: bare LF count");
        if done || !m.raw.ends_with(b"\r") {
            assert_eq!(outcome.stats.bare_cr, bare_cr, "{policy:?}: bare CR count");
        }
    }
}

/// Feeds BDAT chunks of the given sizes; returns the consumed count of
/// each chunk and the outcome.
fn run_bdat(max_size: u64, sizes: &[u64], payload: &[u8], cuts: Option<&[u8]>) -> (Vec<u64>, DataOutcome) {
    let mut rx = ChunkReceiver::new(max_size);
    let mut rest = payload;
    let mut per_chunk = Vec::new();
    for &size in sizes {
        rx.begin_chunk(size);
        let mut got = 0u64;
        let reads = match cuts {
            Some(cuts) => pieces(rest, cuts),
            None => vec![rest],
        };
        for read in reads {
            if rx.chunk_done() {
                break;
            }
            let n = rx.feed(read);
            assert!(n <= read.len());
            got += n as u64;
            rest = &rest[n..];
            if n < read.len() {
                assert!(rx.chunk_done(), "chunk not done, yet octets left unused");
                break;
            }
        }
        assert!(got <= size);
        assert_eq!(rx.chunk_done(), got == size);
        per_chunk.push(got);
        if !rx.chunk_done() {
            break;
        }
    }
    (per_chunk, rx.finish())
}

fn check_bdat(payload: &[u8], cuts: &[u8], sizes: &[u8], config: u8) {
    let max_size = match config & 3 {
        0 => 10 * 1024 * 1024,
        1 => u64::from(config >> 2),
        2 => 0,
        _ => 64 * u64::from(config >> 2),
    };
    let sizes: Vec<u64> = sizes
        .iter()
        .map(|&b| match b {
            0xff => u64::MAX,
            0xfe => 1 << 40,
            b if b >= 0xc0 => u64::from(b & 0x3f) * 64,
            b => u64::from(b),
        })
        .collect();
    let whole = run_bdat(max_size, &sizes, payload, None);
    let chunked = run_bdat(max_size, &sizes, payload, Some(cuts));
    assert_eq!(whole, chunked, "BDAT: whole reads differ from pieces");
    let (per_chunk, outcome) = whole;
    let total: u64 = per_chunk.iter().sum();
    assert_eq!(outcome.size, total, "BDAT size");
    assert_eq!(outcome.oversized, total > max_size, "BDAT oversized");
    let consumed = &payload[..usize::try_from(total).expect("fits")];
    if outcome.oversized {
        assert!(outcome.content.is_empty());
    } else {
        assert_eq!(outcome.content, consumed, "BDAT content");
    }
    assert_eq!(
        outcome.stats.nul,
        consumed.iter().filter(|&&b| b == 0).count() as u64
    );
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let cuts = input.counted(16);
    let sizes = input.counted(8);
    let payload = input.rest();
    check_data(payload, cuts, config);
    check_bdat(payload, cuts, sizes, config);
});
