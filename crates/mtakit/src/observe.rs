//! Session transcripts: what each client said, what the server answered,
//! and when, handed to a [`SessionObserver`] when the session ends.
//!
//! This is what `mtakit serve` shows under `/api/sessions`; a test can use
//! it to assert on the dialogue itself, not only on the messages.
//!
//! A transcript holds at most [`TRANSCRIPT_BYTES`]: past that, the start of
//! the session and its latest entries are kept, and one
//! [`Entry::Omitted`] in between says how much of the middle was dropped.

use std::collections::VecDeque;
use std::mem::size_of;
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
    /// Entries dropped from the middle of the session to keep the
    /// transcript within [`TRANSCRIPT_BYTES`].
    Omitted {
        /// How many entries were dropped.
        entries: u64,
        /// How many of them were [`Entry::Command`]s.
        commands: u64,
        /// How many bytes they held, counted as in [`TimedEntry::bytes`].
        bytes: u64,
    },
}

/// The most bytes one [`Transcript`] holds, counted as in
/// [`Transcript::bytes`]: 256 KiB, a few thousand commands and replies. A
/// client that says more (thousands of pipelined `NOOP`s) keeps its first
/// and its latest entries, and the middle is [`Entry::Omitted`].
pub const TRANSCRIPT_BYTES: usize = 256 * 1024;

/// The longest text of a single entry: a quarter of the budget, so a few
/// long replies still leave room for the rest.
const ENTRY_TEXT_MAX: usize = TRANSCRIPT_BYTES / 4;

impl Entry {
    /// The entry's text; empty for [`Entry::Omitted`].
    pub fn text(&self) -> &str {
        match self {
            Entry::Command(t)
            | Entry::Reply(t)
            | Entry::Message(t)
            | Entry::Tls(t)
            | Entry::End(t) => t,
            Entry::Omitted { .. } => "",
        }
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Entry::Command(t)
            | Entry::Reply(t)
            | Entry::Message(t)
            | Entry::Tls(t)
            | Entry::End(t) => Some(t),
            Entry::Omitted { .. } => None,
        }
    }
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

impl TimedEntry {
    /// The bytes this entry holds: its own size plus its text.
    pub fn bytes(&self) -> usize {
        size_of::<TimedEntry>() + self.entry.text().len()
    }
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

    /// The bytes the entries hold, at most [`TRANSCRIPT_BYTES`].
    pub fn bytes(&self) -> usize {
        self.entries.iter().map(TimedEntry::bytes).sum()
    }

    /// How many entries and bytes were dropped from the middle, if any.
    pub fn omitted(&self) -> Option<(u64, u64)> {
        self.entries.iter().find_map(|e| match e.entry {
            Entry::Omitted { entries, bytes, .. } => Some((entries, bytes)),
            _ => None,
        })
    }

    /// How many command lines the client sent, those omitted included.
    pub fn command_count(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| match e.entry {
                Entry::Command(_) => 1,
                Entry::Omitted { commands, .. } => commands,
                _ => 0,
            })
            .sum()
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

/// Builds a transcript while a session runs, within a byte budget: the
/// first half of the budget keeps the start of the session, the rest the
/// latest entries, and what falls out in between is counted.
#[derive(Debug)]
pub(crate) struct Recorder {
    /// `entries` holds the head.
    transcript: Transcript,
    head_bytes: usize,
    tail: VecDeque<TimedEntry>,
    tail_bytes: usize,
    omitted_entries: u64,
    omitted_commands: u64,
    omitted_bytes: u64,
    budget: usize,
    start: tokio::time::Instant,
}

impl Recorder {
    #[cfg(test)]
    pub(crate) fn new(peer: SocketAddr, local: SocketAddr) -> Self {
        Self::with_budget(peer, local, TRANSCRIPT_BYTES)
    }

    /// A recorder that holds at most `budget` bytes.
    pub(crate) fn with_budget(peer: SocketAddr, local: SocketAddr, budget: usize) -> Self {
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
            head_bytes: 0,
            tail: VecDeque::new(),
            tail_bytes: 0,
            omitted_entries: 0,
            omitted_commands: 0,
            omitted_bytes: 0,
            budget,
            start: tokio::time::Instant::now(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.transcript.id
    }

    pub(crate) fn push(&mut self, mut entry: Entry) {
        let longest = ENTRY_TEXT_MAX.min(self.budget / 4);
        if let Some(text) = entry.text_mut()
            && text.len() > longest
        {
            let mut cut = longest.saturating_sub(3);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        let entry = TimedEntry {
            at: self.start.elapsed(),
            entry,
        };
        let cost = entry.bytes();
        if self.tail.is_empty() && self.head_bytes + cost <= self.budget / 2 {
            self.head_bytes += cost;
            self.transcript.entries.push(entry);
            return;
        }
        self.tail.push_back(entry);
        self.tail_bytes += cost;
        // Room for the tail: the budget less the head and the marker.
        let room = self
            .budget
            .saturating_sub(self.head_bytes + size_of::<TimedEntry>());
        while self.tail_bytes > room {
            let Some(dropped) = self.tail.pop_front() else {
                break;
            };
            let bytes = dropped.bytes();
            self.tail_bytes -= bytes;
            self.omitted_entries += 1;
            self.omitted_commands += u64::from(matches!(dropped.entry, Entry::Command(_)));
            self.omitted_bytes += bytes as u64;
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
        let mut transcript = self.transcript;
        if self.omitted_entries > 0 {
            let at = self.tail.front().map_or(Duration::ZERO, |e| e.at);
            transcript.entries.push(TimedEntry {
                at,
                entry: Entry::Omitted {
                    entries: self.omitted_entries,
                    commands: self.omitted_commands,
                    bytes: self.omitted_bytes,
                },
            });
        }
        transcript.entries.extend(self.tail);
        transcript
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:25".parse().unwrap()
    }

    /// An attack-shaped session: thousands of long pipelined NOOPs.
    fn noop_flood(recorder: &mut Recorder, n: usize) {
        let noop = format!("NOOP {}", "x".repeat(505));
        for _ in 0..n {
            recorder.push(Entry::Command(noop.clone()));
            recorder.push(Entry::Reply("250 2.0.0 Ok".to_owned()));
        }
    }

    #[test]
    fn a_long_session_keeps_its_start_and_end_within_the_budget() {
        let mut recorder = Recorder::new(addr(), addr());
        recorder.push(Entry::Reply("220 localhost ESMTP".to_owned()));
        recorder.push(Entry::Command("EHLO attacker".to_owned()));
        noop_flood(&mut recorder, 10_000);
        recorder.push(Entry::Command("QUIT".to_owned()));
        let t = recorder.finish("closed".to_owned());
        assert!(t.bytes() <= TRANSCRIPT_BYTES, "{} bytes", t.bytes());
        assert!(t.bytes() > TRANSCRIPT_BYTES - 2048, "the budget is used");
        assert_eq!(t.entries[1].entry, Entry::Command("EHLO attacker".into()));
        let last = &t.entries[t.entries.len() - 2..];
        assert_eq!(last[0].entry, Entry::Command("QUIT".into()));
        assert_eq!(last[1].entry, Entry::End("closed".into()));
        let (entries, bytes) = t.omitted().expect("the middle was dropped");
        let kept = t.entries.len() as u64 - 1;
        assert_eq!(entries + kept, 20_000 + 4, "every entry kept or counted");
        assert_eq!(t.command_count(), 10_000 + 2);
        assert!(bytes > 5_000_000, "{bytes}");
        let markers = t
            .entries
            .iter()
            .filter(|e| matches!(e.entry, Entry::Omitted { .. }))
            .count();
        assert_eq!(markers, 1);
    }

    #[test]
    fn a_short_session_is_kept_whole() {
        let mut recorder = Recorder::new(addr(), addr());
        noop_flood(&mut recorder, 10);
        let t = recorder.finish("closed".to_owned());
        assert_eq!(t.entries.len(), 21);
        assert_eq!(t.omitted(), None);
    }

    #[test]
    fn one_huge_entry_is_clipped() {
        let mut recorder = Recorder::with_budget(addr(), addr(), 4096);
        recorder.push(Entry::Reply("é".repeat(10_000)));
        let t = recorder.finish("closed".to_owned());
        assert!(t.bytes() <= 4096, "{}", t.bytes());
        assert!(t.entries[0].entry.text().ends_with('…'));
    }
}
