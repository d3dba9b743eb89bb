use std::future::{Future, ready};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use mtakit_proto::Reply;
use tokio::sync::Notify;

use crate::message::Message;
use crate::sink::MessageSink;

/// Keeps messages in memory, in arrival order. Cloning gives another
/// handle to the same store. The test harness uses it.
///
/// ```
/// use mtakit::MemorySink;
///
/// let sink = MemorySink::new();
/// assert!(sink.messages().is_empty());
/// // Nothing arrives, so the wait gives up and returns what there is.
/// assert!(sink.wait_for(1, std::time::Duration::from_millis(10)).is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    messages: Mutex<Vec<Message>>,
    arrived: Condvar,
    notify: Notify,
}

impl MemorySink {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Message>> {
        self.inner
            .messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of every message so far.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().clone()
    }

    /// How many messages there are.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes and returns every message.
    pub fn take(&self) -> Vec<Message> {
        std::mem::take(&mut *self.lock())
    }

    /// Blocks until at least `n` messages arrived, or `timeout` passed.
    ///
    /// # Errors
    ///
    /// On timeout, the messages that did arrive.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<Message>, Vec<Message>> {
        let guard = self.lock();
        let (guard, _) = self
            .inner
            .arrived
            .wait_timeout_while(guard, timeout, |m| m.len() < n)
            .unwrap_or_else(PoisonError::into_inner);
        if guard.len() >= n {
            Ok(guard.clone())
        } else {
            Err(guard.clone())
        }
    }

    /// Waits, without blocking the runtime, until at least `n` messages
    /// arrived, or `timeout` passed.
    ///
    /// # Errors
    ///
    /// On timeout, the messages that did arrive.
    pub async fn wait_for_async(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Message>, Vec<Message>> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let guard = self.lock();
                if guard.len() >= n {
                    return Ok(guard.clone());
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                let guard = self.lock();
                return if guard.len() >= n {
                    Ok(guard.clone())
                } else {
                    Err(guard.clone())
                };
            }
        }
    }

    /// Adds a message, waking every waiter.
    pub fn push(&self, message: Message) {
        self.lock().push(message);
        self.inner.arrived.notify_all();
        self.inner.notify.notify_waiters();
    }
}

impl MessageSink for MemorySink {
    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send {
        self.push(message);
        ready(Ok(()))
    }
}
