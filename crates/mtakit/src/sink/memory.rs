//! [`MemorySink`]: messages kept in memory, bounded, with waits and a
//! live feed.

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
/// Messages a [`subscribe`](MemorySink::subscribe)r may fall behind by
/// before it misses some.
const FEED: usize = 1024;

/// Keeps messages in memory, in arrival order, within a count and a byte
/// budget: past either the oldest go first. Cloning gives another handle
/// to the same store. The test harness uses it, and
/// [`subscribe`](Self::subscribe) feeds each new message to whoever
/// listens (a UI, a test waiting for something in particular).
///
/// ```
/// use mtakit::MemorySink;
///
/// let sink = MemorySink::new();
/// assert!(sink.messages().is_empty());
/// // Nothing arrives, so the wait gives up and returns what there is.
/// assert!(sink.wait_for(1, std::time::Duration::from_millis(10)).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct MemorySink {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<Kept>,
    max_messages: usize,
    max_bytes: usize,
    arrived: Condvar,
    notify: Notify,
    feed: broadcast::Sender<Arc<Message>>,
}

/// The messages kept, and what they cost.
#[derive(Debug, Default)]
struct Kept {
    messages: VecDeque<Arc<Message>>,
    bytes: usize,
    received: u64,
}

fn cost(message: &Message) -> usize {
    message.data().len() + PER_MESSAGE
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
        let (feed, _) = broadcast::channel(FEED);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(Kept::default()),
                max_messages: max_messages.max(1),
                max_bytes,
                arrived: Condvar::new(),
                notify: Notify::new(),
                feed,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of every message kept.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().messages.iter().map(|m| (**m).clone()).collect()
    }

    /// How many messages are kept.
    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    /// True when none are kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Octets the kept messages count towards the byte budget.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// How many messages arrived in all, including those dropped since
    /// and those taken.
    pub fn received(&self) -> u64 {
        self.lock().received
    }

    /// Each message that arrives from now on. A receiver that falls more
    /// than 1024 messages behind gets
    /// [`RecvError::Lagged`](broadcast::error::RecvError::Lagged) and goes
    /// on with the newest.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Message>> {
        self.inner.feed.subscribe()
    }

    /// Removes and returns every message kept.
    pub fn take(&self) -> Vec<Message> {
        let mut state = self.lock();
        state.bytes = 0;
        std::mem::take(&mut state.messages)
            .into_iter()
            .map(|m| Arc::try_unwrap(m).unwrap_or_else(|m| (*m).clone()))
            .collect()
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
            .wait_timeout_while(guard, timeout, |kept| kept.messages.len() < n)
            .unwrap_or_else(PoisonError::into_inner);
        let found = guard.messages.len() >= n;
        drop(guard);
        if found {
            Ok(self.messages())
        } else {
            Err(self.messages())
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

    /// Adds a message, dropping the oldest past the budgets, and wakes
    /// every waiter and subscriber.
    pub fn push(&self, message: Message) {
        let message = Arc::new(message);
        {
            let mut state = self.lock();
            state.received += 1;
            state.bytes += cost(&message);
            state.messages.push_back(message.clone());
            while state.messages.len() > self.inner.max_messages
                || (state.bytes > self.inner.max_bytes && state.messages.len() > 1)
            {
                if let Some(old) = state.messages.pop_front() {
                    state.bytes -= cost(&old);
                }
            }
        }
        self.inner.arrived.notify_all();
        self.inner.notify.notify_waiters();
        // Nobody listening is fine.
        let _ = self.inner.feed.send(message);
    }
}

impl MessageSink for MemorySink {
    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send {
        self.push(message);
        ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtakit_proto::testing::Harness;
    use mtakit_proto::{Event, SessionConfig};

    /// A message of `size` octets of content, through a real session.
    fn message(size: usize) -> Message {
        let mut h = Harness::with_config(SessionConfig::new("t"));
        h.greeting();
        h.send("EHLO c");
        h.send("MAIL FROM:<a@a.test>");
        h.send("RCPT TO:<b@b.test>");
        h.send("DATA");
        let mut body = vec![b'x'; size.saturating_sub(2)];
        body.extend_from_slice(b"\r\n.\r\n");
        let session = h.session();
        session.receive(&body);
        loop {
            match session.poll_event() {
                Some(Event::Deliver(t)) => return Message::new(session.info(), t),
                Some(_) => {}
                None => panic!("no message"),
            }
        }
    }

    #[test]
    fn the_oldest_go_first_past_either_budget() {
        let sink = MemorySink::with_limits(3, usize::MAX);
        for _ in 0..5 {
            sink.push(message(10));
        }
        assert_eq!((sink.len(), sink.received()), (3, 5));
        let sink = MemorySink::with_limits(100, 3 * (1000 + PER_MESSAGE));
        for _ in 0..5 {
            sink.push(message(1000));
        }
        assert_eq!(sink.len(), 3);
        assert!(sink.bytes() <= 3 * (1000 + PER_MESSAGE));
        // One message over the whole budget is still kept, alone.
        sink.push(message(10_000));
        assert_eq!(sink.len(), 1);
        assert!(sink.take().len() == 1 && sink.bytes() == 0);
    }

    #[tokio::test]
    async fn subscribers_get_each_new_message() {
        let sink = MemorySink::new();
        let mut feed = sink.subscribe();
        let sent = message(10);
        let id = sent.id().to_owned();
        sink.push(sent);
        assert_eq!(feed.recv().await.unwrap().id(), id);
    }
}
