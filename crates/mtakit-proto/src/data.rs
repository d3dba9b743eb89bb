//! The streaming DATA receiver (RFC 5321 §4.1.1.4, §4.5.2).
//!
//! After the server's `354` reply the client sends the message content,
//! dot-stuffed, and ends it with `<CRLF>.<CRLF>`. `DataReceiver` takes
//! those bytes in chunks of any size, removes the stuffing dots, finds the
//! terminator and stores the content byte-exact (or with bare CR and bare LF
//! turned into CRLF under [`LineEndingPolicy::Normalize`]).
//!
//! Only the strict terminator ends DATA: a bare CR or a bare LF is never a
//! line end, so sequences such as `<LF>.<LF>` or `<CRLF>.<CR><CRLF>` cannot
//! smuggle a second message past the receiver.

use std::fmt;

use crate::limits::LineEndingPolicy;

/// Where the receiver is in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a line: the beginning of DATA or right after a CRLF.
    LineStart,
    /// A dot at the start of a line was removed; the next byte decides.
    Dot,
    /// A dot at the start of a line, then a CR that is held back (not
    /// stored): an LF makes the terminator, anything else makes it bare.
    DotCr,
    /// Inside a line.
    Text,
    /// Inside a line, right after a CR that is already stored.
    Cr,
    /// `<CRLF>.<CRLF>` has been seen.
    Done,
}

/// The sending side of the DATA transparency rule (RFC 5321 §4.5.2): the
/// content with a dot added before every line that starts with one, a CRLF
/// added if it does not end with one, and the terminator `.<CRLF>`. Lines
/// end at CRLF only, as the receiver reads them, so the receiver gets
/// back exactly `content` (plus the final CRLF when it was missing).
///
/// ```
/// use mtakit_proto::data::dot_stuff;
///
/// assert_eq!(dot_stuff(b".hidden\r\nplain\r\n"), b"..hidden\r\nplain\r\n.\r\n");
/// assert_eq!(dot_stuff(b"no end"), b"no end\r\n.\r\n");
/// ```
pub fn dot_stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + content.len() / 64 + 5);
    let mut line_start = true;
    let mut previous = 0u8;
    for &byte in content {
        if line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        line_start = byte == b'\n' && previous == b'\r';
        previous = byte;
    }
    if !content.is_empty() && !content.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Counters over the received content, whatever the line-ending policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataStats {
    /// LF octets not preceded by a CR.
    pub bare_lf: u64,
    /// CR octets not followed by an LF.
    pub bare_cr: u64,
    /// NUL octets.
    pub nul: u64,
    /// Octets with the high bit set (`>= 0x80`).
    pub eight_bit: u64,
    /// Longest line in octets, without its CRLF and without a removed
    /// stuffing dot. Bare CR and bare LF octets count as one octet each.
    pub longest_line: usize,
}

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// What a `DataReceiver` returns from `DataReceiver::finish`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataOutcome {
    /// The message content: the octets as sent, minus the stuffing dots and
    /// the final `.<CRLF>` (the CRLF before the terminating dot is part of
    /// the content). Empty when [`oversized`](Self::oversized) is set.
    pub content: Vec<u8>,
    /// Total content octets, drained ones included. Under
    /// [`LineEndingPolicy::Normalize`] the inserted octets count too, so
    /// `size == content.len()` whenever the content is not oversized.
    pub size: u64,
    /// The content was larger than the maximum size: it was drained and not
    /// stored.
    pub oversized: bool,
    /// A line, counting its CRLF and not counting a stuffing dot, was longer
    /// than the text line cap.
    pub line_too_long: bool,
    /// Counters over the received content.
    pub stats: DataStats,
}

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// The streaming receiver of the content that follows a `354` reply.
///
/// Feed it the bytes as they arrive; it consumes up to and including the
/// terminator `<CRLF>.<CRLF>` and leaves whatever follows (a pipelined
/// command, say) to the caller. The CRLF that ended the `DATA` command
/// counts as the CRLF before the terminator, so `.<CRLF>` alone is an empty
/// message.
///
/// ```
/// use mtakit_proto::LineEndingPolicy;
/// use mtakit_proto::data::{DataOutcome, DataReceiver};
///
/// let mut rx = DataReceiver::new(1024, LineEndingPolicy::Reject, Some(1000));
/// let input: &[u8] = b"Subject: hi\r\n\r\n..dots\r\n.\r\nQUIT\r\n";
///
/// // Bytes may arrive in pieces of any size.
/// let mut used = rx.feed(&input[..10]);
/// used += rx.feed(&input[used..]);
/// assert!(rx.is_done());
/// assert_eq!(&input[used..], b"QUIT\r\n");
///
/// let outcome: DataOutcome = rx.finish();
/// assert_eq!(outcome.content, b"Subject: hi\r\n\r\n.dots\r\n");
/// assert_eq!(outcome.size, 22);
/// assert!(!outcome.oversized);
/// assert!(!outcome.line_too_long);
/// assert_eq!(outcome.stats.longest_line, 11);
/// ```
pub struct DataReceiver {
    state: State,
    content: Vec<u8>,
    size: u64,
    max_size: u64,
    oversized: bool,
    normalize: bool,
    text_line: Option<usize>,
    line_too_long: bool,
    /// Octets of the current line so far (no CRLF, no stuffing dot).
    line_len: usize,
    stats: DataStats,
    /// Store the content (false: count and check it only).
    keep: bool,
}

impl fmt::Debug for DataReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataReceiver")
            .field("state", &self.state)
            .field("stored", &self.content.len())
            .field("size", &self.size)
            .field("max_size", &self.max_size)
            .field("oversized", &self.oversized)
            .field("normalize", &self.normalize)
            .field("text_line", &self.text_line)
            .field("line_too_long", &self.line_too_long)
            .field("stats", &self.stats)
            .finish()
    }
}

/// Smallest buffer allocated once content arrives.
const MIN_CAPACITY: usize = 4096;

impl DataReceiver {
    /// A receiver for one message.
    ///
    /// `max_size` is the most content octets stored (after unstuffing);
    /// beyond it the content is drained, not stored, and the outcome is
    /// [`oversized`](DataOutcome::oversized). `line_endings` says what
    /// happens to bare CR and bare LF. `text_line` is an optional cap on the
    /// length of a line, counting its CRLF; a longer line sets
    /// [`line_too_long`](DataOutcome::line_too_long) but is still stored.
    pub fn new(max_size: u64, line_endings: LineEndingPolicy, text_line: Option<usize>) -> Self {
        Self {
            state: State::LineStart,
            content: Vec::new(),
            size: 0,
            max_size,
            oversized: false,
            normalize: matches!(line_endings, LineEndingPolicy::Normalize),
            text_line,
            line_too_long: false,
            line_len: 0,
            stats: DataStats::default(),
            keep: true,
        }
    }

    /// Consumes bytes from `input` and returns how many it used.
    ///
    /// It stops right after the terminator `<CRLF>.<CRLF>`; the bytes after
    /// it are left for the caller. Once the receiver is done it consumes
    /// nothing. Bytes may be split anywhere between calls. Never panics.
    pub fn feed(&mut self, input: &[u8]) -> usize {
        let mut i = 0;
        // Start of the run of input octets that go to the content verbatim
        // and are not stored yet.
        let mut start = 0;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::LineStart => {
                    if input[i] == b'.' {
                        self.store(&input[start..i]);
                        i += 1;
                        start = i;
                        self.state = State::Dot;
                    } else {
                        self.state = State::Text;
                    }
                }
                State::Dot => {
                    if input[i] == b'\r' {
                        // Nothing is pending here: the dot was just skipped.
                        i += 1;
                        start = i;
                        self.state = State::DotCr;
                    } else {
                        self.state = State::Text;
                    }
                }
                State::DotCr => {
                    if input[i] == b'\n' {
                        i += 1;
                        start = i;
                        self.state = State::Done;
                        break;
                    }
                    // The held-back CR is bare: the line goes on.
                    self.stats.bare_cr += 1;
                    self.line_len = self.line_len.saturating_add(1);
                    if self.normalize {
                        self.store(b"\r\n");
                    } else {
                        self.store(b"\r");
                    }
                    self.state = State::Text;
                }
                State::Text => {
                    let rest = &input[i..];
                    let scan = scan_text(rest);
                    let n = scan.len;
                    self.stats.nul += scan.nul;
                    self.stats.eight_bit += scan.eight_bit;
                    self.line_len = self.line_len.saturating_add(n);
                    i += n;
                    match input.get(i) {
                        Some(b'\r') => {
                            i += 1;
                            if input.get(i) == Some(&b'\n') {
                                // The common case: a CRLF line end.
                                i += 1;
                                self.end_line();
                                self.state = State::LineStart;
                            } else {
                                self.state = State::Cr;
                            }
                        }
                        Some(_) => {
                            // A bare LF: never a line end.
                            self.stats.bare_lf += 1;
                            self.line_len = self.line_len.saturating_add(1);
                            if self.normalize {
                                self.store(&input[start..i]);
                                self.store(b"\r");
                                start = i;
                            }
                            i += 1;
                        }
                        None => {}
                    }
                }
                State::Cr => {
                    if input[i] == b'\n' {
                        i += 1;
                        self.end_line();
                        self.state = State::LineStart;
                        continue;
                    }
                    // The stored CR is bare.
                    self.stats.bare_cr += 1;
                    self.line_len = self.line_len.saturating_add(1);
                    if self.normalize {
                        self.store(&input[start..i]);
                        self.store(b"\n");
                        start = i;
                    }
                    if input[i] == b'\r' {
                        i += 1;
                    } else {
                        self.state = State::Text;
                    }
                }
            }
        }
        self.store(&input[start..i]);
        i
    }

    /// True once `<CRLF>.<CRLF>` has been seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Content octets received so far, after unstuffing, drained ones
    /// included (under [`LineEndingPolicy::Normalize`], the CR or LF added
    /// to each bare line ending counts too).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Ends the receiver and returns the outcome.
    ///
    /// Normally called once [`is_done`](Self::is_done) is true. Called
    /// earlier (the connection broke, say), the outcome holds what was
    /// received so far; a CR held back after a line-start dot is left out.
    pub fn finish(self) -> DataOutcome {
        let mut stats = self.stats;
        stats.longest_line = stats.longest_line.max(self.line_len);
        let line_too_long =
            self.line_too_long || self.text_line.is_some_and(|max| self.line_len > max);
        DataOutcome {
            content: if self.oversized {
                Vec::new()
            } else {
                self.content
            },
            size: self.size,
            oversized: self.oversized,
            line_too_long,
            stats,
        }
    }

    /// Counts and checks the content as usual, but stores none of it: for
    /// a sink that discards messages, so that memory stays flat whatever
    /// their size. The outcome's `content` is empty.
    pub fn counting_only(mut self) -> Self {
        self.keep = false;
        self
    }

    /// Octets of memory the stored content holds now (its capacity), for
    /// a server's budget of content in flight.
    pub fn held(&self) -> usize {
        self.content.capacity()
    }

    /// Stops storing: what is stored so far is freed, and the rest is
    /// counted and checked only, as with `counting_only`.
    pub fn stop_storing(&mut self) {
        self.keep = false;
        self.content = Vec::new();
    }

    /// Appends `bytes` to the content, or drains them once over the limit.
    fn store(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let new_size = self.size.saturating_add(bytes.len() as u64);
        self.size = new_size;
        if self.oversized || !self.keep {
            if !self.keep && new_size > self.max_size {
                self.oversized = true;
            }
            return;
        }
        if new_size > self.max_size {
            self.oversized = true;
            self.content = Vec::new();
            return;
        }
        let len = self.content.len();
        if self.content.capacity() - len < bytes.len() {
            // Grow geometrically, but never past the limit: the whole
            // content fits in `max_size` octets.
            let needed = len + bytes.len();
            let limit = usize::try_from(self.max_size).unwrap_or(usize::MAX);
            let target = self
                .content
                .capacity()
                .saturating_mul(2)
                .max(MIN_CAPACITY)
                .min(limit)
                .max(needed);
            self.content.reserve_exact(target - len);
        }
        self.content.extend_from_slice(bytes);
    }

    /// Ends the current line at a CRLF.
    fn end_line(&mut self) {
        let len = self.line_len;
        self.line_len = 0;
        if len > self.stats.longest_line {
            self.stats.longest_line = len;
        }
        if let Some(max) = self.text_line
            && len.saturating_add(2) > max
        {
            self.line_too_long = true;
        }
    }
}

/// A run of octets without CR or LF, as found by [`scan_text`].
struct TextRun {
    /// Length of the run: the index of the first CR or LF, or the whole.
    len: usize,
    /// NUL octets in the run.
    nul: u64,
    /// Octets `>= 0x80` in the run.
    eight_bit: u64,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each byte of `w` that equals `b`, exactly.
#[inline]
fn bytes_equal(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    // A byte of `x` is zero iff adding 0x7f to its low bits carries nothing
    // into its high bit and its own high bit is clear. No carry crosses bytes.
    !(((x & LOWS) + LOWS) | x | LOWS)
}

/// Scans `s` up to its first CR or LF, counting NUL and 8-bit octets before
/// it, eight bytes at a time.
fn scan_text(s: &[u8]) -> TextRun {
    let (words, tail) = s.as_chunks::<8>();
    let mut nul = 0u64;
    let mut eight_bit = 0u64;
    for (k, word) in words.iter().enumerate() {
        let w = u64::from_le_bytes(*word);
        let mut zero = bytes_equal(w, 0);
        let mut high = w & HIGHS;
        let ends = bytes_equal(w, b'\r') | bytes_equal(w, b'\n');
        if ends != 0 {
            // Little endian: the lowest flagged byte comes first.
            let at = (ends.trailing_zeros() / 8) as usize;
            let below = (1u64 << (at * 8)).wrapping_sub(1);
            zero &= below;
            high &= below;
            return TextRun {
                len: k * 8 + at,
                nul: nul + u64::from(zero.count_ones()),
                eight_bit: eight_bit + u64::from(high.count_ones()),
            };
        }
        nul += u64::from(zero.count_ones());
        eight_bit += u64::from(high.count_ones());
    }
    let mut len = words.len() * 8;
    for &b in tail {
        if b == b'\r' || b == b'\n' {
            break;
        }
        nul += u64::from(b == 0);
        eight_bit += u64::from(b >> 7);
        len += 1;
    }
    TextRun {
        len,
        nul,
        eight_bit,
    }
}

#[cfg(test)]
#[path = "data_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "data_props.rs"]
mod props;
