//! Errors, timeouts and shutdown; custom verdicts; other verbs and
//! pipelining.

use std::sync::{Arc, Mutex};

use mtakit_proto::testing::Harness;
use mtakit_proto::{ApiMisuse, EnhancedCode, Pending, Reply, TimeoutKind, TlsInfo, Verdict};

use super::helpers::*;
use crate::support::{auth_config, config, greeted, st, sts};

// ----------------------------------------------------- errors and timeouts

#[test]
fn the_21st_bad_command_gets_421_and_close() {
    let mut c = config();
    c.limits.max_errors = 20;
    let mut h = ehlo(c);
    for n in 1..=20 {
        assert_eq!(st(&h.send("FROB")), "500 5.5.2", "error {n}");
    }
    assert_eq!(
        h.send("FROB").to_string(),
        "421 4.7.0 Error: too many errors\r\n"
    );
    assert!(h.is_closed());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}

#[test]
fn sequence_errors_count_towards_the_error_limit() {
    let mut c = config();
    c.limits.max_errors = 3;
    let mut h = ehlo(c);
    let replies =
        h.send_raw(b"RCPT TO:<a@b.test>\r\nDATA\r\nFROB\r\nNOOP\r\nMAIL FROM:<x\r\nNOOP\r\n");
    assert_eq!(
        sts(&replies),
        [
            "503 5.5.1",
            "503 5.5.1",
            "500 5.5.2",
            "250 2.0.0",
            "421 4.7.0"
        ]
    );
    assert!(h.is_closed());
}

#[test]
fn timed_out_replies_421_4_4_2_and_closes() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    h.session().timed_out();
    let replies = h.run();
    assert_eq!(
        wire(&replies),
        "421 4.4.2 localhost Error: timeout exceeded\r\n"
    );
    assert!(h.is_closed());
    assert_eq!(h.session().timeout(), None);
    assert!(h.send_raw(b"NOOP\r\n").is_empty());
}

/// Polls, accepting every decision, until a delivery is pending or the
/// session needs input. Returns the replies' wire form and whether a
/// delivery is pending.

#[test]
fn timeout_kind_follows_the_phase() {
    let mut s = session(config());
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
    pump(&mut s);
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
    s.receive(b"EHLO c.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\n");
    pump(&mut s);
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
    s.receive(b"DATA\r\n");
    let (out, _) = pump(&mut s);
    assert!(out.starts_with("354 "), "{out}");
    assert_eq!(s.timeout(), Some(TimeoutKind::DataBlock));
    s.receive(b"partial line");
    pump(&mut s);
    assert_eq!(s.timeout(), Some(TimeoutKind::DataBlock));
    s.receive(b"\r\n.\r\n");
    let (_, delivering) = pump(&mut s);
    assert!(delivering);
    assert_eq!(s.timeout(), Some(TimeoutKind::DataTermination));
    assert!(s.is_waiting_for_decision());
    s.decide(Verdict::accept()).unwrap();
    let (out, _) = pump(&mut s);
    assert!(out.starts_with("250 2.0.0"), "{out}");
    assert_eq!(s.timeout(), Some(TimeoutKind::Command));
}

#[test]
fn timed_out_while_a_delivery_is_pending_drops_it() {
    let mut s = session(config());
    pump(&mut s);
    s.receive(b"EHLO c.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nx\r\n.\r\n");
    let (_, delivering) = pump(&mut s);
    assert!(delivering);
    s.timed_out();
    let (out, _) = pump(&mut s);
    assert_eq!(out, "421 4.4.2 localhost Error: timeout exceeded\r\n");
    assert!(s.is_closed());
    assert_eq!(
        s.decide(Verdict::accept()),
        Err(ApiMisuse::NoPendingDecision)
    );
}

#[test]
fn shutdown_when_idle_closes_at_once() {
    let mut h = ehlo(config());
    h.session().shutdown();
    assert_eq!(
        wire(&h.run()),
        "421 4.3.2 localhost Service shutting down\r\n"
    );
    assert!(h.is_closed());
}

#[test]
fn shutdown_mid_transaction_waits_for_its_final_reply() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    h.session().shutdown();
    assert!(h.run().is_empty());
    assert!(!h.is_closed());
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
    assert!(h.send_raw(b"partial\r\n").is_empty());
    let replies = h.send_raw(b".\r\nNOOP\r\n");
    assert_eq!(sts(&replies), ["250 2.0.0", "421 4.3.2"]);
    assert!(h.is_closed());
    assert_eq!(h.delivered().len(), 1);
}

#[test]
fn shutdown_mid_transaction_ends_after_rset() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    h.session().shutdown();
    assert!(h.run().is_empty());
    assert_eq!(sts(&h.send_raw(b"RSET\r\n")), ["250 2.0.0", "421 4.3.2"]);
    assert!(h.is_closed());
}

#[test]
fn custom_single_and_multi_line_replies() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { reverse_path, .. } if reverse_path.to_string().contains("evil") => {
            Verdict::reject_with(
                Reply::multiline(553, EnhancedCode::new(5, 7, 1), ["Go away", "Evil IP"]).unwrap(),
            )
        }
        Pending::RcptTo { forward_path, .. } if forward_path.to_string().contains("nobody") => {
            Verdict::reject_with(reply(550, Some((5, 1, 1)), "No such user"))
        }
        Pending::RcptTo { .. } => {
            Verdict::accept_with(reply(250, Some((2, 1, 5)), "Recipient fine"))
        }
        _ => Verdict::accept(),
    });
    assert_eq!(
        h.send("MAIL FROM:<x@evil.test>").to_string(),
        "553-5.7.1 Go away\r\n553 5.7.1 Evil IP\r\n"
    );
    assert_eq!(st(&h.send("MAIL FROM:<x@good.test>")), "250 2.1.0");
    assert_eq!(
        h.send("RCPT TO:<nobody@b.test>").to_string(),
        "550 5.1.1 No such user\r\n"
    );
    assert_eq!(
        h.send("RCPT TO:<b@b.test>").to_string(),
        "250 2.1.5 Recipient fine\r\n"
    );
    assert_eq!(st(&h.send("DATA")), "354");
    assert_eq!(sts(&h.send_raw(b"x\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].envelope.recipients.len(), 1);
}

#[test]
fn custom_replies_lose_their_enhanced_code_after_helo() {
    let mut h = greeted(config()).with_policy(|p, _| match p {
        Pending::RcptTo { .. } => Verdict::reject_with(reply(550, Some((5, 1, 1)), "No such user")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("HELO c.test")), "250");
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250");
    assert_eq!(
        h.send("RCPT TO:<b@b.test>").to_string(),
        "550 No such user\r\n"
    );
}

#[test]
fn and_close_sends_the_reply_then_closes() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::RcptTo { .. } => {
            Verdict::reject_with(reply(554, Some((5, 7, 1)), "Go away")).and_close()
        }
        _ => Verdict::accept(),
    });
    let replies = h.send_raw(b"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nNOOP\r\n");
    assert_eq!(wire(&replies), "250 2.1.0 OK\r\n554 5.7.1 Go away\r\n");
    assert!(h.is_closed());
    assert!(h.send_raw(b"NOOP\r\n").is_empty());

    // Accepting and closing.
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { .. } => Verdict::accept().and_close(),
        _ => Verdict::accept(),
    });
    let replies = h.send_raw(b"MAIL FROM:<a@a.test>\r\nNOOP\r\n");
    assert_eq!(sts(&replies), ["250 2.1.0"]);
    assert!(h.is_closed());
}

#[test]
fn disconnect_closes_without_a_reply() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { .. } => Verdict::disconnect(),
        _ => Verdict::accept(),
    });
    assert!(h.send_raw(b"MAIL FROM:<a@a.test>\r\nNOOP\r\n").is_empty());
    assert!(h.is_closed());

    // At connect: no greeting at all.
    let mut h = Harness::new().with_policy(|_, _| Verdict::disconnect());
    assert!(h.run().is_empty());
    assert!(h.is_closed());
}

#[test]
fn rejected_connection_gets_554_and_closes() {
    let mut h = Harness::new().with_policy(|_, _| Verdict::reject());
    assert_eq!(wire(&h.run()), "554 SMTP service not available\r\n");
    assert!(h.is_closed());
}

#[test]
fn accept_with_a_failure_reply_becomes_451_and_a_rejection() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::MailFrom { .. } => Verdict::accept_with(reply(550, Some((5, 7, 1)), "no")),
        _ => Verdict::accept(),
    });
    assert_eq!(
        h.send("MAIL FROM:<a@a.test>").to_string(),
        "451 4.3.0 Internal policy error\r\n"
    );
    assert!(h.session().info().envelope().is_none());
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "503 5.5.1");
}

#[test]
fn reject_with_a_success_reply_becomes_451_and_a_rejection() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::RcptTo { .. } => Verdict::reject_with(reply(250, Some((2, 1, 5)), "fine?")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "451 4.3.0");
    assert_eq!(h.session().info().envelope().unwrap().recipients.len(), 0);
    assert_eq!(st(&h.send("DATA")), "554 5.5.1");
}

#[test]
fn accepting_data_with_a_non_3xx_reply_becomes_451() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::Data => Verdict::accept_with(reply(250, None, "go")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "451 4.3.0");
    // Not in DATA mode: the next line is a command.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn sink_accepting_with_a_failure_reply_becomes_451() {
    let mut h = ehlo(config()).with_sink(|_| Verdict::accept_with(reply(554, None, "no")));
    open_data(&mut h);
    assert_eq!(sts(&h.send_raw(b"x\r\n.\r\n")), ["451 4.3.0"]);
    assert_eq!(h.session().info().transactions(), 0);
}

#[test]
fn custom_354_for_data() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::Data => Verdict::accept_with(reply(354, None, "Go ahead, end with <CRLF>.<CRLF>")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(
        h.send("DATA").to_string(),
        "354 Go ahead, end with <CRLF>.<CRLF>\r\n"
    );
    assert_eq!(sts(&h.send_raw(b"hello\r\n.\r\n")), ["250 2.0.0"]);
    assert_eq!(h.delivered()[0].data, b"hello\r\n");
}

#[test]
fn rejected_data_keeps_the_transaction() {
    let mut h = ehlo(config()).with_policy(|p, _| match p {
        Pending::Data => Verdict::reject_with(reply(451, Some((4, 3, 0)), "later")),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(h.send("DATA").to_string(), "451 4.3.0 later\r\n");
    // The body lines are commands now.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
    assert!(h.delivered().is_empty());
}

// ----------------------------------------------------------- other verbs

#[test]
fn vrfy_expn_help() {
    let mut h = ehlo(config());
    assert_eq!(st(&h.send("VRFY someone")), "252 2.5.2");
    assert!(
        h.pendings()
            .iter()
            .any(|p| matches!(p, Pending::Vrfy { argument } if argument == "someone"))
    );
    assert_eq!(st(&h.send("EXPN list")), "502 5.5.1");
    let help = h.send("HELP");
    assert_eq!(help.code().get(), 214);
    assert!(help.text().contains("MAIL"));
    assert_eq!(st(&h.send("VRFY")), "501 5.5.4");
}

#[test]
fn api_misuse_is_reported() {
    let mut h = ehlo(config());
    assert_eq!(
        h.session().decide(Verdict::accept()),
        Err(ApiMisuse::NoPendingDecision)
    );
    assert_eq!(
        h.session().tls_established(TlsInfo::new("TLSv1.3", "X")),
        Err(ApiMisuse::NoTlsHandshake)
    );
    // The session is unharmed.
    assert_eq!(st(&h.send("NOOP")), "250 2.0.0");
}

#[test]
fn pipelined_transactions_keep_their_replies_in_order() {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let b = Arc::clone(&bodies);
    let mut h = ehlo(config()).with_sink(move |t| {
        b.lock().unwrap().push(t.data.clone());
        Verdict::accept()
    });
    let replies = h.send_raw(
        b"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\none\r\n.\r\n\
          MAIL FROM:<c@a.test>\r\nRCPT TO:<d@b.test>\r\nDATA\r\n..two\r\n.\r\nQUIT\r\n",
    );
    assert_eq!(
        sts(&replies),
        [
            "250 2.1.0",
            "250 2.1.5",
            "354",
            "250 2.0.0",
            "250 2.1.0",
            "250 2.1.5",
            "354",
            "250 2.0.0",
            "221 2.0.0"
        ]
    );
    assert_eq!(
        *bodies.lock().unwrap(),
        vec![b"one\r\n".to_vec(), b".two\r\n".to_vec()]
    );
    assert!(h.is_closed());
}

#[test]
fn an_overlong_line_gets_the_same_reply_however_it_ends_or_arrives() {
    for ending in [&b"\r\n"[..], b"\n"] {
        let mut input = b"NOOP ".to_vec();
        input.extend(std::iter::repeat_n(b'A', 3000));
        input.extend_from_slice(ending);
        input.extend_from_slice(b"NOOP\r\n");
        for chunk in [input.len(), 100, 1] {
            let mut h = ehlo(config());
            let mut replies = Vec::new();
            for piece in input.chunks(chunk) {
                replies.extend(h.send_raw(piece));
            }
            assert_eq!(
                sts(&replies),
                ["500 5.5.6", "250 2.0.0"],
                "ending {ending:?}, chunk {chunk}"
            );
        }
        // The same for a SASL continuation line.
        let mut input = vec![b'A'; 13_000];
        input.extend_from_slice(ending);
        input.extend_from_slice(b"NOOP\r\n");
        for chunk in [input.len(), 1000] {
            let mut h = ehlo(auth_config());
            assert_eq!(h.send("AUTH LOGIN").code().get(), 334);
            let mut replies = Vec::new();
            for piece in input.chunks(chunk) {
                replies.extend(h.send_raw(piece));
            }
            assert_eq!(
                sts(&replies),
                ["500 5.5.6", "250 2.0.0"],
                "SASL, ending {ending:?}, chunk {chunk}"
            );
        }
    }
    // A short line with a bare LF is still refused as such.
    let mut h = ehlo(config());
    assert_eq!(
        h.send_raw(b"NOOP\n")[0].to_string(),
        "500 5.5.2 Bare <LF> received; lines must end with <CR><LF>\r\n"
    );
}
