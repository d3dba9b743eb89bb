//! BDAT (RFC 3030 CHUNKING): chunks arriving and being refused.

use crate::reply::{Reply, ReplyCode};
use crate::session::event::Pending;
use crate::session::machine::{Awaiting, Mode, Session};
use crate::session::replies as r;

impl Session {
    /// `BDAT size [LAST]`. The chunk's octets follow the command line, so
    /// they are consumed even when the command is refused: they are never
    /// read as commands.
    pub(crate) fn bdat(&mut self, verb: &str, size: u64, last: bool) {
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
        if self.chunks.is_some() {
            self.start_chunk(size, last);
        } else {
            self.ask(Awaiting::Bdat { size, last }, Pending::Data);
        }
    }

    pub(crate) fn discard_chunk(&mut self, size: u64) {
        if size > 0 && !self.is_closed() {
            self.mode = Mode::BdatDiscard { remaining: size };
        }
    }

    pub(crate) fn start_chunk(&mut self, size: u64, last: bool) {
        if let Some(chunks) = self.chunks.as_mut() {
            chunks.begin_chunk(size);
        }
        self.mode = Mode::Bdat { last };
        if size == 0 {
            self.chunk_complete(last);
        }
    }

    /// All octets of a BDAT chunk arrived.
    pub(crate) fn chunk_complete(&mut self, last: bool) {
        self.mode = Mode::Command;
        let Some(chunks) = self.chunks.as_ref() else {
            return;
        };
        if last {
            let outcome = self.chunks.take().map(|c| c.finish());
            if let Some(outcome) = outcome {
                self.end_of_data(outcome);
            }
        } else if chunks.is_oversized() {
            if self.config.lmtp {
                // The transaction stays open and drains: a pipelined
                // `BDAT … LAST` still gets one reply per recipient.
                self.reply(r::TOO_BIG);
            } else {
                self.end_transaction();
                self.reply(r::TOO_BIG);
            }
        } else {
            let text = format!("{} octets received", chunks.size());
            self.reply(Reply::owned(
                ReplyCode::OK,
                Some(crate::EnhancedCode::SUCCESS),
                text,
            ));
        }
    }
}
