//! NUL bytes and header injection.

use mtakit_proto::testing::Harness;
use mtakit_proto::{EnhancedCode, Extensions, Pending, Reply, ReplyError, Verdict};

use super::helpers::*;
use crate::support::{config, ehlo, st, sts};

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
