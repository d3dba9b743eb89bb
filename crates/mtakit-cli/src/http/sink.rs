//! [`StoreSink`]: the server's sink. It hands each message to the sink
//! chosen on the command line (print, Maildir, discard), then to the
//! [`Store`] and the [`Hub`], before the client gets its `250`; with
//! `--relay` it also starts forwarding the message, without waiting.

use std::sync::Arc;

use mtakit::proto::Reply;
use mtakit::{Message, MessageSink};

use super::events::Hub;
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
    /// `--relay`: every stored message is forwarded there too.
    relay: Option<Forwarder>,
}

impl StoreSink {
    pub(crate) fn new(inner: Sink, store: Store, hub: Hub) -> StoreSink {
        StoreSink {
            inner,
            store,
            hub,
            relay: None,
        }
    }

    /// Forwards every stored message to `relay`, greeting it as `hello`.
    pub(crate) fn relay_to(mut self, relay: Arc<Relay>, hello: String) -> StoreSink {
        self.relay = Some(Forwarder { relay, hello });
        self
    }

    /// Announces a stored message, and forwards it when relaying.
    fn stored(&self, stored: Arc<Stored>) {
        if let Some(forwarder) = &self.relay {
            forwarder.forward(stored.clone());
        }
        self.hub.message(stored);
    }
}

/// Forwards stored messages to the relay, in the background: the client's
/// `250` does not wait for it, and the message stays in the store either
/// way.
#[derive(Clone, Debug)]
struct Forwarder {
    relay: Arc<Relay>,
    hello: String,
}

impl Forwarder {
    fn forward(&self, stored: Arc<Stored>) {
        let Forwarder { relay, hello } = self.clone();
        tokio::spawn(async move {
            let id = stored.id.clone();
            match release(&relay, &hello, &stored, &stored.to).await {
                Ok(reply) => tracing::info!(%id, %relay, %reply, "message relayed"),
                Err(e) => tracing::warn!(%id, %relay, error = %e, "message not relayed"),
            }
        });
    }
}

/// Sends a stored message to `relay`, for the recipients `to`.
pub(crate) async fn release(
    relay: &Relay,
    hello: &str,
    stored: &Arc<Stored>,
    to: &[String],
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let raw = {
        let stored = stored.clone();
        tokio::task::spawn_blocking(move || stored.raw()).await??
    };
    Ok(relay.send(hello, &stored.from, to, &raw).await?)
}

impl MessageSink for StoreSink {
    fn keeps_content(&self) -> bool {
        self.store.in_memory() || self.inner.keeps_content()
    }

    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        if self.store.in_memory() {
            // The store keeps the message; printing only borrows it.
            self.inner.deliver_kept(&message).await?;
            if let Some(stored) = self.store.add_memory(message).await {
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
