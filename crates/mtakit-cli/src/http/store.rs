//! The message store behind the HTTP API: in memory (bounded by a count
//! and a byte budget, newest kept: the library's [`MemorySink`] of
//! [`Stored`] entries), a Maildir on disk, or nothing (`--discard`).
//!
//! Each new message is offered once to the [`Waiters`] of `GET /api/wait`;
//! deletes and evictions are reported to them.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use mtakit::sink::MEMORY_SINK_BYTES;
use mtakit::{MemorySink, Message};

use super::filter::Filter;
use super::headers::subject_of;
use super::maildir::{Maildir, max_file_for};
use super::model::{Meta, unbracket};
pub(crate) use super::stored::{Content, Stored};
use super::waiters::{MAX_WAITERS, Waiters};

/// The default byte budget of the in-memory store: 256 MiB, the
/// library's [`MEMORY_SINK_BYTES`] (`--store-bytes`). Past it the oldest
/// messages are dropped.
pub(crate) const STORE_BYTES: usize = MEMORY_SINK_BYTES;

#[derive(Debug)]
enum Backend {
    Memory(MemorySink<Stored>),
    Maildir(Maildir),
    Discard,
}

/// The store; cloning shares it.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    backend: Arc<Backend>,
    waiters: Arc<Waiters>,
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
        Store::with(Backend::Memory(MemorySink::bounded(limit, budget)))
    }

    /// Lists and serves the messages of the Maildir at `root`, for a
    /// server that accepts messages of up to `max_message_size` octets:
    /// every file it writes can be served, and no file much larger is
    /// read into memory ([`max_file_for`]).
    pub(crate) fn maildir_for(root: PathBuf, max_message_size: u64) -> Store {
        let max = max_file_for(max_message_size);
        Store::with(Backend::Maildir(Maildir::with_max_file(root, max)))
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
        matches!(*self.backend, Backend::Memory(_))
    }

    /// Octets and messages held in memory (zero unless in memory).
    #[cfg(test)]
    pub(crate) fn memory_use(&self) -> (usize, usize) {
        match &*self.backend {
            Backend::Memory(sink) => (sink.bytes(), sink.len()),
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
    /// the store is not in memory or `stored` alone is over the budget
    /// (then nothing else is dropped for it).
    pub(crate) fn keep(&self, stored: Arc<Stored>) -> Option<Arc<Stored>> {
        let Backend::Memory(sink) = &*self.backend else {
            return None;
        };
        if stored.footprint() > sink.max_bytes() {
            tracing::warn!(
                id = %stored.id,
                size = stored.size,
                budget = sink.max_bytes(),
                "message larger than --store-bytes; not kept"
            );
            return None;
        }
        let evicted: Vec<String> = sink
            .insert(stored.clone())
            .iter()
            .map(|gone| gone.id.clone())
            .collect();
        self.waiters.forget(&evicted);
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
            Backend::Memory(sink) => Ok(sink.entries().into_iter().rev().collect()),
            Backend::Maildir(maildir) => maildir.scan(),
        }
    }

    /// The message with this id. Blocking for a Maildir.
    pub(crate) fn get(&self, id: &str) -> io::Result<Option<Arc<Stored>>> {
        match &*self.backend {
            Backend::Memory(sink) => Ok(sink.get(id)),
            Backend::Maildir(maildir) => maildir.get(id),
            Backend::Discard => Ok(None),
        }
    }

    /// Removes one message; false when there is none with this id.
    /// Blocking for a Maildir.
    pub(crate) fn delete(&self, id: &str) -> io::Result<bool> {
        let found = match &*self.backend {
            Backend::Discard => false,
            Backend::Memory(sink) => sink.remove(id).is_some(),
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
            Backend::Memory(sink) => {
                sink.clear();
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
        // Nor does it push out what is kept.
        let small = Arc::new(stored("small", "", &["a@b"], "x"));
        let cost = small.footprint();
        assert!(store.keep(small).is_some());
        let big = stored("big", "", &["a@b"], &"x".repeat(5000));
        assert!(store.keep(Arc::new(big)).is_none());
        assert_eq!(store.memory_use(), (cost, 1));
        assert!(store.get("small").unwrap().is_some());
    }

    /// A waiter counts only messages still stored: the store's eviction
    /// notices reach it.
    #[test]
    fn evicted_messages_no_longer_count_for_a_waiter() {
        let store = Store::memory(2, usize::MAX);
        let waiting = store.waiters().register(Filter::default(), 3).unwrap();
        for i in 0..3 {
            store.keep(Arc::new(stored(&format!("m{i}"), "", &["a@b"], "x")));
        }
        assert!(waiting.ready().is_none(), "m0 was evicted");
        let matched = waiting.matched();
        assert!(matched.contains("m1") && matched.contains("m2") && matched.len() == 2);
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
