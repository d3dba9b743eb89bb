//! Unit tests for the DATA receiver in `data.rs`.

use super::*;

pub(super) const POLICIES: [LineEndingPolicy; 3] = [
    LineEndingPolicy::Reject,
    LineEndingPolicy::Record,
    LineEndingPolicy::Normalize,
];

/// Feeds `input` at once; returns the bytes consumed and the outcome.
pub(super) fn run(
    input: &[u8],
    max: u64,
    policy: LineEndingPolicy,
    text_line: Option<usize>,
) -> (usize, bool, DataOutcome) {
    let mut rx = DataReceiver::new(max, policy, text_line);
    let used = rx.feed(input);
    let done = rx.is_done();
    (used, done, rx.finish())
}

/// Feeds `input` in the given chunks, as a network would.
pub(super) fn run_chunked(
    input: &[u8],
    cuts: &[usize],
    max: u64,
    policy: LineEndingPolicy,
    text_line: Option<usize>,
) -> (usize, bool, DataOutcome) {
    let mut rx = DataReceiver::new(max, policy, text_line);
    let mut used = 0;
    let mut from = 0;
    for &to in cuts.iter().chain(std::iter::once(&input.len())) {
        let to = to.clamp(from, input.len());
        let n = rx.feed(&input[from..to]);
        assert!(n <= to - from);
        used += n;
        if n < to - from {
            assert!(rx.is_done());
        }
        from = to;
    }
    let done = rx.is_done();
    (used, done, rx.finish())
}

/// A plain byte-at-a-time model of the receiver, over the whole input.
pub(super) fn model(
    input: &[u8],
    max: u64,
    policy: LineEndingPolicy,
    text_line: Option<usize>,
) -> (usize, bool, DataOutcome) {
    let normalize = policy == LineEndingPolicy::Normalize;
    let mut out = Vec::new();
    let mut stats = DataStats::default();
    let mut too_long = false;
    let mut line = 0usize;
    let mut at_start = true;
    let mut i = 0;
    let mut done = false;
    while i < input.len() {
        let b = input[i];
        let next = input.get(i + 1).copied();
        if at_start && b == b'.' {
            if input[i + 1..].starts_with(b"\r\n") {
                i += 3;
                done = true;
                break;
            }
            if input.len() - i < 3 && input[i + 1..] == b"\r"[..input.len() - i - 1] {
                // Not decided yet: a prefix of the terminator.
                break;
            }
            at_start = false;
            i += 1;
            continue;
        }
        at_start = false;
        match (b, next) {
            (b'\r', Some(b'\n')) => {
                out.extend_from_slice(b"\r\n");
                stats.longest_line = stats.longest_line.max(line);
                too_long |= text_line.is_some_and(|m| line + 2 > m);
                line = 0;
                at_start = true;
                i += 2;
            }
            (b'\r', None) => {
                // Not decided yet, but stored already.
                out.push(b'\r');
                i += 1;
            }
            (b'\r', Some(_)) | (b'\n', _) => {
                if b == b'\r' {
                    stats.bare_cr += 1;
                } else {
                    stats.bare_lf += 1;
                }
                if normalize {
                    out.extend_from_slice(b"\r\n");
                } else {
                    out.push(b);
                }
                line += 1;
                i += 1;
            }
            _ => {
                stats.nul += u64::from(b == 0);
                stats.eight_bit += u64::from(b >= 0x80);
                out.push(b);
                line += 1;
                i += 1;
            }
        }
    }
    stats.longest_line = stats.longest_line.max(line);
    too_long |= text_line.is_some_and(|m| line > m);
    let size = out.len() as u64;
    let oversized = size > max;
    let outcome = DataOutcome {
        content: if oversized { Vec::new() } else { out },
        size,
        oversized,
        line_too_long: too_long,
        stats,
    };
    (i, done, outcome)
}

pub(super) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn simple_message() {
    let input = b"Subject: x\r\n\r\nbody\r\n.\r\n";
    for policy in POLICIES {
        let (used, done, out) = run(input, 1 << 20, policy, Some(1000));
        assert!(done);
        assert_eq!(used, input.len());
        assert_eq!(out.content, b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(out.size, out.content.len() as u64);
        assert!(!out.oversized);
        assert!(!out.line_too_long);
        assert_eq!(out.stats.bare_cr, 0);
        assert_eq!(out.stats.bare_lf, 0);
        assert_eq!(out.stats.longest_line, 10);
    }
}

#[test]
fn empty_message() {
    let (used, done, out) = run(b".\r\n", 100, LineEndingPolicy::Reject, None);
    assert!(done);
    assert_eq!(used, 3);
    assert!(out.content.is_empty());
    assert_eq!(out.size, 0);
    assert_eq!(out.stats, DataStats::default());
}

#[test]
fn empty_line_then_terminator() {
    let (used, done, out) = run(b"\r\n.\r\n", 100, LineEndingPolicy::Reject, None);
    assert!(done);
    assert_eq!(used, 5);
    assert_eq!(out.content, b"\r\n");
    assert_eq!(out.size, 2);
}

#[test]
fn dot_unstuffing() {
    let (_, done, out) = run(
        b"..foo\r\n..bar..baz\r\n.\r\n",
        100,
        LineEndingPolicy::Reject,
        None,
    );
    assert!(done);
    assert_eq!(out.content, b".foo\r\n.bar..baz\r\n");
    assert_eq!(out.stats.longest_line, 9);
}

#[test]
fn single_leading_dot_is_removed() {
    let (_, done, out) = run(b".foo\r\nx.y\r\n.\r\n", 100, LineEndingPolicy::Reject, None);
    assert!(done);
    assert_eq!(out.content, b"foo\r\nx.y\r\n");
}

#[test]
fn terminator_leaves_pipelined_bytes() {
    let input = b"hello\r\n.\r\nQUIT\r\n";
    let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
    let used = rx.feed(input);
    assert!(rx.is_done());
    assert_eq!(&input[used..], b"QUIT\r\n");
    assert_eq!(rx.feed(b"more"), 0);
    assert_eq!(rx.size(), 7);
    assert_eq!(rx.finish().content, b"hello\r\n");
}

#[test]
fn terminator_split_anywhere() {
    let input = b"a\r\n.\r\nQUIT\r\n";
    for policy in POLICIES {
        let mut rx = DataReceiver::new(100, policy, None);
        let mut used = 0;
        for i in 0..input.len() {
            used += rx.feed(&input[i..=i]);
        }
        assert!(rx.is_done());
        assert_eq!(used, 6);
        assert_eq!(rx.finish().content, b"a\r\n");
    }
}

/// A smuggling attempt and what the receiver makes of it.
struct Smuggle {
    /// The sequence sent after `first body`.
    seq: &'static [u8],
    /// What it becomes in the content under Reject and Record.
    kept: &'static [u8],
    /// What it becomes in the content under Normalize.
    normalized: &'static [u8],
    bare_cr: u64,
    bare_lf: u64,
    nul: u64,
}

const fn sm(
    seq: &'static [u8],
    kept: &'static [u8],
    normalized: &'static [u8],
    bare_cr: u64,
    bare_lf: u64,
    nul: u64,
) -> Smuggle {
    Smuggle {
        seq,
        kept,
        normalized,
        bare_cr,
        bare_lf,
        nul,
    }
}

const SMUGGLING: &[Smuggle] = &[
    sm(b"\n.\n", b"\n.\n", b"\r\n.\r\n", 0, 2, 0),
    sm(b"\n.\r", b"\n.\r", b"\r\n.\r\n", 1, 1, 0),
    sm(b"\r.\n", b"\r.\n", b"\r\n.\r\n", 1, 1, 0),
    sm(b"\r.\r", b"\r.\r", b"\r\n.\r\n", 2, 0, 0),
    sm(b"\n.\r\n", b"\n.\r\n", b"\r\n.\r\n", 0, 1, 0),
    sm(b"\r.\r\n", b"\r.\r\n", b"\r\n.\r\n", 1, 0, 0),
    sm(b"\r\n.\n", b"\r\n\n", b"\r\n\r\n", 0, 1, 0),
    sm(b"\r\n.\r", b"\r\n\r", b"\r\n\r\n", 1, 0, 0),
    sm(b"\r\n.\r\r\n", b"\r\n\r\r\n", b"\r\n\r\n\r\n", 1, 0, 0),
    sm(
        b"\r\r\n.\r\r\n",
        b"\r\r\n\r\r\n",
        b"\r\n\r\n\r\n\r\n",
        2,
        0,
        0,
    ),
    sm(
        b"\r\n\x00.\r\n",
        b"\r\n\x00.\r\n",
        b"\r\n\x00.\r\n",
        0,
        0,
        1,
    ),
];

const SMUGGLED: &[u8] = b"MAIL FROM:<x@y>\r\nRCPT TO:<a@b>\r\nDATA\r\nevil\r\n";

#[test]
fn smuggling_sequences_do_not_end_data() {
    for case in SMUGGLING {
        let seq = case.seq;
        let input = cat(&[b"first body", seq, SMUGGLED, b".\r\n", b"QUIT\r\n"]);
        let end = input.len() - 6;
        for policy in POLICIES {
            // One byte at a time: done only on the very last LF.
            let mut rx = DataReceiver::new(1 << 20, policy, None);
            for (i, b) in input[..end].iter().enumerate() {
                assert!(!rx.is_done(), "{seq:?} ended early at {i}");
                assert_eq!(rx.feed(std::slice::from_ref(b)), 1);
            }
            assert!(rx.is_done(), "{seq:?} did not end");
            let out = rx.finish();
            let (used, done, whole) = run(&input, 1 << 20, policy, None);
            assert!(done);
            assert_eq!(used, end, "{seq:?}");
            assert_eq!(whole, out);
            assert_eq!(out.stats.bare_cr, case.bare_cr, "{seq:?}");
            assert_eq!(out.stats.bare_lf, case.bare_lf, "{seq:?}");
            assert_eq!(out.stats.nul, case.nul, "{seq:?}");
            let stored = if policy == LineEndingPolicy::Normalize {
                case.normalized
            } else {
                case.kept
            };
            assert_eq!(
                out.content,
                cat(&[b"first body", stored, SMUGGLED]),
                "{seq:?} {policy:?}"
            );
            assert_eq!(out.size, out.content.len() as u64);
        }
    }
}

#[test]
fn normalize_bare_line_endings() {
    let input = b"a\nb\rc\r\n.\r\n";
    let (_, done, out) = run(input, 100, LineEndingPolicy::Normalize, None);
    assert!(done);
    assert_eq!(out.content, b"a\r\nb\r\nc\r\n");
    assert_eq!(out.size, 9);
    assert_eq!(out.stats.bare_lf, 1);
    assert_eq!(out.stats.bare_cr, 1);
    assert_eq!(out.stats.longest_line, 5);
    for policy in [LineEndingPolicy::Reject, LineEndingPolicy::Record] {
        let (_, done, out) = run(input, 100, policy, None);
        assert!(done);
        assert_eq!(out.content, b"a\nb\rc\r\n");
        assert_eq!(out.stats.bare_lf, 1);
        assert_eq!(out.stats.bare_cr, 1);
    }
}

#[test]
fn normalize_keeps_smuggling_out() {
    // After normalisation the content holds "\r\n.\r\n", but the dot was
    // not at a line start when received, so DATA goes on.
    let input = b"x\n.\nMAIL FROM:<x@y>\r\n.\r\n";
    let (used, done, out) = run(input, 100, LineEndingPolicy::Normalize, None);
    assert!(done);
    assert_eq!(used, input.len());
    assert_eq!(out.content, b"x\r\n.\r\nMAIL FROM:<x@y>\r\n");
}

#[test]
fn oversized_is_drained() {
    let line = cat(&[&[b'x'; 98], b"\r\n"]);
    let mut input = line.repeat(140);
    assert_eq!(input.len(), 14_000);
    input.extend_from_slice(b".\r\nQUIT\r\n");
    let mut rx = DataReceiver::new(10_000, LineEndingPolicy::Reject, Some(1000));
    let mut used = 0;
    for chunk in input.chunks(333) {
        used += rx.feed(chunk);
    }
    assert!(rx.is_done());
    assert_eq!(used, 14_003);
    assert_eq!(rx.size(), 14_000);
    let out = rx.finish();
    assert!(out.oversized);
    assert!(out.content.is_empty());
    assert_eq!(out.size, 14_000);
    assert_eq!(out.stats.longest_line, 98);
}

#[test]
fn exactly_max_size_is_not_oversized() {
    let (_, done, out) = run(b"abcd\r\n.\r\n", 6, LineEndingPolicy::Reject, None);
    assert!(done);
    assert!(!out.oversized);
    assert_eq!(out.content, b"abcd\r\n");
    let (_, done, out) = run(b"abcde\r\n.\r\n", 6, LineEndingPolicy::Reject, None);
    assert!(done);
    assert!(out.oversized);
    assert_eq!(out.size, 7);
}

#[test]
fn line_too_long() {
    let long = cat(&[&[b'x'; 999], b"\r\n.\r\n"]);
    let (_, done, out) = run(&long, 1 << 20, LineEndingPolicy::Reject, Some(1000));
    assert!(done);
    assert!(out.line_too_long);
    assert_eq!(out.content.len(), 1001);
    assert_eq!(out.stats.longest_line, 999);

    let ok = cat(&[&[b'x'; 998], b"\r\n.\r\n"]);
    let (_, done, out) = run(&ok, 1 << 20, LineEndingPolicy::Reject, Some(1000));
    assert!(done);
    assert!(!out.line_too_long);

    // The stuffing dot does not count (RFC 5321 §4.5.3.1.6).
    let stuffed = cat(&[b".", &[b'.'; 998], b"\r\n.\r\n"]);
    let (_, done, out) = run(&stuffed, 1 << 20, LineEndingPolicy::Reject, Some(1000));
    assert!(done);
    assert!(!out.line_too_long);
    assert_eq!(out.stats.longest_line, 998);

    let (_, _, out) = run(&long, 1 << 20, LineEndingPolicy::Reject, None);
    assert!(!out.line_too_long);
}

#[test]
fn nul_and_eight_bit_counted() {
    let input = b"a\x00b\x00\r\n\xc3\xa9t\xc3\xa9\xff\r\n.\r\n";
    for policy in POLICIES {
        let (_, done, out) = run(input, 100, policy, None);
        assert!(done);
        assert_eq!(out.stats.nul, 2);
        assert_eq!(out.stats.eight_bit, 5);
        assert_eq!(out.content, &input[..input.len() - 3]);
    }
}

#[test]
fn longest_line() {
    let input = b"ab\r\n..cdef\r\n\r\nxyz\r\n.\r\n";
    let (_, _, out) = run(input, 100, LineEndingPolicy::Reject, None);
    assert_eq!(out.stats.longest_line, 5);
    // Bare line endings do not end a line.
    let input = b"ab\ncd\ref\r\n.\r\n";
    let (_, _, out) = run(input, 100, LineEndingPolicy::Normalize, None);
    assert_eq!(out.stats.longest_line, 8);
}

#[test]
fn finish_before_done() {
    let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
    assert_eq!(rx.feed(b"abc\r\n.\r"), 7);
    assert!(!rx.is_done());
    let out = rx.finish();
    assert_eq!(out.content, b"abc\r\n");
    let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
    rx.feed(b"abc\r\nde");
    let out = rx.finish();
    assert_eq!(out.content, b"abc\r\nde");
    assert_eq!(out.stats.longest_line, 3);
}

#[test]
fn long_spans_scan_correctly() {
    // Exercise the chunked scanner with line ends at every offset.
    for n in 0..70 {
        let mut input = vec![b'y'; n];
        input.extend_from_slice(b"\r\n");
        input.extend(std::iter::repeat_n(b'z', 2 * n + 1));
        input.extend_from_slice(b"\n\r\n.\r\n");
        for policy in POLICIES {
            let expected = model(&input, 1 << 20, policy, None);
            assert_eq!(run(&input, 1 << 20, policy, None), expected);
        }
    }
}

#[test]
fn model_agrees_on_tables() {
    for case in SMUGGLING {
        let input = cat(&[b"first body", case.seq, SMUGGLED, b".\r\nQUIT"]);
        for policy in POLICIES {
            assert_eq!(
                run(&input, 1 << 20, policy, Some(12)),
                model(&input, 1 << 20, policy, Some(12)),
            );
        }
    }
}

#[test]
fn debug_does_not_dump_content() {
    let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
    rx.feed(b"secret\r\n");
    let s = format!("{rx:?}");
    assert!(s.contains("DataReceiver"));
    assert!(!s.contains("115"));
}
