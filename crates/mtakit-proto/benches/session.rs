//! A whole SMTP session in memory, driven through `Session` directly:
//! greeting, EHLO, MAIL, RCPT, DATA with 1 KiB, QUIT. Reported as
//! transactions per second.
//!
//! `cargo bench -p mtakit-proto --bench session`

#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mtakit_proto::{ConnectionInfo, Event, Session, SessionConfig, Verdict};

/// Runs the session until it needs input: accepts every decision and
/// delivery, writes the replies into `out` as a driver would; returns the
/// replies seen.
fn drive(session: &mut Session, out: &mut Vec<u8>) -> usize {
    let mut replies = 0;
    while let Some(event) = session.poll_event() {
        match event {
            Event::Reply(reply) => {
                reply.write_to(out);
                replies += 1;
            }
            Event::Decide(_) => session.decide(Verdict::accept()).expect("pending"),
            Event::Deliver(transaction) => {
                black_box(&transaction);
                session.decide(Verdict::accept()).expect("delivery");
            }
            _ => {}
        }
    }
    replies
}

/// 1 KiB of content, dot-stuffed, with its terminator.
fn content() -> Vec<u8> {
    let mut body =
        b"From: <a@example.com>\r\nTo: <b@example.org>\r\nSubject: bench\r\n\r\n".to_vec();
    while body.len() < 1024 - 80 {
        body.extend_from_slice(&[b'x'; 78]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    body
}

struct Setup {
    config: Arc<SessionConfig>,
    conn: ConnectionInfo,
    content: Vec<u8>,
}

impl Setup {
    fn new() -> Self {
        let peer: SocketAddr = ([127, 0, 0, 1], 40000).into();
        let local: SocketAddr = ([127, 0, 0, 1], 25).into();
        Self {
            config: Arc::new(SessionConfig::new("mx.example.org")),
            conn: ConnectionInfo::new(peer, local),
            content: content(),
        }
    }

    fn open(&self, out: &mut Vec<u8>) -> Session {
        let mut session = Session::new(Arc::clone(&self.config), self.conn.clone());
        drive(&mut session, out);
        session.receive(b"EHLO client.example.com\r\n");
        drive(&mut session, out);
        session
    }

    /// One transaction, one command per read as smtp-source sends them.
    fn lock_step(&self, session: &mut Session, out: &mut Vec<u8>) -> usize {
        let mut replies = 0;
        for step in [
            &b"MAIL FROM:<alice@example.com>\r\n"[..],
            b"RCPT TO:<bob@example.org>\r\n",
            b"DATA\r\n",
            &self.content,
        ] {
            session.receive(step);
            replies += drive(session, out);
        }
        replies
    }

    /// One transaction in two reads: MAIL, RCPT and DATA, then the content.
    fn pipelined(&self, session: &mut Session, out: &mut Vec<u8>) -> usize {
        session.receive(b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
        let mut replies = drive(session, out);
        session.receive(&self.content);
        replies += drive(session, out);
        replies
    }
}

fn session(c: &mut Criterion) {
    let setup = Setup::new();
    let mut out = Vec::with_capacity(4096);
    // Sanity: greeting, EHLO, MAIL, RCPT, DATA, content, QUIT.
    {
        let mut s = setup.open(&mut out);
        assert_eq!(setup.lock_step(&mut s, &mut out), 4);
        s.receive(b"QUIT\r\n");
        drive(&mut s, &mut out);
        assert!(s.is_closed());
        let text = String::from_utf8_lossy(&out);
        assert_eq!(
            text.matches("\r\n250 ").count() + usize::from(text.starts_with("250 ")),
            4,
            "{text}"
        );
    }

    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("new_session_per_transaction", |b| {
        b.iter(|| {
            out.clear();
            let mut s = setup.open(&mut out);
            setup.lock_step(&mut s, &mut out);
            s.receive(b"QUIT\r\n");
            drive(&mut s, &mut out);
            black_box(out.len())
        })
    });
    const PER_SESSION: u64 = 100;
    group.throughput(Throughput::Elements(PER_SESSION));
    group.bench_function("reused_session_lock_step_x100", |b| {
        b.iter(|| {
            out.clear();
            let mut s = setup.open(&mut out);
            for _ in 0..PER_SESSION {
                setup.lock_step(&mut s, &mut out);
                out.clear();
            }
            black_box(out.len())
        })
    });
    group.bench_function("reused_session_pipelined_x100", |b| {
        b.iter(|| {
            out.clear();
            let mut s = setup.open(&mut out);
            for _ in 0..PER_SESSION {
                setup.pipelined(&mut s, &mut out);
                out.clear();
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = session
}
criterion_main!(benches);
