//! pymta's tests/smtp_parameter_validation_test.py, ported.

use mtakit_proto::testing::Harness;
use mtakit_proto::{EnhancedCode, TimeoutKind};

use crate::support::auth_config;
use crate::support::pymta::{
    b64, code, ehlo, first_digit, helo, mail_and_rcpt, with_authenticator,
};

// ---------------------------------------------------------------------------
// §3.6 tests/smtp_parameter_validation_test.py

// pymta: smtp_parameter_validation_test.py #1 test_helo_accepts_exactly_one_parameter
#[test]
fn param_helo_accepts_exactly_one_parameter() {
    let mut h = Harness::new();
    for line in ["helo", "helo foo bar", "helo "] {
        assert_eq!(first_digit(&h.send(line)), 5, "{line:?}");
    }
    assert_eq!(h.session().info().helo(), None);
}

// pymta: smtp_parameter_validation_test.py #2 test_ehlo_accepts_exactly_one_parameter
#[test]
fn param_ehlo_accepts_exactly_one_parameter() {
    let mut h = Harness::new();
    for line in ["ehlo", "ehlo foo bar"] {
        assert_eq!(first_digit(&h.send(line)), 5, "{line:?}");
    }
    assert_eq!(h.session().info().helo(), None);
}

// pymta: smtp_parameter_validation_test.py #3 test_noop_does_not_accept_any_parameters
// Fixed (RFC 5321 §4.1.1.9): NOOP may carry a string, which is ignored.
#[test]
fn param_noop_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    let r = h.send("noop foo");
    assert_eq!((code(&r), r.text()), (250, "OK"));
}

// pymta: smtp_parameter_validation_test.py #4 test_rset_does_not_accept_any_parameters
#[test]
fn param_rset_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(code(&h.send("rset foo")), 501);
    assert!(h.session().info().envelope().is_some(), "no reset happened");
}

// pymta: smtp_parameter_validation_test.py #5 test_quit_does_not_accept_any_parameters
#[test]
fn param_quit_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("quit invalid")), 501);
    assert!(!h.is_closed());
}

// pymta: smtp_parameter_validation_test.py #6 test_data_does_not_accept_any_parameters
#[test]
fn param_data_does_not_accept_any_parameters() {
    let mut h = Harness::new();
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("data invalid")), 501);
    assert_eq!(h.session().timeout(), Some(TimeoutKind::Command));
}

// pymta: smtp_parameter_validation_test.py #7 test_mail_from_requires_an_email_address
#[test]
fn param_mail_from_requires_an_email_address() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("mail from:")), 501);
    assert_eq!(code(&h.send("mail from:foo@@bar")), 501);
    assert!(h.session().info().envelope().is_none());
}

// pymta: smtp_parameter_validation_test.py #8 test_mail_from_must_not_have_extensions_for_plain_smtp
#[test]
fn param_mail_from_must_not_have_extensions_for_plain_smtp() {
    let mut h = Harness::new();
    helo(&mut h);
    let r = h.send("MAIL FROM:<foo@example.com> SIZE=100");
    assert_eq!(first_digit(&r), 5);
    assert_eq!(r.text(), "No SMTP extensions allowed for plain SMTP.");
}

// pymta: smtp_parameter_validation_test.py #9 test_mail_from_validates_size_extension
#[test]
fn param_mail_from_validates_size_extension() {
    let mut h = Harness::new();
    ehlo(&mut h);
    let r = h.send("MAIL FROM:<foo@example.com> SIZE=fnord");
    assert_eq!(code(&r), 501);
    assert_eq!(r.enhanced(), Some(EnhancedCode::INVALID_ARGUMENTS));
}

// pymta: smtp_parameter_validation_test.py #10 test_mail_from_rejects_unknown_extension
// Fixed (RFC 5321 §4.1.1.11): an unknown parameter is `555 5.5.4`, not 501.
#[test]
fn param_mail_from_rejects_unknown_extension() {
    let mut h = Harness::new();
    ehlo(&mut h);
    let r = h.send("MAIL FROM:<foo@example.com> FNORD=INVALID");
    assert_eq!(code(&r), 555);
    assert_eq!(r.enhanced(), Some(EnhancedCode::INVALID_ARGUMENTS));
    assert_eq!(r.text(), "Invalid extension: \"FNORD=INVALID\"");
}

// pymta: smtp_parameter_validation_test.py #11 test_rcpt_to_requires_an_email_address
// `foo@bar.com invalid` has an unknown parameter `invalid`: 555 (5xx).
#[test]
fn param_rcpt_to_requires_an_email_address() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(code(&h.send("rcpt to:")), 501);
    assert_eq!(code(&h.send("rcpt to:foo@@bar.com")), 501);
    assert_eq!(first_digit(&h.send("rcpt to:foo@bar.com invalid")), 5);
    assert!(h.session().info().envelope().unwrap().recipients.is_empty());
}

// pymta: smtp_parameter_validation_test.py #12 test_rcpt_to_accepts_a_valid_email_address
#[test]
fn param_rcpt_to_accepts_a_valid_email_address() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(first_digit(&h.send("RCPT TO:foo@example.com")), 2);
    assert_eq!(first_digit(&h.send("RCPT TO:<foo@example.com>")), 2);
    assert_eq!(h.session().info().envelope().unwrap().recipients.len(), 2);
}

// pymta: smtp_parameter_validation_test.py #13 test_auth_plain_accepts_correct_authentication
#[test]
fn param_auth_plain_accepts_correct_authentication() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let r = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(first_digit(&r), 2);
}

// pymta: smtp_parameter_validation_test.py #14 test_auth_plain_requires_exactly_one_parameter
// pymta bug §5.12 fixed: `AUTH PLAIN` without an initial response gets a
// `334 ` challenge (RFC 4954 §4); two tokens are still 501.
#[test]
fn param_auth_plain_requires_exactly_one_parameter() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let r = h.send("AUTH PLAIN");
    assert_eq!((code(&r), r.text()), (334, ""));
    assert_eq!(code(&h.send("*")), 501);
    let r = h.send(&format!("AUTH PLAIN {} {}", b64("\0foo\0foo"), b64("x")));
    assert_eq!(code(&r), 501);
    assert!(h.session().info().auth().is_none());
}

// pymta: smtp_parameter_validation_test.py #15 test_auth_plain_detects_bad_base64_credentials
// As in #14, no argument now gets a challenge; its bad answer is 501.
#[test]
fn param_auth_plain_detects_bad_base64_credentials() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(code(&h.send("AUTH PLAIN")), 334);
    assert_eq!(code(&h.send("invalid_base64")), 501);
    assert_eq!(code(&h.send("AUTH PLAIN invalid_base64")), 501);
    assert!(h.session().info().auth().is_none());
}

// pymta: smtp_parameter_validation_test.py #16 test_auth_plain_reject_bad_credentials
#[test]
fn param_auth_plain_reject_bad_credentials() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(
        code(&h.send(&format!("AUTH PLAIN {}", b64("\0foo\0bar")))),
        535
    );
}
