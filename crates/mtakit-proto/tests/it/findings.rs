//! Conformance findings on each transaction (issue: "record, don't reject").

use mtakit_proto::testing::Harness;
use mtakit_proto::{Finding, LineEndingPolicy, SessionConfig};

fn recording() -> Harness {
    let mut c = SessionConfig::new("localhost");
    c.limits.line_endings = LineEndingPolicy::Record;
    c.limits.allow_nul = true;
    let mut h = Harness::with_config(c);
    h.greeting();
    h.send("EHLO client.test");
    h
}

fn send(h: &mut Harness, mail: &str, rcpt: &str, body: &[u8]) -> Vec<Finding> {
    assert_eq!(h.send(&format!("MAIL FROM:{mail}")).code().get(), 250);
    assert_eq!(h.send(&format!("RCPT TO:{rcpt}")).code().get(), 250);
    assert_eq!(h.send("DATA").code().get(), 354);
    let before = h.delivered().len();
    let replies = h.send_raw(body);
    assert_eq!(replies[0].code().get(), 250, "{replies:?}");
    assert_eq!(h.delivered().len(), before + 1);
    h.delivered().last().unwrap().findings.clone()
}

#[test]
fn a_clean_message_has_no_findings() {
    let mut h = recording();
    let f = send(
        &mut h,
        "<a@a.test>",
        "<b@b.test>",
        b"Subject: ok\r\n\r\nfine\r\n.\r\n",
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn bare_line_ends_nul_long_lines_and_8bit_are_recorded() {
    let mut h = recording();
    let mut body = b"Subject: x\r\n\r\na\nb\rc\0d \xc3\xa9\r\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 1200));
    body.extend_from_slice(b"\r\n.\r\n");
    let f = send(&mut h, "<a@a.test>", "<b@b.test>", &body);
    assert!(f.contains(&Finding::BareLf { count: 1 }), "{f:?}");
    assert!(f.contains(&Finding::BareCr { count: 1 }), "{f:?}");
    assert!(f.contains(&Finding::Nul { count: 1 }), "{f:?}");
    assert!(f.contains(&Finding::LongLine { length: 1200 }), "{f:?}");
    assert!(
        f.contains(&Finding::EightBitWithoutBody { count: 2 }),
        "{f:?}"
    );
    // The content is kept byte-exact in Record mode.
    assert!(
        h.delivered()[0]
            .data
            .starts_with(b"Subject: x\r\n\r\na\nb\rc\0d")
    );
}

#[test]
fn declared_8bit_is_not_a_finding() {
    let mut h = recording();
    let f = send(
        &mut h,
        "<a@a.test> BODY=8BITMIME",
        "<b@b.test>",
        "Subject: é\r\n\r\ncafé\r\n.\r\n".as_bytes(),
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn utf8_envelope_without_smtputf8_is_recorded_not_refused() {
    let mut h = recording();
    let f = send(&mut h, "<üser@a.test>", "<b@b.test>", b"x\r\n.\r\n");
    assert_eq!(f, [Finding::Utf8EnvelopeWithoutSmtputf8]);
    // The next, conforming transaction is clean again.
    let f = send(&mut h, "<a@a.test>", "<b@b.test>", b"x\r\n.\r\n");
    assert!(f.is_empty(), "{f:?}");
    let f = send(&mut h, "<a@a.test>", "<ü@b.test>", b"x\r\n.\r\n");
    assert_eq!(f, [Finding::Utf8EnvelopeWithoutSmtputf8]);
}

#[test]
fn strict_default_refuses_what_record_mode_lists() {
    let mut h = Harness::new();
    h.greeting();
    h.send("EHLO c");
    assert_eq!(h.send("MAIL FROM:<üser@a.test>").code().get(), 553);
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    h.send("DATA");
    assert_eq!(h.send_raw(b"a\nb\r\n.\r\n")[0].code().get(), 550);
    assert!(h.delivered().is_empty());
}

#[test]
fn early_talker_is_recorded_on_every_later_message() {
    let mut h = recording();
    h.session().client_spoke_early();
    let f = send(&mut h, "<a@a.test>", "<b@b.test>", b"x\r\n.\r\n");
    assert_eq!(f, [Finding::EarlyTalker]);
    assert!(h.session().info().early_talker());
}

#[test]
fn findings_display_says_what_went_wrong() {
    assert_eq!(
        Finding::BareLf { count: 2 }.to_string(),
        "2 bare LF in the content"
    );
    assert!(
        Finding::EarlyTalker
            .to_string()
            .contains("before the greeting")
    );
}

#[test]
fn command_lines_are_recorded_for_transcripts_with_secrets_hidden() {
    let mut c = SessionConfig::new("localhost");
    c.record_commands = true;
    c.auth_mechanisms = vec![
        mtakit_proto::Mechanism::Plain,
        mtakit_proto::Mechanism::Login,
    ];
    c.allow_insecure_auth = true;
    let mut h = Harness::with_config(c);
    h.greeting();
    h.send("EHLO client.test");
    h.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    h.send("NOOP \x01hidden");
    assert_eq!(
        h.commands(),
        ["EHLO client.test", "AUTH PLAIN ***", "NOOP ?hidden"]
    );
    let mut h = Harness::new();
    h.greeting();
    h.send("EHLO client.test");
    assert!(h.commands().is_empty(), "off by default");
}

/// Transcripts show UTF-8 as UTF-8 (interop D6: `j??rg` before), and still
/// hide controls, bidi overrides and invalid octets.
#[test]
fn transcripts_show_utf8_as_text() {
    let mut c = SessionConfig::new("localhost");
    c.record_commands = true;
    let mut h = Harness::with_config(c);
    h.greeting();
    h.send("EHLO client.test");
    h.send("MAIL FROM:<sénder@example.com> SMTPUTF8");
    h.send("RCPT TO:<jörg@exämple.com>");
    h.send_raw(b"NOOP \xe2\x80\xaegnp.exe \xff\x1b[2J\r\n");
    assert_eq!(
        &h.commands()[1..],
        [
            "MAIL FROM:<sénder@example.com> SMTPUTF8",
            "RCPT TO:<jörg@exämple.com>",
            "NOOP ?gnp.exe ??[2J",
        ]
    );
}
