use super::*;

fn read_all(reader: &mut ReplyReader) -> Result<Vec<(u16, String)>, ReplyReadError> {
    let mut out = Vec::new();
    while let Some(reply) = reader.next_reply()? {
        out.push((reply.code().get(), reply.text().to_owned()));
    }
    Ok(out)
}

#[test]
fn replies_come_whole_whatever_the_split() {
    let wire: &[u8] = b"220 mx ready\r\n250-mx\r\n250-PIPELINING\r\n250 SIZE 5\r\n354 go\r\n";
    let expected = vec![
        (220, "mx ready".to_owned()),
        (250, "mx\nPIPELINING\nSIZE 5".to_owned()),
        (354, "go".to_owned()),
    ];
    for split in 1..wire.len() {
        let mut reader = ReplyReader::new();
        let mut got = Vec::new();
        for piece in wire.chunks(split) {
            reader.feed(piece);
            got.extend(read_all(&mut reader).expect("valid"));
        }
        assert_eq!(got, expected, "split {split}");
        assert_eq!(reader.buffered(), 0);
    }
}

#[test]
fn table_of_inputs() {
    use ReplyReadError::*;
    let limits = (32, 3);
    let cases: &[(&[u8], Result<usize, ReplyReadError>)] = &[
        (b"250 ok\r\n", Ok(1)),
        (b"250\r\n", Ok(1)),
        (b"250-a\r\n250-b\r\n250 c\r\n", Ok(1)),
        (b"250 ok", Ok(0)),
        (b"250 ok\r", Ok(0)),
        // A bare LF is malformed, even where a CRLF would be too long.
        (b"250 abcdefghijklmnopqrstuvwxy\n", Err(Malformed)),
        // Exactly the line limit, CRLF included, then one over.
        (b"250 abcdefghijklmnopqrstuvwxyz\r\n", Ok(1)),
        (
            b"250 abcdefghijklmnopqrstuvwxyz_\r\n",
            Err(LineTooLong { limit: 32 }),
        ),
        // Too long before the line ends, so it is not waited for.
        (
            b"250 abcdefghijklmnopqrstuvwxyz__",
            Err(LineTooLong { limit: 32 }),
        ),
        (
            b"250-a\r\n250-b\r\n250-c\r\n250 d\r\n",
            Err(TooManyLines { limit: 3 }),
        ),
        (
            b"250-a\r\n250-b\r\n250-c\r\n",
            Err(TooManyLines { limit: 3 }),
        ),
        (b"25\r\n", Err(Malformed)),
        (b"2x0 ok\r\n", Err(Malformed)),
        (b"250-a\r\n251 b\r\n", Err(Malformed)),
        (b"199 low\r\n", Err(Malformed)),
        (b"250 bare\nlf\r\n", Err(Malformed)),
        (b"250 bare\rcr\r\n", Err(Malformed)),
        (b"250 nul\0\r\n", Err(Malformed)),
        (b"250 \xff\xfe\r\n", Err(Malformed)),
        (b"250_ok\r\n", Err(Malformed)),
    ];
    for (input, expected) in cases {
        let mut reader = ReplyReader::with_limits(limits.0, limits.1);
        reader.feed(input);
        let got = read_all(&mut reader).map(|r| r.len());
        assert_eq!(&got, expected, "{:?}", String::from_utf8_lossy(input));
        if got.is_err() {
            assert_eq!(reader.buffered(), 0, "dropped after an error");
        }
    }
}

#[test]
fn enhanced_codes_are_recognised() {
    let mut reader = ReplyReader::new();
    reader.feed(b"550-5.7.1 no\r\n550 5.7.1 really\r\n");
    let reply = reader.next_reply().unwrap().unwrap();
    assert_eq!(
        reply.enhanced().map(|e| e.to_string()).as_deref(),
        Some("5.7.1")
    );
    assert_eq!(reply.text(), "no\nreally");
}

#[test]
fn memory_held_stays_within_one_reply() {
    let (max_line, max_lines) = (100, 10);
    let mut reader = ReplyReader::with_limits(max_line, max_lines);
    // A server that streams an endless multi-line reply.
    let line = format!("250-{}\r\n", "x".repeat(90));
    let mut failed = false;
    for _ in 0..1000 {
        reader.feed(line.as_bytes());
        assert!(reader.buffered() <= max_line * max_lines + line.len());
        match reader.next_reply() {
            Ok(None) => {}
            Err(e) => {
                assert_eq!(e, ReplyReadError::TooManyLines { limit: max_lines });
                failed = true;
                break;
            }
            Ok(Some(r)) => panic!("no reply is complete: {r:?}"),
        }
    }
    assert!(failed);
    assert_eq!(reader.buffered(), 0);
}

#[test]
fn clear_drops_what_is_buffered() {
    let mut reader = ReplyReader::new();
    reader.feed(b"250-half\r\n250 inj");
    assert_eq!(reader.next_reply(), Ok(None));
    reader.clear();
    assert_eq!(reader.buffered(), 0);
    reader.feed(b"220 fresh\r\n");
    assert_eq!(reader.next_reply().unwrap().unwrap().text(), "fresh");
}
