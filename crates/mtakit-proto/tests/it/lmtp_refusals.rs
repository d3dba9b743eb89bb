//! LMTP (RFC 2033 §4.2): after the end of the message there is one reply
//! per accepted recipient, whatever refuses the message. A client that
//! pipelines QUIT would otherwise read the `221` as a recipient's result
//! and record mail as delivered that was never stored.

use crate::support::{codes, config};
use mtakit_proto::testing::Harness;
use mtakit_proto::{EnhancedCode, Pending, Reply, SessionConfig, Verdict};

fn lmtp() -> SessionConfig {
    let mut c = config();
    c.lmtp = true;
    c.limits.max_message_size = 200;
    c.limits.text_line = Some(100);
    c
}

/// A refusal at the end of the message, with the content that causes it
/// and the reply code every recipient must get.
struct Case {
    name: &'static str,
    content: Vec<u8>,
    code: u16,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "too big",
            content: [b"x".repeat(90), b"\r\n".to_vec()].concat().repeat(4),
            code: 552,
        },
        Case {
            name: "line too long",
            content: [b"y".repeat(150), b"\r\n".to_vec()].concat(),
            code: 500,
        },
        Case {
            name: "bare LF",
            content: b"one\ntwo\r\n".to_vec(),
            code: 550,
        },
        Case {
            name: "bare CR",
            content: b"one\rtwo\r\n".to_vec(),
            code: 550,
        },
        Case {
            name: "NUL",
            content: b"one\0two\r\n".to_vec(),
            code: 554,
        },
    ]
}

/// LHLO, MAIL and `n` accepted RCPTs.
fn envelope(h: &mut Harness, n: usize) {
    h.greeting();
    assert_eq!(h.send("LHLO client.test").code().get(), 250);
    assert_eq!(h.send("MAIL FROM:<a@a.test>").code().get(), 250);
    for i in 0..n {
        assert_eq!(h.send(&format!("RCPT TO:<r{i}@b.test>")).code().get(), 250);
    }
}

/// The replies to the whole rest of the session, QUIT pipelined right after
/// the end of the message, as Postfix and Exim send it.
fn data_then_quit(h: &mut Harness, content: &[u8]) -> Vec<u16> {
    assert_eq!(h.send("DATA").code().get(), 354);
    let mut input = content.to_vec();
    input.extend_from_slice(b".\r\nQUIT\r\n");
    codes(&h.send_raw(&input))
}

fn bdat_then_quit(h: &mut Harness, content: &[u8]) -> Vec<u16> {
    let mut input = format!("BDAT {} LAST\r\n", content.len()).into_bytes();
    input.extend_from_slice(content);
    input.extend_from_slice(b"QUIT\r\n");
    codes(&h.send_raw(&input))
}

fn expected(code: u16, n: usize) -> Vec<u16> {
    let mut all = vec![code; n];
    all.push(221);
    all
}

/// Runs every refusal case with 1, 2 and 3 recipients through `end`,
/// which sends the content and QUIT and returns the reply codes.
fn every_case(cases: Vec<Case>, end: fn(&mut Harness, &[u8]) -> Vec<u16>) {
    for case in cases {
        for n in 1..=3 {
            let mut h = Harness::with_config(lmtp());
            envelope(&mut h, n);
            let got = end(&mut h, &case.content);
            assert_eq!(
                got,
                expected(case.code, n),
                "{} with {n} recipients",
                case.name
            );
            assert!(h.delivered().is_empty(), "{}", case.name);
        }
    }
}

#[test]
fn every_refusal_after_data_gets_one_reply_per_recipient() {
    every_case(cases(), data_then_quit);
}

#[test]
fn every_refusal_after_bdat_last_gets_one_reply_per_recipient() {
    // BDAT content has no text line limit (RFC 3030 chunks are counted,
    // not split into lines).
    let cases = cases()
        .into_iter()
        .filter(|c| c.name != "line too long")
        .collect();
    every_case(cases, bdat_then_quit);
}

#[test]
fn a_sink_or_policy_refusal_gets_one_reply_per_recipient() {
    for n in 1..=3 {
        let mut h = Harness::with_config(lmtp()).with_sink(|_| {
            Verdict::reject_with(Reply::new(554, EnhancedCode::new(5, 7, 1), "Spam").unwrap())
        });
        envelope(&mut h, n);
        assert_eq!(data_then_quit(&mut h, b"hi\r\n"), expected(554, n), "{n}");
    }
}

#[test]
fn a_wrong_class_verdict_still_gets_one_reply_per_recipient() {
    for n in 1..=3 {
        // A 354 is no answer to the end of data: the session turns it into
        // its policy error, once for each recipient.
        let mut h = Harness::with_config(lmtp())
            .with_sink(|_| Verdict::accept_with(Reply::new(354, None, "go on").unwrap()));
        envelope(&mut h, n);
        assert_eq!(data_then_quit(&mut h, b"hi\r\n"), expected(451, n), "{n}");
    }
}

#[test]
fn a_refused_bdat_last_gets_one_reply_per_recipient() {
    for n in 1..=3 {
        let mut h = Harness::with_config(lmtp()).with_policy(|pending, _| match pending {
            Pending::Data => Verdict::reject(),
            _ => Verdict::accept(),
        });
        envelope(&mut h, n);
        assert_eq!(bdat_then_quit(&mut h, b"hi\r\n"), expected(550, n), "{n}");
    }
}

#[test]
fn an_oversized_first_chunk_keeps_the_transaction_for_the_last_one() {
    for n in 1..=3 {
        let mut h = Harness::with_config(lmtp());
        envelope(&mut h, n);
        let big = b"z".repeat(300);
        let mut input = format!("BDAT {}\r\n", big.len()).into_bytes();
        input.extend_from_slice(&big);
        input.extend_from_slice(b"BDAT 4 LAST\r\nhi\r\nQUIT\r\n");
        let mut want = vec![552];
        want.extend(expected(552, n));
        assert_eq!(codes(&h.send_raw(&input)), want, "{n}");
        assert!(h.delivered().is_empty());
    }
}

#[test]
fn a_clean_message_still_gets_one_250_per_recipient() {
    for n in 1..=3 {
        let mut h = Harness::with_config(lmtp());
        envelope(&mut h, n);
        assert_eq!(data_then_quit(&mut h, b"hi\r\n"), expected(250, n));
        assert_eq!(h.delivered().len(), 1);
    }
}

#[test]
fn lmtp_data_without_an_accepted_recipient_is_503() {
    let mut h = Harness::with_config(lmtp()).with_policy(|pending, _| match pending {
        Pending::RcptTo { .. } => Verdict::reject(),
        _ => Verdict::accept(),
    });
    envelope(&mut h, 0);
    assert_eq!(h.send("RCPT TO:<nobody@b.test>").code().get(), 550);
    let reply = h.send("DATA");
    assert_eq!(reply.code().get(), 503);
    assert_eq!(reply.enhanced().unwrap().to_string(), "5.5.1");
}

#[test]
fn the_greeting_names_the_protocol() {
    let mut h = Harness::with_config(lmtp());
    assert_eq!(h.greeting().text(), "localhost LMTP mtakit");
    let mut h = Harness::with_config(config());
    assert_eq!(h.greeting().text(), "localhost ESMTP mtakit");
}

#[test]
fn smtp_data_without_a_recipient_stays_554() {
    let mut h = Harness::with_config(config());
    h.greeting();
    h.send("EHLO client.test");
    h.send("MAIL FROM:<a@a.test>");
    assert_eq!(h.send("DATA").code().get(), 554);
}
