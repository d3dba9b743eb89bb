//! [`StoreSink`]: the server's sink. It hands each message to the sink
//! chosen on the command line (print, Maildir, discard), then to the
//! [`Store`] and the [`Hub`], before the client gets its `250`; with
//! `--relay` it also queues the message for the relay, without waiting
//! ([`Forwarder`]).

use std::sync::Arc;

use mtakit::proto::Reply;
use mtakit::{Message, MessageSink};

use super::events::Hub;
use super::forward::Forwarder;
use super::model::Meta;
use super::store::{Store, Stored};
use crate::output::Sink;
use crate::relay::Relay;

/// The command line's sink, followed by the store and the live events.
#[derive(Clone, Debug)]
pub(crate) struct StoreSink {
    inner: Sink,
    store: Store,
    hub: Hub,
    /// `--hostname`, for the `Received:` header.
    hostname: String,
    /// `--relay`: every stored message is forwarded there too.
    relay: Option<Forwarder>,
}

impl StoreSink {
    /// `hostname` is the name in the `Received:` header of messages kept
    /// in memory.
    pub(crate) fn new(inner: Sink, store: Store, hub: Hub, hostname: String) -> StoreSink {
        StoreSink {
            inner,
            store,
            hub,
            hostname,
            relay: None,
        }
    }

    /// Forwards every stored message to `relay`, greeting it as `hello`,
    /// over at most `connections` connections with at most `queue`
    /// messages waiting.
    pub(crate) fn relay_to(
        mut self,
        relay: Arc<Relay>,
        hello: String,
        connections: usize,
        queue: usize,
    ) -> StoreSink {
        let store = self.store.clone();
        self.relay = Some(Forwarder::new(relay, hello, store, connections, queue));
        self
    }

    /// Announces a stored message, and forwards it when relaying.
    fn stored(&self, stored: Arc<Stored>) {
        if let Some(forwarder) = &self.relay {
            forwarder.forward(&stored.id);
        }
        self.hub.message(stored);
    }
}

impl MessageSink for StoreSink {
    fn keeps_content(&self) -> bool {
        self.store.in_memory() || self.inner.keeps_content()
    }

    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        if self.store.in_memory() {
            // The store keeps the message; printing only borrows it.
            self.inner.deliver_kept(&message).await?;
            let received = message.received_header(&self.hostname);
            if let Some(stored) = self.store.add_memory(message, Some(received)).await {
                self.stored(stored);
            }
            return Ok(());
        }
        let Sink::Maildir(maildir) = &self.inner else {
            // Nothing to index: --discard, or printing only.
            return self.inner.deliver(message).await;
        };
        let path = maildir.delivered_path(message.id());
        let meta = Meta::of(&message);
        self.inner.deliver(message).await?;
        {
            let store = self.store.clone();
            let found = tokio::task::spawn_blocking(move || store.add_maildir(&path, meta)).await;
            if let Ok(Some(stored)) = found {
                self.stored(stored);
            }
        }
        Ok(())
    }
}
