//! CHUNKING and BINARYMIME (RFC 3030) over real TCP with raw sockets
//! (lettre does not send BDAT): pipelining, byte-exact content, binary
//! bodies, sizes that lie, the size limit while chunks stream in, and BDAT
//! and DATA in one transaction.

use std::time::Duration;

use mtakit::Limits;
use mtakit::proto::Body;
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::support::{cmd, codes, connect_greeted, replies, send};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

/// `BDAT n[ LAST]\r\n` followed by the chunk.
fn bdat(chunk: &[u8], last: bool) -> Vec<u8> {
    let mut out = format!(
        "BDAT {}{}\r\n",
        chunk.len(),
        if last { " LAST" } else { "" }
    )
    .into_bytes();
    out.extend_from_slice(chunk);
    out
}

/// EHLO, MAIL with `params`, one RCPT.
async fn transaction(c: &mut TestClient, params: &str) {
    let ehlo = cmd(c, "EHLO client.test", WAIT).await;
    ehlo.assert_code(250)
        .assert_line("CHUNKING")
        .assert_line("BINARYMIME");
    cmd(c, &format!("MAIL FROM:<a@example.com>{params}"), WAIT)
        .await
        .assert_code(250);
    cmd(c, "RCPT TO:<b@example.com>", WAIT)
        .await
        .assert_code(250);
}

#[tokio::test]
async fn pipelined_transaction_in_one_write() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    // Dots and a DATA terminator inside a chunk are plain content.
    let first = b".hi\r\n.\r\n";
    let mut input =
        b"EHLO client.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n".to_vec();
    input.extend(bdat(first, false));
    input.extend_from_slice(b"BDAT 0 LAST\r\nQUIT\r\n");
    send(&mut c, &input, WAIT).await;
    let got = replies(&mut c, 6, WAIT).await;
    assert_eq!(codes(&got), [250, 250, 250, 250, 250, 221]);
    got[3].assert_contains("8 octets received");
    got[4].assert_enhanced("2.0.0");
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages[0].data(), first);
}

#[tokio::test]
async fn one_mebibyte_in_64_kib_chunks_is_byte_exact() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    let mut content = b"Subject: big\r\n\r\n".to_vec();
    let mut n = 0u32;
    while content.len() < 1 << 20 {
        content.extend_from_slice(
            format!("line {n:07} {}\r\n", "x".repeat(n as usize % 70)).as_bytes(),
        );
        n += 1;
    }
    content.truncate((1 << 20) - 2);
    content.extend_from_slice(b"\r\n");
    let chunks: Vec<&[u8]> = content.chunks(64 * 1024).collect();
    assert_eq!(chunks.len(), 16);
    let mut input = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        input.extend(bdat(chunk, i + 1 == chunks.len()));
    }
    send(&mut c, &input, WAIT).await;
    let got = replies(&mut c, 16, WAIT).await;
    for (i, r) in got[..15].iter().enumerate() {
        r.assert_code(250)
            .assert_contains(&format!("{} octets received", (i + 1) * 64 * 1024));
    }
    got[15].assert_code(250).assert_enhanced("2.0.0");
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages[0].data().len(), 1 << 20);
    assert!(messages[0].data() == content, "content differs");
}

#[tokio::test]
async fn binarymime_content_is_kept_octet_for_octet() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, " BODY=BINARYMIME").await;
    let binary: Vec<u8> = (0..=255u8).chain(*b"\r\n.\r\n\n.\n\r\0").collect();
    // DATA cannot carry a binary body.
    cmd(&mut c, "DATA", WAIT).await.assert_code(503);
    send(&mut c, &bdat(&binary[..100], false), WAIT).await;
    send(&mut c, &bdat(&binary[100..], true), WAIT).await;
    assert_eq!(codes(&replies(&mut c, 2, WAIT).await), [250, 250]);
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages[0].data(), binary);
    assert_eq!(messages[0].mail_params().body, Some(Body::BinaryMime));
}

#[tokio::test]
async fn binary_octets_without_binarymime_are_refused() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    send(&mut c, &bdat(b"a\0b\r\n", true), WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(554);
    transaction(&mut c, " BODY=8BITMIME").await;
    send(&mut c, &bdat(b"bare\nline\r\n", true), WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(550);
    cmd(&mut c, "NOOP", WAIT).await.assert_code(250);
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn bdat_zero_last_alone_is_an_empty_message() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    cmd(&mut c, "BDAT 0 LAST", WAIT)
        .await
        .assert_code(250)
        .assert_enhanced("2.0.0");
    let messages = server.wait_for_messages_async(1).await;
    assert!(messages[0].data().is_empty());
}

/// Sends a transaction whose last chunk declares 100 octets but carries
/// 10, then closes: nothing is stored.
#[tokio::test]
async fn a_chunk_shorter_than_declared_then_close_stores_nothing() {
    let server = TestServer::builder().start_async().await;
    let mut tcp = timeout(WAIT, TcpStream::connect(server.addr()))
        .await
        .unwrap()
        .unwrap();
    tcp.write_all(
        b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n\
          BDAT 100 LAST\r\n0123456789",
    )
    .await
    .unwrap();
    tcp.shutdown().await.unwrap();
    let mut got = Vec::new();
    timeout(WAIT, tcp.read_to_end(&mut got))
        .await
        .expect("the server did not close")
        .unwrap();
    let text = String::from_utf8_lossy(&got);
    // Greeting, EHLO, MAIL, RCPT; nothing for the incomplete chunk.
    assert_eq!(text.matches("\r\n250 ").count(), 3, "{text}");
    assert!(!text.contains("octets"), "{text}");
    assert!(server.messages().is_empty());

    // The server goes on.
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    cmd(&mut c, "BDAT 0 LAST", WAIT).await.assert_code(250);
    assert_eq!(server.wait_for_messages_async(1).await.len(), 1);
}

#[tokio::test]
async fn a_chunk_longer_than_declared_spills_into_commands() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    // Declares 10, sends 20: the extra 10 octets are a command line.
    send(&mut c, b"BDAT 10 LAST\r\n0123456789garbage!\r\n", WAIT).await;
    let got = replies(&mut c, 2, WAIT).await;
    got[0].assert_code(250).assert_enhanced("2.0.0");
    got[1].assert_code(500);
    // The same with a chunk that is not the last.
    transaction(&mut c, "").await;
    send(
        &mut c,
        b"BDAT 10\r\nabcdefghijgarbage!\r\nBDAT 0 LAST\r\n",
        WAIT,
    )
    .await;
    assert_eq!(codes(&replies(&mut c, 3, WAIT).await), [250, 500, 250]);
    let messages = server.wait_for_messages_async(2).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].data(), b"0123456789");
    assert_eq!(messages[1].data(), b"abcdefghij");
}

#[tokio::test]
async fn oversized_chunks_get_552_and_the_session_continues() {
    let server = TestServer::builder()
        .limits(Limits {
            max_message_size: 1000,
            ..Limits::default()
        })
        .start_async()
        .await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    let chunk = [b'x'; 600];
    // The second chunk crosses the limit: 552, and the transaction ends.
    let mut input = bdat(&chunk, false);
    input.extend(bdat(&chunk, false));
    // A further chunk of the dead transaction is refused and drained.
    input.extend(bdat(b"NOOP\r\n", true));
    input.extend_from_slice(b"NOOP\r\n");
    send(&mut c, &input, WAIT).await;
    let got = replies(&mut c, 4, WAIT).await;
    assert_eq!(codes(&got), [250, 552, 503, 250]);
    got[1].assert_enhanced("5.3.4");
    got[3].assert_line("OK");

    // One LAST chunk over the limit.
    transaction(&mut c, "").await;
    send(&mut c, &bdat(&[b'y'; 1001], true), WAIT).await;
    replies(&mut c, 1, WAIT).await[0]
        .assert_code(552)
        .assert_enhanced("5.3.4");
    // Exactly at the limit is fine.
    transaction(&mut c, "").await;
    let exact = [b'z'; 1000];
    send(&mut c, &bdat(&exact, true), WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(250);
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].data(), exact);
}

#[tokio::test]
async fn data_after_bdat_in_one_transaction_is_503() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    send(&mut c, &bdat(b"part one;", false), WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(250);
    cmd(&mut c, "DATA", WAIT)
        .await
        .assert_code(503)
        .assert_enhanced("5.5.1");
    send(&mut c, &bdat(b" part two", true), WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(250);
    // The next transaction may use DATA.
    transaction(&mut c, "").await;
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: data\r\n\r\nx\r\n.\r\n", WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(250);
    let messages = server.wait_for_messages_async(2).await;
    assert_eq!(messages[0].data(), b"part one; part two");
    assert_eq!(messages[1].data(), b"Subject: data\r\n\r\nx\r\n");
}

#[tokio::test]
async fn bdat_outside_a_transaction_drains_its_chunk() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    cmd(&mut c, "EHLO client.test", WAIT).await.assert_code(250);
    // Commands inside a refused chunk are never executed.
    let mut input = bdat(b"MAIL FROM:<evil@example.com>\r\n", false);
    input.extend_from_slice(b"RCPT TO:<b@example.com>\r\n");
    send(&mut c, &input, WAIT).await;
    let got = replies(&mut c, 2, WAIT).await;
    got[0].assert_code(503);
    got[1].assert_code(503);
    // After MAIL but without a recipient: 554, drained too.
    cmd(&mut c, "MAIL FROM:<a@example.com>", WAIT)
        .await
        .assert_code(250);
    send(&mut c, &bdat(b"RCPT TO:<x@example.com>\r\n", true), WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(554);
    cmd(&mut c, "BDAT 0 LAST", WAIT).await.assert_code(554);
}

#[tokio::test]
async fn rset_between_chunks_discards_the_message() {
    let server = TestServer::builder().start_async().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    transaction(&mut c, "").await;
    let mut input = bdat(b"abc", false);
    input.extend_from_slice(b"RSET\r\nBDAT 0 LAST\r\n");
    send(&mut c, &input, WAIT).await;
    assert_eq!(codes(&replies(&mut c, 3, WAIT).await), [250, 250, 503]);
    cmd(&mut c, "QUIT", WAIT).await.assert_code(221);
    assert!(server.messages().is_empty());
}
