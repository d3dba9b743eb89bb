//! The CHUNKING receiver (RFC 3030): BDAT chunks are exact octet counts,
//! so nothing is unstuffed and nothing inside a chunk ends it.

use crate::data::{DataOutcome, DataStats};

/// Collects the chunks of one BDAT transaction.
///
/// ```
/// use mtakit_proto::bdat::ChunkReceiver;
///
/// let mut rx = ChunkReceiver::new(1000);
/// rx.begin_chunk(5);
/// assert_eq!(rx.feed(b"hel"), 3);
/// assert_eq!(rx.feed(b"lo, and more"), 2);
/// assert!(rx.chunk_done());
/// let outcome = rx.finish();
/// assert_eq!(outcome.content, b"hello");
/// ```
#[derive(Clone, Debug)]
pub struct ChunkReceiver {
    max_size: u64,
    content: Vec<u8>,
    size: u64,
    remaining: u64,
    stats: DataStats,
    line: usize,
    prev_cr: bool,
    keep: bool,
}

impl ChunkReceiver {
    /// A receiver that stores at most `max_size` octets in all; beyond it
    /// chunks are drained and the outcome is `oversized`.
    pub fn new(max_size: u64) -> Self {
        Self {
            max_size,
            content: Vec::new(),
            size: 0,
            remaining: 0,
            stats: DataStats::default(),
            line: 0,
            prev_cr: false,
            keep: true,
        }
    }

    /// Counts and checks the chunks, but stores none of their octets.
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

    /// Starts a chunk of `size` octets.
    pub fn begin_chunk(&mut self, size: u64) {
        self.remaining = size;
    }

    /// True when the current chunk is complete.
    pub fn chunk_done(&self) -> bool {
        self.remaining == 0
    }

    /// Octets received so far, stored or drained.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// True once more than `max_size` octets arrived.
    pub fn is_oversized(&self) -> bool {
        self.size > self.max_size
    }

    /// Consumes up to the rest of the current chunk from `input`; returns
    /// how many octets it used.
    pub fn feed(&mut self, input: &[u8]) -> usize {
        let take = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(input.len());
        let chunk = &input[..take];
        self.count(chunk);
        self.size += take as u64;
        self.remaining -= take as u64;
        if self.size > self.max_size {
            self.content = Vec::new();
        } else if self.keep {
            self.content.extend_from_slice(chunk);
        }
        take
    }

    fn count(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' => {
                    if !self.prev_cr {
                        self.stats.bare_lf += 1;
                        self.line += 1;
                    } else {
                        self.line = self.line.saturating_sub(1);
                    }
                    self.stats.longest_line = self.stats.longest_line.max(self.line);
                    self.line = 0;
                }
                0 => {
                    self.stats.nul += 1;
                    self.line += 1;
                }
                0x80..=0xff => {
                    self.stats.eight_bit += 1;
                    self.line += 1;
                }
                _ => self.line += 1,
            }
            if self.prev_cr && b != b'\n' {
                self.stats.bare_cr += 1;
            }
            self.prev_cr = b == b'\r';
        }
    }

    /// Ends the transaction and returns what arrived.
    pub fn finish(mut self) -> DataOutcome {
        if self.prev_cr {
            self.stats.bare_cr += 1;
        }
        self.stats.longest_line = self.stats.longest_line.max(self.line);
        let oversized = self.is_oversized();
        DataOutcome {
            content: if oversized { Vec::new() } else { self.content },
            size: self.size,
            oversized,
            line_too_long: false,
            stats: self.stats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_exact_and_unstuffed() {
        let mut rx = ChunkReceiver::new(1000);
        rx.begin_chunk(8);
        assert_eq!(rx.feed(b"..a\r\n.\r\nQUIT"), 8);
        rx.begin_chunk(0);
        assert!(rx.chunk_done());
        let out = rx.finish();
        assert_eq!(out.content, b"..a\r\n.\r\n");
        assert_eq!(out.stats.bare_lf, 0);
        assert_eq!(out.stats.longest_line, 3);
    }

    #[test]
    fn counts_bare_line_ends_nul_and_8bit_across_chunks() {
        let mut rx = ChunkReceiver::new(1000);
        rx.begin_chunk(3);
        rx.feed(b"a\r");
        rx.feed(b"\n");
        rx.begin_chunk(7);
        rx.feed(b"b\nc\rd\0\xff");
        let out = rx.finish();
        assert_eq!(out.stats.bare_lf, 1);
        assert_eq!(out.stats.bare_cr, 1);
        assert_eq!(out.stats.nul, 1);
        assert_eq!(out.stats.eight_bit, 1);
        assert_eq!(out.content, b"a\r\nb\nc\rd\0\xff");
    }

    #[test]
    fn counting_only_keeps_nothing_but_counts() {
        let mut rx = ChunkReceiver::new(100).counting_only();
        rx.begin_chunk(5);
        rx.feed(b"ab\ncd");
        let out = rx.finish();
        assert!(out.content.is_empty() && !out.oversized);
        assert_eq!((out.size, out.stats.bare_lf), (5, 1));
    }

    #[test]
    fn oversized_chunks_are_drained() {
        let mut rx = ChunkReceiver::new(10);
        rx.begin_chunk(8);
        rx.feed(&[b'x'; 8]);
        rx.begin_chunk(8);
        assert_eq!(rx.feed(&[b'y'; 20]), 8);
        assert!(rx.is_oversized());
        let out = rx.finish();
        assert!(out.oversized && out.content.is_empty());
        assert_eq!(out.size, 16);
    }
}
