//! The waiters of `GET /api/wait`: each is registered once with its
//! filter, seeded with one query of the store, then offered each new
//! message once, so a change costs one filter test per waiter instead of a
//! rescan of the store. At most [`MAX_WAITERS`] wait at a time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::filter::Filter;
use super::stored::Stored;

/// How many `GET /api/wait` requests may wait at a time by default: 64
/// (`--max-waiters`). Past it, `/api/wait` answers 503.
pub(crate) const MAX_WAITERS: usize = 64;

/// The registry; shared by the store and the wait handler.
#[derive(Debug)]
pub(crate) struct Waiters {
    cap: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    waiting: HashMap<u64, Waiter>,
}

#[derive(Debug)]
struct Waiter {
    filter: Arc<Filter>,
    /// Ids of the stored messages that match.
    matched: HashSet<String>,
    wanted: usize,
    wake: Arc<Notify>,
}

/// The registry is full.
#[derive(Debug)]
pub(crate) struct Full(pub(crate) usize);

/// One waiting request; dropping it ends the wait.
#[derive(Debug)]
pub(crate) struct Registration {
    waiters: Arc<Waiters>,
    key: u64,
    wake: Arc<Notify>,
}

impl Waiters {
    /// A registry of at most `cap` waiters.
    pub(crate) fn new(cap: usize) -> Waiters {
        Waiters {
            cap,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many wait now.
    pub(crate) fn len(&self) -> usize {
        self.lock().waiting.len()
    }

    /// Registers a waiter for `wanted` messages passing `filter`.
    pub(crate) fn register(
        self: &Arc<Self>,
        filter: Filter,
        wanted: usize,
    ) -> Result<Registration, Full> {
        let mut inner = self.lock();
        if inner.waiting.len() >= self.cap {
            return Err(Full(self.cap));
        }
        let key = inner.next;
        inner.next += 1;
        let wake = Arc::new(Notify::new());
        inner.waiting.insert(
            key,
            Waiter {
                filter: Arc::new(filter),
                matched: HashSet::new(),
                wanted,
                wake: wake.clone(),
            },
        );
        Ok(Registration {
            waiters: self.clone(),
            key,
            wake,
        })
    }

    /// A new message: tested once against each waiter's filter (outside
    /// the lock; blocking for `q` on a Maildir), and the satisfied waiters
    /// woken.
    pub(crate) fn offer(&self, stored: &Stored) {
        let filters: Vec<(u64, Arc<Filter>)> = {
            let inner = self.lock();
            inner
                .waiting
                .iter()
                .map(|(key, w)| (*key, w.filter.clone()))
                .collect()
        };
        let hits: Vec<u64> = filters
            .into_iter()
            .filter(|(_, filter)| filter.matches(stored))
            .map(|(key, _)| key)
            .collect();
        if hits.is_empty() {
            return;
        }
        let mut inner = self.lock();
        for key in hits {
            if let Some(waiter) = inner.waiting.get_mut(&key) {
                waiter.matched.insert(stored.id.clone());
                if waiter.matched.len() >= waiter.wanted {
                    waiter.wake.notify_one();
                }
            }
        }
    }

    /// Messages gone from the store (deleted or evicted).
    pub(crate) fn forget(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let mut inner = self.lock();
        for waiter in inner.waiting.values_mut() {
            for id in ids {
                waiter.matched.remove(id);
            }
        }
    }

    /// Every message is gone.
    pub(crate) fn forget_all(&self) {
        for waiter in self.lock().waiting.values_mut() {
            waiter.matched.clear();
        }
    }
}

impl Registration {
    /// Adds what a query of the store found at the start.
    pub(crate) fn seed(&self, ids: impl IntoIterator<Item = String>) {
        let mut inner = self.waiters.lock();
        if let Some(waiter) = inner.waiting.get_mut(&self.key) {
            waiter.matched.extend(ids);
        }
    }

    /// The ids matched so far, once there are enough of them.
    pub(crate) fn ready(&self) -> Option<HashSet<String>> {
        let inner = self.waiters.lock();
        let waiter = inner.waiting.get(&self.key)?;
        (waiter.matched.len() >= waiter.wanted).then(|| waiter.matched.clone())
    }

    /// The ids matched so far.
    pub(crate) fn matched(&self) -> HashSet<String> {
        let inner = self.waiters.lock();
        inner
            .waiting
            .get(&self.key)
            .map(|w| w.matched.clone())
            .unwrap_or_default()
    }

    /// Resolves when a new message may have satisfied this waiter.
    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.waiters.lock().waiting.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_cap_holds_and_frees() {
        let waiters = Arc::new(Waiters::new(2));
        let a = waiters.register(Filter::default(), 1).unwrap();
        let _b = waiters.register(Filter::default(), 1).unwrap();
        assert!(matches!(
            waiters.register(Filter::default(), 1),
            Err(Full(2))
        ));
        drop(a);
        assert_eq!(waiters.len(), 1);
        assert!(waiters.register(Filter::default(), 1).is_ok());
    }

    fn stored(id: &str, data: &'static [u8]) -> Stored {
        Stored {
            id: id.to_owned(),
            received_at: std::time::SystemTime::now(),
            from: String::new(),
            to: Vec::new(),
            size: data.len() as u64,
            meta: None,
            subject: super::super::headers::subject_of(data),
            content: super::super::stored::Content::Memory(data.into()),
        }
    }

    #[tokio::test]
    async fn only_a_matching_message_wakes() {
        let waiters = Arc::new(Waiters::new(4));
        let filter = Filter {
            subject: Some("Report".to_owned()),
            ..Filter::default()
        };
        let waiting = waiters.register(filter, 1).unwrap();
        let woken = |w: &Registration| {
            let w = w.wake.clone();
            async move {
                tokio::time::timeout(Duration::ZERO, w.notified())
                    .await
                    .is_ok()
            }
        };
        waiters.offer(&stored("a", b"Subject: lunch\r\n\r\nx"));
        assert!(!woken(&waiting).await);
        assert!(waiting.ready().is_none());
        waiters.offer(&stored("b", b"Subject: the report\r\n\r\nx"));
        assert!(woken(&waiting).await);
        assert_eq!(waiting.ready().unwrap().len(), 1);
        waiters.forget(&["b".to_owned()]);
        assert!(waiting.ready().is_none());
    }
}
