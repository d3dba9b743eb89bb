//! Session transcripts for Python: the SMTP dialogue of each session as
//! data, collected by a bounded observer.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use mtakit::observe::{Entry, SessionObserver};
use pyo3::prelude::*;

use crate::message::{Address, TlsInfo};

/// How many finished sessions a test server keeps; older ones are
/// dropped first. Each transcript is itself bounded by
/// `mtakit::observe::TRANSCRIPT_BYTES`.
pub(crate) const MAX_TRANSCRIPTS: usize = 1000;

/// Keeps the latest [`MAX_TRANSCRIPTS`] transcripts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Collector {
    inner: Arc<Kept>,
}

/// The transcripts, and a condition signalled when one is added.
#[derive(Debug, Default)]
struct Kept {
    done: Mutex<VecDeque<mtakit::observe::Transcript>>,
    added: Condvar,
}

impl Collector {
    /// The transcripts kept, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<mtakit::observe::Transcript> {
        let done = self.inner.done.lock().unwrap_or_else(|e| e.into_inner());
        done.iter().cloned().collect()
    }

    /// Waits up to `timeout` until at least `n` transcripts are kept;
    /// returns whether they are.
    pub(crate) fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let done = self.inner.done.lock().unwrap_or_else(|e| e.into_inner());
        let (done, _) = self
            .inner
            .added
            .wait_timeout_while(done, timeout, |done| done.len() < n)
            .unwrap_or_else(|e| e.into_inner());
        done.len() >= n
    }

    /// Forgets every transcript.
    pub(crate) fn clear(&self) {
        self.inner
            .done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl SessionObserver for Collector {
    fn session_ended(&self, transcript: mtakit::observe::Transcript) {
        let mut done = self.inner.done.lock().unwrap_or_else(|e| e.into_inner());
        if done.len() == MAX_TRANSCRIPTS {
            done.pop_front();
        }
        done.push_back(transcript);
        drop(done);
        self.inner.added.notify_all();
    }
}

/// The record of one finished SMTP session.
#[pyclass(frozen, module = "mtakit")]
#[derive(Debug)]
pub(crate) struct Transcript {
    inner: mtakit::observe::Transcript,
}

impl From<mtakit::observe::Transcript> for Transcript {
    fn from(inner: mtakit::observe::Transcript) -> Self {
        Self { inner }
    }
}

/// The kind of an entry, as Python sees it.
fn kind(entry: &Entry) -> &'static str {
    match entry {
        Entry::Command(_) => "command",
        Entry::Reply(_) => "reply",
        Entry::Message(_) => "message",
        Entry::Tls(_) => "tls",
        Entry::End(_) => "end",
        Entry::Omitted { .. } => "omitted",
        _ => "other",
    }
}

#[pymethods]
impl Transcript {
    /// A number unique within this process.
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id
    }

    /// The client's address.
    #[getter]
    fn peer(&self) -> Address {
        self.inner.peer.into()
    }

    /// The TLS of the session, if it used TLS.
    #[getter]
    fn tls(&self) -> Option<TlsInfo> {
        self.inner.tls.as_ref().map(TlsInfo::from)
    }

    /// How long the session lasted, in seconds.
    #[getter]
    fn duration(&self) -> f64 {
        self.inner.duration.as_secs_f64()
    }

    /// The command lines the client sent, in order (AUTH secrets as
    /// `***`).
    #[getter]
    fn commands(&self) -> Vec<String> {
        self.inner.commands().map(str::to_owned).collect()
    }

    /// The replies the server sent, in order, each in its wire form
    /// without the last CRLF (multi-line replies keep their inner CRLFs).
    #[getter]
    fn replies(&self) -> Vec<String> {
        self.inner
            .entries
            .iter()
            .filter_map(|e| match &e.entry {
                Entry::Reply(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    /// The ids of the messages accepted in the session.
    #[getter]
    fn messages(&self) -> Vec<String> {
        self.inner.messages().map(str::to_owned).collect()
    }

    /// Everything that happened, in order, as `(seconds, kind, text)`;
    /// `kind` is `command`, `reply`, `message`, `tls`, `end` or `omitted`.
    #[getter]
    fn entries(&self) -> Vec<(f64, &'static str, String)> {
        self.inner
            .entries
            .iter()
            .map(|e| {
                (
                    e.at.as_secs_f64(),
                    kind(&e.entry),
                    e.entry.text().to_owned(),
                )
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Transcript(id={}, peer={}, commands={})",
            self.inner.id,
            self.inner.peer,
            self.inner.command_count()
        )
    }
}
