use std::time::Duration;

use mtakit_proto::{ConnectionInfo, ReplyReadError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::{MemorySink, Server};

const WAIT: Duration = Duration::from_secs(5);

fn info() -> ConnectionInfo {
    ConnectionInfo::new(
        "192.0.2.1:4000".parse().unwrap(),
        "192.0.2.2:25".parse().unwrap(),
    )
}

/// A client over a duplex pipe to `Server::serve_connection`, greeted.
async fn session(sink: MemorySink) -> Client<DuplexStream> {
    let (io, server_io) = tokio::io::duplex(1024);
    let server = Server::builder().sink(sink).build();
    tokio::spawn(server.serve_connection(server_io, info()));
    let mut client = Client::new(io, WAIT);
    assert_eq!(client.read_reply().await.unwrap().code().get(), 220);
    client
}

#[tokio::test]
async fn a_whole_session_over_duplex() {
    let sink = MemorySink::new();
    let mut client = session(sink.clone()).await;
    assert!(client.ehlo_info().is_none());
    assert_eq!(client.ehlo("c.example").await.unwrap().code().get(), 250);
    let ehlo = client.ehlo_info().expect("kept");
    assert!(ehlo.pipelining() && ehlo.chunking() && ehlo.enhanced_status_codes());

    client.command("MAIL FROM:<a@example.com>").await.unwrap();
    client.command("RCPT TO:<b@example.com>").await.unwrap();
    let done = client.data(b"Subject: one\r\n\r\n.dot\r\n").await.unwrap();
    assert_eq!(done.code().get(), 250, "{done}");

    client.command("MAIL FROM:<a@example.com>").await.unwrap();
    client.command("RCPT TO:<b@example.com>").await.unwrap();
    let part = client.bdat(b"Subject: two\r\n\r\n", false).await.unwrap();
    assert_eq!(part.code().get(), 250, "{part}");
    let last = client.bdat(b".body\r\n", true).await.unwrap();
    assert_eq!(last.code().get(), 250, "{last}");

    // Pipelined: two commands in one write, two replies in order.
    client.send(b"RSET\r\nNOOP\r\n").await.unwrap();
    assert_eq!(client.read_reply().await.unwrap().code().get(), 250);
    assert_eq!(client.read_reply().await.unwrap().code().get(), 250);

    assert_eq!(client.command("QUIT").await.unwrap().code().get(), 221);
    assert!(client.is_closed().await.unwrap());

    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].data(), b"Subject: one\r\n\r\n.dot\r\n");
    assert_eq!(messages[1].data(), b"Subject: two\r\n\r\n.body\r\n");
}

#[tokio::test]
async fn a_refused_ehlo_leaves_no_info() {
    let mut client = session(MemorySink::new()).await;
    assert_eq!(client.ehlo("c.example").await.unwrap().code().get(), 250);
    let refused = client.ehlo("bad name!").await.unwrap();
    assert_eq!(refused.code().get() / 100, 5, "{refused}");
    assert!(client.ehlo_info().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_times_out() {
    let (io, _server) = tokio::io::duplex(64);
    let mut client = Client::new(io, Duration::from_secs(7));
    let start = tokio::time::Instant::now();
    assert!(matches!(
        client.read_reply().await,
        Err(ClientError::Timeout)
    ));
    assert_eq!(start.elapsed(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn a_server_that_does_not_read_times_the_write_out() {
    let (io, _server) = tokio::io::duplex(64);
    let mut client = Client::new(io, Duration::from_secs(3));
    let result = client.send(&[b'x'; 1000]).await;
    assert!(matches!(result, Err(ClientError::Timeout)), "{result:?}");
}

#[tokio::test]
async fn an_endless_reply_is_cut_off_at_the_bound() {
    let (io, mut server) = tokio::io::duplex(4096);
    let mut client = Client::with_reader(io, WAIT, ReplyReader::with_limits(100, 8));
    let flood = tokio::spawn(async move {
        // Stops when the client drops its end.
        while server.write_all(b"250-more and more\r\n").await.is_ok() {}
    });
    let result = client.read_reply().await;
    assert!(
        matches!(
            result,
            Err(ClientError::Reply(ReplyReadError::TooManyLines {
                limit: 8
            }))
        ),
        "{result:?}"
    );
    assert_eq!(client.buffered(), 0);
    drop(client);
    flood.await.unwrap();
}

#[tokio::test]
async fn a_close_before_a_whole_reply_is_reported() {
    let (io, mut server) = tokio::io::duplex(64);
    server.write_all(b"220-half\r\n").await.unwrap();
    drop(server);
    let mut client = Client::new(io, WAIT);
    assert!(matches!(
        client.read_reply().await,
        Err(ClientError::Closed)
    ));
}

#[tokio::test]
async fn commands_go_out_with_crlf() {
    let (io, mut server) = tokio::io::duplex(256);
    let mut client = Client::new(io, WAIT);
    let peer = tokio::spawn(async move {
        let mut got = vec![0; 256];
        let mut n = 0;
        while !got[..n].ends_with(b"\r\n") {
            n += server.read(&mut got[n..]).await.unwrap();
        }
        server.write_all(b"250 2.0.0 fine\r\n").await.unwrap();
        got.truncate(n);
        got
    });
    let reply = client.command("NOOP").await.unwrap();
    assert_eq!(reply.text(), "fine");
    assert_eq!(peer.await.unwrap(), b"NOOP\r\n");
}
