//! pymta.md §5: one test per bug, proving the fix.

use mtakit_proto::address::{ForwardPath, ReversePath};
use mtakit_proto::testing::Harness;
use mtakit_proto::{EnhancedCode, Mechanism, Pending, Reply, TimeoutKind, Verdict};

use crate::support::pymta::{
    b64, code, dummy_authenticator, ehlo, mail_and_rcpt, with_authenticator,
};
use crate::support::{auth_config, codes};

// ---------------------------------------------------------------------------
// pymta.md §5: one test per bug (items 1-12), proving the fix

// pymta bug §5.1 fixed: several commands in one packet are each answered,
// in order (RFC 2920).
#[test]
fn fixed_pipelined_commands_in_one_packet() {
    let mut h = Harness::new();
    let replies =
        h.send_raw(b"EHLO foo\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n");
    assert_eq!(codes(&replies), [250, 250, 250]);
    let replies = h.send_raw(b"DATA\r\nhello\r\n.\r\nMAIL FROM:<c@example.com>\r\nRSET\r\n");
    assert_eq!(codes(&replies), [354, 250, 250, 250]);
    assert_eq!(h.delivered()[0].data, b"hello\r\n");
}

// pymta bug §5.1 fixed: `hello\r\n.\r\nQUIT\r\n` in one packet gives a clean
// message, a 250, and QUIT still works.
#[test]
fn fixed_message_end_and_quit_in_one_packet() {
    let mut h = Harness::new();
    ehlo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    let replies = h.send_raw(b"hello\r\n.\r\nQUIT\r\n");
    assert_eq!(codes(&replies), [250, 221]);
    assert_eq!(h.delivered().len(), 1);
    assert_eq!(h.delivered()[0].data, b"hello\r\n");
    assert!(h.is_closed());
}

// pymta bug §5.2 fixed: an LF-only command line gets an error reply instead
// of silence, and the session goes on.
#[test]
fn fixed_lf_only_line_endings_get_a_reply() {
    let mut h = Harness::new();
    let replies = h.send_raw(b"NOOP\n");
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(code(&replies[0]), 500);
    assert_eq!(code(&h.send("NOOP")), 250);
}

// pymta bug §5.3 fixed: an empty message `.\r\n` right after DATA ends it.
#[test]
fn fixed_empty_message_right_after_data() {
    let mut h = Harness::new();
    ehlo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    assert_eq!(codes(&h.send_raw(b".\r\n")), [250]);
    assert_eq!(h.delivered().len(), 1);
    assert!(h.delivered()[0].data.is_empty());
}

// pymta bug §5.4 and §5.5 fixed: an oversized message is drained while
// streaming, answered 552 at the end, and MAIL works without RSET. An
// over-long command line gets `500 5.5.6`.
#[test]
fn fixed_oversized_message_drained_then_552_and_mail_works_without_rset() {
    let mut h = Harness::with_config(crate::support::max_size(crate::support::config(), 100));
    ehlo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    // Command lookalikes inside the oversized content stay content.
    let chunk = "MAIL FROM:<x@example.com>\r\n".repeat(40);
    assert!(h.send_raw(chunk.as_bytes()).is_empty());
    let reply = h.send_raw(b".\r\n");
    assert_eq!(codes(&reply), [552]);
    assert_eq!(reply[0].enhanced(), Some(EnhancedCode::TOO_BIG));
    assert!(h.delivered().is_empty());
    assert!(h.session().info().envelope().is_none());
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);

    let long = format!("NOOP {}", "x".repeat(2000));
    let reply = h.send(&long);
    assert_eq!(code(&reply), 500);
    assert_eq!(reply.enhanced(), Some(EnhancedCode::LINE_TOO_LONG));
    assert_eq!(code(&h.send("RCPT TO:<bar@example.com>")), 250);
}

// pymta bug §5.5 fixed: after a message is refused at its end (550), the
// session is ready for MAIL at once.
#[test]
fn fixed_rejected_message_does_not_block_next_mail() {
    let mut h = Harness::new().with_sink(|_| Verdict::reject());
    ehlo(&mut h);
    mail_and_rcpt(&mut h);
    assert_eq!(code(&h.send("DATA")), 354);
    assert_eq!(codes(&h.send_raw(b"spam\r\n.\r\n")), [550]);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
}

// pymta bug §5.6 fixed: a custom accept reply on connect still greets (the
// session then takes HELO), and on DATA still enters data mode.
#[test]
fn fixed_custom_accept_reply_on_connect_and_data() {
    let banner = Reply::new(220, None, "mx.example ESMTP ready").unwrap();
    let go = Reply::new(354, None, "Go ahead").unwrap();
    let mut h = Harness::new().with_policy(move |pending, _| match pending {
        Pending::Connect => Verdict::accept_with(banner.clone()),
        Pending::Data => Verdict::accept_with(go.clone()),
        _ => Verdict::accept(),
    });
    let greeting = h.greeting();
    assert_eq!(
        (code(&greeting), greeting.text()),
        (220, "mx.example ESMTP ready")
    );
    assert_eq!(code(&h.send("HELO foo")), 250);
    mail_and_rcpt(&mut h);
    let data = h.send("DATA");
    assert_eq!((code(&data), data.text()), (354, "Go ahead"));
    assert_eq!(h.session().timeout(), Some(TimeoutKind::DataBlock));
    assert_eq!(codes(&h.send_raw(b"QUIT\r\n.\r\n")), [250]);
    assert_eq!(h.delivered()[0].data, b"QUIT\r\n");
}

// pymta bug §5.6 fixed: closing before the reply (pymta crashed when a
// custom reply was also set; `Verdict::disconnect` carries none) and a
// custom reply with close-after work at every stage, without a panic.
#[test]
fn fixed_close_before_reply_and_custom_reply_do_not_crash() {
    type Stage = (&'static str, fn(&Pending) -> bool);
    let stages: [Stage; 5] = [
        ("connect", |p| matches!(p, Pending::Connect)),
        ("helo", |p| matches!(p, Pending::Helo { .. })),
        ("mail", |p| matches!(p, Pending::MailFrom { .. })),
        ("rcpt", |p| matches!(p, Pending::RcptTo { .. })),
        ("data", |p| matches!(p, Pending::Data)),
    ];
    let script =
        b"EHLO foo\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\n";
    for (stage, hit) in stages {
        for with_reply in [false, true] {
            let mut h = Harness::new().with_policy(move |pending, _| {
                if !hit(pending) {
                    Verdict::accept()
                } else if with_reply {
                    Verdict::reject_with(Reply::new(421, None, "Bye").unwrap()).and_close()
                } else {
                    Verdict::disconnect()
                }
            });
            let replies = h.send_raw(script);
            assert!(h.is_closed(), "{stage}");
            assert!(h.delivered().is_empty(), "{stage}");
            let last = replies.last().or(h.replies().last());
            if with_reply {
                assert_eq!(last.map(|r| r.text()), Some("Bye"), "{stage}");
            } else {
                assert_ne!(last.map(|r| r.text()), Some("Bye"), "{stage}");
            }
        }
    }
    // The sink can hang up too: the message is not acknowledged.
    let mut h = Harness::new().with_sink(|_| Verdict::disconnect());
    let replies = h.send_raw(script);
    assert_eq!(codes(&replies), [250, 250, 250, 354]);
    assert!(h.is_closed());
}

// pymta bug §5.6 fixed (pymta.md §1.2: a custom accept reply on
// accept_auth_plain skipped the password check): a custom accepting reply on
// AUTH never authenticates by itself; the credentials are still checked.
#[test]
fn fixed_custom_accept_reply_on_auth_still_checks_credentials() {
    let mut h = Harness::with_config(auth_config()).with_policy(|pending, info| match pending {
        Pending::Auth { .. } => Verdict::accept_with(Reply::new(250, None, "go on").unwrap()),
        _ => dummy_authenticator(pending, info),
    });
    ehlo(&mut h);
    let reply = h.send(&format!("AUTH PLAIN {}", b64("\0foo\0bar")));
    assert_eq!(code(&reply), 535);
    assert!(h.session().info().auth().is_none());
}

// pymta bug §5.6 fixed (pymta.md §1.2: a custom accept reply on
// accept_auth_login sent no 334 prompt and never entered the exchange).
// Here the mechanism drives the exchange whatever the accepting reply.
#[test]
fn fixed_custom_accept_reply_on_auth_login_still_prompts() {
    let prompt = Reply::new(334, None, "VXNlcm5hbWU6").unwrap();
    let mut h =
        Harness::with_config(auth_config()).with_policy(move |pending, info| match pending {
            Pending::Auth { .. } => Verdict::accept_with(prompt.clone()),
            _ => dummy_authenticator(pending, info),
        });
    ehlo(&mut h);
    let first = h.send("AUTH LOGIN");
    assert_eq!((code(&first), first.text()), (334, "VXNlcm5hbWU6"));
    assert_eq!(code(&h.send(&b64("foo"))), 334);
    assert_eq!(code(&h.send(&b64("foo"))), 235);
}

// pymta bug §5.7 fixed: a failed AUTH leaves the session unauthenticated
// (MAIL gets 530 when AUTH is required), and AUTH can be retried.
#[test]
fn fixed_failed_auth_leaves_session_unauthenticated_and_can_be_retried() {
    let mut config = auth_config();
    config.require_auth = true;
    let mut h = with_authenticator(config);
    ehlo(&mut h);
    assert_eq!(
        code(&h.send(&format!("AUTH PLAIN {}", b64("\0foo\0bar")))),
        535
    );
    assert!(h.session().info().auth().is_none());
    let reply = h.send("MAIL FROM:<foo@example.com>");
    assert_eq!(
        (code(&reply), reply.enhanced()),
        (530, Some(EnhancedCode::SECURITY))
    );
    assert_eq!(code(&h.send(&format!("AUTH LOGIN {}", b64("foo")))), 334);
    assert_eq!(code(&h.send(&b64("bar"))), 535);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 530);
    assert_eq!(
        code(&h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")))),
        235
    );
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
}

// pymta bug §5.7 fixed: RSET keeps the authentication (RFC 4954).
#[test]
fn fixed_rset_keeps_authentication() {
    let mut config = auth_config();
    config.require_auth = true;
    let mut h = with_authenticator(config);
    ehlo(&mut h);
    assert_eq!(
        code(&h.send(&format!("AUTH PLAIN {}", b64("\0foo\0foo")))),
        235
    );
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    assert_eq!(code(&h.send("RSET")), 250);
    assert_eq!(h.session().info().auth().unwrap().username, "foo");
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
}

// pymta bug §5.8 fixed: 8-bit body bytes are accepted byte-clean, and bad
// input everywhere gets a reply rather than a crash.
#[test]
fn fixed_eight_bit_body_and_bad_input_get_replies_not_crashes() {
    let mut h = with_authenticator(auth_config());
    ehlo(&mut h);
    assert_eq!(
        code(&h.send("MAIL FROM:<foo@example.com> BODY=8BITMIME")),
        250
    );
    assert_eq!(code(&h.send("RCPT TO:<bar@example.com>")), 250);
    assert_eq!(code(&h.send("DATA")), 354);
    let body = b"Subject: \xc3\xa4\r\n\r\n\xe4\xf6\xfc\xff\x80\r\n";
    let mut wire = body.to_vec();
    wire.extend_from_slice(b".\r\n");
    assert_eq!(codes(&h.send_raw(&wire)), [250]);
    assert_eq!(h.delivered()[0].data, body);
    assert_eq!(h.delivered()[0].stats.eight_bit, 7);

    // Non-ASCII in a command, bad base64 in AUTH LOGIN, extra AUTH words.
    assert_eq!(codes(&h.send_raw(b"HELO \xff\xfe\r\n")), [501]);
    assert_eq!(code(&h.send("AUTH LOGIN a b")), 501);
    assert_eq!(code(&h.send("AUTH LOGIN")), 334);
    assert_eq!(code(&h.send(&b64("foo"))), 334);
    assert_eq!(code(&h.send("not base64!")), 501);
    assert_eq!(code(&h.send("NOOP")), 250);

    // AUTH LOGIN with no mechanism configured: 502, no prompts.
    let mut h = Harness::new();
    ehlo(&mut h);
    assert_eq!(code(&h.send("AUTH LOGIN")), 502);
    assert_eq!(code(&h.send("NOOP")), 250);

    // A faulty policy (an accepting verdict with a 5xx reply) gets 451.
    let mut h = Harness::new().with_policy(|pending, _| match pending {
        Pending::MailFrom { .. } => Verdict::accept_with(Reply::new(550, None, "x").unwrap()),
        _ => Verdict::accept(),
    });
    ehlo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 451);
    assert!(h.session().info().envelope().is_none());
}

// pymta bug §5.9 fixed: the null sender `<>` is accepted (bounces).
#[test]
fn fixed_null_sender_is_accepted() {
    let mut h = Harness::new();
    ehlo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<>")), 250);
    assert_eq!(code(&h.send("RCPT TO:<bar@example.com>")), 250);
    assert_eq!(code(&h.send("DATA")), 354);
    assert_eq!(codes(&h.send_raw(b"bounce\r\n.\r\n")), [250]);
    assert_eq!(h.delivered()[0].envelope.reverse_path, ReversePath::Null);
}

// pymta bug §5.9 fixed: postmaster, quoted local parts, IP literals, other
// MAIL parameters and (with SMTPUTF8) UTF-8 addresses are accepted.
#[test]
fn fixed_postmaster_quoted_local_parts_and_ip_literals_accepted() {
    let mut h = Harness::new();
    ehlo(&mut h);
    assert_eq!(
        code(&h.send("MAIL FROM:<\"john doe\"@example.com> BODY=8BITMIME")),
        250
    );
    for rcpt in [
        "<postmaster>",
        "<Postmaster>",
        "<user@[192.0.2.1]>",
        "<user@[IPv6:2001:db8::1]>",
        "<\"a b\\\"c\"@example.com>",
        "<a!b@example.com>",
    ] {
        assert_eq!(code(&h.send(&format!("RCPT TO:{rcpt}"))), 250, "{rcpt}");
    }
    let recipients = &h.session().info().envelope().unwrap().recipients;
    assert_eq!(recipients[0].path, ForwardPath::Postmaster);
    assert_eq!(recipients[2].path.to_string(), "<user@[192.0.2.1]>");
    assert_eq!(code(&h.send("RSET")), 250);
    assert_eq!(code(&h.send("MAIL FROM:<jörg@exämple.com> SMTPUTF8")), 250);
    assert_eq!(code(&h.send("RCPT TO:<zoë@exämple.com>")), 250);
}

// pymta bug §5.10 fixed: EHLO can be repeated, RSET before HELO does not
// skip HELO, VRFY is 252 and EXPN 502 (not 500).
#[test]
fn fixed_rset_before_helo_does_not_skip_helo() {
    let mut h = Harness::new();
    assert_eq!(code(&h.send("RSET")), 250);
    let reply = h.send("MAIL FROM:<foo@example.com>");
    assert_eq!(code(&reply), 503);
    assert_eq!(code(&h.send("VRFY bob")), 252);
    assert_eq!(code(&h.send("EXPN staff")), 502);
    ehlo(&mut h);
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
    // A repeated EHLO resets the transaction (RFC 5321 §4.1.4).
    ehlo(&mut h);
    assert!(h.session().info().envelope().is_none());
    assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
}

// pymta bug §5.11 fixed: the 503 text has no typo and no set repr, and it
// and HELP are the same in every session.
#[test]
fn fixed_503_text_and_help_order_are_deterministic() {
    let transcript = || {
        let mut h = Harness::new();
        let bad = h.send("MAIL FROM:<foo@example.com>");
        let help = h.send("HELP");
        (bad, help)
    };
    let (bad, help) = transcript();
    assert_eq!(code(&bad), 503);
    assert_eq!(
        bad.text(),
        "Command \"MAIL\" is not allowed here: send HELO/EHLO first"
    );
    assert!(!bad.text().contains("on of") && !bad.text().contains('{'));
    assert_eq!(
        help.lines().collect::<Vec<_>>(),
        [
            "Commands supported",
            "HELO EHLO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY EXPN AUTH STARTTLS"
        ]
    );
    for _ in 0..5 {
        assert_eq!(transcript(), (bad.clone(), help.clone()));
    }
    // The verb is echoed as the client wrote it.
    let mut h = Harness::new();
    let lower = h.send("mail from:<foo@example.com>");
    assert!(
        lower
            .text()
            .starts_with("Command \"mail\" is not allowed here"),
        "{lower:?}"
    );
}

// pymta bug §5.12 fixed: AUTH is advertised only when it works (mechanisms
// configured, TLS or explicitly allowed plaintext), PLAIN and LOGIN both
// work, PLAIN takes a 334 challenge, and `*` cancels.
#[test]
fn fixed_auth_advertising_and_challenges() {
    let ehlo_lines =
        |h: &mut Harness| -> Vec<String> { ehlo(h).lines().map(str::to_owned).collect() };
    let mut h = Harness::new();
    assert!(!ehlo_lines(&mut h).iter().any(|l| l.starts_with("AUTH")));

    let mut plaintext = auth_config();
    plaintext.allow_insecure_auth = false;
    let mut h = with_authenticator(plaintext);
    assert!(!ehlo_lines(&mut h).iter().any(|l| l.starts_with("AUTH")));
    assert_eq!(code(&h.send("AUTH LOGIN")), 538);

    let mut h = with_authenticator(auth_config());
    assert!(ehlo_lines(&mut h).contains(&"AUTH PLAIN LOGIN".to_owned()));
    assert_eq!(code(&h.send("AUTH LOGIN")), 334);
    let cancel = h.send("*");
    assert_eq!(code(&cancel), 501);
    assert!(h.session().info().auth().is_none());
    assert_eq!(code(&h.send("AUTH PLAIN")), 334);
    assert_eq!(code(&h.send(&b64("\0foo\0foo"))), 235);
    assert_eq!(
        h.session().info().auth().unwrap().mechanism,
        Mechanism::Plain
    );
}
