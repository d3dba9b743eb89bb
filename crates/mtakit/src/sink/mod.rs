//! Where accepted messages go: the [`MessageSink`] trait and the built-in
//! sinks.

mod envelope_record;
mod maildir;
mod maildir_read;
mod memory;
mod null;

use std::future::Future;

use mtakit_proto::Reply;

use crate::message::Message;

pub use envelope_record::{MAX_RECORD, MaildirEnvelope};
pub use maildir::{MaildirSink, STALE_TMP};
pub use maildir_read::{
    EnvelopeSource, MAILDIR_MAX_FILE, MaildirEntry, MaildirMessage, MaildirReadError,
    MaildirReader, is_plain_id,
};
pub use memory::{MEMORY_SINK_BYTES, MEMORY_SINK_MESSAGES, MemoryEntry, MemorySink};
pub use null::NullSink;

/// Stores accepted messages. This is pymta's `IMessageDeliverer`, made
/// async and allowed to fail.
///
/// `deliver` runs after the end of data and before the client gets its
/// reply: `Ok(())` means the message is stored and the client gets `250`;
/// `Err(reply)` sends that reply instead (`451 4.3.0` is right for a
/// temporary problem), and the client keeps the message and retries, so
/// nothing is lost. A sink that panics has the same effect as one that
/// fails with `451 4.3.0`; the server goes on.
pub trait MessageSink: Send + Sync + 'static {
    /// Stores `message`.
    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send;

    /// Whether this sink needs the message content. A sink that discards
    /// messages returns `false`; the server then counts and checks content
    /// without holding it, so memory stays flat whatever the message size,
    /// and [`Message::data`] is empty. The default is `true`.
    fn keeps_content(&self) -> bool {
        true
    }

    /// Stores `message` for each recipient separately and reports one
    /// outcome per recipient, in envelope order: the LMTP delivery report
    /// (RFC 2033 §4.2). The default delivers once and reports that outcome
    /// for every recipient.
    fn deliver_each(
        &self,
        message: Message,
    ) -> impl Future<Output = Vec<Result<(), Reply>>> + Send {
        let count = message.recipients().len();
        let delivered = self.deliver(message);
        async move { vec![delivered.await; count] }
    }
}

impl<S: MessageSink> MessageSink for std::sync::Arc<S> {
    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send {
        (**self).deliver(message)
    }

    fn deliver_each(
        &self,
        message: Message,
    ) -> impl Future<Output = Vec<Result<(), Reply>>> + Send {
        (**self).deliver_each(message)
    }

    fn keeps_content(&self) -> bool {
        (**self).keeps_content()
    }
}

/// The reply for a sink that could not store a message.
pub(crate) fn temporary_failure() -> Reply {
    Reply::temporary_failure()
}
