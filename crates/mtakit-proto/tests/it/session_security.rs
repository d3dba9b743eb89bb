//! The in-memory cases of `reference/security.md`: SMUG, NUL, HDR, TLS
//! (session side) and AUTH.

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::testing::Harness;
use mtakit_proto::{
    EnhancedCode, Extensions, LineEndingPolicy, Mechanism, Pending, Reply, ReplyError,
    SessionConfig, TlsInfo, Verdict,
};

use crate::support::{check_password, config, ehlo, ehlo_lines, plain, send_cut, st, sts};

// ---------------------------------------------------------------- helpers

#[derive(Clone, Copy, Debug)]
enum Split {
    Whole,
    Bytewise,
    /// A cut between every CR and the LF after it.
    BetweenCrLf,
}

const SPLITS: [Split; 3] = [Split::Whole, Split::Bytewise, Split::BetweenCrLf];

fn send_split(h: &mut Harness, bytes: &[u8], split: Split) -> Vec<Reply> {
    let cuts: Vec<usize> = match split {
        Split::Whole => Vec::new(),
        Split::Bytewise => (1..bytes.len()).collect(),
        Split::BetweenCrLf => (1..bytes.len())
            .filter(|&i| bytes[i - 1] == b'\r' && bytes[i] == b'\n')
            .collect(),
    };
    send_cut(h, bytes, &cuts)
}

fn asked_to_authenticate(h: &Harness) -> bool {
    h.pendings()
        .iter()
        .any(|p| matches!(p, Pending::Auth { .. } | Pending::Authenticate { .. }))
}

fn mail_senders(h: &Harness) -> Vec<String> {
    h.pendings()
        .iter()
        .filter_map(|p| match p {
            Pending::MailFrom { reverse_path, .. } => Some(reverse_path.to_string()),
            _ => None,
        })
        .collect()
}

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

// ------------------------------------------------------------------- NUL

#[test]
fn nul1_nul_in_commands_is_501_without_state_change() {
    let mut h = ehlo(config());
    let r = h.send_raw(b"MAIL FROM:<a\x00b@a.test>\r\n");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].code().get(), 501);
    assert!(matches!(st(&r[0]).as_str(), "501 5.5.2" | "501 5.1.7"));
    assert_eq!(st(&h.send("RCPT TO:<r@b.test>")), "503 5.5.1");

    let r = h.send_raw(b"EHLO a\x00b\r\n");
    assert_eq!(sts(&r), ["501 5.5.2"]);
    assert_eq!(
        h.session()
            .info()
            .helo()
            .map(ToString::to_string)
            .as_deref(),
        Some("client.test")
    );

    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    let r = h.send_raw(b"RCPT TO:<r@b.test>\x00\r\n");
    assert_eq!(sts(&r), ["501 5.5.2"]);
    assert!(h.session().info().envelope().unwrap().recipients.is_empty());
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    assert!(!h.is_closed());
}

#[test]
fn nul2_nul_in_data_is_refused_by_default() {
    let body = b"Subject: n\r\n\r\nbefore\x00after\r\n.\r\n";
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(body)), ["554 5.6.0"]);
    assert!(h.delivered().is_empty());
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");

    let mut c = config();
    c.limits.allow_nul = true;
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(body)), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].data, &body[..body.len() - 3]);
}

#[test]
fn nul4_control_characters_in_commands_are_501_and_never_echoed() {
    let mut h = ehlo(config());
    let r = h.send_raw(b"HELO a\x1b[31m\r\n");
    assert_eq!(sts(&r), ["501 5.5.2"]);
    assert!(!r[0].to_string().contains('\x1b'));
    for b in (0x01u8..0x20).chain([0x7f]) {
        if b == b'\n' {
            continue;
        }
        for line in [
            [b"HELO a".as_slice(), &[b], b"b\r\n"].concat(),
            [b"FR".as_slice(), &[b], b"OB\r\n"].concat(),
            [b"MAIL FROM:<a".as_slice(), &[b], b"@a.test>\r\n"].concat(),
        ] {
            let r = h.send_raw(&line);
            assert_eq!(r.len(), 1, "{line:?}");
            assert_eq!(r[0].code().get(), 501, "{line:?}");
            let wire = r[0].to_string();
            assert!(
                wire.bytes()
                    .all(|c| c == b'\r' || c == b'\n' || (0x20..0x7f).contains(&c)),
                "{wire:?}"
            );
            // Not counted against the test: use a fresh error budget.
            h = ehlo(config());
        }
    }
    // Unknown verbs with odd bytes are not echoed raw either.
    let r = h.send_raw(b"X\xff\xfeY\r\n");
    assert!(r[0].code().is_permanent());
    assert!(r[0].to_string().is_ascii());
}

#[test]
fn nul5_eight_bit_in_mail_from() {
    let mut h = ehlo(config());
    // Without SMTPUTF8.
    let r = h.send_raw("MAIL FROM:<jörg@a.test>\r\n".as_bytes());
    assert!(
        matches!(st(&r[0]).as_str(), "553 5.6.7" | "501 5.5.2"),
        "{r:?}"
    );
    let r = h.send_raw(b"MAIL FROM:<j\xffrg@a.test>\r\n");
    assert!(matches!(r[0].code().get(), 501 | 553), "{r:?}");
    // With SMTPUTF8: valid UTF-8 is fine, invalid is 501.
    let r = h.send_raw(b"MAIL FROM:<j\xffrg@a.test> SMTPUTF8\r\n");
    assert_eq!(r[0].code().get(), 501);
    assert_eq!(st(&h.send("MAIL FROM:<jörg@a.test> SMTPUTF8")), "250 2.1.0");
}

// ------------------------------------------------------------------- HDR

#[test]
fn hdr1_bare_cr_in_ehlo_is_501() {
    let mut h = ehlo(config());
    let r = h.send_raw(b"EHLO a.test\rX-Injected: yes\r\n");
    assert_eq!(sts(&r), ["501 5.5.2"]);
    assert_eq!(
        h.session()
            .info()
            .helo()
            .map(ToString::to_string)
            .as_deref(),
        Some("client.test")
    );
}

#[test]
fn hdr2_bare_lf_in_ehlo_is_never_two_commands() {
    for split in SPLITS {
        let mut h = Harness::new();
        h.greeting();
        let r = send_split(&mut h, b"EHLO a.test\nX-Injected: yes\r\n", split);
        assert!(!r.is_empty());
        assert!(r.iter().all(|r| r.code().is_permanent()), "{r:?}");
        assert_eq!(h.session().info().helo(), None);
        assert!(
            h.pendings()
                .iter()
                .all(|p| !matches!(p, Pending::Helo { .. }))
        );
    }
}

#[test]
fn hdr3_ehlo_argument_syntax() {
    let mut h = ehlo(config());
    for line in [
        "EHLO [300.1.1.1]",
        "EHLO a b c",
        "EHLO",
        "HELO",
        "EHLO a..b",
    ] {
        assert_eq!(h.send(line).code().get(), 501, "{line}");
    }
    assert_eq!(
        h.session()
            .info()
            .helo()
            .map(ToString::to_string)
            .as_deref(),
        Some("client.test")
    );
}

#[test]
fn hdr4_reply_text_cannot_inject() {
    for text in ["OK\r\n250 fake", "OK\n250 fake", "OK\r", "a\0b"] {
        assert_eq!(
            Reply::new(250, None, text.to_owned()),
            Err(ReplyError::ForbiddenCharacter)
        );
        assert_eq!(
            Reply::multiline(250, None, ["fine", text]),
            Err(ReplyError::ForbiddenCharacter)
        );
    }
    assert_eq!(
        Reply::new(199, None, "x"),
        Err(ReplyError::InvalidCode(199))
    );
    assert_eq!(
        Reply::new(600, None, "x"),
        Err(ReplyError::InvalidCode(600))
    );
    assert_eq!(
        Reply::new(250, EnhancedCode::new(5, 1, 1), "x"),
        Err(ReplyError::EnhancedMismatch)
    );
    assert_eq!(
        Reply::new(354, EnhancedCode::new(2, 0, 0), "x"),
        Err(ReplyError::EnhancedMismatch)
    );

    // A multi-line policy reply is one reply on the wire.
    let multi = Reply::multiline(550, EnhancedCode::new(5, 7, 1), ["one", "two"]).unwrap();
    let m = multi.clone();
    let mut h = ehlo(config()).with_policy(move |p, _| match p {
        Pending::MailFrom { .. } => Verdict::reject_with(m.clone()),
        _ => Verdict::accept(),
    });
    assert_eq!(
        h.send("MAIL FROM:<a@a.test>").to_string(),
        "550-5.7.1 one\r\n550 5.7.1 two\r\n"
    );

    // Extra EHLO keywords with CR, LF or NUL are skipped.
    let mut c = config();
    let mut ext = Extensions::default();
    ext.extra = vec![
        "X-GOOD".to_owned(),
        "X-BAD\r\n250 fake".to_owned(),
        "X-NUL\0".to_owned(),
    ];
    c.extensions = ext;
    let mut h = Harness::with_config(c);
    h.greeting();
    let ehlo = h.send("EHLO c.test");
    assert!(ehlo.lines().any(|l| l == "X-GOOD"));
    assert!(!ehlo.text().contains("X-BAD") && !ehlo.text().contains("X-NUL"));
    assert!(!ehlo.to_string().contains('\0'));
}

// ------------------------------------------------------------------- TLS

fn tls_config() -> SessionConfig {
    let mut c = config();
    c.tls_available = true;
    c.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    c
}

#[test]
fn tls1_tls3_pipelined_plaintext_after_starttls_is_discarded() {
    for split in [Split::Whole, Split::Bytewise] {
        let mut h = ehlo(tls_config());
        let replies = send_split(
            &mut h,
            b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\nNOOP\r\n",
            split,
        );
        // Bytewise, the rest arrives after the 220, while the driver would
        // be waiting for a ClientHello: it is ignored just the same.
        assert_eq!(sts(&replies), ["220 2.0.0"], "{split:?}");
        assert_eq!(h.starttls_count(), 1);
        // More plaintext before the handshake: still nothing.
        assert!(h.send_raw(b"NOOP\r\nRSET\r\n").is_empty());
        h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
        assert!(h.run().is_empty(), "unsolicited reply inside TLS");
        assert!(mail_senders(&h).is_empty());
        let lines = ehlo_lines(&mut h);
        assert!(!lines.iter().any(|l| l == "STARTTLS"), "{lines:?}");
        assert_eq!(st(&h.send("RCPT TO:<r@b.test>")), "503 5.5.1");
        assert_eq!(
            h.session()
                .info()
                .tls()
                .map(|t| t.version.clone())
                .as_deref(),
            Some("TLSv1.3")
        );
    }
}

#[test]
fn nst2_ehlo_and_starttls_in_one_write() {
    let mut h = Harness::with_config(tls_config());
    h.greeting();
    let replies = h.send_raw(b"EHLO x.test\r\nSTARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
    assert_eq!(sts(&replies), ["250", "220 2.0.0"]);
    h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
    assert!(h.run().is_empty());
    assert!(mail_senders(&h).is_empty());
}

#[test]
fn tls4_after_tls_ehlo_is_needed_again() {
    let mut h = ehlo(tls_config());
    assert_eq!(h.send("STARTTLS").code().get(), 220);
    h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
    assert_eq!(h.session().info().helo(), None);
    let r = h.send("MAIL FROM:<a@a.test>");
    assert_eq!(r.code().get(), 503);
    assert_eq!(h.send("RCPT TO:<a@a.test>").code().get(), 503);
    assert_eq!(h.send("EHLO client.test").code().get(), 250);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
}

#[test]
fn tls5_tls6_ehlo_after_tls_and_starttls_again() {
    let mut h = ehlo(tls_config());
    let before = ehlo_lines(&mut h);
    assert!(before.iter().any(|l| l == "STARTTLS"));
    assert!(
        !before.iter().any(|l| l.starts_with("AUTH")),
        "AUTH-1: {before:?}"
    );
    assert_eq!(h.send("STARTTLS").code().get(), 220);
    h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
    let after = ehlo_lines(&mut h);
    assert!(!after.iter().any(|l| l == "STARTTLS"), "{after:?}");
    assert!(after.iter().any(|l| l == "AUTH PLAIN LOGIN"), "{after:?}");
    // STARTTLS again: 503, and the connection stays usable.
    assert_eq!(st(&h.send("STARTTLS")), "503 5.5.1");
    assert_eq!(h.starttls_count(), 1);
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn tls7_starttls_with_an_argument_is_501_5_5_4() {
    let mut h = ehlo(tls_config());
    assert_eq!(st(&h.send("STARTTLS now")), "501 5.5.4");
    assert_eq!(h.starttls_count(), 0);
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn tls8_starttls_without_tls_is_not_offered() {
    let mut h = ehlo(config());
    assert!(!ehlo_lines(&mut h).iter().any(|l| l == "STARTTLS"));
    assert_eq!(st(&h.send("STARTTLS")), "454 4.7.0");
    assert_eq!(h.starttls_count(), 0);
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn tls10_starttls_inside_a_transaction_is_refused() {
    let mut h = ehlo(tls_config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("STARTTLS")), "503 5.5.1");
    assert_eq!(h.starttls_count(), 0);
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
}

#[test]
fn tls_policy_can_refuse_starttls() {
    let mut h = ehlo(tls_config()).with_policy(|p, _| match p {
        Pending::StartTls => Verdict::reject(),
        _ => Verdict::accept(),
    });
    let r = h.send_raw(b"STARTTLS\r\nNOOP\r\n");
    assert_eq!(r[0].code().get(), 454);
    assert_eq!(st(&r[1]), "250 2.0.0");
    assert_eq!(h.starttls_count(), 0);
}

// ------------------------------------------------------------------ AUTH

#[test]
fn auth1_auth2_no_auth_before_tls() {
    let mut h = ehlo(tls_config()).with_policy(check_password);
    assert!(!ehlo_lines(&mut h).iter().any(|l| l.starts_with("AUTH")));
    let r = h.send_raw(b"AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=\r\n");
    assert_eq!(sts(&r), ["538 5.7.11"]);
    assert!(!asked_to_authenticate(&h));
    assert!(h.session().info().auth().is_none());
    // A mechanism name we do not know gets 504 either way.
    assert_eq!(st(&h.send("AUTH FOOBAR")), "504 5.5.4");
}

#[test]
fn auth3_insecure_auth_allowed() {
    let mut c = config();
    c.auth_mechanisms = vec![Mechanism::Plain];
    c.allow_insecure_auth = true;
    let mut h = ehlo(c).with_policy(check_password);
    assert!(ehlo_lines(&mut h).iter().any(|l| l == "AUTH PLAIN"));
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "235 2.7.0"
    );
}

fn tls_session() -> Harness {
    let mut h = ehlo(tls_config()).with_policy(check_password);
    assert_eq!(h.send("STARTTLS").code().get(), 220);
    h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
    assert_eq!(h.send("EHLO client.test").code().get(), 250);
    h
}

#[test]
fn auth4_inside_tls_good_and_bad_credentials() {
    let mut h = tls_session();
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "nope")))),
        "535 5.7.8"
    );
    assert!(h.session().info().auth().is_none());
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "235 2.7.0"
    );
    assert_eq!(h.session().info().auth().unwrap().username, "u");
}

#[test]
fn auth4_a_failed_auth_counts_towards_the_error_limit() {
    let mut c = tls_config();
    c.limits.max_errors = 2;
    c.limits.max_auth_failures = 100;
    let mut h = ehlo(c).with_policy(check_password);
    assert_eq!(h.send("STARTTLS").code().get(), 220);
    h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
    assert_eq!(h.send("EHLO client.test").code().get(), 250);
    assert_eq!(st(&h.send("FROB")), "500 5.5.2");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "nope")))),
        "535 5.7.8"
    );
    assert!(!h.is_closed());
    let r = h.send_raw(format!("AUTH PLAIN {}\r\n", plain("u", "nope")).as_bytes());
    assert_eq!(st(r.last().unwrap()), "421 4.7.0", "{r:?}");
    assert!(h.is_closed());
}

#[test]
fn auth5_star_cancels() {
    let mut h = tls_session();
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(h.send("*").code().get(), 501);
    assert!(
        !h.pendings()
            .iter()
            .any(|p| matches!(p, Pending::Authenticate { .. }))
    );
}

#[test]
fn auth6_bad_base64() {
    let mut h = tls_session();
    assert_eq!(st(&h.send("AUTH PLAIN !!!notbase64")), "501 5.5.2");
}

#[test]
fn auth7_second_auth_and_auth_in_a_transaction() {
    let mut h = tls_session();
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "235 2.7.0"
    );
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503 5.5.1"
    );
    let mut h = tls_session();
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503 5.5.1"
    );
}

#[test]
fn auth8_long_continuation_line() {
    let mut h = tls_session();
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    // 12288 octets with CRLF: read as a response (a valid user name here).
    // Unpadded base64 of 9214 octets is 12286 characters.
    let user = "u".repeat(9_214);
    let line = encode_base64(user.as_bytes())
        .trim_end_matches('=')
        .to_owned();
    assert_eq!(line.len() + 2, 12_288);
    assert_eq!(h.send(&line).code().get(), 334);
    assert_eq!(h.send(&encode_base64(b"password")).code().get(), 235);
    assert_eq!(h.session().info().auth().unwrap().username, user);

    let mut h = tls_session();
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    let r = h.send_raw(&[vec![b'A'; 20_000], b"\r\n".to_vec()].concat());
    assert_eq!(sts(&r), ["500 5.5.6"]);
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    assert!(h.session().info().auth().is_none());
}

#[test]
fn auth9_identity_is_cleared_by_starttls() {
    let mut c = tls_config();
    c.allow_insecure_auth = true;
    let mut h = ehlo(c).with_policy(check_password);
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "235 2.7.0"
    );
    assert!(h.session().info().auth().is_some());
    assert_eq!(h.send("STARTTLS").code().get(), 220);
    h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
    assert!(h.session().info().auth().is_none());
    assert_eq!(h.send("EHLO client.test").code().get(), 250);
    // Not "already authenticated": a new AUTH runs.
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("v", "password")))),
        "235 2.7.0"
    );
    assert_eq!(h.session().info().auth().unwrap().username, "v");
}

#[test]
fn auth10_unknown_mechanism() {
    let mut h = tls_session();
    assert_eq!(st(&h.send("AUTH FOOBAR")), "504 5.5.4");
    assert!(!asked_to_authenticate(&h));
}

#[test]
fn require_auth_and_require_tls() {
    let mut c = tls_config();
    c.require_auth = true;
    c.require_tls = true;
    let mut h = ehlo(c).with_policy(check_password);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "530 5.7.0");
    assert_eq!(h.send("STARTTLS").code().get(), 220);
    h.complete_tls(TlsInfo::new("TLSv1.3", "X"));
    assert_eq!(h.send("EHLO client.test").code().get(), 250);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "530 5.7.0");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "235 2.7.0"
    );
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
}
