//! Session transcripts: what each client said, what the server answered,
//! and when, handed to a [`SessionObserver`] when the session ends.
//!
//! This is what `mtakit serve` shows under `/api/sessions`; a test can use
//! it to assert on the dialogue itself, not only on the messages.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use mtakit_proto::{Reply, TlsInfo};

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// A command line from the client (AUTH secrets shown as `***`).
    Command(String),
    /// A reply from the server, in its wire form without the final CRLF.
    Reply(String),
    /// A message was accepted and stored, with this id.
    Message(String),
    /// TLS started (STARTTLS or implicit), with the protocol version.
    Tls(String),
    /// The session ended this way: `closed`, `client closed`, or an error.
    End(String),
}

/// A timed [`Entry`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimedEntry {
    /// Time since the connection was accepted.
    pub at: Duration,
    /// What happened.
    pub entry: Entry,
}

/// The record of one SMTP session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transcript {
    /// A number unique within this process.
    pub id: u64,
    /// The client (after a PROXY header, the real client).
    pub peer: SocketAddr,
    /// The local address.
    pub local: SocketAddr,
    /// When the connection was accepted.
    pub started_at: SystemTime,
    /// How long the session lasted.
    pub duration: Duration,
    /// TLS facts, if TLS was used.
    pub tls: Option<TlsInfo>,
    /// Everything that happened, in order.
    pub entries: Vec<TimedEntry>,
}

impl Transcript {
    /// The command lines, in order.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match &e.entry {
            Entry::Command(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// The ids of the messages accepted in this session.
    pub fn messages(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match &e.entry {
            Entry::Message(m) => Some(m.as_str()),
            _ => None,
        })
    }
}

/// Receives session transcripts. Calls are made from the connection's
/// task, so they should be quick (push to a channel or a bounded store).
pub trait SessionObserver: Send + Sync + 'static {
    /// A session was accepted (before the greeting).
    fn session_started(&self, id: u64, peer: SocketAddr) {
        let _ = (id, peer);
    }

    /// A session ended.
    fn session_ended(&self, transcript: Transcript);
}

/// A shared observer, for the server's configuration.
#[derive(Clone)]
pub(crate) struct ObserverHandle(pub(crate) std::sync::Arc<dyn SessionObserver>);

impl std::fmt::Debug for ObserverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionObserver")
    }
}

impl std::ops::Deref for ObserverHandle {
    type Target = dyn SessionObserver;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Builds a transcript while a session runs.
#[derive(Debug)]
pub(crate) struct Recorder {
    transcript: Transcript,
    start: tokio::time::Instant,
}

impl Recorder {
    pub(crate) fn new(peer: SocketAddr, local: SocketAddr) -> Self {
        Self {
            transcript: Transcript {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                peer,
                local,
                started_at: SystemTime::now(),
                duration: Duration::ZERO,
                tls: None,
                entries: Vec::new(),
            },
            start: tokio::time::Instant::now(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.transcript.id
    }

    pub(crate) fn push(&mut self, entry: Entry) {
        // Bounded: a hostile client cannot grow a transcript without end.
        if self.transcript.entries.len() < 10_000 {
            self.transcript.entries.push(TimedEntry {
                at: self.start.elapsed(),
                entry,
            });
        }
    }

    pub(crate) fn reply(&mut self, reply: &Reply) {
        let wire = reply.to_string();
        self.push(Entry::Reply(wire.trim_end().to_owned()));
    }

    pub(crate) fn tls(&mut self, tls: &TlsInfo) {
        self.transcript.tls = Some(tls.clone());
        self.push(Entry::Tls(tls.version.clone()));
    }

    pub(crate) fn finish(mut self, end: String) -> Transcript {
        self.push(Entry::End(end));
        self.transcript.duration = self.start.elapsed();
        self.transcript
    }
}
