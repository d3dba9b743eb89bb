//! The message store behind the HTTP API: in memory (bounded by a count
//! and a byte budget, newest kept), a Maildir on disk, or nothing
//! (`--discard`).
//!
//! Each new message is offered once to the [`Waiters`] of `GET /api/wait`;
//! deletes and evictions are reported to them.

use std::collections::{HashSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use mtakit::Message;

use super::filter::Filter;
use super::headers::subject_of;
use super::maildir::Maildir;
use super::model::{Meta, unbracket};
pub(crate) use super::stored::{Content, Stored};
use super::waiters::{MAX_WAITERS, Waiters};

/// The default byte budget of the in-memory store: 256 MiB
/// (`--store-bytes`). Past it the oldest messages are dropped.
pub(crate) const STORE_BYTES: usize = 256 * 1024 * 1024;
#[derive(Debug, Default)]
struct Memory {
    messages: VecDeque<Arc<Stored>>,
    /// The sum of the messages' [`Stored::footprint`].
    bytes: usize,
}

#[derive(Debug)]
enum Backend {
    Memory {
        limit: usize,
        budget: usize,
        state: Mutex<Memory>,
    },
    Maildir(Maildir),
    Discard,
}

/// The store; cloning shares it.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    backend: Arc<Backend>,
    waiters: Arc<Waiters>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    fn with(backend: Backend) -> Store {
        Store {
            backend: Arc::new(backend),
            waiters: Arc::new(Waiters::new(MAX_WAITERS)),
        }
    }

    /// Keeps the newest `limit` messages in memory, and no more than
    /// `budget` octets of them ([`Stored::footprint`]).
    pub(crate) fn memory(limit: usize, budget: usize) -> Store {
        Store::with(Backend::Memory {
            limit: limit.max(1),
            budget,
            state: Mutex::default(),
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

    /// Lets at most `cap` requests wait in `GET /api/wait` at a time.
    pub(crate) fn max_waiters(self, cap: usize) -> Store {
        Store {
            waiters: Arc::new(Waiters::new(cap)),
            ..self
        }
    }

    /// The waiters of `GET /api/wait`.
    pub(crate) fn waiters(&self) -> &Arc<Waiters> {
        &self.waiters
    }

    /// True when messages live in memory (and must be handed to the store).
    pub(crate) fn in_memory(&self) -> bool {
        matches!(*self.backend, Backend::Memory { .. })
    }

    /// Octets and messages held in memory (zero unless in memory).
    #[cfg(test)]
    pub(crate) fn memory_use(&self) -> (usize, usize) {
        match &*self.backend {
            Backend::Memory { state, .. } => {
                let state = lock(state);
                (state.bytes, state.messages.len())
            }
            _ => (0, 0),
        }
    }

    /// Offers a new message to the waiters, off the caller's thread when
    /// a runtime is at hand.
    fn offer(&self, stored: &Arc<Stored>) {
        if self.waiters.len() == 0 {
            return;
        }
        let waiters = self.waiters.clone();
        let stored = stored.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking(move || waiters.offer(&stored));
            }
            Err(_) => waiters.offer(&stored),
        }
    }

    /// Keeps a message received by this process in memory, with the
    /// `Received:` header added on delivery, dropping the oldest past the
    /// count or the byte budget; `None` when the store is not in memory, or
    /// the message alone is over the budget. The Subject is parsed on a
    /// blocking thread.
    pub(crate) async fn add_memory(
        &self,
        message: Message,
        received: Option<String>,
    ) -> Option<Arc<Stored>> {
        if !self.in_memory() {
            return None;
        }
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.insert(message, received))
            .await
            .ok()
            .flatten()
    }

    /// [`Store::add_memory`], blocking.
    pub(crate) fn insert(&self, message: Message, received: Option<String>) -> Option<Arc<Stored>> {
        if !self.in_memory() {
            return None;
        }
        let meta = Meta::of(&message);
        let stored = Arc::new(Stored {
            id: message.id().to_owned(),
            received_at: message.received_at(),
            from: unbracket(&message.reverse_path().to_string()),
            to: message
                .forward_paths()
                .map(|p| unbracket(&p.to_string()))
                .collect(),
            size: message.data().len() as u64,
            meta: Some(Arc::new(Meta { received, ..meta })),
            subject: subject_of(message.data()),
            content: Content::Memory(Bytes::from(message.into_data())),
        });
        self.keep(stored)
    }

    /// Keeps `stored` in memory, dropping the oldest messages past the
    /// count or the byte budget, and offers it to the waiters; `None` when
    /// the store is not in memory or `stored` alone is over the budget.
    pub(crate) fn keep(&self, stored: Arc<Stored>) -> Option<Arc<Stored>> {
        let Backend::Memory {
            limit,
            budget,
            state,
        } = &*self.backend
        else {
            return None;
        };
        let mut evicted = Vec::new();
        {
            let mut state = lock(state);
            state.bytes += stored.footprint();
            state.messages.push_back(stored.clone());
            while state.messages.len() > *limit || state.bytes > *budget {
                let Some(old) = state.messages.pop_front() else {
                    break;
                };
                state.bytes -= old.footprint();
                evicted.push(old.id.clone());
            }
        }
        self.waiters.forget(&evicted);
        if evicted.last() == Some(&stored.id) {
            tracing::warn!(
                id = %stored.id,
                size = stored.size,
                budget,
                "message larger than --store-bytes; not kept"
            );
            return None;
        }
        self.offer(&stored);
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
        self.offer(&stored);
        Some(stored)
    }

    /// Every message passing `filter`, newest first. Blocking.
    pub(crate) fn query(&self, filter: &Filter) -> io::Result<Vec<Arc<Stored>>> {
        let all = self.all()?;
        Ok(all.into_iter().filter(|s| filter.matches(s)).collect())
    }

    /// The messages with these ids that are still stored, newest first.
    /// Blocking.
    pub(crate) fn by_ids(&self, ids: &HashSet<String>) -> io::Result<Vec<Arc<Stored>>> {
        let all = self.all()?;
        Ok(all.into_iter().filter(|s| ids.contains(&s.id)).collect())
    }

    /// Every message, newest first. Blocking for a Maildir.
    fn all(&self) -> io::Result<Vec<Arc<Stored>>> {
        match &*self.backend {
            Backend::Discard => Ok(Vec::new()),
            Backend::Memory { state, .. } => {
                Ok(lock(state).messages.iter().rev().cloned().collect())
            }
            Backend::Maildir(maildir) => maildir.scan(),
        }
    }

    /// The message with this id. Blocking for a Maildir.
    pub(crate) fn get(&self, id: &str) -> io::Result<Option<Arc<Stored>>> {
        match &*self.backend {
            Backend::Memory { state, .. } => {
                Ok(lock(state).messages.iter().find(|s| s.id == id).cloned())
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
            Backend::Memory { state, .. } => {
                let mut state = lock(state);
                let position = state.messages.iter().position(|s| s.id == id);
                match position.and_then(|at| state.messages.remove(at)) {
                    Some(gone) => {
                        state.bytes -= gone.footprint();
                        true
                    }
                    None => false,
                }
            }
            Backend::Maildir(maildir) => match maildir.get(id)? {
                Some(stored) => maildir.remove(&stored)?,
                None => false,
            },
        };
        if found {
            self.waiters.forget(&[id.to_owned()]);
        }
        Ok(found)
    }

    /// Removes every message. Blocking for a Maildir.
    pub(crate) fn clear(&self) -> io::Result<()> {
        match &*self.backend {
            Backend::Discard => {}
            Backend::Memory { state, .. } => {
                let mut state = lock(state);
                state.messages.clear();
                state.bytes = 0;
            }
            Backend::Maildir(maildir) => {
                for stored in maildir.scan()? {
                    maildir.remove(&stored)?;
                }
            }
        }
        self.waiters.forget_all();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::super::headers::LIST_TEXT_MAX;
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
            subject: subject_of(data.as_bytes()),
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
    fn the_byte_budget_drops_the_oldest() {
        let body = "x".repeat(100_000);
        let one = stored("probe", "", &["a@b"], &body).footprint();
        let budget = 10 * one + one / 2;
        let store = Store::memory(1000, budget);
        for i in 0..30 {
            let kept = store.keep(Arc::new(stored(&format!("m{i}"), "", &["a@b"], &body)));
            assert!(kept.is_some());
            let (bytes, count) = store.memory_use();
            assert!(bytes <= budget, "{bytes} > {budget} after {i}");
            assert!(count <= 10);
        }
        let ids: Vec<String> = store.all().unwrap().iter().map(|s| s.id.clone()).collect();
        let newest: Vec<String> = (20..30).rev().map(|i| format!("m{i}")).collect();
        assert_eq!(ids, newest);
        // The count limit still holds beside it.
        let store = Store::memory(3, budget);
        for i in 0..5 {
            store.keep(Arc::new(stored(&format!("n{i}"), "", &["a@b"], "x")));
        }
        assert_eq!(store.memory_use().1, 3);
        // Deleting gives the bytes back.
        assert!(store.delete("n4").unwrap());
        assert_eq!(store.memory_use().1, 2);
        store.clear().unwrap();
        assert_eq!(store.memory_use(), (0, 0));
    }

    #[test]
    fn a_message_over_the_budget_is_not_kept() {
        let store = Store::memory(10, 1000);
        let big = stored("big", "", &["a@b"], &"x".repeat(5000));
        assert!(store.keep(Arc::new(big)).is_none());
        assert_eq!(store.memory_use(), (0, 0));
    }

    #[test]
    fn list_strings_are_bounded() {
        let subject = format!("Subject: {}\r\n\r\nbody\r\n", "s".repeat(3_000_000));
        let long = "r".repeat(5000);
        let s = stored("1", &long, &[&long], &subject);
        let summary = s.summary();
        assert_eq!(summary.subject.unwrap().chars().count(), LIST_TEXT_MAX);
        assert_eq!(summary.from.chars().count(), LIST_TEXT_MAX);
        assert_eq!(summary.to[0].chars().count(), LIST_TEXT_MAX);
        // The subject is kept once at full size: in the data.
        assert!(s.footprint() < 3_000_000 + 20_000);
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
