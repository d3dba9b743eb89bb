//! Input framing: buffering what [`Session::receive`] gets, and cutting it
//! into command lines, SASL lines, message content and skipped octets.

use crate::session::event::{Event, Queued};
use crate::session::machine::Session;
use crate::session::replies as r;
use crate::session::state::{Content, Skip, State};

/// The most buffer capacity an emptied input buffer keeps.
pub(super) const INPUT_KEEP: usize = 4096;

/// The most octets a session buffers from [`Session::receive`] calls made
/// while it still had input to process (a decision pending, or events not
/// yet polled): 256 KiB. Past it the session replies `421 4.7.0` and
/// closes, so a driver that reads while it awaits a decision, facing a
/// client that pipelines without end, holds bounded memory. A driver that
/// calls `receive` only after [`Session::poll_event`] returned `None` with
/// no decision pending never reaches it, whatever the size of its reads.
pub const MAX_PENDING_INPUT: usize = 256 * 1024;

impl Session {
    /// Feeds bytes received from the client. Processing happens in
    /// [`poll_event`](Self::poll_event); call this again only after
    /// `poll_event` returned `None` with no decision pending. Input given
    /// while the session still has input to process is bounded by
    /// [`MAX_PENDING_INPUT`]: past it the session replies `421 4.7.0` and
    /// closes.
    pub fn receive(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || matches!(self.state, State::Closed | State::TlsHandshake) {
            return;
        }
        let solicited = std::mem::replace(&mut self.wants_input, false);
        let bytes = self.receive_content(bytes);
        if bytes.is_empty() {
            return;
        }
        if !solicited && self.input.len() - self.pos + bytes.len() > MAX_PENDING_INPUT {
            return self.overrun();
        }
        if self.pos == self.input.len() {
            self.input.clear();
            self.pos = 0;
        } else if self.pos > 0 {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// Too much input while input was pending: `421 4.7.0` and close. The
    /// session waits for nothing any more, so a decision or delivery it
    /// asked for and that was not yet polled is withdrawn.
    fn overrun(&mut self) {
        self.events
            .retain(|e| !matches!(e, Queued::Decide(_) | Queued::Deliver(_)));
        let reply = r::too_much_input(&self.host);
        self.close_with(reply);
    }

    /// Fast path for message content: when nothing else is buffered or
    /// pending, content goes straight into the DATA or BDAT receiver
    /// without being copied into the input buffer first. Returns what is
    /// left (pipelined commands after the end of the content).
    fn receive_content<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        if self.pos != self.input.len() || self.awaiting.is_some() || !self.events.is_empty() {
            return bytes;
        }
        match feed_content(&mut self.state, bytes) {
            Some((used, finished)) => {
                self.content_finished(finished);
                &bytes[used..]
            }
            None => bytes,
        }
    }

    /// Acts on the end of a DATA message or of a BDAT chunk.
    fn content_finished(&mut self, finished: Finished) {
        match finished {
            Finished::Nothing => {}
            Finished::Data(outcome) => self.end_of_data(outcome),
            Finished::Chunk { last } => self.chunk_complete(last),
        }
    }

    /// The capacity of the input buffer, for tests of its release.
    #[cfg(test)]
    pub(super) fn input_capacity(&self) -> usize {
        self.input.capacity()
    }

    /// Octets received and not yet processed, for tests of their bound.
    #[cfg(test)]
    pub(super) fn input_buffered(&self) -> usize {
        self.input.len() - self.pos
    }

    /// Frees the input buffer once it is consumed and larger than
    /// [`INPUT_KEEP`]: a large batch of pipelined commands does not leave
    /// a large buffer behind on a session that then waits.
    pub(super) fn release_input(&mut self) {
        if self.pos == self.input.len() && self.input.capacity() > INPUT_KEEP {
            self.input = Vec::new();
            self.pos = 0;
        }
    }

    /// Discards all buffered input (after STARTTLS: CVE-2011-0411).
    pub(super) fn discard_input(&mut self) {
        self.input.clear();
        self.pos = 0;
    }

    /// Processes one unit of input. Returns false when more input is
    /// needed.
    pub(super) fn step(&mut self) -> bool {
        let avail = &self.input[self.pos..];
        if avail.is_empty() {
            return false;
        }
        match &mut self.skip {
            Skip::Nothing => {}
            Skip::Octets(remaining) => {
                let take = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(avail.len());
                self.pos += take;
                *remaining -= take as u64;
                if *remaining == 0 {
                    self.skip = Skip::Nothing;
                }
                return true;
            }
            Skip::Line => {
                match memchr(b'\n', avail) {
                    Some(i) => {
                        self.pos += i + 1;
                        self.skip = Skip::Nothing;
                        self.error(r::LINE_TOO_LONG);
                    }
                    None => self.pos = self.input.len(),
                }
                return true;
            }
        }
        if let Some((used, finished)) = feed_content(&mut self.state, avail) {
            self.pos += used;
            self.content_finished(finished);
            return true;
        }
        match self.state {
            State::TlsHandshake | State::Closed => false,
            _ => self.line(),
        }
    }

    /// Reads one command or SASL line, if it is complete. Returns false
    /// when more input is needed.
    fn line(&mut self) -> bool {
        let avail = &self.input[self.pos..];
        let sasl = matches!(self.state, State::Sasl(_));
        let limits = &self.config.limits;
        // What is buffered before a line counts as over-long: the largest
        // any line may be (AUTH lines may reach the SASL limit); each
        // command's own limit is checked once parsed.
        let cap = if sasl {
            limits.auth_line
        } else {
            limits
                .command_line
                .max(limits.command_line_extended)
                .max(limits.auth_line)
        };
        let Some(lf) = memchr(b'\n', avail) else {
            if avail.len() >= cap {
                self.pos = self.input.len();
                self.skip = Skip::Line;
                self.abandon_sasl();
                return true;
            }
            return false;
        };
        let start = self.pos;
        self.pos += lf + 1;
        // Length first: a line over the cap that arrives in pieces goes
        // through `Skip::Line` before its end is seen, so it must get the
        // same reply here whatever its terminator. A bare-LF line is
        // refused anyway; over the plain command limit it is reported as
        // too long, as it would be with a CRLF.
        let bare = lf == 0 || self.input[start + lf - 1] != b'\r';
        if lf + 1 > cap || (bare && lf + 1 > self.config.limits.command_line) {
            self.abandon_sasl();
            self.error(r::LINE_TOO_LONG);
            return true;
        }
        if bare {
            self.abandon_sasl();
            self.error(r::BARE_LF_COMMAND);
            return true;
        }
        // Parse the line in place: the buffer is lent out and put back
        // (unless the session closed meanwhile).
        let input = std::mem::take(&mut self.input);
        let line = &input[start..start + lf - 1];
        if let State::Sasl(_) = self.state
            && let State::Sasl(step) = std::mem::replace(&mut self.state, State::Ready)
        {
            if self.config.record_commands {
                // A SASL response carries secrets: never recorded.
                self.emit(Event::Command("***".to_owned()));
            }
            self.sasl_line(step, line);
        } else {
            self.command_line(line);
        }
        if !self.is_closed() {
            self.input = input;
        }
        true
    }

    /// A SASL exchange in progress is abandoned (its line was refused).
    fn abandon_sasl(&mut self) {
        if matches!(self.state, State::Sasl(_)) {
            self.state = State::Ready;
        }
    }
}

/// What feeding message content completed.
enum Finished {
    /// More content is expected.
    Nothing,
    /// The DATA content ended with `<CRLF>.<CRLF>`.
    Data(crate::data::DataOutcome),
    /// All octets of a BDAT chunk arrived.
    Chunk {
        /// It was the last chunk.
        last: bool,
    },
}

/// Feeds message content to the DATA or BDAT receiver, if one is reading.
/// Returns the octets it took and what that completed, or `None` when
/// command lines are read.
fn feed_content(state: &mut State, bytes: &[u8]) -> Option<(usize, Finished)> {
    let State::Mail(tx) = state else {
        return None;
    };
    match &mut tx.content {
        Content::Data(receiver) => {
            let used = receiver.feed(bytes);
            if receiver.is_done()
                && let Content::Data(receiver) =
                    std::mem::replace(&mut tx.content, Content::Commands)
            {
                return Some((used, Finished::Data(receiver.finish())));
            }
            Some((used, Finished::Nothing))
        }
        Content::Chunks {
            receiver,
            reading: Some(last),
        } => {
            let last = *last;
            let used = receiver.feed(bytes);
            let finished = if receiver.chunk_done() {
                Finished::Chunk { last }
            } else {
                Finished::Nothing
            };
            Some((used, finished))
        }
        Content::Chunks { reading: None, .. } | Content::Commands => None,
    }
}

/// The first position of `byte` in `haystack`.
pub(super) fn memchr(byte: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}
