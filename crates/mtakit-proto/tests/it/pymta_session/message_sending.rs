//! pymta's tests/basic_message_sending_test.py, ported.

use mtakit_proto::testing::Harness;
use mtakit_proto::{Domain, EnhancedCode};

use crate::support::auth_config;
use crate::support::pymta::{
    b64, code, ehlo, first_digit, helo, mail_and_rcpt, with_authenticator,
};

use super::helpers::*;
// ---------------------------------------------------------------------------
// §3.1 tests/basic_message_sending_test.py

// pymta: basic_message_sending_test.py #1 test_new_connection
#[test]
fn basic_new_connection() {
    let mut h = Harness::new();
    h.run();
    assert_eq!(h.replies().len(), 1);
    let greeting = h.greeting();
    assert_eq!(code(&greeting), 220);
    // pymta says `localhost Hello 127.0.0.1`; mtakit names the protocol
    // so that scanners recognise it (interop D4).
    assert_eq!(greeting.text(), "localhost ESMTP mtakit");
    let quit = h.send("QUIT");
    assert_eq!(code(&quit), 221);
    assert_eq!(quit.text(), "localhost closing connection");
    assert!(h.is_closed());
}

// pymta: basic_message_sending_test.py #2 test_noop_does_nothing
#[test]
fn basic_noop_does_nothing() {
    let mut h = Harness::new();
    let reply = h.send("noop");
    assert_eq!(code(&reply), 250);
    assert!(!h.is_closed());
}

// pymta: basic_message_sending_test.py #3 test_send_helo
#[test]
fn basic_send_helo() {
    let mut h = Harness::new();
    let reply = h.send("helo foo.example.com");
    assert_eq!(code(&reply), 250);
    assert_eq!(reply.text(), "localhost");
    assert_eq!(reply.enhanced(), None, "no enhanced codes after HELO");
}

// pymta: basic_message_sending_test.py #4 test_reject_duplicated_helo
// pymta bug §5.10 fixed: RFC 5321 §4.1.4 lets HELO/EHLO be repeated (it
// resets the transaction), so the second HELO gets 250, not 503.
#[test]
fn basic_reject_duplicated_helo() {
    let mut h = Harness::new();
    helo(&mut h);
    let reply = h.send("helo bar.example.com");
    assert_eq!(code(&reply), 250);
    assert_eq!(reply.text(), "localhost");
    assert_eq!(
        h.session().info().helo(),
        Some(&Domain::Name("bar.example.com".into()))
    );
}

// pymta: basic_message_sending_test.py #5 test_helo_without_hostname_is_rejected
#[test]
fn basic_helo_without_hostname_is_rejected() {
    let mut h = Harness::new();
    assert_eq!(first_digit(&h.send("helo")), 5);
    assert_eq!(h.session().info().helo(), None);
    assert_eq!(code(&h.send("helo foo")), 250);
}

// pymta: basic_message_sending_test.py #6 test_helo_with_invalid_arguments_is_rejected['', '  ', None, 'foo bar']
#[test]
fn basic_helo_with_invalid_arguments_is_rejected() {
    for line in ["helo ", "helo   ", "helo", "helo foo bar"] {
        let mut h = Harness::new();
        assert_eq!(code(&h.send(line)), 501, "{line:?}");
    }
}

// pymta: basic_message_sending_test.py #7 test_helo_can_send_ipv4_address_in_brackets
#[test]
fn basic_helo_can_send_ipv4_address_in_brackets() {
    let mut h = Harness::new();
    assert_eq!(first_digit(&h.send("helo [127.0.0.1]")), 2);
}

// pymta: basic_message_sending_test.py #8 test_invalid_commands_are_recognized
#[test]
fn basic_invalid_commands_are_recognized() {
    let mut h = Harness::new();
    let reply = h.send("invalid");
    assert_eq!(code(&reply), 500);
    assert_eq!(reply.text(), "unrecognized command \"invalid\"");
}

// pymta: basic_message_sending_test.py #9 test_send_simple_mail
// Data is kept byte-exact with CRLF (pymta used `\n`).
#[test]
fn basic_send_simple_mail() {
    let (mut h, seen) = recording();
    helo(&mut h);
    mail_and_rcpt(&mut h);
    let reply = send_message(&mut h, "Subject: Test\r\n\r\nJust testing...\r\n");
    assert_eq!(code(&reply), 250);
    assert_eq!(code(&h.send("QUIT")), 221);

    assert_eq!(h.delivered().len(), 1);
    let msg = &h.delivered()[0];
    assert_eq!(msg.data, b"Subject: Test\r\n\r\nJust testing...\r\n");
    assert_eq!(msg.envelope.reverse_path.to_string(), "<foo@example.com>");
    assert_eq!(rcpts(&h, 0), ["<bar@example.com>"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].peer(), ([127, 0, 0, 1], 4567).into());
    assert_eq!(seen[0].helo().unwrap().to_string(), "foo.example.com");
}

// pymta: basic_message_sending_test.py #10 test_help_is_supported
// pymta bug §5.11 fixed: the verb list is in a fixed order; it also lists
// VRFY, EXPN and STARTTLS, which mtakit implements.
#[test]
fn basic_help_is_supported() {
    let mut h = Harness::new();
    let reply = h.send("HELP");
    assert_eq!(code(&reply), 214);
    let l = lines(&reply);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0], "Commands supported");
    let verbs: Vec<&str> = l[1].split(' ').collect();
    for verb in [
        "AUTH", "DATA", "EHLO", "HELO", "HELP", "MAIL", "NOOP", "QUIT", "RCPT", "RSET",
    ] {
        assert!(verbs.contains(&verb), "{verb} missing from {verbs:?}");
    }
}

// pymta: basic_message_sending_test.py #11 test_support_for_rset
#[test]
fn basic_support_for_rset() {
    let mut h = Harness::new();
    helo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    let reset = h.send("RSET");
    assert_eq!(code(&reset), 250);
    assert_eq!(reset.text(), "Reset OK");
    assert!(h.session().info().envelope().is_none());
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
}

// pymta: basic_message_sending_test.py #12 test_send_ehlo_without_authenticator
// Fixed (design): EHLO lists more keywords than pymta's {localhost, HELP};
// without AUTH mechanisms no AUTH line is advertised.
#[test]
fn basic_send_ehlo_without_authenticator() {
    let mut h = Harness::new();
    let reply = h.send("EHLO foo.example.com");
    assert_eq!(code(&reply), 250);
    let l = lines(&reply);
    assert_eq!(l.first(), Some(&"localhost"));
    assert_eq!(l.last(), Some(&"HELP"));
    assert!(l.contains(&"ENHANCEDSTATUSCODES"), "{l:?}");
    assert!(!l.iter().any(|x| x.starts_with("AUTH")), "{l:?}");
}

// pymta: basic_message_sending_test.py #13 test_ehlo_without_hostname_is_rejected
#[test]
fn basic_ehlo_without_hostname_is_rejected() {
    let mut h = Harness::new();
    assert_eq!(first_digit(&h.send("ehlo")), 5);
    assert!(!h.session().info().is_esmtp());
}

// pymta: basic_message_sending_test.py #14 test_ehlo_with_invalid_arguments_is_rejected['', '  ', None, 'foo bar']
#[test]
fn basic_ehlo_with_invalid_arguments_is_rejected() {
    for line in ["ehlo ", "ehlo   ", "ehlo", "ehlo foo bar"] {
        let mut h = Harness::new();
        assert_eq!(code(&h.send(line)), 501, "{line:?}");
    }
}

// pymta: basic_message_sending_test.py #15 test_auth_plain_without_authenticator_is_rejected
// Fixed (design): AUTH with no mechanism configured is `502 5.5.1` (command
// not available), not pymta's 535.
#[test]
fn basic_auth_plain_without_authenticator_is_rejected() {
    let mut h = Harness::new();
    ehlo(&mut h);
    let reply = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(code(&reply), 502);
    assert_eq!(reply.enhanced(), Some(EnhancedCode::INVALID_COMMAND));
    assert!(h.session().info().auth().is_none());
}

// pymta: basic_message_sending_test.py #16 test_authenticator_advertises_auth_plain_support
#[test]
fn basic_authenticator_advertises_auth_plain_support() {
    let mut h = with_authenticator(auth_config());
    let reply = ehlo(&mut h);
    assert!(lines(&reply).contains(&"AUTH PLAIN LOGIN"), "{reply:?}");
}

// pymta: basic_message_sending_test.py #17 test_auth_plain_with_username_and_password_is_accepted
#[test]
fn basic_auth_plain_with_username_and_password_is_accepted() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let reply = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")));
    assert_eq!(code(&reply), 235);
    assert_eq!(reply.text(), "Authentication successful");
    assert_eq!(username(h.session().info()), Some("foo"));
}

// pymta: basic_message_sending_test.py #18 test_auth_plain_with_authzid_username_and_password_is_accepted
#[test]
fn basic_auth_plain_with_authzid_username_and_password_is_accepted() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let reply = h.send(&format!("AUTH PLAIN {}", b64("ignored\0foo\0foo")));
    assert_eq!(code(&reply), 235);
    assert_eq!(reply.text(), "Authentication successful");
    assert_eq!(username(h.session().info()), Some("foo"));
}

// pymta: basic_message_sending_test.py #19 test_auth_plain_with_bad_credentials_is_rejected
#[test]
fn basic_auth_plain_with_bad_credentials_is_rejected() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let reply = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0bar")));
    assert_eq!(code(&reply), 535);
    assert!(h.session().info().auth().is_none());
}

// pymta: basic_message_sending_test.py #20 test_auth_plain_with_bad_base64_is_rejected
#[test]
fn basic_auth_plain_with_bad_base64_is_rejected() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(code(&h.send("AUTH PLAIN foo")), 501);
}

// pymta: basic_message_sending_test.py #21 test_auth_plain_with_bad_format_is_rejected
#[test]
fn basic_auth_plain_with_bad_format_is_rejected() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(code(&h.send(&format!("AUTH PLAIN {}", b64("\0foo")))), 501);
}

// pymta: basic_message_sending_test.py #22 test_auth_login_with_username_and_password_is_accepted
#[test]
fn basic_auth_login_with_username_and_password_is_accepted() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let prompt = h.send(&format!("AUTH LOGIN {}", b64("foo")));
    assert_eq!((code(&prompt), prompt.text()), (334, "UGFzc3dvcmQ6"));
    let reply = h.send(&b64("foo"));
    assert_eq!(
        (code(&reply), reply.text()),
        (235, "Authentication successful")
    );
}

// pymta: basic_message_sending_test.py #23 test_auth_login_3step
#[test]
fn basic_auth_login_3step() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let first = h.send("AUTH LOGIN");
    assert_eq!((code(&first), first.text()), (334, "VXNlcm5hbWU6"));
    let second = h.send(&b64("foo"));
    assert_eq!((code(&second), second.text()), (334, "UGFzc3dvcmQ6"));
    let third = h.send(&b64("foo"));
    assert_eq!(
        (code(&third), third.text()),
        (235, "Authentication successful")
    );
}

// pymta: basic_message_sending_test.py #24 test_auth_login_with_bad_credentials_is_rejected
#[test]
fn basic_auth_login_with_bad_credentials_is_rejected() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(code(&h.send(&format!("AUTH LOGIN {}", b64("foo")))), 334);
    assert_eq!(code(&h.send(&b64("invalid"))), 535);
    assert!(h.session().info().auth().is_none());
}

// pymta: basic_message_sending_test.py #25 test_auth_login_with_bad_base64_username_is_rejected
#[test]
fn basic_auth_login_with_bad_base64_username_is_rejected() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(code(&h.send("AUTH LOGIN foo")), 501);
}

// pymta: basic_message_sending_test.py #26 test_auth_login_with_bad_base64_password_is_rejected
// RFC 4954 §4: a 501 ends the exchange, so the second bad line is read as a
// command (5xx), and the retry starts from an unauthenticated session
// (pymta bug §5.7 fixed).
#[test]
fn basic_auth_login_with_bad_base64_password_is_rejected() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(code(&h.send(&format!("AUTH LOGIN {}", b64("foo")))), 334);
    assert_eq!(code(&h.send("!!!")), 501);
    assert!(h.session().info().auth().is_none());
    assert_eq!(first_digit(&h.send("!!!")), 5);
    assert_eq!(code(&h.send(&format!("AUTH LOGIN {}", b64("foo")))), 334);
    assert_eq!(code(&h.send(&b64("foo"))), 235);
}

// pymta: basic_message_sending_test.py #27 test_size_restrictions_are_announced_in_ehlo_reply
#[test]
fn basic_size_restrictions_are_announced_in_ehlo_reply() {
    let mut h = Harness::with_config(crate::support::max_size(crate::support::config(), 100));
    let reply = ehlo(&mut h);
    assert!(lines(&reply).contains(&"SIZE 100"), "{reply:?}");
}

// pymta: basic_message_sending_test.py #28 test_early_rejection_if_size_verb_indicates_big_message
// pymta also took `MAIL FROM <addr>` without the colon; RFC 5321 §4.1.1.2
// requires it, so the colon is used here.
#[test]
fn basic_early_rejection_if_size_verb_indicates_big_message() {
    let mut h = Harness::with_config(crate::support::max_size(crate::support::config(), 100));
    ehlo(&mut h);
    let reply = h.send("MAIL FROM:<foo@example.com>   size=106530  ");
    assert_eq!(code(&reply), 552);
    assert_eq!(reply.text(), "message exceeds fixed maximum message size");
    assert_eq!(reply.enhanced(), Some(EnhancedCode::TOO_BIG));
    assert!(h.session().info().envelope().is_none());
}

// pymta: basic_message_sending_test.py #29 test_reject_verbs_for_plain_smtp
#[test]
fn basic_reject_verbs_for_plain_smtp() {
    let mut h = Harness::new();
    helo(&mut h);
    let reply = h.send("MAIL FROM:<foo@example.com> size=100");
    assert_eq!(code(&reply), 501);
    assert_eq!(reply.text(), "No SMTP extensions allowed for plain SMTP.");
}

// pymta: basic_message_sending_test.py #30 test_can_still_use_esmtp_after_first_mail
#[test]
fn basic_can_still_use_esmtp_after_first_mail() {
    let mut h = Harness::new();
    ehlo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&send_message(&mut h, "Subject: Test\r\n\r\n")), 250);
    let reply = h.send("MAIL FROM:<foo@example.com> size=106530");
    assert_eq!(code(&reply), 250);
    assert_eq!(reply.enhanced(), Some(EnhancedCode::SENDER_OK));
}
