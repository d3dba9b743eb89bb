//! BDAT (RFC 3030 CHUNKING): chunks arriving and being refused.

use crate::reply::{Reply, ReplyCode};
use crate::session::event::Pending;
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::{Awaiting, Content, Skip, State};

impl Session {
    /// `BDAT size [LAST]`. The chunk's octets follow the command line, so
    /// they are consumed even when the command is refused: they are never
    /// read as commands.
    pub(super) fn bdat(&mut self, verb: &str, size: u64, last: bool) {
        let refusal = if !self.extensions.chunking {
            Some(r::BDAT_UNAVAILABLE)
        } else if !self.info.is_esmtp() {
            // CHUNKING is only offered in the EHLO/LHLO reply (RFC 3030).
            Some(r::bad_sequence(verb, "send EHLO first"))
        } else {
            match &self.info.envelope {
                None => Some(r::bad_sequence(verb, "send MAIL and RCPT first")),
                Some(e) if e.recipients.is_empty() => Some(r::NO_RECIPIENTS),
                Some(_) => None,
            }
        };
        if let Some(reply) = refusal {
            self.error(reply);
            return self.discard_chunk(size);
        }
        if self.chunks_open() {
            self.start_chunk(size, last);
        } else {
            self.ask(Awaiting::Bdat { size, last }, Pending::Data);
        }
    }

    /// A BDAT transfer is in progress: its first chunk was accepted.
    pub(super) fn chunks_open(&self) -> bool {
        matches!(&self.state, State::Mail(tx) if matches!(tx.content, Content::Chunks { .. }))
    }

    pub(super) fn discard_chunk(&mut self, size: u64) {
        if size > 0 && !self.is_closed() {
            self.skip = Skip::Octets(size);
        }
    }

    /// Reads the octets of the next chunk of the transfer in progress.
    pub(super) fn start_chunk(&mut self, size: u64, last: bool) {
        if let State::Mail(tx) = &mut self.state
            && let Content::Chunks { receiver, reading } = &mut tx.content
        {
            receiver.begin_chunk(size);
            *reading = Some(last);
            if size == 0 {
                self.chunk_complete(last);
            }
        }
    }

    /// All octets of a BDAT chunk arrived.
    pub(super) fn chunk_complete(&mut self, last: bool) {
        let State::Mail(tx) = &mut self.state else {
            return;
        };
        let Content::Chunks { receiver, reading } = &mut tx.content else {
            return;
        };
        *reading = None;
        if last {
            if let Content::Chunks { receiver, .. } =
                std::mem::replace(&mut tx.content, Content::Commands)
            {
                self.end_of_data(receiver.finish());
            }
        } else if receiver.is_oversized() {
            if self.config.lmtp {
                // The transaction stays open and drains: a pipelined
                // `BDAT … LAST` still gets one reply per recipient.
                self.reply(r::TOO_BIG);
            } else {
                self.end_transaction();
                self.reply(r::TOO_BIG);
            }
        } else {
            let text = format!("{} octets received", receiver.size());
            self.reply(Reply::owned(
                ReplyCode::OK,
                Some(crate::EnhancedCode::SUCCESS),
                text,
            ));
        }
    }
}
