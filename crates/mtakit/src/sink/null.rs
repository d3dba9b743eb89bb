use std::future::{Future, ready};

use mtakit_proto::Reply;

use crate::message::Message;
use crate::sink::MessageSink;

/// Accepts every message and drops it, as Postfix's smtp-sink does.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl MessageSink for NullSink {
    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send {
        drop(message);
        ready(Ok(()))
    }
}
