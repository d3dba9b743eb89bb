//! Helpers shared by the fuzz targets in `fuzz_targets/`.
//!
//! Inputs carry a few header bytes that choose a configuration and where
//! the payload is cut into reads; [`Input`] hands them out and [`pieces`]
//! turns "cut" bytes into chunk lengths. [`check_reply`] holds the
//! invariants every reply on the wire must meet.

use mtakit_proto::{Reply, ReplyClass};

/// The longest reply line, CRLF included (RFC 5321 §4.5.3.1.5).
pub const MAX_REPLY_LINE: usize = 512;

/// Reads header bytes off the front of a fuzz input; past the end it
/// yields zeros, so every input is usable.
#[derive(Debug)]
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// Wraps the raw fuzz input.
    pub fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// The next header byte (0 once the input is used up).
    pub fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                b
            }
            None => 0,
        }
    }

    /// The next four header bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// A count byte (`n % modulo`), then that many bytes.
    pub fn counted(&mut self, modulo: u8) -> &'a [u8] {
        let n = usize::from(self.byte() % modulo).min(self.rest.len());
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        head
    }

    /// Whatever is left: the payload.
    pub fn rest(self) -> &'a [u8] {
        self.rest
    }
}

/// The length of the n-th chunk chosen by a "cut" byte: the top two bits
/// pick a scale (1..=4, 1..=64, 1..=505, 1..=4033 octets), so splits
/// between a CR and its LF are as reachable as large reads.
fn chunk_len(b: u8) -> usize {
    let low = usize::from(b & 0x3f);
    match b >> 6 {
        0 => 1 + low % 4,
        1 => 1 + low,
        2 => 1 + low * 8,
        _ => 1 + low * 64,
    }
}

/// Cuts `data` into consecutive non-empty pieces whose lengths cycle
/// through `cuts` (one octet at a time when `cuts` is empty). The pieces
/// concatenate back to `data`.
pub fn pieces<'d>(data: &'d [u8], cuts: &[u8]) -> Vec<&'d [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let len = cuts
            .get(i % cuts.len().max(1))
            .map_or(1, |&b| chunk_len(b))
            .min(rest.len());
        let (head, tail) = rest.split_at(len);
        out.push(head);
        rest = tail;
        i += 1;
    }
    out
}

/// True for a reply text that is printable ASCII (lines joined by `\n`).
pub fn is_printable_text(text: &str) -> bool {
    text.bytes().all(|b| b == b'\n' || (0x20..0x7f).contains(&b))
}

/// Invariants of any reply the server may send:
///
/// - the code is 2xx..5xx and an enhanced code agrees with its class and
///   is never on a 3xx reply;
/// - every wire line is at most 512 octets with its CRLF, and starts with
///   the code and `-` or ` ` (only the last line with ` `);
/// - no CR, LF or NUL can leak from the text into the wire form;
/// - the wire form parses back ([`Reply::parse`]) into the same code and
///   enhanced code, using every octet; when no line had to be split, the
///   text comes back unchanged too.
///
/// # Panics
///
/// When one of them does not hold.
pub fn check_reply(reply: &Reply) {
    let code = reply.code().get();
    assert!((200..600).contains(&code), "reply code {code}: {reply:?}");
    if let Some(e) = reply.enhanced() {
        assert!(
            reply.code().class() != ReplyClass::PositiveIntermediate,
            "enhanced code on a 3xx reply: {reply:?}"
        );
        assert_eq!(
            u16::from(e.class()),
            code / 100,
            "enhanced class does not match the reply code: {reply:?}"
        );
    }
    assert!(
        !reply.text().contains(['\r', '\0']),
        "CR or NUL in reply text: {reply:?}"
    );

    let mut wire = Vec::new();
    reply.write_to(&mut wire);
    assert_eq!(wire, reply.to_string().as_bytes(), "Display is the wire form");
    assert!(wire.ends_with(b"\r\n"), "wire form without CRLF: {wire:?}");
    let lines: Vec<&[u8]> = wire[..wire.len() - 1]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").expect("every LF has its CR"))
        .collect();
    let head = format!("{code:03}");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.len() + 2 <= MAX_REPLY_LINE,
            "reply line of {} octets: {reply:?}",
            line.len() + 2
        );
        assert!(!line.contains(&b'\r'), "bare CR in a reply line: {wire:?}");
        assert!(line.starts_with(head.as_bytes()), "line without code: {wire:?}");
        let sep = if i + 1 == lines.len() { b' ' } else { b'-' };
        assert!(
            line.len() >= 4 && line[3] == sep,
            "bad separator in line {i}: {wire:?}"
        );
    }

    let (parsed, used) = Reply::parse(&wire)
        .expect("own wire form parses")
        .expect("own wire form is complete");
    assert_eq!(used, wire.len(), "parse used part of {wire:?}");
    assert_eq!(parsed.code(), reply.code(), "code round trip: {wire:?}");
    if reply.enhanced().is_some() {
        assert_eq!(parsed.enhanced(), reply.enhanced(), "enhanced round trip: {wire:?}");
        if lines.len() == reply.lines().count() {
            assert_eq!(parsed.text(), reply.text(), "text round trip: {wire:?}");
        }
    }
}
