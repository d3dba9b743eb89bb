//! The message store behind the HTTP API: in memory (bounded, newest
//! kept), a Maildir on disk, or nothing (`--discard`).
//!
//! Every change bumps a [`watch`] counter, so `GET /api/wait` sleeps until
//! something happens instead of polling.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::SystemTime;

use axum::body::Bytes;
use mail_parser::MessageParser;
use mtakit::Message;
use serde::Deserialize;
use tokio::sync::watch;

use super::maildir::Maildir;
use super::model::{Meta, Summary, rfc3339, unbracket};

/// A stored message: what the list shows, cheap to clone behind an `Arc`.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) id: String,
    pub(crate) received_at: SystemTime,
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    /// Octets of the data as received.
    pub(crate) size: u64,
    /// Known for messages received by this process.
    pub(crate) meta: Option<Arc<Meta>>,
    pub(crate) content: Content,
    /// The decoded Subject, parsed on first use.
    pub(crate) subject: OnceLock<Option<String>>,
}

/// Where the bytes are.
#[derive(Debug)]
pub(crate) enum Content {
    Memory(Bytes),
    /// A Maildir file; the first `skip` octets are the trace lines mtakit
    /// wrote before the data.
    File {
        path: PathBuf,
        skip: usize,
    },
}

impl Stored {
    /// The bytes exactly as received. Blocking for a Maildir file.
    pub(crate) fn raw(&self) -> io::Result<Bytes> {
        match &self.content {
            Content::Memory(bytes) => Ok(bytes.clone()),
            Content::File { path, skip } => {
                let mut data = std::fs::read(path)?;
                data.drain(..(*skip).min(data.len()));
                Ok(Bytes::from(data))
            }
        }
    }

    /// The message as delivered: the trace header fields mtakit added,
    /// then the bytes as received. For a Maildir, the whole file.
    /// Blocking for a Maildir file.
    pub(crate) fn delivered(&self) -> io::Result<Bytes> {
        match &self.content {
            Content::Memory(bytes) => {
                let trace = self.meta.as_ref().and_then(|m| m.received.as_deref());
                let mut out = Vec::with_capacity(bytes.len() + trace.map_or(0, str::len));
                out.extend_from_slice(trace.unwrap_or_default().as_bytes());
                out.extend_from_slice(bytes);
                Ok(Bytes::from(out))
            }
            Content::File { path, .. } => Ok(Bytes::from(std::fs::read(path)?)),
        }
    }

    /// The decoded Subject. Blocking the first time for a Maildir file.
    pub(crate) fn subject(&self) -> Option<&str> {
        self.subject
            .get_or_init(|| self.raw().ok().and_then(|raw| subject_of(&raw)))
            .as_deref()
    }

    /// Conformance findings, as text.
    pub(crate) fn findings(&self) -> &[String] {
        self.meta.as_ref().map_or(&[], |m| &m.findings)
    }

    pub(crate) fn summary(&self) -> Summary {
        Summary {
            id: self.id.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            subject: self.subject().map(str::to_owned),
            size: self.size,
            received_at: rfc3339(self.received_at),
            findings: self.findings().len(),
        }
    }
}

/// The decoded Subject of a message, from its header section only.
pub(crate) fn subject_of(raw: &[u8]) -> Option<String> {
    MessageParser::new()
        .parse_headers(raw)
        .and_then(|m| m.subject().map(str::to_owned))
}

/// The `to`, `from`, `subject` and `q` filters of the list and of wait.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Filter {
    pub(crate) to: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) subject: Option<String>,
    /// Full text over the raw message.
    pub(crate) q: Option<String>,
}

/// A needle, lower-cased; `None` for a missing or empty filter.
fn needle(value: Option<&String>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(|v| v.to_lowercase())
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(needle)
}

impl Filter {
    /// True when `stored` passes every filter given (case-insensitive
    /// substrings). Blocking for `q` on a Maildir.
    pub(crate) fn matches(&self, stored: &Stored) -> bool {
        if let Some(n) = needle(self.from.as_ref())
            && !contains(&stored.from, &n)
        {
            return false;
        }
        if let Some(n) = needle(self.to.as_ref())
            && !stored.to.iter().any(|to| contains(to, &n))
        {
            return false;
        }
        if let Some(n) = needle(self.subject.as_ref())
            && !stored.subject().is_some_and(|s| contains(s, &n))
        {
            return false;
        }
        if let Some(n) = needle(self.q.as_ref()) {
            return stored
                .raw()
                .is_ok_and(|raw| contains(&String::from_utf8_lossy(&raw), &n));
        }
        true
    }
}

#[derive(Debug)]
enum Backend {
    Memory {
        limit: usize,
        messages: Mutex<VecDeque<Arc<Stored>>>,
    },
    Maildir(Maildir),
    Discard,
}

/// The store; cloning shares it.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    backend: Arc<Backend>,
    changed: Arc<watch::Sender<u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    fn with(backend: Backend) -> Store {
        Store {
            backend: Arc::new(backend),
            changed: Arc::new(watch::channel(0).0),
        }
    }

    /// Keeps the newest `limit` messages in memory.
    pub(crate) fn memory(limit: usize) -> Store {
        Store::with(Backend::Memory {
            limit: limit.max(1),
            messages: Mutex::default(),
        })
    }

    /// Lists and serves the messages of the Maildir at `root`.
    pub(crate) fn maildir(root: PathBuf) -> Store {
        Store::with(Backend::Maildir(Maildir::new(root)))
    }

    /// Keeps nothing.
    pub(crate) fn discard() -> Store {
        Store::with(Backend::Discard)
    }

    /// True when messages live in memory (and must be handed to the store).
    pub(crate) fn in_memory(&self) -> bool {
        matches!(*self.backend, Backend::Memory { .. })
    }

    /// Wakes up on every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// Keeps a message received by this process in memory, with the
    /// `Received:` header added on delivery; `None` when the store is not
    /// in memory.
    pub(crate) fn add_memory(
        &self,
        message: Message,
        received: Option<String>,
    ) -> Option<Arc<Stored>> {
        let Backend::Memory { limit, messages } = &*self.backend else {
            return None;
        };
        let stored = Arc::new(Stored {
            id: message.id().to_owned(),
            received_at: message.received_at(),
            from: unbracket(&message.reverse_path().to_string()),
            to: message
                .forward_paths()
                .map(|p| unbracket(&p.to_string()))
                .collect(),
            size: message.data().len() as u64,
            meta: Some(Arc::new(Meta {
                received,
                ..Meta::of(&message)
            })),
            content: Content::Memory(Bytes::from(message.into_data())),
            subject: OnceLock::new(),
        });
        {
            let mut messages = lock(messages);
            messages.push_back(stored.clone());
            while messages.len() > *limit {
                messages.pop_front();
            }
        }
        self.bump();
        Some(stored)
    }

    /// Indexes the file `MaildirSink` just wrote at `path`, keeping its
    /// envelope facts. Blocking.
    pub(crate) fn add_maildir(&self, path: &Path, meta: Meta) -> Option<Arc<Stored>> {
        let Backend::Maildir(maildir) = &*self.backend else {
            return None;
        };
        maildir.remember(path, Arc::new(meta));
        let stored = maildir.load(path).ok()?;
        self.bump();
        Some(stored)
    }

    /// Every message passing `filter`, newest first. Blocking.
    pub(crate) fn query(&self, filter: &Filter) -> io::Result<Vec<Arc<Stored>>> {
        let all = self.all()?;
        Ok(all.into_iter().filter(|s| filter.matches(s)).collect())
    }

    /// Every message, newest first. Blocking for a Maildir.
    fn all(&self) -> io::Result<Vec<Arc<Stored>>> {
        match &*self.backend {
            Backend::Discard => Ok(Vec::new()),
            Backend::Memory { messages, .. } => Ok(lock(messages).iter().rev().cloned().collect()),
            Backend::Maildir(maildir) => maildir.scan(),
        }
    }

    /// The message with this id. Blocking for a Maildir.
    pub(crate) fn get(&self, id: &str) -> io::Result<Option<Arc<Stored>>> {
        match &*self.backend {
            Backend::Memory { messages, .. } => {
                Ok(lock(messages).iter().find(|s| s.id == id).cloned())
            }
            Backend::Maildir(maildir) => maildir.get(id),
            Backend::Discard => Ok(None),
        }
    }

    /// Removes one message; false when there is none with this id.
    /// Blocking for a Maildir.
    pub(crate) fn delete(&self, id: &str) -> io::Result<bool> {
        let found = match &*self.backend {
            Backend::Discard => false,
            Backend::Memory { messages, .. } => {
                let mut messages = lock(messages);
                let before = messages.len();
                messages.retain(|s| s.id != id);
                messages.len() != before
            }
            Backend::Maildir(maildir) => match maildir.get(id)? {
                Some(stored) => maildir.remove(&stored)?,
                None => false,
            },
        };
        if found {
            self.bump();
        }
        Ok(found)
    }

    /// Removes every message. Blocking for a Maildir.
    pub(crate) fn clear(&self) -> io::Result<()> {
        match &*self.backend {
            Backend::Discard => {}
            Backend::Memory { messages, .. } => lock(messages).clear(),
            Backend::Maildir(maildir) => {
                for stored in maildir.scan()? {
                    maildir.remove(&stored)?;
                }
            }
        }
        self.bump();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, from: &str, to: &[&str], data: &str) -> Stored {
        Stored {
            id: id.to_owned(),
            received_at: SystemTime::now(),
            from: from.to_owned(),
            to: to.iter().map(|s| (*s).to_owned()).collect(),
            size: data.len() as u64,
            meta: None,
            content: Content::Memory(Bytes::from(data.to_owned())),
            subject: OnceLock::new(),
        }
    }

    #[test]
    fn filters_are_case_insensitive_substrings() {
        let s = stored(
            "1",
            "Alice@Example.com",
            &["bob@example.org", "carol@test.net"],
            "Subject: =?utf-8?q?Caf=C3=A9_Report?=\r\n\r\nThe Body text\r\n",
        );
        let f = |to: &str, from: &str, subject: &str, q: &str| Filter {
            to: Some(to.to_owned()),
            from: Some(from.to_owned()),
            subject: Some(subject.to_owned()),
            q: Some(q.to_owned()),
        };
        assert_eq!(s.subject(), Some("Café Report"));
        assert!(f("", "", "", "").matches(&s));
        assert!(f("CAROL", "alice@", "café", "body TEXT").matches(&s));
        assert!(!f("dave", "", "", "").matches(&s));
        assert!(!f("", "bob", "", "").matches(&s));
        assert!(!f("", "", "invoice", "").matches(&s));
        assert!(!f("", "", "", "missing").matches(&s));
        assert!(Filter::default().matches(&s));
    }

    #[test]
    fn a_message_without_subject_fails_a_subject_filter() {
        let s = stored("1", "", &["a@b"], "X: y\r\n\r\nbody\r\n");
        assert_eq!(s.subject(), None);
        let filter = Filter {
            subject: Some("x".to_owned()),
            ..Filter::default()
        };
        assert!(!filter.matches(&s));
    }
}
