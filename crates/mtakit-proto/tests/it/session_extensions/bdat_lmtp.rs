//! CHUNKING (BDAT) and LMTP.

use mtakit_proto::testing::Harness;
use mtakit_proto::{ApiMisuse, Body, Event, Extensions, Pending, Reply, SessionConfig, Verdict};

use super::helpers::*;
use crate::support::{codes, config};

// ------------------------------------------------------------------ BDAT

#[test]
fn bdat_chunks_are_stored_byte_exact() {
    let mut h = in_transaction(config(), "");
    let r = h.send_raw(b"BDAT 7\r\n.\r\nab\r\n");
    assert_eq!(r[0].to_string(), "250 2.0.0 7 octets received\r\n");
    let r = h.send_raw(b"BDAT 5 LAST\r\n\r\n.\r\n");
    assert_eq!(codes(&r), [250]);
    assert_eq!(h.delivered().len(), 1);
    // No dot-unstuffing and no terminator inside chunks.
    assert_eq!(h.delivered()[0].data, b".\r\nab\r\n\r\n.\r\n");
}

#[test]
fn bdat_pipelined_with_the_rest_of_the_transaction() {
    let mut h = Harness::new();
    h.greeting();
    let r = h.send_raw(
        b"EHLO c\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 5\r\nhelloBDAT 0 LAST\r\nQUIT\r\n",
    );
    assert_eq!(codes(&r), [250, 250, 250, 250, 250, 221]);
    assert_eq!(h.delivered()[0].data, b"hello");
}

#[test]
fn bdat_zero_last_ends_an_empty_message() {
    let mut h = in_transaction(config(), "");
    assert_eq!(codes(&h.send_raw(b"BDAT 0 LAST\r\n")), [250]);
    assert_eq!(h.delivered()[0].data, b"");
}

#[test]
fn bdat_split_into_single_bytes_gives_the_same_message() {
    let input = b"BDAT 3\r\nabcBDAT 2 LAST\r\nde";
    let mut h = in_transaction(config(), "");
    let mut replies = Vec::new();
    for b in input {
        replies.extend(h.send_raw(&[*b]));
    }
    assert_eq!(codes(&replies), [250, 250]);
    assert_eq!(h.delivered()[0].data, b"abcde");
}

#[test]
fn bdat_without_a_transaction_drains_its_chunk() {
    let mut h = Harness::new();
    h.greeting();
    h.send("EHLO c");
    // The chunk holds a command; it must never run.
    let r = h.send_raw(b"BDAT 25\r\nMAIL FROM:<evil@e.test>\r\nNOOP\r\n");
    assert_eq!(codes(&r), [503, 250]);
    assert_eq!(h.send("RCPT TO:<b@b.test>").code().get(), 503);
}

#[test]
fn bdat_without_recipients_is_554_and_drains() {
    let mut h = Harness::new();
    h.greeting();
    h.send("EHLO c");
    h.send("MAIL FROM:<a@a.test>");
    let r = h.send_raw(b"BDAT 6\r\nRSET\r\nNOOP\r\n");
    assert_eq!(codes(&r), [554, 250]);
}

#[test]
fn bdat_size_limit_enforced_while_streaming() {
    let mut c = config();
    c.limits.max_message_size = 10;
    let mut h = in_transaction(c, "");
    let r = h.send_raw(b"BDAT 8\r\n12345678");
    assert_eq!(codes(&r), [250]);
    // This chunk crosses the limit: refused, drained, transaction over.
    let r = h.send_raw(b"BDAT 8\r\n12345678BDAT 3 LAST\r\nxyzNOOP\r\n");
    assert_eq!(codes(&r), [552, 503, 250]);
    assert!(h.delivered().is_empty());
    // A new transaction works without RSET.
    assert_eq!(h.send("MAIL FROM:<a@a.test>").code().get(), 250);
}

#[test]
fn bdat_last_chunk_over_the_limit_is_552() {
    let mut c = config();
    c.limits.max_message_size = 4;
    let mut h = in_transaction(c, "");
    let r = h.send_raw(b"BDAT 9 LAST\r\n123456789");
    assert_eq!(r[0].code().get(), 552);
    assert_eq!(r[0].enhanced().unwrap().to_string(), "5.3.4");
    assert!(h.delivered().is_empty());
}

#[test]
fn data_and_bdat_do_not_mix_in_one_transaction() {
    let mut h = in_transaction(config(), "");
    assert_eq!(codes(&h.send_raw(b"BDAT 2\r\nab")), [250]);
    assert_eq!(h.send("DATA").code().get(), 503);
    assert_eq!(codes(&h.send_raw(b"BDAT 1 LAST\r\nc")), [250]);
    assert_eq!(h.delivered()[0].data, b"abc");
    // The next transaction may use DATA.
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    assert_eq!(h.send("DATA").code().get(), 354);
    assert_eq!(codes(&h.send_raw(b"x\r\n.\r\n")), [250]);
    assert_eq!(h.delivered().len(), 2);
}

#[test]
fn binarymime_needs_bdat_and_keeps_any_octet() {
    let mut h = in_transaction(config(), " BODY=BINARYMIME");
    assert_eq!(h.send("DATA").code().get(), 503);
    let r = h.send_raw(b"BDAT 6 LAST\r\n\0\n\r\xff\r\n");
    assert_eq!(codes(&r), [250]);
    let t = &h.delivered()[0];
    assert_eq!(t.data, b"\0\n\r\xff\r\n");
    assert_eq!(t.envelope.mail_params.body, Some(Body::BinaryMime));
}

#[test]
fn bare_line_ends_in_text_chunks_follow_the_policy() {
    // SMUG-8: under the strict default, a bare LF in BDAT text is refused.
    let mut h = in_transaction(config(), "");
    let r = h.send_raw(b"BDAT 9 LAST\r\nline\n.\nxx");
    assert_eq!(r[0].code().get(), 550);
    assert!(h.delivered().is_empty());
}

#[test]
fn policy_rejecting_data_also_rejects_the_first_bdat() {
    let mut h = Harness::new().with_policy(|p, _| match p {
        Pending::Data => Verdict::reject(),
        _ => Verdict::accept(),
    });
    h.greeting();
    h.send("EHLO c");
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    let r = h.send_raw(b"BDAT 12 LAST\r\nQUIT\r\nNOOP\r\nNOOP\r\n");
    assert_eq!(codes(&r), [550, 250]);
    assert!(!h.is_closed());
}

#[test]
fn switched_off_extensions_are_hidden_and_refused() {
    let mut c = config();
    let mut ext = Extensions::default();
    ext.chunking = false;
    ext.binarymime = false;
    ext.dsn = false;
    c.extensions = ext;
    let mut h = Harness::with_config(c);
    h.greeting();
    let ehlo = h.send("EHLO c");
    assert!(
        !ehlo
            .lines()
            .any(|l| matches!(l, "CHUNKING" | "BINARYMIME" | "DSN"))
    );
    h.send("MAIL FROM:<a@a.test>");
    h.send("RCPT TO:<b@b.test>");
    let r = h.send_raw(b"BDAT 4 LAST\r\nNOOPNOOP\r\n");
    assert_eq!(codes(&r), [502, 250]);
    h.send("RSET");
    assert_eq!(
        h.send("MAIL FROM:<a@a.test> BODY=BINARYMIME").code().get(),
        555
    );
}

#[test]
fn bdat_chunk_bytes_use_the_data_block_timeout() {
    let mut h = in_transaction(config(), "");
    h.send_raw(b"BDAT 10\r\nabc");
    assert_eq!(
        h.session().timeout(),
        Some(mtakit_proto::TimeoutKind::DataBlock)
    );
}

// ------------------------------------------------------------------ LMTP

fn lmtp() -> SessionConfig {
    let mut c = config();
    c.lmtp = true;
    c
}

#[test]
fn lmtp_requires_lhlo() {
    let mut h = Harness::with_config(lmtp());
    h.greeting();
    assert_eq!(h.send("HELO c").code().get(), 500);
    assert_eq!(h.send("EHLO c").code().get(), 500);
    let r = h.send("LHLO c");
    assert_eq!(r.code().get(), 250);
    assert!(r.lines().any(|l| l == "PIPELINING"));
    assert_eq!(
        h.send("MAIL FROM:<a@a.test>")
            .enhanced()
            .unwrap()
            .to_string(),
        "2.1.0"
    );
}

#[test]
fn lhlo_is_unknown_in_smtp() {
    let mut h = Harness::new();
    h.greeting();
    assert_eq!(h.send("LHLO c").code().get(), 500);
}

#[test]
fn lmtp_gives_one_reply_per_recipient() {
    let mut h = Harness::with_config(lmtp());
    h.greeting();
    h.send("LHLO c");
    h.send("MAIL FROM:<a@a.test>");
    for r in ["<one@b.test>", "<two@b.test>", "<three@b.test>"] {
        assert_eq!(h.send(&format!("RCPT TO:{r}")).code().get(), 250);
    }
    h.send("DATA");
    let r = h.send_raw(b"x\r\n.\r\n");
    assert_eq!(codes(&r), [250, 250, 250]);
}

#[test]
fn lmtp_per_recipient_verdicts_with_decide_each() {
    let mut h = Harness::with_config(lmtp());
    h.greeting();
    h.session().receive(
        b"LHLO c\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<one@b.test>\r\nRCPT TO:<two@b.test>\r\nDATA\r\nx\r\n.\r\n",
    );
    let session = h.session();
    let mut replies = Vec::new();
    loop {
        match session.poll_event() {
            Some(Event::Reply(r)) => replies.push(r),
            Some(Event::Decide(_)) => session.decide(Verdict::accept()).unwrap(),
            Some(Event::Deliver(t)) => {
                assert_eq!(t.envelope.recipients.len(), 2);
                assert_eq!(
                    session.decide_each(vec![Verdict::accept()]),
                    Err(ApiMisuse::WrongVerdictCount)
                );
                let full = Reply::new(
                    552,
                    mtakit_proto::EnhancedCode::new(5, 2, 2),
                    "Mailbox full",
                )
                .unwrap();
                session
                    .decide_each(vec![Verdict::accept(), Verdict::reject_with(full)])
                    .unwrap();
            }
            Some(_) => {}
            None => break,
        }
    }
    let last: Vec<String> = replies[replies.len() - 2..]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(last, ["250 2.0.0 OK\r\n", "552 5.2.2 Mailbox full\r\n"]);
}

#[test]
fn decide_each_is_refused_in_smtp() {
    let mut h = in_transaction(config(), "");
    h.session().receive(b"DATA\r\n");
    while let Some(e) = h.session().poll_event() {
        if let Event::Decide(_) = e {
            h.session().decide(Verdict::accept()).unwrap();
        }
    }
    h.session().receive(b"x\r\n.\r\n");
    let mut saw = false;
    while let Some(e) = h.session().poll_event() {
        if let Event::Deliver(_) = e {
            saw = true;
            assert_eq!(
                h.session().decide_each(vec![Verdict::accept()]),
                Err(ApiMisuse::WrongVerdictCount)
            );
            h.session().decide(Verdict::accept()).unwrap();
        }
    }
    assert!(saw);
}
