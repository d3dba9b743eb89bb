//! pymta's tests/policy_test.py, ported.

use mtakit_proto::testing::Harness;
use mtakit_proto::{Mechanism, Pending, SessionInfo, TimeoutKind, Verdict};

use super::helpers::*;
use crate::support::auth_config;
use crate::support::pymta::{
    b64, code, dummy_authenticator, ehlo, first_digit, helo, mail_and_rcpt,
};

// ---------------------------------------------------------------------------
// §3.5 tests/policy_test.py

// pymta: policy_test.py #1 test_connection_can_be_rejected
#[test]
fn policy_connection_can_be_rejected() {
    let mut h = on_connect(Verdict::reject());
    h.run();
    assert_eq!(h.replies(), [reply(554, "SMTP service not available")]);
    assert!(h.is_closed());
}

fn reject_example_com(pending: &Pending, _: &SessionInfo) -> Verdict {
    match pending {
        Pending::Helo { name, .. } => Verdict::from(!name.to_string().ends_with("example.com")),
        _ => Verdict::accept(),
    }
}

// pymta: policy_test.py #2 test_helo_can_be_rejected
#[test]
fn policy_helo_can_be_rejected() {
    let mut h = Harness::new().with_policy(reject_example_com);
    assert_eq!(first_digit(&h.send("HELO foo.example.com")), 5);
    assert_eq!(first_digit(&h.send("HELO bar.example.com")), 5);
    assert_eq!(first_digit(&h.send("HELO localhost")), 2);
}

// pymta: policy_test.py #3 test_ehlo_can_be_rejected
#[test]
fn policy_ehlo_can_be_rejected() {
    let mut h = Harness::new().with_policy(reject_example_com);
    assert_eq!(first_digit(&h.send("EHLO foo.example.com")), 5);
    assert!(!h.session().info().is_esmtp());
    assert_eq!(first_digit(&h.send("EHLO localhost")), 2);
}

fn reject_auth(mechanism: Mechanism) -> Harness {
    Harness::with_config(auth_config()).with_policy(move |pending, info| match pending {
        Pending::Auth { mechanism: m } if *m == mechanism => Verdict::reject(),
        _ => dummy_authenticator(pending, info),
    })
}

// pymta: policy_test.py #4 test_auth_plain_can_be_rejected
#[test]
fn policy_auth_plain_can_be_rejected() {
    let mut h = reject_auth(Mechanism::Plain);
    ehlo(&mut h);
    let r = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(code(&r), 550);
    assert!(h.session().info().auth().is_none());
}

// pymta: policy_test.py #5 test_auth_login_can_be_rejected
#[test]
fn policy_auth_login_can_be_rejected() {
    let mut h = reject_auth(Mechanism::Login);
    ehlo(&mut h);
    assert_eq!(code(&h.send("AUTH LOGIN")), 550);
    // No SASL exchange was started: the next line is a command again.
    assert_eq!(code(&h.send("NOOP")), 250);
}

// pymta: policy_test.py #6 test_from_can_be_rejected
#[test]
fn policy_from_can_be_rejected() {
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::MailFrom { .. } => Verdict::reject(),
        _ => Verdict::accept(),
    });
    helo(&mut h);
    assert_eq!(first_digit(&h.send("MAIL FROM:<foo@example.com>")), 5);
    assert!(h.session().info().envelope().is_none());
}

// pymta: policy_test.py #7 test_rcptto_can_be_rejected
#[test]
fn policy_rcptto_can_be_rejected() {
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::RcptTo { .. } => Verdict::reject(),
        _ => Verdict::accept(),
    });
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    let r = h.send("RCPT TO:<bar@example.com>");
    assert_eq!((code(&r), r.text()), (550, "relay not permitted"));
}

// pymta: policy_test.py #8 test_data_can_be_rejected
#[test]
fn policy_data_can_be_rejected() {
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::Data => Verdict::reject(),
        _ => Verdict::accept(),
    });
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(first_digit(&h.send("DATA")), 5);
    assert_eq!(h.session().timeout(), Some(TimeoutKind::Command));
}

// pymta: policy_test.py #9 test_messages_can_be_rejected
#[test]
fn policy_messages_can_be_rejected() {
    let mut h = Harness::new().with_sink(|_| Verdict::reject());
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(first_digit(&h.send("DATA")), 3);
    let replies = h.send_raw(b"Subject: Test\r\n\r\n.\r\n");
    assert_eq!(replies, [reply(550, "Message content is not acceptable")]);
    assert!(h.delivered().is_empty());
}

// pymta: policy_test.py #10 test_size_limit_messages_can_be_rejected
#[test]
fn policy_size_limit_messages_can_be_rejected() {
    let mut h = Harness::with_config(crate::support::max_size(crate::support::config(), 100));
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(first_digit(&h.send("DATA")), 3);
    let big = "x".repeat(200) + "\r\n.\r\n";
    let replies = h.send_raw(big.as_bytes());
    assert_eq!(
        replies,
        [reply(552, "message exceeds fixed maximum message size")]
    );
}

// pymta: policy_test.py #11 test_server_deals_gracefully_with_double_close_because_of_faulty_policy
#[test]
fn policy_server_deals_gracefully_with_double_close_because_of_faulty_policy() {
    let mut h = on_helo(Verdict::disconnect().and_close());
    assert!(h.send_raw(b"HELO foo.example.com\r\n").is_empty());
    assert!(h.is_closed());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}
