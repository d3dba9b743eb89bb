//! The streaming DATA receiver (RFC 5321 §4.1.1.4, §4.5.2).
//!
//! After the server's `354` reply the client sends the message content,
//! dot-stuffed, and ends it with `<CRLF>.<CRLF>`. [`DataReceiver`] takes
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

/// What a [`DataReceiver`] returns from [`DataReceiver::finish`].
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    const POLICIES: [LineEndingPolicy; 3] = [
        LineEndingPolicy::Reject,
        LineEndingPolicy::Record,
        LineEndingPolicy::Normalize,
    ];

    /// Feeds `input` at once; returns the bytes consumed and the outcome.
    fn run(
        input: &[u8],
        max: u64,
        policy: LineEndingPolicy,
        text_line: Option<usize>,
    ) -> (usize, bool, DataOutcome) {
        let mut rx = DataReceiver::new(max, policy, text_line);
        let used = rx.feed(input);
        let done = rx.is_done();
        (used, done, rx.finish())
    }

    /// Feeds `input` in the given chunks, as a network would.
    fn run_chunked(
        input: &[u8],
        cuts: &[usize],
        max: u64,
        policy: LineEndingPolicy,
        text_line: Option<usize>,
    ) -> (usize, bool, DataOutcome) {
        let mut rx = DataReceiver::new(max, policy, text_line);
        let mut used = 0;
        let mut from = 0;
        for &to in cuts.iter().chain(std::iter::once(&input.len())) {
            let to = to.clamp(from, input.len());
            let n = rx.feed(&input[from..to]);
            assert!(n <= to - from);
            used += n;
            if n < to - from {
                assert!(rx.is_done());
            }
            from = to;
        }
        let done = rx.is_done();
        (used, done, rx.finish())
    }

    /// A plain byte-at-a-time model of the receiver, over the whole input.
    fn model(
        input: &[u8],
        max: u64,
        policy: LineEndingPolicy,
        text_line: Option<usize>,
    ) -> (usize, bool, DataOutcome) {
        let normalize = policy == LineEndingPolicy::Normalize;
        let mut out = Vec::new();
        let mut stats = DataStats::default();
        let mut too_long = false;
        let mut line = 0usize;
        let mut at_start = true;
        let mut i = 0;
        let mut done = false;
        while i < input.len() {
            let b = input[i];
            let next = input.get(i + 1).copied();
            if at_start && b == b'.' {
                if input[i + 1..].starts_with(b"\r\n") {
                    i += 3;
                    done = true;
                    break;
                }
                if input.len() - i < 3 && input[i + 1..] == b"\r"[..input.len() - i - 1] {
                    // Not decided yet: a prefix of the terminator.
                    break;
                }
                at_start = false;
                i += 1;
                continue;
            }
            at_start = false;
            match (b, next) {
                (b'\r', Some(b'\n')) => {
                    out.extend_from_slice(b"\r\n");
                    stats.longest_line = stats.longest_line.max(line);
                    too_long |= text_line.is_some_and(|m| line + 2 > m);
                    line = 0;
                    at_start = true;
                    i += 2;
                }
                (b'\r', None) => {
                    // Not decided yet, but stored already.
                    out.push(b'\r');
                    i += 1;
                }
                (b'\r', Some(_)) | (b'\n', _) => {
                    if b == b'\r' {
                        stats.bare_cr += 1;
                    } else {
                        stats.bare_lf += 1;
                    }
                    if normalize {
                        out.extend_from_slice(b"\r\n");
                    } else {
                        out.push(b);
                    }
                    line += 1;
                    i += 1;
                }
                _ => {
                    stats.nul += u64::from(b == 0);
                    stats.eight_bit += u64::from(b >= 0x80);
                    out.push(b);
                    line += 1;
                    i += 1;
                }
            }
        }
        stats.longest_line = stats.longest_line.max(line);
        too_long |= text_line.is_some_and(|m| line > m);
        let size = out.len() as u64;
        let oversized = size > max;
        let outcome = DataOutcome {
            content: if oversized { Vec::new() } else { out },
            size,
            oversized,
            line_too_long: too_long,
            stats,
        };
        (i, done, outcome)
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn simple_message() {
        let input = b"Subject: x\r\n\r\nbody\r\n.\r\n";
        for policy in POLICIES {
            let (used, done, out) = run(input, 1 << 20, policy, Some(1000));
            assert!(done);
            assert_eq!(used, input.len());
            assert_eq!(out.content, b"Subject: x\r\n\r\nbody\r\n");
            assert_eq!(out.size, out.content.len() as u64);
            assert!(!out.oversized);
            assert!(!out.line_too_long);
            assert_eq!(out.stats.bare_cr, 0);
            assert_eq!(out.stats.bare_lf, 0);
            assert_eq!(out.stats.longest_line, 10);
        }
    }

    #[test]
    fn empty_message() {
        let (used, done, out) = run(b".\r\n", 100, LineEndingPolicy::Reject, None);
        assert!(done);
        assert_eq!(used, 3);
        assert!(out.content.is_empty());
        assert_eq!(out.size, 0);
        assert_eq!(out.stats, DataStats::default());
    }

    #[test]
    fn empty_line_then_terminator() {
        let (used, done, out) = run(b"\r\n.\r\n", 100, LineEndingPolicy::Reject, None);
        assert!(done);
        assert_eq!(used, 5);
        assert_eq!(out.content, b"\r\n");
        assert_eq!(out.size, 2);
    }

    #[test]
    fn dot_unstuffing() {
        let (_, done, out) = run(
            b"..foo\r\n..bar..baz\r\n.\r\n",
            100,
            LineEndingPolicy::Reject,
            None,
        );
        assert!(done);
        assert_eq!(out.content, b".foo\r\n.bar..baz\r\n");
        assert_eq!(out.stats.longest_line, 9);
    }

    #[test]
    fn single_leading_dot_is_removed() {
        let (_, done, out) = run(b".foo\r\nx.y\r\n.\r\n", 100, LineEndingPolicy::Reject, None);
        assert!(done);
        assert_eq!(out.content, b"foo\r\nx.y\r\n");
    }

    #[test]
    fn terminator_leaves_pipelined_bytes() {
        let input = b"hello\r\n.\r\nQUIT\r\n";
        let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
        let used = rx.feed(input);
        assert!(rx.is_done());
        assert_eq!(&input[used..], b"QUIT\r\n");
        assert_eq!(rx.feed(b"more"), 0);
        assert_eq!(rx.size(), 7);
        assert_eq!(rx.finish().content, b"hello\r\n");
    }

    #[test]
    fn terminator_split_anywhere() {
        let input = b"a\r\n.\r\nQUIT\r\n";
        for policy in POLICIES {
            let mut rx = DataReceiver::new(100, policy, None);
            let mut used = 0;
            for i in 0..input.len() {
                used += rx.feed(&input[i..=i]);
            }
            assert!(rx.is_done());
            assert_eq!(used, 6);
            assert_eq!(rx.finish().content, b"a\r\n");
        }
    }

    /// A smuggling attempt and what the receiver makes of it.
    struct Smuggle {
        /// The sequence sent after `first body`.
        seq: &'static [u8],
        /// What it becomes in the content under Reject and Record.
        kept: &'static [u8],
        /// What it becomes in the content under Normalize.
        normalized: &'static [u8],
        bare_cr: u64,
        bare_lf: u64,
        nul: u64,
    }

    const fn sm(
        seq: &'static [u8],
        kept: &'static [u8],
        normalized: &'static [u8],
        bare_cr: u64,
        bare_lf: u64,
        nul: u64,
    ) -> Smuggle {
        Smuggle {
            seq,
            kept,
            normalized,
            bare_cr,
            bare_lf,
            nul,
        }
    }

    const SMUGGLING: &[Smuggle] = &[
        sm(b"\n.\n", b"\n.\n", b"\r\n.\r\n", 0, 2, 0),
        sm(b"\n.\r", b"\n.\r", b"\r\n.\r\n", 1, 1, 0),
        sm(b"\r.\n", b"\r.\n", b"\r\n.\r\n", 1, 1, 0),
        sm(b"\r.\r", b"\r.\r", b"\r\n.\r\n", 2, 0, 0),
        sm(b"\n.\r\n", b"\n.\r\n", b"\r\n.\r\n", 0, 1, 0),
        sm(b"\r.\r\n", b"\r.\r\n", b"\r\n.\r\n", 1, 0, 0),
        sm(b"\r\n.\n", b"\r\n\n", b"\r\n\r\n", 0, 1, 0),
        sm(b"\r\n.\r", b"\r\n\r", b"\r\n\r\n", 1, 0, 0),
        sm(b"\r\n.\r\r\n", b"\r\n\r\r\n", b"\r\n\r\n\r\n", 1, 0, 0),
        sm(
            b"\r\r\n.\r\r\n",
            b"\r\r\n\r\r\n",
            b"\r\n\r\n\r\n\r\n",
            2,
            0,
            0,
        ),
        sm(
            b"\r\n\x00.\r\n",
            b"\r\n\x00.\r\n",
            b"\r\n\x00.\r\n",
            0,
            0,
            1,
        ),
    ];

    const SMUGGLED: &[u8] = b"MAIL FROM:<x@y>\r\nRCPT TO:<a@b>\r\nDATA\r\nevil\r\n";

    #[test]
    fn smuggling_sequences_do_not_end_data() {
        for case in SMUGGLING {
            let seq = case.seq;
            let input = cat(&[b"first body", seq, SMUGGLED, b".\r\n", b"QUIT\r\n"]);
            let end = input.len() - 6;
            for policy in POLICIES {
                // One byte at a time: done only on the very last LF.
                let mut rx = DataReceiver::new(1 << 20, policy, None);
                for (i, b) in input[..end].iter().enumerate() {
                    assert!(!rx.is_done(), "{seq:?} ended early at {i}");
                    assert_eq!(rx.feed(std::slice::from_ref(b)), 1);
                }
                assert!(rx.is_done(), "{seq:?} did not end");
                let out = rx.finish();
                let (used, done, whole) = run(&input, 1 << 20, policy, None);
                assert!(done);
                assert_eq!(used, end, "{seq:?}");
                assert_eq!(whole, out);
                assert_eq!(out.stats.bare_cr, case.bare_cr, "{seq:?}");
                assert_eq!(out.stats.bare_lf, case.bare_lf, "{seq:?}");
                assert_eq!(out.stats.nul, case.nul, "{seq:?}");
                let stored = if policy == LineEndingPolicy::Normalize {
                    case.normalized
                } else {
                    case.kept
                };
                assert_eq!(
                    out.content,
                    cat(&[b"first body", stored, SMUGGLED]),
                    "{seq:?} {policy:?}"
                );
                assert_eq!(out.size, out.content.len() as u64);
            }
        }
    }

    #[test]
    fn normalize_bare_line_endings() {
        let input = b"a\nb\rc\r\n.\r\n";
        let (_, done, out) = run(input, 100, LineEndingPolicy::Normalize, None);
        assert!(done);
        assert_eq!(out.content, b"a\r\nb\r\nc\r\n");
        assert_eq!(out.size, 9);
        assert_eq!(out.stats.bare_lf, 1);
        assert_eq!(out.stats.bare_cr, 1);
        assert_eq!(out.stats.longest_line, 5);
        for policy in [LineEndingPolicy::Reject, LineEndingPolicy::Record] {
            let (_, done, out) = run(input, 100, policy, None);
            assert!(done);
            assert_eq!(out.content, b"a\nb\rc\r\n");
            assert_eq!(out.stats.bare_lf, 1);
            assert_eq!(out.stats.bare_cr, 1);
        }
    }

    #[test]
    fn normalize_keeps_smuggling_out() {
        // After normalisation the content holds "\r\n.\r\n", but the dot was
        // not at a line start when received, so DATA goes on.
        let input = b"x\n.\nMAIL FROM:<x@y>\r\n.\r\n";
        let (used, done, out) = run(input, 100, LineEndingPolicy::Normalize, None);
        assert!(done);
        assert_eq!(used, input.len());
        assert_eq!(out.content, b"x\r\n.\r\nMAIL FROM:<x@y>\r\n");
    }

    #[test]
    fn oversized_is_drained() {
        let line = cat(&[&[b'x'; 98], b"\r\n"]);
        let mut input = line.repeat(140);
        assert_eq!(input.len(), 14_000);
        input.extend_from_slice(b".\r\nQUIT\r\n");
        let mut rx = DataReceiver::new(10_000, LineEndingPolicy::Reject, Some(1000));
        let mut used = 0;
        for chunk in input.chunks(333) {
            used += rx.feed(chunk);
        }
        assert!(rx.is_done());
        assert_eq!(used, 14_003);
        assert_eq!(rx.size(), 14_000);
        let out = rx.finish();
        assert!(out.oversized);
        assert!(out.content.is_empty());
        assert_eq!(out.size, 14_000);
        assert_eq!(out.stats.longest_line, 98);
    }

    #[test]
    fn exactly_max_size_is_not_oversized() {
        let (_, done, out) = run(b"abcd\r\n.\r\n", 6, LineEndingPolicy::Reject, None);
        assert!(done);
        assert!(!out.oversized);
        assert_eq!(out.content, b"abcd\r\n");
        let (_, done, out) = run(b"abcde\r\n.\r\n", 6, LineEndingPolicy::Reject, None);
        assert!(done);
        assert!(out.oversized);
        assert_eq!(out.size, 7);
    }

    #[test]
    fn line_too_long() {
        let long = cat(&[&[b'x'; 999], b"\r\n.\r\n"]);
        let (_, done, out) = run(&long, 1 << 20, LineEndingPolicy::Reject, Some(1000));
        assert!(done);
        assert!(out.line_too_long);
        assert_eq!(out.content.len(), 1001);
        assert_eq!(out.stats.longest_line, 999);

        let ok = cat(&[&[b'x'; 998], b"\r\n.\r\n"]);
        let (_, done, out) = run(&ok, 1 << 20, LineEndingPolicy::Reject, Some(1000));
        assert!(done);
        assert!(!out.line_too_long);

        // The stuffing dot does not count (RFC 5321 §4.5.3.1.6).
        let stuffed = cat(&[b".", &[b'.'; 998], b"\r\n.\r\n"]);
        let (_, done, out) = run(&stuffed, 1 << 20, LineEndingPolicy::Reject, Some(1000));
        assert!(done);
        assert!(!out.line_too_long);
        assert_eq!(out.stats.longest_line, 998);

        let (_, _, out) = run(&long, 1 << 20, LineEndingPolicy::Reject, None);
        assert!(!out.line_too_long);
    }

    #[test]
    fn nul_and_eight_bit_counted() {
        let input = b"a\x00b\x00\r\n\xc3\xa9t\xc3\xa9\xff\r\n.\r\n";
        for policy in POLICIES {
            let (_, done, out) = run(input, 100, policy, None);
            assert!(done);
            assert_eq!(out.stats.nul, 2);
            assert_eq!(out.stats.eight_bit, 5);
            assert_eq!(out.content, &input[..input.len() - 3]);
        }
    }

    #[test]
    fn longest_line() {
        let input = b"ab\r\n..cdef\r\n\r\nxyz\r\n.\r\n";
        let (_, _, out) = run(input, 100, LineEndingPolicy::Reject, None);
        assert_eq!(out.stats.longest_line, 5);
        // Bare line endings do not end a line.
        let input = b"ab\ncd\ref\r\n.\r\n";
        let (_, _, out) = run(input, 100, LineEndingPolicy::Normalize, None);
        assert_eq!(out.stats.longest_line, 8);
    }

    #[test]
    fn finish_before_done() {
        let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
        assert_eq!(rx.feed(b"abc\r\n.\r"), 7);
        assert!(!rx.is_done());
        let out = rx.finish();
        assert_eq!(out.content, b"abc\r\n");
        let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
        rx.feed(b"abc\r\nde");
        let out = rx.finish();
        assert_eq!(out.content, b"abc\r\nde");
        assert_eq!(out.stats.longest_line, 3);
    }

    #[test]
    fn long_spans_scan_correctly() {
        // Exercise the chunked scanner with line ends at every offset.
        for n in 0..70 {
            let mut input = vec![b'y'; n];
            input.extend_from_slice(b"\r\n");
            input.extend(std::iter::repeat_n(b'z', 2 * n + 1));
            input.extend_from_slice(b"\n\r\n.\r\n");
            for policy in POLICIES {
                let expected = model(&input, 1 << 20, policy, None);
                assert_eq!(run(&input, 1 << 20, policy, None), expected);
            }
        }
    }

    #[test]
    fn model_agrees_on_tables() {
        for case in SMUGGLING {
            let input = cat(&[b"first body", case.seq, SMUGGLED, b".\r\nQUIT"]);
            for policy in POLICIES {
                assert_eq!(
                    run(&input, 1 << 20, policy, Some(12)),
                    model(&input, 1 << 20, policy, Some(12)),
                );
            }
        }
    }

    #[test]
    fn debug_does_not_dump_content() {
        let mut rx = DataReceiver::new(100, LineEndingPolicy::Reject, None);
        rx.feed(b"secret\r\n");
        let s = format!("{rx:?}");
        assert!(s.contains("DataReceiver"));
        assert!(!s.contains("115"));
    }

    fn policy() -> impl Strategy<Value = LineEndingPolicy> {
        prop::sample::select(POLICIES.to_vec())
    }

    /// Bytes heavy in what matters to the receiver.
    fn tricky_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            3 => Just(b'\r'),
            3 => Just(b'\n'),
            3 => Just(b'.'),
            3 => Just(b'x'),
            1 => Just(0u8),
            1 => Just(0xffu8),
            1 => any::<u8>(),
        ]
    }

    fn tricky_input() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(tricky_byte(), 0..300).prop_map(|mut v| {
            v.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            v
        })
    }

    proptest! {
        #[test]
        fn any_split_gives_same_outcome(
            input in tricky_input(),
            mut cuts in prop::collection::vec(0usize..400, 0..20),
            policy in policy(),
            max in prop_oneof![Just(u64::MAX), 0u64..200],
            text_line in prop::option::of(0usize..40),
        ) {
            cuts.sort_unstable();
            let whole = run(&input, max, policy, text_line);
            prop_assert!(whole.1);
            prop_assert_eq!(&whole, &model(&input, max, policy, text_line));
            prop_assert_eq!(run_chunked(&input, &cuts, max, policy, text_line), whole.clone());
            let bytewise: Vec<usize> = (1..input.len()).collect();
            prop_assert_eq!(run_chunked(&input, &bytewise, max, policy, text_line), whole);
        }

        #[test]
        fn stuffing_round_trip(
            lines in prop::collection::vec(
                prop::collection::vec(
                    prop_oneof![
                        4 => Just(b'.'),
                        4 => Just(b'a'),
                        1 => Just(b' '),
                        1 => Just(0u8),
                        1 => Just(0x80u8),
                    ],
                    0..40,
                ),
                0..30,
            ),
            policy in policy(),
            chunk in 1usize..50,
        ) {
            let mut content = Vec::new();
            let mut wire = Vec::new();
            for line in &lines {
                content.extend_from_slice(line);
                content.extend_from_slice(b"\r\n");
                if line.first() == Some(&b'.') {
                    wire.push(b'.');
                }
                wire.extend_from_slice(line);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b".\r\n");
            let cuts: Vec<usize> = (chunk..wire.len()).step_by(chunk).collect();
            let (used, done, out) = run_chunked(&wire, &cuts, u64::MAX, policy, None);
            prop_assert!(done);
            prop_assert_eq!(used, wire.len());
            prop_assert_eq!(out.size, content.len() as u64);
            prop_assert_eq!(
                out.stats.longest_line,
                lines.iter().map(Vec::len).max().unwrap_or(0)
            );
            prop_assert_eq!(out.content, content);
        }

        #[test]
        fn never_panics(
            input in prop::collection::vec(any::<u8>(), 0..500),
            cuts in prop::collection::vec(0usize..600, 0..10),
            policy in policy(),
            max in any::<u64>(),
            text_line in prop::option::of(any::<usize>()),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let (used, _, out) = run_chunked(&input, &cuts, max, policy, text_line);
            prop_assert!(used <= input.len());
            if !out.oversized {
                prop_assert_eq!(out.size, out.content.len() as u64);
            }
        }
    }
}
