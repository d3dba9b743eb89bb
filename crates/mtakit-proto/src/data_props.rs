//! Property tests for the DATA receiver in `data.rs`: any input, split
//! anywhere, against the model in `data_tests.rs`.

use proptest::prelude::*;

use super::tests::{POLICIES, model, run, run_chunked};
use super::*;

fn policy() -> impl Strategy<Value = LineEndingPolicy> {
    prop::sample::select(POLICIES.to_vec())
}

/// Bytes heavy in what matters to the receiver.
fn tricky_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => Just(b'\r'),
        3 => Just(b'\n'),
        3 => Just(b'.'),
        3 => Just(b'x'),
        1 => Just(0u8),
        1 => Just(0xffu8),
        1 => any::<u8>(),
    ]
}

fn tricky_input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(tricky_byte(), 0..300).prop_map(|mut v| {
        v.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
        v
    })
}

proptest! {
    #[test]
    fn any_split_gives_same_outcome(
        input in tricky_input(),
        mut cuts in prop::collection::vec(0usize..400, 0..20),
        policy in policy(),
        max in prop_oneof![Just(u64::MAX), 0u64..200],
        text_line in prop::option::of(0usize..40),
    ) {
        cuts.sort_unstable();
        let whole = run(&input, max, policy, text_line);
        prop_assert!(whole.1);
        prop_assert_eq!(&whole, &model(&input, max, policy, text_line));
        prop_assert_eq!(run_chunked(&input, &cuts, max, policy, text_line), whole.clone());
        let bytewise: Vec<usize> = (1..input.len()).collect();
        prop_assert_eq!(run_chunked(&input, &bytewise, max, policy, text_line), whole);
    }

    #[test]
    fn stuffing_round_trip(
        lines in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    4 => Just(b'.'),
                    4 => Just(b'a'),
                    1 => Just(b' '),
                    1 => Just(0u8),
                    1 => Just(0x80u8),
                ],
                0..40,
            ),
            0..30,
        ),
        policy in policy(),
        chunk in 1usize..50,
    ) {
        let mut content = Vec::new();
        let mut wire = Vec::new();
        for line in &lines {
            content.extend_from_slice(line);
            content.extend_from_slice(b"\r\n");
            if line.first() == Some(&b'.') {
                wire.push(b'.');
            }
            wire.extend_from_slice(line);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b".\r\n");
        let cuts: Vec<usize> = (chunk..wire.len()).step_by(chunk).collect();
        let (used, done, out) = run_chunked(&wire, &cuts, u64::MAX, policy, None);
        prop_assert!(done);
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(out.size, content.len() as u64);
        prop_assert_eq!(
            out.stats.longest_line,
            lines.iter().map(Vec::len).max().unwrap_or(0)
        );
        prop_assert_eq!(out.content, content);
    }

    #[test]
    fn never_panics(
        input in prop::collection::vec(any::<u8>(), 0..500),
        cuts in prop::collection::vec(0usize..600, 0..10),
        policy in policy(),
        max in any::<u64>(),
        text_line in prop::option::of(any::<usize>()),
    ) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        let (used, _, out) = run_chunked(&input, &cuts, max, policy, text_line);
        prop_assert!(used <= input.len());
        if !out.oversized {
            prop_assert_eq!(out.size, out.content.len() as u64);
        }
    }
}

#[test]
fn stuffing_doubles_leading_dots_only() {
    assert_eq!(
        dot_stuff(b".a\r\nb.c\r\n.\r\n"),
        b"..a\r\nb.c\r\n..\r\n.\r\n"
    );
    assert_eq!(dot_stuff(b"no crlf"), b"no crlf\r\n.\r\n");
    assert_eq!(dot_stuff(b""), b".\r\n");
    // A dot after a bare LF is not at a line start.
    assert_eq!(dot_stuff(b"a\n.b\r\n"), b"a\n.b\r\n.\r\n");
}

#[test]
fn stuffed_content_comes_back_exact_through_the_receiver() {
    let content = b".one\r\n..two\r\nthree.\r\n.\r\nfour\r\n";
    let wire = dot_stuff(content);
    let mut receiver = DataReceiver::new(1 << 20, LineEndingPolicy::Reject, Some(998));
    assert_eq!(receiver.feed(&wire), wire.len());
    assert!(receiver.is_done());
    assert_eq!(receiver.finish().content, content);
}
