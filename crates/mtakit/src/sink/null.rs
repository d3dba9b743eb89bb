use std::future::{Future, ready};

use mtakit_proto::Reply;

use crate::message::Message;
use crate::sink::MessageSink;

/// Accepts every message and drops it, as Postfix's smtp-sink does. The
/// content is never held in memory (see
/// [`MessageSink::keeps_content`]), so a policy's `accept_message` sees
/// an empty message.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl MessageSink for NullSink {
    /// Content is counted and checked, never held.
    fn keeps_content(&self) -> bool {
        false
    }

    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send {
        drop(message);
        ready(Ok(()))
    }
}
