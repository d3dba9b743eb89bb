//! pymta's tests/basic_smtp_test.py and command_parsing_test.py, ported.

use mtakit_proto::testing::Harness;
use mtakit_proto::{Command, Domain, EnhancedCode, Pending, Reply, TimeoutKind, Verdict};

use crate::support::auth_config;
use crate::support::pymta::{b64, code, ehlo, helo, mail_and_rcpt, with_authenticator};

use super::helpers::*;
// ---------------------------------------------------------------------------
// §3.2 tests/basic_smtp_test.py (smtplib over TCP in pymta; the same
// dialogues as in-memory transcripts here, TCP is covered elsewhere)

const SMTPLIB_MSG: &str = "Subject: Test\r\n\r\nJust testing...\r\n";

// pymta: basic_smtp_test.py #1 test_helo
#[test]
fn smtp_helo() {
    let mut h = with_authenticator(auth_config());
    assert_eq!(code(&h.send("helo foo")), 250);
}

// pymta: basic_smtp_test.py #2 test_send_simple_email
// smtplib adds a CRLF before the final `.`; mtakit keeps it in the data.
#[test]
fn smtp_send_simple_email() {
    let (mut h, seen) = recording();
    assert_eq!(code(&h.send("helo foo")), 250);
    assert_eq!(code(&h.send("mail FROM:<from@example.com>")), 250);
    assert_eq!(code(&h.send("rcpt TO:<to@example.com>")), 250);
    assert_eq!(code(&send_message(&mut h, SMTPLIB_MSG)), 250);
    assert_eq!(code(&h.send("quit")), 221);
    assert_eq!(h.delivered().len(), 1);
    let msg = &h.delivered()[0];
    assert_eq!(msg.envelope.reverse_path.to_string(), "<from@example.com>");
    assert_eq!(rcpts(&h, 0), ["<to@example.com>"]);
    assert_eq!(msg.data, SMTPLIB_MSG.as_bytes());
    assert_eq!(seen.lock().unwrap()[0].helo().unwrap().to_string(), "foo");
}

/// What smtplib's `sendmail` sends after EHLO.
fn sendmail(h: &mut Harness, from: &str, to: &[&str], content: &str) {
    assert_eq!(code(&h.send(&format!("mail FROM:<{from}>"))), 250);
    for rcpt in to {
        assert_eq!(code(&h.send(&format!("rcpt TO:<{rcpt}>"))), 250);
    }
    assert_eq!(code(&send_message(h, content)), 250);
}

// pymta: basic_smtp_test.py #3 test_send_email_via_smtplib
#[test]
fn smtp_send_email_via_smtplib() {
    let mut h = with_authenticator(auth_config());
    assert_eq!(code(&h.send("ehlo [127.0.0.1]")), 250);
    sendmail(&mut h, "from@example.com", &["to@example.com"], SMTPLIB_MSG);
    assert_eq!(h.delivered().len(), 1);
    let msg = &h.delivered()[0];
    assert_eq!(msg.envelope.reverse_path.to_string(), "<from@example.com>");
    assert_eq!(rcpts(&h, 0), ["<to@example.com>"]);
    assert_eq!(msg.data, SMTPLIB_MSG.as_bytes());
}

// pymta: basic_smtp_test.py #4 test_multiple_recipients
#[test]
fn smtp_multiple_recipients() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    let to = ["foo@example.com", "bar@example.com"];
    sendmail(&mut h, "from@example.com", &to, SMTPLIB_MSG);
    assert_eq!(rcpts(&h, 0), ["<foo@example.com>", "<bar@example.com>"]);
}

// pymta: basic_smtp_test.py #5 test_send_email_with_authentication
#[test]
fn smtp_send_email_with_authentication() {
    let (mut h, seen) = recording();
    let ehlo_reply = ehlo(&mut h);
    assert!(lines(&ehlo_reply).contains(&"AUTH PLAIN LOGIN"));
    let reply = h.send(&format!("AUTH PLAIN {}", b64("\0admin\0admin")));
    assert_eq!(code(&reply), 235);
    sendmail(&mut h, "from@example.com", &["to@example.com"], SMTPLIB_MSG);
    assert_eq!(h.delivered().len(), 1);
    assert_eq!(username(&seen.lock().unwrap()[0]), Some("admin"));
}

// pymta: basic_smtp_test.py #6 test_send_email_with_auth_login
#[test]
fn smtp_send_email_with_auth_login() {
    let (mut h, seen) = recording();
    ehlo(&mut h);
    let prompt = h.send(&format!("AUTH LOGIN {}", b64("foo")));
    assert_eq!((code(&prompt), prompt.text()), (334, "UGFzc3dvcmQ6"));
    let ok = h.send(&b64("foo"));
    assert_eq!((code(&ok), ok.text()), (235, "Authentication successful"));
    sendmail(&mut h, "from@example.com", &["to@example.com"], SMTPLIB_MSG);
    assert_eq!(username(&seen.lock().unwrap()[0]), Some("foo"));
}

// pymta: basic_smtp_test.py #7 test_send_multiple_emails_in_one_connection
#[test]
fn smtp_send_multiple_emails_in_one_connection() {
    let (mut h, seen) = recording();
    ehlo(&mut h);
    assert_eq!(
        code(&h.send(&format!("AUTH PLAIN {}", b64("\0admin\0admin")))),
        235
    );
    sendmail(&mut h, "from@example.com", &["to@example.com"], SMTPLIB_MSG);
    sendmail(&mut h, "from@example.com", &["to@example.com"], SMTPLIB_MSG);
    assert_eq!(h.delivered().len(), 2);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].helo(), seen[1].helo());
    assert_eq!(username(&seen[0]), Some("admin"));
    assert_eq!(username(&seen[1]), Some("admin"));
    assert_eq!(seen[1].transactions(), 1);
}

// pymta: basic_smtp_test.py #8 test_transparency_support_enabled
#[test]
fn smtp_transparency_support_enabled() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    // smtplib dot-stuffs ".Bar" to "..Bar"; the server unstuffs it.
    let stuffed = "Subject: Test\r\n\r\nFoo\r\n..Bar\r\nBaz\r\n";
    sendmail(&mut h, "from@example.com", &["to@example.com"], stuffed);
    assert_eq!(
        h.delivered()[0].data,
        b"Subject: Test\r\n\r\nFoo\r\n.Bar\r\nBaz\r\n"
    );
}

// pymta: basic_smtp_test.py #9 test_big_messages_are_rejected
// smtplib sends SIZE= because EHLO advertised it; the rejection is early.
// The same limit enforced after DATA is in smtp_big_messages_are_rejected_after_data.
#[test]
fn smtp_big_messages_are_rejected() {
    let mut h = with_authenticator(crate::support::max_size(auth_config(), 100));
    assert!(lines(&ehlo(&mut h)).contains(&"SIZE 100"));
    let body = "x".repeat(70) + "\r\n";
    let size = body.len() * 1500;
    let reply = h.send(&format!("mail FROM:<from@example.com> size={size}"));
    assert_eq!(code(&reply), 552);
    assert_eq!(reply.text(), "message exceeds fixed maximum message size");
    assert!(h.delivered().is_empty());
}

// pymta: basic_smtp_test.py #9 test_big_messages_are_rejected (without SIZE=)
#[test]
fn smtp_big_messages_are_rejected_after_data() {
    let mut h = with_authenticator(crate::support::max_size(auth_config(), 100));
    ehlo(&mut h);
    mail_and_rcpt(&mut h);
    let reply = send_message(&mut h, &("x".repeat(70) + "\r\n").repeat(1500));
    assert_eq!(code(&reply), 552);
    assert_eq!(reply.text(), "message exceeds fixed maximum message size");
    assert_eq!(reply.enhanced(), Some(EnhancedCode::TOO_BIG));
    assert!(h.delivered().is_empty());
}

// pymta: basic_smtp_test.py #10 test_workerprocess_detects_closed_connections_when_reading
// In memory: the peer goes away after HELO; the session is closed, ignores
// further input, and a new session is served normally.
#[test]
fn smtp_workerprocess_detects_closed_connections_when_reading() {
    let mut h = with_authenticator(auth_config());
    assert_eq!(code(&h.send("helo foo")), 250);
    h.session().peer_closed();
    assert!(h.session().is_closed());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
    assert_eq!(h.session().timeout(), None);

    let mut again = with_authenticator(auth_config());
    assert_eq!(code(&again.greeting()), 220);
    assert_eq!(code(&again.send("helo foo")), 250);
}

// pymta: basic_smtp_test.py #11 test_workerprocess_detects_closed_connections_when_writing
#[test]
fn smtp_workerprocess_detects_closed_connections_when_writing() {
    let go_away = Reply::multiline(552, None, ["Go away"; 10]).unwrap();
    let mut h = Harness::new().with_policy(move |pending, _| match pending {
        Pending::Helo { .. } => Verdict::reject_with(go_away.clone()),
        _ => Verdict::accept(),
    });
    let replies = h.send_raw(b"helo foo\r\n");
    assert_eq!(replies.len(), 1);
    assert_eq!(code(&replies[0]), 552);
    assert_eq!(lines(&replies[0]), ["Go away"; 10]);
    h.session().peer_closed();
    assert!(h.session().is_closed());

    let mut again = Harness::new();
    assert_eq!(code(&again.greeting()), 220);
}

// ---------------------------------------------------------------------------
// §3.3 tests/command_parsing_test.py

// pymta: command_parsing_test.py #1 test_parse_command_without_arguments
#[test]
fn parsing_parse_command_without_arguments() {
    assert_eq!(Command::parse(b"QUIT"), Ok(Command::Quit));
    assert_eq!(Command::parse(b"RSET"), Ok(Command::Rset));
    assert_eq!(Command::parse(b"DATA"), Ok(Command::Data));
}

// pymta: command_parsing_test.py #2 test_parse_helo
// pymta's parser passed `foo example.com` on for later validation; the
// typed parser rejects it at once with 501.
#[test]
fn parsing_parse_helo() {
    assert_eq!(
        Command::parse(b"HELO foo.example.com"),
        Ok(Command::Helo(Domain::Name("foo.example.com".into())))
    );
    let err = Command::parse(b"helo foo example.com").unwrap_err();
    assert_eq!(err.reply().code().get(), 501);
}

// pymta: command_parsing_test.py #3 test_strip_parameters
#[test]
fn parsing_strip_parameters() {
    assert_eq!(
        Command::parse(b"HELO   foo.example.com   "),
        Ok(Command::Helo(Domain::Name("foo.example.com".into())))
    );
}

// pymta: command_parsing_test.py #4 test_parse_commands_with_colons
// The comma-separated RCPT list is one invalid path: 501 (pymta rejected it
// later, in validation).
#[test]
fn parsing_parse_commands_with_colons() {
    for line in [
        &b"MAIL FROM: foo@example.com"[..],
        b"MAIL FROM:foo@example.com",
        b"MAIL FROM:  foo@example.com   ",
    ] {
        match Command::parse(line) {
            Ok(Command::Mail {
                reverse_path,
                has_params: false,
                ..
            }) => assert_eq!(reverse_path.to_string(), "<foo@example.com>"),
            other => panic!("{}: {other:?}", String::from_utf8_lossy(line)),
        }
    }
    let err = Command::parse(b"RCPT TO:foo@example.com, bar@example.com").unwrap_err();
    assert_eq!(err.reply().code().get(), 501);
}

// pymta: command_parsing_test.py #5 test_parse_auth_plain
#[test]
fn parsing_parse_auth_plain() {
    assert_eq!(
        Command::parse(b"AUTH PLAIN AGZvbwBiYXI="),
        Ok(Command::Auth {
            mechanism: "PLAIN".into(),
            initial_response: Some("AGZvbwBiYXI=".into()),
        })
    );
}

// pymta: command_parsing_test.py #6 test_parse_auth_login_with_username
// pymta asserted only "no exception"; the 535 and that MAIL is accepted
// without authentication (none is required) are asserted here.
#[test]
fn parsing_parse_auth_login_with_username() {
    let mut h = with_authenticator(auth_config());
    let replies = h.send_raw(
        format!(
            "EHLO foo\r\nAUTH LOGIN {}\r\n{}\r\nMAIL FROM: foo@example.com\r\n",
            b64("foo"),
            b64("secret")
        )
        .as_bytes(),
    );
    let codes: Vec<u16> = replies.iter().map(code).collect();
    assert_eq!(codes, [250, 334, 535, 250]);
    assert!(h.session().info().auth().is_none());
}

// pymta: command_parsing_test.py #7 test_can_switch_to_data_mode
#[test]
fn parsing_can_switch_to_data_mode() {
    let mut h = Harness::new();
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(h.session().timeout(), Some(TimeoutKind::Command));
    assert_eq!(code(&h.send("DATA")), 354);
    assert_eq!(h.session().timeout(), Some(TimeoutKind::DataBlock));
    // A command line is now content: no reply.
    assert!(h.send_raw(b"QUIT\r\n").is_empty());
}

// pymta: command_parsing_test.py #8 test_switch_to_command_mode_when_mail_is_sent
#[test]
fn parsing_switch_to_command_mode_when_mail_is_sent() {
    let mut h = Harness::new();
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    assert!(h.send_raw(b"Subject: Foo\r\n\r\n").is_empty());
    assert!(h.send_raw(b"test").is_empty());
    let replies = h.send_raw(b"\r\n.\r\n");
    assert_eq!(replies.iter().map(code).collect::<Vec<_>>(), [250]);
    assert_eq!(h.session().timeout(), Some(TimeoutKind::Command));
    assert_eq!(h.delivered().len(), 1);
    assert_eq!(h.delivered()[0].data, b"Subject: Foo\r\n\r\ntest\r\n");
}

// pymta: command_parsing_test.py #9 test_recognizes_end_of_data_mode_even_if_terminator_is_sent_in_multiple_packages
// pymta delivered ''; mtakit keeps the one empty line the client sent.
#[test]
fn parsing_recognizes_end_of_data_mode_even_if_terminator_is_sent_in_multiple_packages() {
    let mut h = Harness::new();
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    assert!(h.send_raw(b"\r\n").is_empty());
    assert!(h.send_raw(b".").is_empty());
    assert_eq!(code(&h.send_raw(b"\r\n")[0]), 250);
    assert_eq!(h.delivered().len(), 1);
    assert_eq!(h.delivered()[0].data, b"\r\n");
    assert_eq!(h.session().timeout(), Some(TimeoutKind::Command));
}

// pymta: command_parsing_test.py #10 test_recognizes_complete_command_mode_even_if_terminator_is_sent_in_multiple_packages
#[test]
fn parsing_recognizes_complete_command_mode_even_if_terminator_is_sent_in_multiple_packages() {
    let mut h = Harness::new();
    assert!(h.send_raw(b"HELO foo").is_empty());
    assert!(h.send_raw(b"\r").is_empty());
    assert_eq!(h.send_raw(b"\n").len(), 1);
    let codes: Vec<u16> = h.replies().iter().map(code).collect();
    assert_eq!(codes, [220, 250]);
}

// pymta: command_parsing_test.py #11 test_supports_transparency_for_lines_starting_with_a_dot
#[test]
fn parsing_supports_transparency_for_lines_starting_with_a_dot() {
    let mut h = Harness::new();
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    assert!(h.send_raw(b"..foo\r\n").is_empty());
    assert!(h.send_raw(b"..bar..baz\r\n").is_empty());
    assert_eq!(code(&h.send_raw(b"\r\n.\r\n")[0]), 250);
    assert_eq!(h.delivered()[0].data, b".foo\r\n.bar..baz\r\n\r\n");
}

// pymta: command_parsing_test.py #12 test_big_messages_are_rejected
// Fixed (pymta bug §5.4): the limit is enforced while streaming; nothing is
// replied until the end of data, then 552.
#[test]
fn parsing_big_messages_are_rejected() {
    let mut h = Harness::with_config(crate::support::max_size(crate::support::config(), 100));
    helo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    let chunk = "x".repeat(70) + "\r\n";
    for _ in 0..1500 {
        assert!(h.send_raw(chunk.as_bytes()).is_empty());
    }
    let replies = h.send_raw(b".\r\n");
    assert_eq!(replies.len(), 1);
    assert!(replies[0].to_string().starts_with("552 "), "{replies:?}");
    assert!(h.delivered().is_empty());
}
