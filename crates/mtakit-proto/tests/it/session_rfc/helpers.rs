//! Helpers of the RFC 5321 session tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mtakit_proto::testing::Harness;
use mtakit_proto::{
    ConnectionInfo, EnhancedCode, Event, Pending, Reply, Session, SessionConfig, Verdict,
};

use crate::support::{greeted, st};

// ---------------------------------------------------------------- helpers

pub(crate) fn wire(replies: &[Reply]) -> String {
    replies.iter().map(Reply::to_string).collect()
}

/// A harness after the greeting and `EHLO client.test`, whose reply must
/// be a bare `"250"`: stricter than `support::ehlo`, which checks the code
/// only.
pub(crate) fn ehlo(config: SessionConfig) -> Harness {
    let mut h = greeted(config);
    assert_eq!(st(&h.send("EHLO client.test")), "250");
    h
}

/// MAIL, RCPT and DATA up to the 354.
pub(crate) fn open_data(h: &mut Harness) {
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(st(&h.send("RCPT TO:<b@b.test>")), "250 2.1.5");
    assert_eq!(st(&h.send("DATA")), "354");
}

pub(crate) fn authenticate_count(h: &Harness) -> usize {
    h.pendings()
        .iter()
        .filter(|p| matches!(p, Pending::Authenticate { .. }))
        .count()
}

pub(crate) fn counting_sink(h: Harness) -> (Harness, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let h = h.with_sink(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        Verdict::accept()
    });
    (h, calls)
}

pub(crate) fn pump(s: &mut Session) -> (String, bool) {
    let mut out = String::new();
    while let Some(event) = s.poll_event() {
        match event {
            Event::Reply(r) => out.push_str(&r.to_string()),
            Event::Decide(_) => s.decide(Verdict::accept()).unwrap(),
            Event::Deliver(_) => return (out, true),
            _ => {}
        }
    }
    (out, false)
}

pub(crate) fn session(config: SessionConfig) -> Session {
    let peer: SocketAddr = ([127, 0, 0, 1], 4567).into();
    let local: SocketAddr = ([127, 0, 0, 1], 25).into();
    Session::new(Arc::new(config), ConnectionInfo::new(peer, local))
}

pub(crate) fn reply(code: u16, e: Option<(u8, u16, u16)>, text: &str) -> Reply {
    let e = e.map(|(c, s, d)| EnhancedCode::new(c, s, d).unwrap());
    Reply::new(code, e, text.to_owned()).unwrap()
}
