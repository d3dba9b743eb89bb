//! The PROXY protocol header under the command timeout, with paused tokio
//! time: the server runs through `Server::serve_connection` over
//! `tokio::io::duplex` for a trusted 127.0.0.1 peer, so virtual time is the
//! only clock involved.

use std::time::Duration;

use mtakit::proto::Reply;
use mtakit::{Limits, MemorySink, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

use crate::support::serve_duplex;

/// One session over a duplex pipe from a trusted 127.0.0.1 peer, with a
/// 30 s command timeout.
fn duplex_session() -> (
    tokio::io::DuplexStream,
    MemorySink,
    tokio::task::JoinHandle<Result<(), mtakit::ConnectionError>>,
) {
    let sink = MemorySink::new();
    let server = Server::builder()
        .proxy_protocol_from(["127.0.0.0/8".parse().unwrap()])
        .limits(Limits {
            command_timeout: Duration::from_secs(30),
            ..Limits::default()
        })
        .sink(sink.clone())
        .build();
    let (client, task) = serve_duplex(server, 4096, "127.0.0.1:5555", "127.0.0.1:25");
    (client, sink, task)
}

/// Waits (in virtual time) for the server to close, and returns what it
/// sent and how long it took.
async fn wait_for_close(client: &mut tokio::io::DuplexStream) -> (Vec<u8>, Duration) {
    let start = tokio::time::Instant::now();
    let mut got = Vec::new();
    timeout(Duration::from_secs(3600), client.read_to_end(&mut got))
        .await
        .expect("never closed")
        .expect("read");
    (got, start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_trusted_client_sending_no_header_is_closed_after_the_command_timeout() {
    let (mut client, sink, task) = duplex_session();
    let (got, waited) = wait_for_close(&mut client).await;
    assert!(got.is_empty(), "sent {:?}", String::from_utf8_lossy(&got));
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "closed after {waited:?}"
    );
    assert!(task.await.unwrap().is_err());
    assert!(sink.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_header_trickled_in_is_still_bounded_by_the_command_timeout() {
    let (mut client, _sink, task) = duplex_session();
    let start = tokio::time::Instant::now();
    for b in b"PROXY TCP4 192.0.2.1 " {
        client.write_all(&[*b]).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (got, _) = wait_for_close(&mut client).await;
    let waited = start.elapsed();
    assert!(got.is_empty(), "sent {:?}", String::from_utf8_lossy(&got));
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "closed after {waited:?}"
    );
    assert!(task.await.unwrap().is_err());
}

#[tokio::test(start_paused = true)]
async fn a_v2_header_split_across_writes_works() {
    let (mut client, sink, task) = duplex_session();
    let mut header = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    header.extend_from_slice(&[198, 51, 100, 3, 198, 51, 100, 4]);
    header.extend_from_slice(&6000u16.to_be_bytes());
    header.extend_from_slice(&25u16.to_be_bytes());
    for piece in header.chunks(5) {
        client.write_all(piece).await.unwrap();
        tokio::task::yield_now().await;
    }
    client
        .write_all(
            b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n\
              DATA\r\nSubject: split\r\n\r\nhi\r\n.\r\nQUIT\r\n",
        )
        .await
        .unwrap();
    let (got, _) = wait_for_close(&mut client).await;
    let mut rest = &got[..];
    let mut codes = Vec::new();
    while let Some((reply, used)) = Reply::parse(rest).expect("well-formed reply") {
        codes.push(reply.code().get());
        rest = &rest[used..];
    }
    assert_eq!(codes, [220, 250, 250, 250, 354, 250, 221]);
    assert!(task.await.unwrap().is_ok());
    let messages = sink.messages();
    assert_eq!(messages[0].peer(), "198.51.100.3:6000".parse().unwrap());
    assert_eq!(messages[0].local(), "198.51.100.4:25".parse().unwrap());
}
