//! `--relay`: forwarding stored messages through a bounded pool.
//!
//! Accepting a message never waits for the relay, and never holds a copy
//! for it. The sink puts the message's *id* on a bounded queue
//! ([`RELAY_QUEUE`], `--relay-queue`); a fixed number of workers
//! ([`RELAY_CONNECTIONS`], `--relay-connections`), each with at most one
//! connection, take ids off it, look the message up in the store, and
//! stream its content from there (the file, for a Maildir). When the queue
//! is full the message is not forwarded: it stays in the store, a warning
//! names it, and `POST /api/messages/{id}/release` can send it later. A
//! message dropped from the store before its turn is skipped the same way.
//! So a relay that stalls costs at most the pool's sockets and the queue's
//! ids, whatever the traffic. A release through the API shares the same
//! connection budget (the [`Relay`] counts its connections), so it waits
//! for a free one rather than adding one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use super::store::{Content, Store, Stored};
use crate::relay::{Payload, Relay};

/// Default of `--relay-connections`: connections to the relay at once.
pub(crate) const RELAY_CONNECTIONS: usize = 4;
/// Default of `--relay-queue`: messages waiting for a relay connection.
pub(crate) const RELAY_QUEUE: usize = 1000;

/// What a worker needs to send one message.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) content: Payload,
}

impl Job {
    /// The stored message, for its own recipients.
    pub(crate) fn of(stored: &Stored) -> Job {
        Job {
            from: stored.from.clone(),
            to: stored.to.clone(),
            content: payload(stored),
        }
    }
}

/// The content of a stored message, without reading it.
fn payload(stored: &Stored) -> Payload {
    match &stored.content {
        Content::Memory(bytes) => Payload::Memory(bytes.clone()),
        Content::File { path, skip, .. } => Payload::File {
            path: path.clone(),
            skip: *skip as u64,
        },
    }
}

/// Finds a queued message when its turn comes; blocking.
type Lookup = Arc<dyn Fn(&str) -> Option<Job> + Send + Sync>;

/// The queue's receiving end and the lookup, until the workers start.
type Waiting = (mpsc::Receiver<String>, Lookup);

/// The queue and the workers behind it; cloning shares them.
#[derive(Clone)]
pub(crate) struct Forwarder {
    relay: Arc<Relay>,
    hello: String,
    queue: mpsc::Sender<String>,
    /// Taken by the first [`forward`](Self::forward), which starts the
    /// workers (the runtime may not exist when the forwarder is built).
    waiting: Arc<Mutex<Option<Waiting>>>,
    connections: usize,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("relay", &self.relay)
            .field("connections", &self.connections)
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}

/// Counters, for logs and tests.
#[derive(Debug, Default)]
struct Stats {
    /// Workers sending right now, and the most ever at once.
    sending: AtomicUsize,
    max_sending: AtomicUsize,
    /// The most ids ever waiting at once.
    max_queued: AtomicUsize,
    /// Messages not forwarded because the queue was full.
    refused: AtomicUsize,
}

impl Forwarder {
    /// Forwards messages of `store` to `relay`, greeting it as `hello`,
    /// over at most `connections` connections, with at most `queue`
    /// messages waiting.
    pub(crate) fn new(
        relay: Arc<Relay>,
        hello: String,
        store: Store,
        connections: usize,
        queue: usize,
    ) -> Forwarder {
        let lookup: Lookup = Arc::new(move |id: &str| match store.get(id) {
            Ok(Some(stored)) => Some(Job::of(&stored)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(%id, error = %e, "cannot read the message to relay");
                None
            }
        });
        Forwarder::with_lookup(relay, hello, lookup, connections, queue)
    }

    fn with_lookup(
        relay: Arc<Relay>,
        hello: String,
        lookup: Lookup,
        connections: usize,
        queue: usize,
    ) -> Forwarder {
        let (tx, rx) = mpsc::channel(queue.max(1));
        Forwarder {
            relay,
            hello,
            queue: tx,
            waiting: Arc::new(Mutex::new(Some((rx, lookup)))),
            connections: connections.max(1),
            stats: Arc::default(),
        }
    }

    /// Ids waiting for a worker.
    fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Queues the message `id` for the relay; never waits. Must run inside
    /// the runtime.
    pub(crate) fn forward(&self, id: &str) {
        self.start();
        match self.queue.try_send(id.to_owned()) {
            Ok(()) => {
                self.stats
                    .max_queued
                    .fetch_max(self.queued(), Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                let refused = self.stats.refused.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(
                    %id,
                    relay = %self.relay,
                    queue = self.queue.max_capacity(),
                    refused,
                    "relay queue full: message kept but not relayed; release it later"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!(%id, "relay workers gone: message not relayed");
            }
        }
    }

    /// Starts the workers, once.
    fn start(&self) {
        let Some((rx, lookup)) = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..self.connections {
            let (rx, lookup, this) = (rx.clone(), lookup.clone(), self.clone());
            tokio::spawn(async move {
                loop {
                    let Some(id) = rx.lock().await.recv().await else {
                        return;
                    };
                    this.send(&id, &lookup).await;
                }
            });
        }
    }

    /// Sends one queued message, if it is still stored.
    async fn send(&self, id: &str, lookup: &Lookup) {
        let job = {
            let (lookup, id) = (lookup.clone(), id.to_owned());
            tokio::task::spawn_blocking(move || lookup(&id)).await
        };
        let Ok(Some(job)) = job else {
            tracing::warn!(%id, relay = %self.relay, "message no longer stored: not relayed");
            return;
        };
        let now = self.stats.sending.fetch_add(1, Ordering::Relaxed) + 1;
        self.stats.max_sending.fetch_max(now, Ordering::Relaxed);
        let relay = &self.relay;
        match relay
            .send(&self.hello, &job.from, &job.to, &job.content)
            .await
        {
            Ok(reply) => tracing::info!(%id, %relay, %reply, "message relayed"),
            Err(e) => tracing::warn!(%id, %relay, error = %e, "message not relayed"),
        }
        self.stats.sending.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends a stored message to `relay`, for the recipients `to`, streaming
/// its content from the store.
pub(crate) async fn release(
    relay: &Relay,
    hello: &str,
    stored: &Stored,
    to: &[String],
) -> Result<String, crate::relay::RelayError> {
    relay.send(hello, &stored.from, to, &payload(stored)).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Bytes;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;

    /// A next hop that accepts TCP and never greets: each worker holds one
    /// connection, the queue holds its bound, and the rest are refused.
    #[tokio::test]
    async fn a_stalled_relay_costs_the_pool_and_the_queue_only() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open_tx, mut open) = tokio::sync::watch::channel(0usize);
        let open_tx = Arc::new(open_tx);
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                open_tx.send_modify(|n| *n += 1);
                let open_tx = open_tx.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                    open_tx.send_modify(|n| *n -= 1);
                });
            }
        });
        let relay: Relay = format!("smtp://127.0.0.1:{port}").parse().unwrap();
        let looked_up = Arc::new(AtomicUsize::new(0));
        let lookup: Lookup = {
            let looked_up = looked_up.clone();
            Arc::new(move |_: &str| {
                looked_up.fetch_add(1, Ordering::Relaxed);
                Some(Job {
                    from: "a@example.com".to_owned(),
                    to: vec!["b@example.com".to_owned()],
                    content: Payload::Memory(Bytes::from_static(b"x\r\n")),
                })
            })
        };
        let (connections, queue) = (2, 3);
        let pool = Forwarder::with_lookup(Arc::new(relay), "me".into(), lookup, connections, queue);
        // Each worker takes one message and stalls on the greeting.
        for n in 1..=connections {
            pool.forward(&format!("m{n}"));
            open.wait_for(|open| *open == n).await.unwrap();
        }
        for n in 0..10 {
            pool.forward(&format!("q{n}"));
        }
        assert_eq!(pool.queued(), queue);
        assert_eq!(pool.stats.refused.load(Ordering::Relaxed), 10 - queue);
        // Nothing else connects, and nothing else is read from the store.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(*open.borrow(), connections);
        assert_eq!(pool.stats.max_sending.load(Ordering::Relaxed), connections);
        assert_eq!(pool.stats.max_queued.load(Ordering::Relaxed), queue);
        assert_eq!(looked_up.load(Ordering::Relaxed), connections);
    }
}
