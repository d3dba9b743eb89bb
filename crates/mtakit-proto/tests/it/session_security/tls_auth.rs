//! STARTTLS on the session side, and AUTH.

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::testing::Harness;
use mtakit_proto::{Mechanism, Pending, SessionConfig, TlsInfo, Verdict};

use super::helpers::*;
use crate::support::{check_password, config, ehlo, ehlo_lines, plain, st, sts};

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
