//! [`StoreSink`]: the server's sink. It hands each message to the sink
//! chosen on the command line (print, Maildir, discard), then to the
//! [`Store`] and the [`Hub`], before the client gets its `250`.

use mtakit::proto::Reply;
use mtakit::{Message, MessageSink};

use super::events::Hub;
use super::model::Meta;
use super::store::Store;
use crate::output::Sink;

/// The command line's sink, followed by the store and the live events.
#[derive(Clone, Debug)]
pub(crate) struct StoreSink {
    inner: Sink,
    store: Store,
    hub: Hub,
}

impl StoreSink {
    pub(crate) fn new(inner: Sink, store: Store, hub: Hub) -> StoreSink {
        StoreSink { inner, store, hub }
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
            if let Some(stored) = self.store.add_memory(message) {
                self.hub.message(stored);
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
                self.hub.message(stored);
            }
        }
        Ok(())
    }
}
