//! `ReplyReader` and `EhloInfo` on arbitrary bytes, as a client reads a
//! hostile server.
//!
//! Header: a line-limit byte (`max_line` = 6 + 4 * b), a line-count byte
//! (`max_lines` = 1 + b % 16), then a counted run of cut bytes; the rest is
//! what the server sends. It must never panic; the replies and the error
//! are the same whether the input comes whole or cut into reads; no reply
//! has more lines than the limit; while a reply is incomplete, the reader
//! holds at most `max_line * max_lines` octets plus the last read; and
//! `EhloInfo::from_reply` reads every reply without panicking.
#![no_main]

use mtakit_fuzz::{Input, pieces};
use libfuzzer_sys::fuzz_target;
use mtakit_proto::reply_reader::{ReplyReadError, ReplyReader};
use mtakit_proto::{EhloInfo, Reply};

/// Every reply the reader yields for `reads`, and the error that ended it.
fn read(
    reads: &[&[u8]],
    max_line: usize,
    max_lines: usize,
) -> (Vec<Reply>, Option<ReplyReadError>) {
    let mut reader = ReplyReader::with_limits(max_line, max_lines);
    let mut replies = Vec::new();
    for piece in reads {
        reader.feed(piece);
        loop {
            match reader.next_reply() {
                Ok(Some(reply)) => {
                    assert!(reply.lines().count() <= max_lines, "{reply:?}");
                    let _ = EhloInfo::from_reply(&reply).map(|i| i.extensions().len());
                    replies.push(reply);
                }
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(reader.buffered(), 0);
                    return (replies, Some(e));
                }
            }
        }
        assert!(
            reader.buffered() <= max_line * max_lines + piece.len(),
            "{} held",
            reader.buffered()
        );
    }
    (replies, None)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let max_line = 6 + 4 * usize::from(input.byte());
    let max_lines = 1 + usize::from(input.byte() % 16);
    let cuts = input.counted(16);
    let wire = input.rest();
    let whole = read(&[wire], max_line, max_lines);
    let cut = read(&pieces(wire, cuts), max_line, max_lines);
    assert_eq!(whole, cut);
});
