//! AUTH: PLAIN, LOGIN, cancels, failures and limits.

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::{Mechanism, Pending};

use super::helpers::*;
use crate::support::{auth_config, check_password, greeted, plain, st, sts};

// ------------------------------------------------------------------ AUTH

#[test]
fn auth_plain_with_initial_response() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    let r = h.send("AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=");
    assert_eq!(r.to_string(), "235 2.7.0 Authentication successful\r\n");
    let auth = h.session().info().auth().cloned().unwrap();
    assert_eq!(auth.username, "user");
    assert_eq!(auth.mechanism, Mechanism::Plain);
    assert_eq!(auth.authzid, None);
    let creds: Vec<_> = h
        .pendings()
        .iter()
        .filter_map(|p| match p {
            Pending::Authenticate { credentials } => Some(credentials.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].username(), "user");
    assert_eq!(creds[0].password(), "password");
}

#[test]
fn auth_plain_with_334_then_response() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH PLAIN").to_string(), "334 \r\n");
    assert_eq!(authenticate_count(&h), 0);
    assert_eq!(st(&h.send(&plain("user", "password"))), "235 2.7.0");
    assert!(h.session().info().auth().is_some());
}

#[test]
fn auth_login_three_steps() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH LOGIN").to_string(), "334 VXNlcm5hbWU6\r\n");
    assert_eq!(
        h.send(&encode_base64(b"user")).to_string(),
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(st(&h.send(&encode_base64(b"password"))), "235 2.7.0");
    let auth = h.session().info().auth().cloned().unwrap();
    assert_eq!(auth.username, "user");
    assert_eq!(auth.mechanism, Mechanism::Login);
}

#[test]
fn auth_login_with_initial_user_name() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(
        h.send(&format!("AUTH LOGIN {}", encode_base64(b"user")))
            .to_string(),
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(st(&h.send(&encode_base64(b"password"))), "235 2.7.0");
    assert_eq!(h.session().info().auth().unwrap().username, "user");
}

#[test]
fn auth_star_cancels_with_501() {
    for start in ["AUTH PLAIN", "AUTH LOGIN"] {
        let mut h = ehlo(auth_config()).with_policy(check_password);
        assert_eq!(h.send(start).code().get(), 334);
        assert_eq!(h.send("*").code().get(), 501);
        assert!(h.session().info().auth().is_none());
        assert_eq!(authenticate_count(&h), 0);
        // Back to commands, and AUTH can start again.
        assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
        assert_eq!(
            st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
            "235 2.7.0"
        );
    }
    // Cancelling LOGIN at the password step.
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    assert_eq!(h.send(&encode_base64(b"user")).code().get(), 334);
    assert_eq!(h.send("*").code().get(), 501);
    assert!(h.session().info().auth().is_none());
}

#[test]
fn auth_bad_base64_is_501_5_5_2() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(st(&h.send("AUTH PLAIN !!!notbase64")), "501 5.5.2");
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(st(&h.send("!!!notbase64")), "501 5.5.2");
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    assert_eq!(st(&h.send("Zm 9v")), "501 5.5.2");
    assert_eq!(authenticate_count(&h), 0);
    assert!(h.session().info().auth().is_none());
}

#[test]
fn auth_unknown_mechanism_is_504_5_5_4() {
    let mut h = ehlo(auth_config());
    assert_eq!(st(&h.send("AUTH FOOBAR")), "504 5.5.4");
    assert_eq!(st(&h.send("AUTH CRAM-MD5")), "504 5.5.4");
    // A known mechanism that is not configured is unknown too.
    let mut c = auth_config();
    c.auth_mechanisms = vec![Mechanism::Plain];
    let mut h = ehlo(c);
    assert_eq!(st(&h.send("AUTH LOGIN")), "504 5.5.4");
    assert!(
        h.pendings()
            .iter()
            .all(|p| !matches!(p, Pending::Auth { .. }))
    );
}

#[test]
fn auth_sequence_errors_are_503() {
    // A second AUTH after success.
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "235 2.7.0"
    );
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("v", "password")))),
        "503 5.5.1"
    );
    assert_eq!(h.session().info().auth().unwrap().username, "u");
    // AUTH during a transaction.
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503 5.5.1"
    );
    assert!(h.session().info().auth().is_none());
    // AUTH after HELO.
    let mut h = greeted(auth_config()).with_policy(check_password);
    assert_eq!(st(&h.send("HELO client.test")), "250");
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503"
    );
    // AUTH before any greeting.
    let mut h = greeted(auth_config()).with_policy(check_password);
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("u", "password")))),
        "503"
    );
    assert_eq!(authenticate_count(&h), 0);
}

#[test]
fn failed_auth_leaves_the_session_unauthenticated_and_can_be_retried() {
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(
        h.send(&format!("AUTH PLAIN {}", plain("user", "wrong")))
            .to_string(),
        "535 5.7.8 Bad username or password\r\n"
    );
    assert!(h.session().info().auth().is_none());
    // LOGIN failure too.
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    assert_eq!(h.send(&encode_base64(b"user")).code().get(), 334);
    assert_eq!(st(&h.send(&encode_base64(b"wrong"))), "535 5.7.8");
    assert!(h.session().info().auth().is_none());
    // A retry with the right password works.
    assert_eq!(
        st(&h.send(&format!("AUTH PLAIN {}", plain("user", "password")))),
        "235 2.7.0"
    );
    assert!(h.session().info().auth().is_some());
}

#[test]
fn too_many_auth_failures_close_with_421() {
    let mut c = auth_config();
    c.limits.max_auth_failures = 3;
    let mut h = ehlo(c).with_policy(check_password);
    for _ in 0..2 {
        assert_eq!(
            st(&h.send(&format!("AUTH PLAIN {}", plain("u", "bad")))),
            "535 5.7.8"
        );
    }
    let replies = h.send_raw(format!("AUTH PLAIN {}\r\nNOOP\r\n", plain("u", "bad")).as_bytes());
    assert!(!replies.iter().any(|r| r.code().get() == 235));
    assert_eq!(st(replies.last().unwrap()), "421 4.7.0");
    assert!(replies.iter().all(|r| r.code().get() != 250), "{replies:?}");
    assert!(h.is_closed());
    assert!(h.session().info().auth().is_none());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}

#[test]
fn auth_over_plaintext_without_permission_is_538_and_never_asks() {
    let mut c = auth_config();
    c.allow_insecure_auth = false;
    c.tls_available = true;
    let mut h = ehlo(c);
    assert_eq!(
        h.send("AUTH PLAIN AHVzZXIAcGFzc3dvcmQ=").to_string(),
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
    );
    assert_eq!(st(&h.send("AUTH LOGIN")), "538 5.7.11");
    assert!(
        h.pendings()
            .iter()
            .all(|p| !matches!(p, Pending::Auth { .. } | Pending::Authenticate { .. })),
        "{:?}",
        h.pendings()
    );
    assert!(h.session().info().auth().is_none());
    // The session goes on.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn auth_continuation_line_limit() {
    // A line of 12288 octets with its CRLF is read (and is bad base64 here).
    let mut h = ehlo(auth_config()).with_policy(check_password);
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(st(&h.send(&"A".repeat(12_286))), "501 5.5.2");
    // One octet more is too long.
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(st(&h.send(&"A".repeat(12_287))), "500 5.5.6");
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    // And much longer, in pieces: one reply, then commands again.
    assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
    let mut input = vec![b'A'; 100_000];
    input.extend_from_slice(b"\r\nNOOP\r\n");
    let mut replies = Vec::new();
    for piece in input.chunks(1024) {
        replies.extend(h.send_raw(piece));
    }
    assert_eq!(sts(&replies), ["500 5.5.6", "250 2.0.0"]);
    assert_eq!(authenticate_count(&h), 0);
}
