//! [`ReplyReader`]: the client side of reply parsing, bounded.
//!
//! A client feeds the reader the bytes it reads from the server and takes
//! complete [`Reply`]s out, one at a time, in order (pipelined replies
//! included). The reader holds at most one incomplete reply, and it
//! refuses a reply whose line is longer than its line limit or which has
//! more lines than its line-count limit, with a typed [`ReplyReadError`].
//! So a hostile or broken server cannot make a client buffer without bound:
//! a client that reads at most `n` octets between calls to
//! [`next_reply`](ReplyReader::next_reply) holds at most
//! `max_line * max_lines + n` octets.
//!
//! No I/O and no clock: time limits are the caller's business.

use std::fmt;

use crate::reply::{ParseReplyError, Reply};

/// The longest reply line the reader accepts by default, CRLF included:
/// four times the 512 octets of RFC 5321 §4.5.3.1.5, since real servers
/// overshoot it.
pub const DEFAULT_MAX_REPLY_LINE: usize = 2048;

/// The most lines one reply may have by default. EHLO replies, the longest
/// in practice, have about 20.
pub const DEFAULT_MAX_REPLY_LINES: usize = 64;

/// Why a reply could not be read. The connection is then unusable: the
/// reader has dropped what it held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyReadError {
    /// A line (CRLF included) is longer than the limit.
    LineTooLong {
        /// The limit in octets.
        limit: usize,
    },
    /// The reply has more lines than the limit.
    TooManyLines {
        /// The limit in lines.
        limit: usize,
    },
    /// The reply is not well formed: a line shorter than a code, codes that
    /// differ, a code outside 200..=599, text that is not UTF-8, or a bare
    /// CR, LF or NUL inside a line.
    Malformed,
}

impl fmt::Display for ReplyReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => write!(f, "reply line longer than {limit} octets"),
            Self::TooManyLines { limit } => write!(f, "reply longer than {limit} lines"),
            Self::Malformed => f.write_str("malformed SMTP reply"),
        }
    }
}

impl std::error::Error for ReplyReadError {}

impl From<ParseReplyError> for ReplyReadError {
    fn from(_: ParseReplyError) -> Self {
        Self::Malformed
    }
}

/// Reads SMTP replies out of the bytes a client receives, within bounds.
///
/// ```
/// use mtakit_proto::reply_reader::{ReplyReadError, ReplyReader};
///
/// let mut reader = ReplyReader::new();
/// reader.feed(b"250-mx.example Hello\r\n250-PIPE");
/// assert_eq!(reader.next_reply(), Ok(None)); // not complete yet
/// reader.feed(b"LINING\r\n250 SIZE 1000\r\n354 Go ahead\r\n");
/// let ehlo = reader.next_reply()?.expect("complete");
/// assert_eq!(ehlo.code().get(), 250);
/// assert_eq!(ehlo.lines().count(), 3);
/// assert_eq!(reader.next_reply()?.expect("pipelined").code().get(), 354);
/// assert_eq!(reader.next_reply(), Ok(None));
///
/// // A server that never ends its line is cut off at the limit.
/// let mut reader = ReplyReader::with_limits(16, 4);
/// reader.feed(b"250 and on and on and on");
/// assert_eq!(reader.next_reply(), Err(ReplyReadError::LineTooLong { limit: 16 }));
/// # Ok::<(), ReplyReadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReplyReader {
    buf: Vec<u8>,
    /// Octets of `buf` already split into lines of the current reply.
    scanned: usize,
    /// Complete lines of the current reply so far.
    lines: usize,
    max_line: usize,
    max_lines: usize,
}

impl Default for ReplyReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplyReader {
    /// A reader with [`DEFAULT_MAX_REPLY_LINE`] and
    /// [`DEFAULT_MAX_REPLY_LINES`].
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_REPLY_LINE, DEFAULT_MAX_REPLY_LINES)
    }

    /// A reader that refuses lines longer than `max_line` octets (CRLF
    /// included; at least 6) and replies of more than `max_lines` lines (at
    /// least 1).
    pub fn with_limits(max_line: usize, max_lines: usize) -> Self {
        Self {
            buf: Vec::new(),
            scanned: 0,
            lines: 0,
            max_line: max_line.max(6),
            max_lines: max_lines.max(1),
        }
    }

    /// Appends bytes received from the server. Call
    /// [`next_reply`](Self::next_reply) until it returns `Ok(None)` before
    /// feeding more, so that only one incomplete reply is ever held.
    pub fn feed(&mut self, input: &[u8]) {
        self.buf.extend_from_slice(input);
    }

    /// Octets received and not yet returned as part of a reply. After a
    /// STARTTLS `220` this must be zero: anything else was sent in
    /// plaintext before the handshake (RFC 3207 §4.2).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything buffered, as before a TLS handshake.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.scanned = 0;
        self.lines = 0;
    }

    /// The next complete reply, `Ok(None)` if more input is needed.
    ///
    /// # Errors
    ///
    /// [`ReplyReadError`] past a limit or on a malformed reply; the
    /// buffered input is then dropped.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ReplyReadError> {
        let result = self.scan();
        if result.is_err() {
            self.clear();
        }
        result
    }

    fn scan(&mut self) -> Result<Option<Reply>, ReplyReadError> {
        loop {
            let rest = &self.buf[self.scanned..];
            let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
                // The line so far and at least its LF still to come: past
                // the limit whatever comes (the same verdict as when the
                // whole line is there, so reads can be cut anywhere).
                if rest.len() >= self.max_line {
                    return Err(ReplyReadError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                return Ok(None);
            };
            if lf + 1 > self.max_line {
                return Err(ReplyReadError::LineTooLong {
                    limit: self.max_line,
                });
            }
            if lf == 0 || rest[lf - 1] != b'\r' {
                return Err(ReplyReadError::Malformed);
            }
            let line = &rest[..lf - 1];
            if line.iter().any(|&b| b == b'\r' || b == b'\0') {
                return Err(ReplyReadError::Malformed);
            }
            let last = line.get(3) != Some(&b'-');
            self.lines += 1;
            // A continuation line at the limit means one more is coming.
            if self.lines > self.max_lines || (!last && self.lines == self.max_lines) {
                return Err(ReplyReadError::TooManyLines {
                    limit: self.max_lines,
                });
            }
            self.scanned += lf + 1;
            if last {
                let end = self.scanned;
                let parsed = Reply::parse(&self.buf[..end])?;
                let Some((reply, used)) = parsed else {
                    return Err(ReplyReadError::Malformed);
                };
                if used != end {
                    return Err(ReplyReadError::Malformed);
                }
                self.buf.drain(..end);
                self.scanned = 0;
                self.lines = 0;
                return Ok(Some(reply));
            }
        }
    }
}

#[cfg(test)]
#[path = "reply_reader_tests.rs"]
mod tests;
