//! The server's memory budgets around the protocol core: replies a client
//! never reads, and message content in flight over all sessions.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mtakit::proto::SessionInfo;
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{MemorySink, Policy, Server, Verdict};
use std::pin::Pin;
use std::task::{Context, Poll};

use mtakit::proto::ConnectionInfo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::support::{codes, connect_greeted, envelope, replies, send, serve_tcp};

const WAIT: Duration = Duration::from_secs(10);

/// Counts the VRFY commands the session handled.
#[derive(Clone, Default)]
struct CountVrfy(Arc<AtomicUsize>);

impl Policy for CountVrfy {
    async fn accept_vrfy(&self, _: &SessionInfo, _: &str) -> Verdict {
        self.0.fetch_add(1, Ordering::Relaxed);
        Verdict::accept()
    }
}

/// A client that pipelines `VRFY someone` without end and never reads a
/// reply, with no socket buffer in between: every write stays pending.
struct NeverReads;

impl AsyncRead for NeverReads {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let line = b"VRFY someone\r\n";
        while buf.remaining() >= line.len() {
            buf.put_slice(line);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for NeverReads {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Pending
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Pending
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A client that pipelines commands and never reads the replies: the
/// server stops handling its input once about 16 KiB of replies wait, so
/// the replies it holds stay bounded (redteam §6: 2.3 MB per connection
/// before). The session ends at the write timeout.
#[tokio::test(start_paused = true)]
async fn a_client_that_never_reads_cannot_pile_up_replies() {
    let vrfy = CountVrfy::default();
    let server = Server::builder().policy(vrfy.clone()).build();
    let info = ConnectionInfo::new(
        "192.0.2.1:1000".parse().unwrap(),
        "192.0.2.2:25".parse().unwrap(),
    );
    let ended = tokio::time::timeout(
        Duration::from_secs(3600),
        server.serve_connection(NeverReads, info),
    )
    .await
    .expect("the session ends at its write timeout");
    assert!(ended.is_err(), "a write timeout");
    // Each reply is about 50 octets: 16 KiB of replies is about 330
    // commands. Without backpressure the session handles a whole 64 KiB
    // read (4,681 commands) and holds all of their replies.
    let handled = vrfy.0.load(Ordering::Relaxed);
    assert!(
        (100..1_000).contains(&handled),
        "{handled} commands handled while no reply was read"
    );
}

/// BDAT of one chunk of `body`, not the last: its `250` comes once the
/// server holds the whole chunk.
async fn bdat_chunk(client: &mut TestClient, body: &[u8]) {
    let mut chunk = format!("BDAT {}\r\n", body.len()).into_bytes();
    chunk.extend_from_slice(body);
    send(client, &chunk, WAIT).await;
    replies(client, 1, WAIT).await[0].assert_code(250);
}

/// Message content in flight has a server-wide budget: a message that
/// would overrun it is drained and refused with `452 4.3.1`, the others go
/// on, and the budget is free again afterwards (redteam §5: 300 unfinished
/// 10 MB messages held 2.9 GB).
#[tokio::test]
async fn content_in_flight_has_a_server_wide_budget() {
    let sink = MemorySink::new();
    let server = Server::builder()
        .max_content_in_flight(1536 * 1024)
        .sink(sink.clone())
        .build();
    let (addr, _stop, _task) = serve_tcp(server).await;
    let body = b"0123456789abcdefghijklmnopqrstuvwxyz\r\n".repeat(18_000);

    // A holds 684 KB (1 MiB of buffer, grown 64 KiB read by read) and has
    // not finished.
    let mut a = connect_greeted(addr, WAIT).await;
    envelope(&mut a).await;
    bdat_chunk(&mut a, &body).await;
    // B's chunk does not fit beside it: drained, and refused at the end.
    let mut b = connect_greeted(addr, WAIT).await;
    envelope(&mut b).await;
    bdat_chunk(&mut b, &body).await;
    send(&mut b, b"BDAT 0 LAST\r\n", WAIT).await;
    replies(&mut b, 1, WAIT).await[0]
        .assert_code(452)
        .assert_enhanced("4.3.1");
    assert!(sink.messages().is_empty());

    // A was not disturbed.
    send(&mut a, b"BDAT 0 LAST\r\n", WAIT).await;
    assert_eq!(codes(&replies(&mut a, 1, WAIT).await), [250]);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(sink.messages()[0].data().len(), body.len());

    // The budget is free again: B's retry fits.
    b.command("RSET").await.expect("rset").assert_code(250);
    envelope(&mut b).await;
    bdat_chunk(&mut b, &body).await;
    send(&mut b, b"BDAT 0 LAST\r\n", WAIT).await;
    assert_eq!(codes(&replies(&mut b, 1, WAIT).await), [250]);
    assert_eq!(sink.messages().len(), 2);
}
