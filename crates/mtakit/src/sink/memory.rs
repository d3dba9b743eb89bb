//! [`MemorySink`]: messages (or any [`MemoryEntry`]) kept in memory,
//! bounded, with waits and a live feed.

use std::collections::VecDeque;
use std::future::{Future, ready};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use mtakit_proto::Reply;
use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

use crate::message::Message;
use crate::sink::MessageSink;

/// Messages a [`MemorySink::new`] keeps at most: 10,000.
pub const MEMORY_SINK_MESSAGES: usize = 10_000;
/// Octets a [`MemorySink::new`] keeps at most (data plus a little per
/// message): 256 MiB.
pub const MEMORY_SINK_BYTES: usize = 256 * 1024 * 1024;
/// What a message costs besides its data, roughly.
const PER_MESSAGE: usize = 512;
/// Entries a [`subscribe`](MemorySink::subscribe)r may fall behind by
/// before it misses some.
const FEED: usize = 1024;

/// What a [`MemorySink`] can keep: anything with an id and a cost in
/// octets. [`Message`] is one (its data plus about 512 octets); an
/// application keeps its own view of messages (a parsed summary, say)
/// in a `MemorySink` of that type, with the same bounds and feed.
pub trait MemoryEntry: Send + Sync + 'static {
    /// The id [`MemorySink::get`] and [`MemorySink::remove`] look for.
    fn id(&self) -> &str;
    /// The octets this entry counts towards the byte budget.
    fn cost(&self) -> usize;
}

impl MemoryEntry for Message {
    fn id(&self) -> &str {
        Message::id(self)
    }

    fn cost(&self) -> usize {
        self.data().len() + PER_MESSAGE
    }
}

/// Keeps messages in memory, in arrival order, within a count and a byte
/// budget: past either the oldest go first. Cloning gives another handle
/// to the same store. The test harness uses it, and
/// [`subscribe`](Self::subscribe) feeds each new message to whoever
/// listens (a UI, a test waiting for something in particular).
///
/// `MemorySink` alone is `MemorySink<Message>`, the [`MessageSink`]. Any
/// other [`MemoryEntry`] type gets the same bounded store:
/// `MemorySink::<MyEntry>::bounded(n, bytes)` (`mtakit serve` keeps its
/// message summaries so).
///
/// ```
/// use mtakit::MemorySink;
///
/// let sink = MemorySink::new();
/// assert!(sink.messages().is_empty());
/// // Nothing arrives, so the wait gives up and returns what there is.
/// assert!(sink.wait_for(1, std::time::Duration::from_millis(10)).is_err());
/// ```
#[derive(Debug)]
pub struct MemorySink<T = Message> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for MemorySink<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner<T> {
    state: Mutex<Kept<T>>,
    max_entries: usize,
    max_bytes: usize,
    arrived: Condvar,
    notify: Notify,
    feed: broadcast::Sender<Arc<T>>,
}

/// The entries kept, and what they cost.
#[derive(Debug)]
struct Kept<T> {
    entries: VecDeque<Arc<T>>,
    bytes: usize,
    received: u64,
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::with_limits(MEMORY_SINK_MESSAGES, MEMORY_SINK_BYTES)
    }
}

impl MemorySink {
    /// An empty store that keeps at most [`MEMORY_SINK_MESSAGES`] messages
    /// and [`MEMORY_SINK_BYTES`] octets.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that keeps at most `max_messages` messages and
    /// `max_bytes` octets (each message counts its data and about 512
    /// octets); past either, the oldest are dropped. A single message
    /// larger than `max_bytes` is still kept, alone.
    ///
    /// ```
    /// use mtakit::MemorySink;
    ///
    /// let sink = MemorySink::with_limits(2, usize::MAX);
    /// # let _ = sink;
    /// ```
    pub fn with_limits(max_messages: usize, max_bytes: usize) -> Self {
        Self::bounded(max_messages, max_bytes)
    }
}

impl<T: MemoryEntry> MemorySink<T> {
    /// An empty store of `T` that keeps at most `max_entries` entries and
    /// `max_bytes` octets ([`MemoryEntry::cost`]); past either, the oldest
    /// are dropped. A single entry larger than `max_bytes` is still kept,
    /// alone (check [`max_bytes`](Self::max_bytes) first to refuse it).
    pub fn bounded(max_entries: usize, max_bytes: usize) -> Self {
        let (feed, _) = broadcast::channel(FEED);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(Kept {
                    entries: VecDeque::new(),
                    bytes: 0,
                    received: 0,
                }),
                max_entries: max_entries.max(1),
                max_bytes,
                arrived: Condvar::new(),
                notify: Notify::new(),
                feed,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Kept<T>> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The most entries kept.
    pub fn max_entries(&self) -> usize {
        self.inner.max_entries
    }

    /// The byte budget.
    pub fn max_bytes(&self) -> usize {
        self.inner.max_bytes
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when none are kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Octets the kept entries count towards the byte budget.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// How many entries arrived in all, including those dropped since
    /// and those taken.
    pub fn received(&self) -> u64 {
        self.lock().received
    }

    /// Each entry that arrives from now on. A receiver that falls more
    /// than 1024 entries behind gets
    /// [`RecvError::Lagged`](broadcast::error::RecvError::Lagged) and goes
    /// on with the newest.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<T>> {
        self.inner.feed.subscribe()
    }

    /// The entries kept, oldest first, shared (no copy).
    pub fn entries(&self) -> Vec<Arc<T>> {
        self.lock().entries.iter().cloned().collect()
    }

    /// The entry with this id, if kept.
    pub fn get(&self, id: &str) -> Option<Arc<T>> {
        self.lock().entries.iter().find(|e| e.id() == id).cloned()
    }

    /// Removes the entry with this id; `None` when none is kept.
    pub fn remove(&self, id: &str) -> Option<Arc<T>> {
        let mut state = self.lock();
        let at = state.entries.iter().position(|e| e.id() == id)?;
        let gone = state.entries.remove(at)?;
        state.bytes -= gone.cost();
        Some(gone)
    }

    /// Removes every entry; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut state = self.lock();
        state.bytes = 0;
        std::mem::take(&mut state.entries).len()
    }

    /// Adds an entry, dropping the oldest past the budgets, and wakes
    /// every waiter and subscriber. Returns the entries dropped, oldest
    /// first.
    pub fn insert(&self, entry: Arc<T>) -> Vec<Arc<T>> {
        let mut evicted = Vec::new();
        {
            let mut state = self.lock();
            state.received += 1;
            state.bytes += entry.cost();
            state.entries.push_back(entry.clone());
            while state.entries.len() > self.inner.max_entries
                || (state.bytes > self.inner.max_bytes && state.entries.len() > 1)
            {
                if let Some(old) = state.entries.pop_front() {
                    state.bytes -= old.cost();
                    evicted.push(old);
                }
            }
        }
        self.inner.arrived.notify_all();
        self.inner.notify.notify_waiters();
        // Nobody listening is fine.
        let _ = self.inner.feed.send(entry);
        evicted
    }

    /// [`insert`](Self::insert)s `entry`, dropping what it evicts.
    pub fn push(&self, entry: T) {
        self.insert(Arc::new(entry));
    }
}

impl<T: MemoryEntry + Clone> MemorySink<T> {
    /// A copy of every entry kept, oldest first.
    pub fn messages(&self) -> Vec<T> {
        self.lock().entries.iter().map(|m| (**m).clone()).collect()
    }

    /// Removes and returns every entry kept.
    pub fn take(&self) -> Vec<T> {
        let mut state = self.lock();
        state.bytes = 0;
        std::mem::take(&mut state.entries)
            .into_iter()
            .map(|m| Arc::try_unwrap(m).unwrap_or_else(|m| (*m).clone()))
            .collect()
    }

    /// Blocks until at least `n` entries are kept, or `timeout` passed.
    ///
    /// # Errors
    ///
    /// On timeout, the entries that did arrive.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<T>, Vec<T>> {
        let guard = self.lock();
        let (guard, _) = self
            .inner
            .arrived
            .wait_timeout_while(guard, timeout, |kept| kept.entries.len() < n)
            .unwrap_or_else(PoisonError::into_inner);
        let found = guard.entries.len() >= n;
        drop(guard);
        if found {
            Ok(self.messages())
        } else {
            Err(self.messages())
        }
    }

    /// Waits, without blocking the runtime, until at least `n` entries
    /// are kept, or `timeout` passed.
    ///
    /// # Errors
    ///
    /// On timeout, the entries that did arrive.
    pub async fn wait_for_async(&self, n: usize, timeout: Duration) -> Result<Vec<T>, Vec<T>> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.len() >= n {
                return Ok(self.messages());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                let messages = self.messages();
                return if messages.len() >= n {
                    Ok(messages)
                } else {
                    Err(messages)
                };
            }
        }
    }
}

impl MessageSink for MemorySink {
    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send {
        self.push(message);
        ready(Ok(()))
    }
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
