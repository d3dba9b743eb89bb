//! Helpers shared by the integration tests of `mtakit`.
//!
//! Each file in `tests/` is its own test binary and includes this module
//! with `mod support;`. Every network wait takes the caller's bound
//! (`wait`), so that each file keeps its own `WAIT`.

// Each test binary uses only some of these helpers; the rest would be
// reported as dead code in that binary.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use mtakit::proto::{ConnectionInfo, EnhancedCode, Reply};
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{Authenticator, ConnectionError, MakePolicy, MessageSink, Server, ServerError};
use tokio::io::DuplexStream;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bounds a whole test: a hang anywhere fails it instead of blocking.
pub(crate) async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("test did not finish within 60 s");
}

/// Connects a [`TestClient`] to `addr` within `wait`; the greeting is not
/// checked.
pub(crate) async fn connect(addr: SocketAddr, wait: Duration) -> TestClient {
    tokio::time::timeout(wait, TestClient::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect")
}

/// As [`connect`], and asserts that the greeting is `220`.
pub(crate) async fn connect_greeted(addr: SocketAddr, wait: Duration) -> TestClient {
    let client = connect(addr, wait).await;
    client.greeting().assert_code(220);
    client
}

/// Sends one command line and returns its reply, within `wait`.
pub(crate) async fn cmd(client: &mut TestClient, line: &str, wait: Duration) -> Reply {
    tokio::time::timeout(wait, client.command(line))
        .await
        .unwrap_or_else(|_| panic!("no reply to {line:?}"))
        .expect("reply")
}

/// Writes raw bytes in one write, within `wait`.
pub(crate) async fn send(client: &mut TestClient, bytes: &[u8], wait: Duration) {
    tokio::time::timeout(wait, client.send_raw(bytes))
        .await
        .expect("write timed out")
        .expect("write");
}

/// Reads the next reply, within `wait`.
pub(crate) async fn read_reply(client: &mut TestClient, wait: Duration) -> Reply {
    tokio::time::timeout(wait, client.read_reply())
        .await
        .expect("reply timed out")
        .expect("reply")
}

/// Reads the next `n` replies, within `wait`.
pub(crate) async fn replies(client: &mut TestClient, n: usize, wait: Duration) -> Vec<Reply> {
    tokio::time::timeout(wait, client.read_replies(n))
        .await
        .expect("replies timed out")
        .expect("replies")
}

/// Reads until the server closes the connection (within `wait`); true if
/// it did.
pub(crate) async fn closed(client: &mut TestClient, wait: Duration) -> bool {
    tokio::time::timeout(wait, client.is_closed())
        .await
        .expect("close timed out")
        .unwrap_or(true)
}

/// The reply codes, in order.
pub(crate) fn codes(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.code().get()).collect()
}

/// A reply with an enhanced code such as `"5.7.1"`.
pub(crate) fn reply(code: u16, enhanced: &str, text: &str) -> Reply {
    Reply::new(code, EnhancedCode::parse(enhanced), text.to_owned()).expect("valid reply")
}

/// EHLO, `MAIL FROM:<legit@a.test>` and `RCPT TO:<rcpt@b.test>`, each
/// accepted.
pub(crate) async fn envelope(client: &mut TestClient) {
    client
        .ehlo("client.test")
        .await
        .expect("ehlo")
        .assert_code(250);
    client
        .mail_from("<legit@a.test>")
        .await
        .expect("mail")
        .assert_code(250);
    client
        .rcpt_to("<rcpt@b.test>")
        .await
        .expect("rcpt")
        .assert_code(250);
}

/// [`envelope`] and DATA, up to the `354`.
pub(crate) async fn open_data(client: &mut TestClient) {
    envelope(client).await;
    client.command("DATA").await.expect("data").assert_code(354);
}

/// Runs `server` with `Server::serve` on a fresh 127.0.0.1 listener.
/// Returns its address, the trigger that stops it, and its task.
pub(crate) async fn serve_tcp<P: MakePolicy, A: Authenticator, S: MessageSink>(
    server: Server<P, A, S>,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<Result<(), ServerError>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    (addr, stop, task)
}

/// Runs one session of `server` with `Server::serve_connection` over a
/// `tokio::io::duplex` pipe of `capacity` bytes, as if from `peer` to
/// `local`. Returns the client end and the session's task.
pub(crate) fn serve_duplex<P: MakePolicy, A: Authenticator, S: MessageSink>(
    server: Server<P, A, S>,
    capacity: usize,
    peer: &str,
    local: &str,
) -> (DuplexStream, JoinHandle<Result<(), ConnectionError>>) {
    let (client, server_side) = tokio::io::duplex(capacity);
    let info = ConnectionInfo::new(
        peer.parse().expect("peer address"),
        local.parse().expect("local address"),
    );
    (
        client,
        tokio::spawn(server.serve_connection(server_side, info)),
    )
}
