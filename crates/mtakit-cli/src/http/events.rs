//! Live events: each new message, each ended session and each delete goes
//! to the Server-Sent Events stream `GET /api/events`, to `--events` as
//! one JSON line, and sessions to the bounded list of `GET /api/sessions`.
//!
//! The SMTP side only queues an event; one thread turns it into JSON (the
//! Subject is parsed there, off the SMTP path), broadcasts it and writes
//! the line, so the order is the same everywhere.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use mtakit::observe::{SessionObserver, Transcript};
use serde::Serialize;
use tokio::sync::broadcast;

use super::model::{SessionRecord, SessionSummary, Summary};
use super::store::Stored;

/// Sessions kept for `GET /api/sessions`.
pub(crate) const SESSIONS_KEPT: usize = 200;
/// Bytes of transcripts kept in total (`--sessions-max-bytes`): 32 MiB,
/// so that 200 sessions average 160 KiB, though each may hold
/// [`mtakit::observe::TRANSCRIPT_BYTES`]. The oldest go first.
pub(crate) const SESSIONS_MAX_BYTES: usize = 32 * 1024 * 1024;
/// Events an SSE client may fall behind by before it misses some.
const BACKLOG: usize = 1024;

/// An event, as JSON, for SSE clients.
#[derive(Clone, Debug)]
pub(crate) struct Published {
    /// `message`, `session` or `deleted`.
    pub(crate) kind: &'static str,
    pub(crate) data: String,
}

/// What the SMTP and HTTP sides queue.
#[derive(Debug)]
enum Queued {
    Message(Arc<Stored>),
    Session(Arc<SessionRecord>),
    Deleted(Option<String>),
}

/// The event hub; cloning shares it.
#[derive(Clone, Debug)]
pub(crate) struct Hub {
    queue: mpsc::Sender<Queued>,
    live: broadcast::Sender<Published>,
    sessions: Arc<Mutex<Kept>>,
}

/// The sessions kept, oldest first, within a count and a byte budget.
#[derive(Debug, Default)]
struct Kept {
    records: VecDeque<Arc<SessionRecord>>,
    bytes: usize,
    max_bytes: usize,
}

impl Kept {
    fn push(&mut self, record: Arc<SessionRecord>) {
        self.bytes += record.bytes();
        self.records.push_back(record);
        while self.records.len() > SESSIONS_KEPT || self.bytes > self.max_bytes {
            let Some(old) = self.records.pop_front() else {
                break;
            };
            self.bytes -= old.bytes();
        }
    }
}

/// The thread behind a [`Hub`]; join it after the last hub is dropped so
/// every `--events` line is written.
#[derive(Debug)]
pub(crate) struct HubThread(JoinHandle<()>);

impl HubThread {
    /// Waits for the queued events to be written, at most `limit`.
    pub(crate) fn finish(self, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        while !self.0.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if self.0.is_finished() {
            let _ = self.0.join();
        }
    }
}

/// A line of `--events`: `{"type": KIND, ...fields}`.
#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Serialize)]
struct DeletedJson<'a> {
    id: Option<&'a str>,
}

impl Hub {
    /// A hub writing `--events` lines to `out`, if given, and keeping at
    /// most `max_bytes` of session transcripts.
    pub(crate) fn start(
        out: Option<Box<dyn Write + Send>>,
        max_bytes: usize,
    ) -> io::Result<(Hub, HubThread)> {
        let (queue, rx) = mpsc::channel::<Queued>();
        let live = broadcast::channel(BACKLOG).0;
        let sender = live.clone();
        let thread = std::thread::Builder::new()
            .name("mtakit-events".to_owned())
            .spawn(move || run(&rx, &sender, out))?;
        let hub = Hub {
            queue,
            live,
            sessions: Arc::new(Mutex::new(Kept {
                max_bytes,
                ..Kept::default()
            })),
        };
        Ok((hub, HubThread(thread)))
    }

    fn queue(&self, event: Queued) {
        let _ = self.queue.send(event);
    }

    /// A message was stored.
    pub(crate) fn message(&self, stored: Arc<Stored>) {
        self.queue(Queued::Message(stored));
    }

    /// A message (`Some(id)`) or all of them (`None`) were deleted.
    pub(crate) fn deleted(&self, id: Option<String>) {
        self.queue(Queued::Deleted(id));
    }

    /// The recent sessions, newest first.
    pub(crate) fn sessions(&self) -> Vec<Arc<SessionRecord>> {
        let kept = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        kept.records.iter().rev().cloned().collect()
    }

    /// The session with this id, if it is still kept.
    pub(crate) fn session(&self, id: u64) -> Option<Arc<SessionRecord>> {
        let kept = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        kept.records.iter().find(|r| r.summary.id == id).cloned()
    }

    /// The bytes of the sessions kept.
    #[cfg(test)]
    pub(crate) fn sessions_bytes(&self) -> usize {
        let kept = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        kept.bytes
    }

    /// A receiver of live events.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.live.subscribe()
    }
}

impl SessionObserver for Hub {
    fn session_ended(&self, transcript: Transcript) {
        let record = Arc::new(SessionRecord::from(&transcript));
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record.clone());
        self.queue(Queued::Session(record));
    }
}

/// The hub thread: JSON, broadcast, and the `--events` line, in order.
fn run(
    rx: &mpsc::Receiver<Queued>,
    live: &broadcast::Sender<Published>,
    mut out: Option<Box<dyn Write + Send>>,
) {
    while let Ok(event) = rx.recv() {
        let (kind, data, line) = match &event {
            Queued::Message(stored) => {
                let summary: Summary = stored.summary();
                let data = json(&summary);
                (
                    "message",
                    data,
                    out.is_some().then(|| {
                        json(&Line {
                            kind: "message",
                            body: &summary,
                        })
                    }),
                )
            }
            Queued::Session(record) => {
                let summary: &SessionSummary = &record.summary;
                (
                    "session",
                    json(summary),
                    out.is_some().then(|| {
                        json(&Line {
                            kind: "session",
                            body: summary,
                        })
                    }),
                )
            }
            Queued::Deleted(id) => ("deleted", json(&DeletedJson { id: id.as_deref() }), None),
        };
        let _ = live.send(Published { kind, data });
        if let (Some(writer), Some(mut line)) = (out.as_mut(), line) {
            line.push('\n');
            let written = writer
                .write_all(line.as_bytes())
                .and_then(|()| writer.flush());
            if let Err(e) = written {
                tracing::warn!(error = %e, "cannot write --events; no more lines");
                out = None;
            }
        }
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}
