//! The end of a message: checks, findings and the delivery outcome.

use crate::data::DataOutcome;
use crate::findings::Finding;
use crate::session::event::{Event, Transaction};
use crate::session::info::Envelope;
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::{Awaiting, Content, State};
use crate::session::verdict::Verdict;

impl Session {
    /// The DATA receiver saw `<CRLF>.<CRLF>`.
    pub(super) fn end_of_data(&mut self, outcome: DataOutcome) {
        use crate::limits::LineEndingPolicy;
        let limits = &self.config.limits;
        // Binary content (RFC 3030) may hold any octet.
        let binary = self
            .info
            .envelope
            .as_ref()
            .is_some_and(|e| e.mail_params.body == Some(crate::params::Body::BinaryMime));
        let dropped = match &mut self.state {
            State::Mail(tx) => tx.refusal.take(),
            _ => None,
        };
        let refusal = if let Some(reply) = dropped {
            Some(reply)
        } else if outcome.oversized || outcome.size > self.info.max_message_size {
            Some(r::TOO_BIG)
        } else if outcome.line_too_long {
            Some(r::LINE_TOO_LONG)
        } else if !binary
            && limits.line_endings == LineEndingPolicy::Reject
            && (outcome.stats.bare_cr > 0 || outcome.stats.bare_lf > 0)
        {
            Some(r::BARE_NEWLINE_DATA)
        } else if !binary && !limits.allow_nul && outcome.stats.nul > 0 {
            Some(r::NUL_DATA)
        } else {
            None
        };
        if let Some(reply) = refusal {
            return self.refuse_message(reply);
        }
        let Some(envelope) = self.info.envelope.clone() else {
            return self.refuse_message(r::POLICY_ERROR);
        };
        let findings = self.findings(&envelope, &outcome.stats);
        self.awaiting = Some(Awaiting::Deliver {
            recipients: envelope.recipients.len(),
        });
        self.emit(Event::Deliver(Transaction {
            envelope,
            data: outcome.content,
            stats: outcome.stats,
            findings,
        }));
    }

    /// Refuses the message at its end and ends the transaction: one reply,
    /// or in LMTP one per accepted recipient (RFC 2033 §4.2), so that a
    /// client never reads a later reply (say the `221` to a pipelined QUIT)
    /// as a recipient's result.
    pub(super) fn refuse_message(&mut self, reply: crate::reply::Reply) {
        let each = self.replies_at_end_of_data();
        self.end_transaction();
        for _ in 1..each {
            self.reply(reply.clone());
        }
        self.reply(reply);
    }

    /// How many replies the end of the message gets: one per accepted
    /// recipient in LMTP, otherwise one.
    pub(super) fn replies_at_end_of_data(&self) -> usize {
        match &self.info.envelope {
            Some(envelope) if self.config.lmtp => envelope.recipients.len().max(1),
            _ => 1,
        }
    }

    /// Octets of message content the session holds in memory now: the
    /// DATA or BDAT content received so far. A server keeps the sum over
    /// its sessions within a budget with [`drop_content`](Self::drop_content).
    #[must_use]
    pub fn content_held(&self) -> usize {
        let State::Mail(tx) = &self.state else {
            return 0;
        };
        match &tx.content {
            Content::Data(receiver) => receiver.held(),
            Content::Chunks { receiver, .. } => receiver.held(),
            Content::Commands => 0,
        }
    }

    /// Drops the content of the message in progress and drains the rest
    /// of it: the end of the message then gets `reply` (once per recipient
    /// in LMTP), for example `452 4.3.1` when the server's memory budget
    /// for content in flight is spent. Nothing is delivered. Does nothing
    /// outside DATA and BDAT.
    pub fn drop_content(&mut self, reply: crate::reply::Reply) {
        let State::Mail(tx) = &mut self.state else {
            return;
        };
        match &mut tx.content {
            Content::Data(receiver) => receiver.stop_storing(),
            Content::Chunks { receiver, .. } => receiver.stop_storing(),
            Content::Commands => return,
        }
        tx.refusal = Some(reply);
    }

    /// Conformance mode: accept and record instead of refusing.
    pub(super) fn recording(&self) -> bool {
        self.config.limits.line_endings == crate::limits::LineEndingPolicy::Record
    }

    /// What this transaction did against the rules.
    fn findings(&self, envelope: &Envelope, stats: &crate::data::DataStats) -> Vec<Finding> {
        use crate::params::Body;
        let mut findings = Vec::new();
        if self.info.early_talker {
            findings.push(Finding::EarlyTalker);
        }
        if matches!(&self.state, State::Mail(tx) if tx.utf8_without_smtputf8) {
            findings.push(Finding::Utf8EnvelopeWithoutSmtputf8);
        }
        if stats.bare_lf > 0 {
            findings.push(Finding::BareLf {
                count: stats.bare_lf,
            });
        }
        if stats.bare_cr > 0 {
            findings.push(Finding::BareCr {
                count: stats.bare_cr,
            });
        }
        if stats.nul > 0 {
            findings.push(Finding::Nul { count: stats.nul });
        }
        if stats.longest_line > 998 {
            findings.push(Finding::LongLine {
                length: stats.longest_line,
            });
        }
        let declared = matches!(
            envelope.mail_params.body,
            Some(Body::EightBitMime | Body::BinaryMime)
        );
        if stats.eight_bit > 0 && !declared {
            findings.push(Finding::EightBitWithoutBody {
                count: stats.eight_bit,
            });
        }
        findings
    }

    pub(super) fn end_transaction(&mut self) {
        self.info.envelope = None;
        if let State::Mail(_) = self.state {
            self.state = State::Ready;
        }
    }

    /// The outcome of a delivery: one reply, or one per recipient in LMTP.
    pub(super) fn delivered_each(&mut self, verdicts: Vec<Verdict>) {
        self.end_transaction();
        if verdicts.iter().any(Verdict::is_accept) {
            self.info.transactions += 1;
        }
        for verdict in verdicts {
            let default = if verdict.accept {
                r::OK_QUEUED
            } else {
                r::DENIED_MESSAGE
            };
            self.reply(verdict.reply.unwrap_or(default));
        }
    }
}
