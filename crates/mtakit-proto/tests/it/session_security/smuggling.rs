//! SMUG: no sequence but <CRLF>.<CRLF> ends DATA, in every mode and split.

use mtakit_proto::testing::Harness;
use mtakit_proto::{LineEndingPolicy, Reply, SessionConfig};

use super::helpers::*;
use crate::support::{config, ehlo, st, sts};

// ------------------------------------------------------------- smuggling

const SMUGGLED: &[u8] = b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<rcpt@b.test>\r\nDATA\r\n\
Subject: SMUGGLED\r\n\r\nsmuggled body\r\n";

/// Each SEQ, what it becomes in the content when the bytes are kept
/// (Record: only a dot right after a real CRLF is removed), and when bare
/// CR and LF are normalised to CRLF.
const SEQS: &[(&[u8], &[u8], &[u8])] = &[
    (b"\n.\n", b"\n.\n", b"\r\n.\r\n"),
    (b"\n.\r", b"\n.\r", b"\r\n.\r\n"),
    (b"\r.\n", b"\r.\n", b"\r\n.\r\n"),
    (b"\r.\r", b"\r.\r", b"\r\n.\r\n"),
    (b"\n.\r\n", b"\n.\r\n", b"\r\n.\r\n"),
    (b"\r.\r\n", b"\r.\r\n", b"\r\n.\r\n"),
    (b"\r\n.\n", b"\r\n\n", b"\r\n\r\n"),
    (b"\r\n.\r", b"\r\n\r", b"\r\n\r\n"),
    (b"\r\n.\r\r\n", b"\r\n\r\r\n", b"\r\n\r\n\r\n"),
    (b"\r\r\n.\r\r\n", b"\r\r\n\r\r\n", b"\r\n\r\n\r\n\r\n"),
    (b"\r\n\x00.\r\n", b"\r\n\x00.\r\n", b"\r\n\x00.\r\n"),
];

fn payload(seq: &[u8]) -> Vec<u8> {
    [b"Subject: legit\r\n\r\nfirst body", seq, SMUGGLED, b".\r\n"].concat()
}

fn expected_content(seq_as_stored: &[u8]) -> Vec<u8> {
    [b"Subject: legit\r\n\r\nfirst body", seq_as_stored, SMUGGLED].concat()
}

/// Runs the SMUG setup, sends the payload as `split` says, then QUIT.
/// Returns the harness and the replies to the payload.
fn smuggle(config: SessionConfig, seq: &[u8], split: Split) -> (Harness, Vec<Reply>) {
    let mut h = ehlo(config);
    assert_eq!(st(&h.send("MAIL FROM:<legit@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<rcpt@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
    let replies = send_split(&mut h, &payload(seq), split);
    assert_eq!(st(&h.send("QUIT")), "221 2.0.0", "{seq:?} {split:?}");
    (h, replies)
}

fn assert_not_smuggled(h: &Harness, seq: &[u8], split: Split) {
    assert_eq!(
        mail_senders(h),
        ["<legit@a.test>"],
        "{seq:?} {split:?}: a smuggled MAIL was executed"
    );
    assert!(h.delivered().len() <= 1);
    for t in h.delivered() {
        assert_eq!(t.envelope.reverse_path.to_string(), "<legit@a.test>");
    }
}

#[test]
fn smug1_smug2_default_rejects_every_bare_line_ending() {
    for &(seq, _, _) in SEQS {
        for split in SPLITS {
            let (h, replies) = smuggle(config(), seq, split);
            let expected = if seq.contains(&0) {
                "554 5.6.0"
            } else {
                "550 5.5.2"
            };
            assert_eq!(sts(&replies), [expected], "{seq:?} {split:?}");
            assert!(h.delivered().is_empty(), "{seq:?} {split:?}");
            assert_not_smuggled(&h, seq, split);
        }
    }
}

#[test]
fn smug1_record_accepts_one_message_with_the_bytes_kept() {
    for &(seq, kept, _) in SEQS {
        for split in SPLITS {
            let mut c = config();
            c.limits.line_endings = LineEndingPolicy::Record;
            c.limits.allow_nul = true;
            let (h, replies) = smuggle(c, seq, split);
            assert_eq!(sts(&replies), ["250 2.0.0"], "{seq:?} {split:?}");
            assert_not_smuggled(&h, seq, split);
            assert_eq!(h.delivered().len(), 1);
            let t = &h.delivered()[0];
            assert_eq!(t.data, expected_content(kept), "{seq:?} {split:?}");
            let bare = seq
                .windows(2)
                .any(|w| w != b"\r\n" && (w[0] == b'\r' || w[1] == b'\n'))
                || seq.starts_with(b"\n")
                || seq.ends_with(b"\r");
            assert_eq!(
                t.stats.bare_cr + t.stats.bare_lf > 0,
                bare,
                "{seq:?} {:?}",
                t.stats
            );
        }
    }
}

#[test]
fn smug3_normalize_accepts_one_message_with_crlf_in_place_of_bare_ones() {
    for &(seq, _, normalized) in SEQS {
        for split in SPLITS {
            let mut c = config();
            c.limits.line_endings = LineEndingPolicy::Normalize;
            c.limits.allow_nul = true;
            let (h, replies) = smuggle(c, seq, split);
            assert_eq!(sts(&replies), ["250 2.0.0"], "{seq:?} {split:?}");
            assert_not_smuggled(&h, seq, split);
            assert_eq!(h.delivered().len(), 1);
            let data = &h.delivered()[0].data;
            assert_eq!(*data, expected_content(normalized), "{seq:?} {split:?}");
            // No bare CR or LF is left.
            for (i, &b) in data.iter().enumerate() {
                if b == b'\r' {
                    assert_eq!(data.get(i + 1), Some(&b'\n'), "{seq:?}");
                }
                if b == b'\n' {
                    assert_eq!(data[i - 1], b'\r', "{seq:?}");
                }
            }
        }
    }
}

#[test]
fn smug2_nul_sequence_follows_the_nul_policy() {
    let seq = b"\r\n\x00.\r\n";
    for split in SPLITS {
        let mut c = config();
        c.limits.allow_nul = true;
        let (h, replies) = smuggle(c, seq, split);
        assert_eq!(sts(&replies), ["250 2.0.0"]);
        assert_not_smuggled(&h, seq, split);
        assert_eq!(h.delivered()[0].data, expected_content(seq));
        assert_eq!(h.delivered()[0].stats.nul, 1);
    }
}

#[test]
fn smug4_a_command_ended_by_bare_lf_is_never_executed() {
    let mut h = ehlo(config());
    let r = h.send_raw(b"NOOP\n");
    assert_eq!(sts(&r), ["500 5.5.2"]);
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    // In one write.
    assert_eq!(
        sts(&h.send_raw(b"NOOP\nNOOP\r\n")),
        ["500 5.5.2", "250 2.0.0"]
    );
    // A bare-LF MAIL opens no transaction; a bare-LF QUIT does not close.
    for split in SPLITS {
        let mut h = ehlo(config());
        let replies = send_split(
            &mut h,
            b"MAIL FROM:<a@a.test>\nRCPT TO:<b@b.test>\r\nQUIT\nNOOP\r\n",
            split,
        );
        assert_eq!(
            sts(&replies),
            ["500 5.5.2", "503 5.5.1", "500 5.5.2", "250 2.0.0"],
            "{split:?}"
        );
        assert!(mail_senders(&h).is_empty());
        assert!(!h.is_closed());
    }
}

#[test]
fn smug6_transparency() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"..leading\r\n.\r\n", b".leading\r\n"),
        (b".\r\n", b""),
        (b"\r\n.\r\n", b"\r\n"),
        (b".x\r\n..\r\n...\r\n.\r\n", b"x\r\n.\r\n..\r\n"),
    ];
    for &(input, content) in cases {
        for split in SPLITS {
            let mut h = ehlo(config());
            assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
            assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
            assert_eq!(st(&h.send("DATA")), "354");
            let mut bytes = input.to_vec();
            bytes.extend_from_slice(b"NOOP\r\n");
            let replies = send_split(&mut h, &bytes, split);
            assert_eq!(
                sts(&replies),
                ["250 2.0.0", "250 2.0.0"],
                "{input:?} {split:?}"
            );
            assert_eq!(h.delivered()[0].data, content, "{input:?} {split:?}");
        }
    }
    // ".\r\n" after a bare LF is not a terminator.
    for split in SPLITS {
        let mut c = config();
        c.limits.line_endings = LineEndingPolicy::Record;
        let mut h = ehlo(c);
        assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
        assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
        assert_eq!(st(&h.send("DATA")), "354");
        let replies = send_split(&mut h, b"x\n.\r\nNOOP\r\n.\r\n", split);
        assert_eq!(sts(&replies), ["250 2.0.0"], "{split:?}");
        assert_eq!(h.delivered()[0].data, b"x\n.\r\nNOOP\r\n");
    }
}
