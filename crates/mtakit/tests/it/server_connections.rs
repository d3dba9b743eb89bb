//! The accept loop over TCP: connection caps and graceful shutdown of
//! `Server::serve`.

use std::net::SocketAddr;
use std::time::Duration;

use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use mtakit::{Limits, MemorySink, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::{bounded, closed, connect, serve_tcp};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

/// Connects until the greeting is 220 (a slot was freed) or the deadline.
async fn connect_when_free(addr: SocketAddr) -> TestClient {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let client = connect(addr, WAIT).await;
        if client.greeting().code().get() == 220 {
            return client;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no slot was freed: {}",
            client.greeting()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn max_connections_refuses_the_third_client() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                max_connections: 2,
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut first = connect(server.addr(), WAIT).await;
        first.greeting().assert_code(220);
        let second = connect(server.addr(), WAIT).await;
        second.greeting().assert_code(220);

        let mut third = connect(server.addr(), WAIT).await;
        third.greeting().assert_code(421).assert_enhanced("4.3.2");
        assert!(closed(&mut third, WAIT).await);

        // The two admitted sessions work normally.
        first.ehlo("one.test").await.expect("ehlo").assert_code(250);
        first.quit().await.expect("quit").assert_code(221);
        assert!(closed(&mut first, WAIT).await);
        // A freed slot admits a new client.
        let mut fourth = connect_when_free(server.addr()).await;
        fourth
            .ehlo("four.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        drop(second);
    })
    .await;
}

#[tokio::test]
async fn max_connections_per_ip_refuses_the_second_client() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                max_connections_per_ip: Some(1),
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut first = connect(server.addr(), WAIT).await;
        first.greeting().assert_code(220);

        let mut second = connect(server.addr(), WAIT).await;
        second
            .greeting()
            .assert_code(421)
            .assert_enhanced("4.7.0")
            .assert_contains("127.0.0.1");
        assert!(closed(&mut second, WAIT).await);

        first.quit().await.expect("quit").assert_code(221);
        let mut third = connect_when_free(server.addr()).await;
        third
            .ehlo("three.test")
            .await
            .expect("ehlo")
            .assert_code(250);
    })
    .await;
}

/// A server run through `Server::serve` directly, with its shutdown
/// trigger and its task.
struct Served {
    addr: SocketAddr,
    sink: MemorySink,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), mtakit::ServerError>>,
}

async fn serve(shutdown_timeout: Duration) -> Served {
    let sink = MemorySink::new();
    let server = Server::builder()
        .hostname("mx.test")
        .sink(sink.clone())
        .shutdown_timeout(shutdown_timeout)
        .build();
    let (addr, stop, task) = serve_tcp(server).await;
    Served {
        addr,
        sink,
        stop: Some(stop),
        task,
    }
}

impl Served {
    fn shutdown(&mut self) {
        self.stop
            .take()
            .expect("once")
            .send(())
            .expect("server alive");
    }
}

#[tokio::test]
async fn graceful_shutdown_lets_a_transaction_finish() {
    bounded(async {
        let mut served = serve(Duration::from_secs(5)).await;

        let mut idle = connect(served.addr, WAIT).await;
        idle.greeting().assert_code(220);
        idle.ehlo("idle.test").await.expect("ehlo").assert_code(250);

        let mut busy = connect(served.addr, WAIT).await;
        busy.ehlo("busy.test").await.expect("ehlo").assert_code(250);
        busy.mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        busy.rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        busy.command("DATA").await.expect("data").assert_code(354);
        busy.send_raw(b"Subject: in flight\r\n\r\nfirst half ")
            .await
            .expect("write");

        served.shutdown();

        // The idle session is told at once.
        let bye = tokio::time::timeout(WAIT, idle.read_reply())
            .await
            .expect("421 timed out")
            .expect("421");
        bye.assert_code(421).assert_enhanced("4.3.2");
        assert!(closed(&mut idle, WAIT).await);

        // New clients are no longer accepted.
        let refused = tokio::time::timeout(WAIT, TestClient::connect(served.addr))
            .await
            .expect("connect attempt timed out");
        assert!(
            refused.is_err(),
            "a new connection was served after shutdown"
        );

        // The transaction in flight finishes and is stored.
        busy.send_raw(b"second half\r\n.\r\n").await.expect("write");
        let done = tokio::time::timeout(WAIT, busy.read_reply())
            .await
            .expect("250 timed out")
            .expect("250");
        done.assert_code(250);
        // Then the session ends: 421 and a close (or just a close).
        match tokio::time::timeout(WAIT, busy.read_reply())
            .await
            .expect("end timed out")
        {
            Ok(reply) => {
                reply.assert_code(421).assert_enhanced("4.3.2");
            }
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof),
        }

        tokio::time::timeout(WAIT, served.task)
            .await
            .expect("serve() did not return")
            .expect("serve task")
            .expect("serve result");
        let messages = served.sink.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].data(),
            b"Subject: in flight\r\n\r\nfirst half second half\r\n"
        );
    })
    .await;
}

#[tokio::test]
async fn shutdown_timeout_cuts_off_a_stalled_transaction() {
    bounded(async {
        let mut served = serve(Duration::from_millis(300)).await;
        let mut stalled = connect(served.addr, WAIT).await;
        stalled
            .ehlo("slow.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        stalled
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        stalled
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        stalled
            .command("DATA")
            .await
            .expect("data")
            .assert_code(354);
        stalled
            .send_raw(b"Subject: never ends\r\n")
            .await
            .expect("write");

        let started = std::time::Instant::now();
        served.shutdown();
        tokio::time::timeout(WAIT, served.task)
            .await
            .expect("serve() did not return")
            .expect("serve task")
            .expect("serve result");
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "returned before the shutdown timeout: {:?}",
            started.elapsed()
        );
        // The cut-off session is closed without a 250, and nothing was stored.
        while let Ok(reply) = tokio::time::timeout(WAIT, stalled.read_reply())
            .await
            .expect("read timed out")
        {
            assert_ne!(reply.code().get(), 250, "{reply}");
        }
        assert!(served.sink.is_empty());
    })
    .await;
}

#[tokio::test]
async fn shutdown_with_no_clients_returns_promptly() {
    bounded(async {
        let mut served = serve(Duration::from_secs(5)).await;
        let mut client = connect(served.addr, WAIT).await;
        client.quit().await.expect("quit").assert_code(221);
        assert!(closed(&mut client, WAIT).await);
        served.shutdown();
        tokio::time::timeout(Duration::from_secs(3), served.task)
            .await
            .expect("serve() did not return")
            .expect("serve task")
            .expect("serve result");
    })
    .await;
}

#[test]
fn dropping_the_test_server_stops_it() {
    let server = TestServer::start();
    let addr = server.addr();
    std::net::TcpStream::connect(addr).expect("server is up");
    drop(server);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after drop"
    );
}
