//! Unit tests of the session's private buffering and its bound.

use std::sync::Arc;

use super::input::{INPUT_KEEP, MAX_PENDING_INPUT};
use crate::testing::Harness;
use crate::{ApiMisuse, ConnectionInfo, Event, ReplyCode, Session, SessionConfig, Verdict};

#[test]
fn a_large_pipelined_batch_leaves_no_large_buffer_behind() {
    let mut h = Harness::new();
    h.greeting();
    let batch = "NOOP\r\n".repeat(3 * INPUT_KEEP / 6);
    let replies = h.send_raw(batch.as_bytes());
    assert_eq!(replies.len(), 3 * INPUT_KEEP / 6);
    assert!(replies.iter().all(|r| r.code() == ReplyCode::OK));
    assert_eq!(h.session().input_capacity(), 0);
}

#[test]
fn a_partial_line_after_a_large_batch_is_kept() {
    let mut h = Harness::new();
    h.greeting();
    let mut batch = "NOOP\r\n".repeat(3 * INPUT_KEEP / 6);
    batch.push_str("NO");
    let replies = h.send_raw(batch.as_bytes());
    assert_eq!(replies.len(), 3 * INPUT_KEEP / 6);
    assert!(h.session().input_capacity() > 0);
    let replies = h.send_raw(b"OP\r\n");
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].code(), ReplyCode::OK);
}

#[test]
fn a_small_buffer_is_kept_for_reuse() {
    let mut h = Harness::new();
    h.greeting();
    h.send_raw(b"NOOP\r\n");
    let kept = h.session().input_capacity();
    assert!(kept > 0 && kept <= INPUT_KEEP);
}

/// A session after EHLO with the EHLO decision still pending.
fn waiting_for_helo() -> Session {
    let info = ConnectionInfo::new(
        "192.0.2.1:4567".parse().expect("address"),
        "192.0.2.2:25".parse().expect("address"),
    );
    let mut s = Session::new(Arc::new(SessionConfig::new("mx.test")), info);
    while let Some(event) = s.poll_event() {
        if let Event::Decide(_) = event {
            s.decide(Verdict::accept()).expect("pending");
        }
    }
    s.receive(b"EHLO c.test\r\n");
    assert!(matches!(s.poll_event(), Some(Event::Decide(_))));
    assert!(s.poll_event().is_none());
    s
}

#[test]
fn input_given_while_a_decision_is_pending_is_bounded() {
    let mut s = waiting_for_helo();
    let read = "NOOP\r\n".repeat(64 * 1024 / 6);
    let mut reads = 0;
    while !s.is_closed() {
        s.receive(read.as_bytes());
        reads += 1;
        assert!(s.input_buffered() <= MAX_PENDING_INPUT, "{reads} reads");
        assert!(reads <= MAX_PENDING_INPUT / read.len() + 1, "never closed");
    }
    // The decision was dropped with the input: 421 and close, no NOOP reply.
    let Some(Event::Reply(reply)) = s.poll_event() else {
        panic!("no reply")
    };
    assert_eq!(reply.code().get(), 421);
    assert!(
        reply.to_string().contains("too much pipelined input"),
        "{reply}"
    );
    assert!(matches!(s.poll_event(), Some(Event::Close)));
    assert!(s.poll_event().is_none());
    assert_eq!(s.input_capacity(), 0);
    assert_eq!(
        s.decide(Verdict::accept()),
        Err(ApiMisuse::NoPendingDecision)
    );
}

#[test]
fn input_within_the_bound_waits_for_the_decision() {
    let mut s = waiting_for_helo();
    s.receive(b"NOOP\r\n");
    s.receive(b"NOOP\r\n");
    s.decide(Verdict::accept()).expect("pending");
    let mut codes = Vec::new();
    while let Some(event) = s.poll_event() {
        if let Event::Reply(reply) = event {
            codes.push(reply.code().get());
        }
    }
    assert_eq!(codes, [250, 250, 250]);
    assert!(!s.is_closed());
}

#[test]
fn a_read_larger_than_the_bound_is_taken_when_input_was_asked_for() {
    let mut h = Harness::new();
    h.greeting();
    let count = MAX_PENDING_INPUT / 6 + 1000;
    let replies = h.send_raw("NOOP\r\n".repeat(count).as_bytes());
    assert_eq!(replies.len(), count);
    assert!(replies.iter().all(|r| r.code() == ReplyCode::OK));
    assert!(!h.session().is_closed());
}

#[test]
fn an_unpolled_delivery_is_withdrawn_when_input_overruns() {
    let mut h = Harness::new();
    h.greeting();
    for line in [
        "EHLO c.test",
        "MAIL FROM:<a@a.test>",
        "RCPT TO:<b@b.test>",
        "DATA",
    ] {
        h.send(line);
    }
    let s = h.session();
    s.receive(b"x\r\n.\r\n");
    s.receive("NOOP\r\n".repeat(MAX_PENDING_INPUT / 6 + 1).as_bytes());
    assert!(s.is_closed());
    let mut events = Vec::new();
    while let Some(event) = s.poll_event() {
        events.push(event);
    }
    assert!(
        matches!(&events[..], [Event::Reply(r), Event::Close] if r.code().get() == 421),
        "{events:?}"
    );
}
