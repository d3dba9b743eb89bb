//! Timeouts (security.md §3) with paused tokio time. The server runs
//! through `Server::serve_connection` over `tokio::io::duplex`, so virtual
//! time is the only clock involved.

use std::time::Duration;

use mtakit::client::ClientError;
use mtakit::proto::Reply;
use mtakit::proto::{MailParams, ReversePath, SessionInfo};
use mtakit::test_util::ReplyExt;
use mtakit::{Limits, MemorySink, Message, MessageSink, Policy, Server, Verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::support::serve_duplex;

/// A guard on every wait: far longer than any timeout under test, so that
/// a hang fails instead of blocking (virtual time advances to it).
const GUARD: Duration = Duration::from_secs(3600);

/// The client end of an in-memory connection: the library's client,
/// panicking on any failure.
struct Client {
    inner: mtakit::client::Client<DuplexStream>,
}

impl Client {
    async fn send(&mut self, bytes: &[u8]) {
        self.inner.send(bytes).await.expect("write");
    }

    /// The next reply, or `None` at end of stream.
    async fn next(&mut self) -> Option<Reply> {
        match self.inner.read_reply().await {
            Ok(reply) => Some(reply),
            Err(ClientError::Closed) => {
                assert_eq!(self.inner.buffered(), 0, "trailing bytes");
                None
            }
            Err(e) => panic!("no reply: {e}"),
        }
    }

    async fn reply(&mut self) -> Reply {
        self.next().await.expect("a reply, not end of stream")
    }

    async fn command(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }
}

/// Starts one session over a duplex pipe.
fn start<P: mtakit::MakePolicy, S: MessageSink>(
    limits: Limits,
    policy: P,
    sink: S,
) -> (Client, JoinHandle<Result<(), mtakit::ConnectionError>>) {
    let server = Server::builder()
        .hostname("mx.test")
        .limits(limits)
        .policy(policy)
        .sink(sink)
        .build();
    let (client, task) = serve_duplex(server, 64 * 1024, "192.0.2.1:4567", "192.0.2.2:25");
    let inner = mtakit::client::Client::new(client, GUARD);
    (Client { inner }, task)
}

async fn finished(task: JoinHandle<Result<(), mtakit::ConnectionError>>) {
    tokio::time::timeout(GUARD, task)
        .await
        .expect("session never ended")
        .expect("session task")
        .expect("session result");
}

fn limits(command: u64, data_block: u64) -> Limits {
    Limits {
        command_timeout: Duration::from_secs(command),
        data_block_timeout: Duration::from_secs(data_block),
        ..Limits::default()
    }
}

#[tokio::test(start_paused = true)]
async fn serve_connection_basic_transcript() {
    let sink = MemorySink::new();
    let (mut c, task) = start(Limits::default(), mtakit::AcceptAll, sink.clone());
    c.reply().await.assert_code(220).assert_contains("mx.test");
    let ehlo = c.command("EHLO client.test").await;
    ehlo.assert_code(250)
        .assert_line("PIPELINING")
        .assert_line("8BITMIME");
    c.command("MAIL FROM:<a@a.test>")
        .await
        .assert_enhanced("2.1.0");
    c.command("RCPT TO:<b@b.test>")
        .await
        .assert_enhanced("2.1.5");
    c.command("DATA").await.assert_code(354);
    c.send(b"Subject: duplex\r\n\r\nhello\r\n.\r\n").await;
    c.reply().await.assert_code(250).assert_enhanced("2.0.0");
    c.command("QUIT").await.assert_code(221);
    assert!(c.next().await.is_none());
    finished(task).await;

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].data(), b"Subject: duplex\r\n\r\nhello\r\n");
    assert_eq!(messages[0].peer().to_string(), "192.0.2.1:4567");
    assert_eq!(
        messages[0].helo().map(ToString::to_string).as_deref(),
        Some("client.test")
    );
}

#[test]
fn default_command_timeout_is_at_least_five_minutes() {
    let limits = Limits::default();
    assert!(limits.command_timeout >= Duration::from_secs(300));
    assert!(limits.data_block_timeout >= Duration::from_secs(180));
    assert!(limits.data_termination_timeout >= Duration::from_secs(600));
}

#[tokio::test(start_paused = true)]
async fn to_1_idle_client_gets_421_after_the_command_timeout() {
    let (mut c, task) = start(limits(30, 180), mtakit::AcceptAll, MemorySink::new());
    c.reply().await.assert_code(220);
    c.command("EHLO client.test").await.assert_code(250);
    let start = Instant::now();
    let bye = c.reply().await;
    let waited = start.elapsed();
    bye.assert_code(421)
        .assert_enhanced("4.4.2")
        .assert_contains("timeout");
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "timed out after {waited:?}"
    );
    assert!(c.next().await.is_none(), "not closed after the 421");
    finished(task).await;
}

#[tokio::test(start_paused = true)]
async fn slow_data_gets_421_after_the_data_block_timeout() {
    let sink = MemorySink::new();
    let (mut c, task) = start(limits(300, 10), mtakit::AcceptAll, sink.clone());
    c.reply().await.assert_code(220);
    c.command("EHLO client.test").await.assert_code(250);
    c.command("MAIL FROM:<a@a.test>").await.assert_code(250);
    c.command("RCPT TO:<b@b.test>").await.assert_code(250);
    c.command("DATA").await.assert_code(354);
    c.send(b"Subject: slow\r\n\r\npart").await;
    let start = Instant::now();
    let bye = c.reply().await;
    let waited = start.elapsed();
    bye.assert_code(421).assert_enhanced("4.4.2");
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
        "timed out after {waited:?}, not after the 10 s DATA block timeout"
    );
    assert!(c.next().await.is_none());
    finished(task).await;
    assert!(sink.is_empty(), "a timed-out message was stored");
}

#[tokio::test(start_paused = true)]
async fn data_chunks_within_the_block_timeout_keep_the_transaction_alive() {
    let sink = MemorySink::new();
    // With no minimum data rate, each read restarts the data block timeout
    // (RFC 5321 §4.5.3.2.5 per-send semantics); the default rate would cut
    // this 1 octet/s client off (see `to_3_trickled_data_is_cut_off`).
    let slow_ok = Limits {
        min_data_rate: 0,
        ..limits(300, 10)
    };
    let (mut c, task) = start(slow_ok, mtakit::AcceptAll, sink.clone());
    c.reply().await.assert_code(220);
    c.command("EHLO client.test").await.assert_code(250);
    c.command("MAIL FROM:<a@a.test>").await.assert_code(250);
    c.command("RCPT TO:<b@b.test>").await.assert_code(250);
    c.command("DATA").await.assert_code(354);
    for i in 0..5 {
        c.send(format!("line {i}\r\n").as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(8)).await;
    }
    c.send(b".\r\n").await;
    c.reply().await.assert_code(250);
    c.command("QUIT").await.assert_code(221);
    finished(task).await;
    assert_eq!(sink.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn to_2_slowloris_command_is_cut_off() {
    let (mut c, task) = start(limits(2, 180), mtakit::AcceptAll, MemorySink::new());
    c.reply().await.assert_code(220);
    let start = Instant::now();
    let (mut rd, mut wr) = tokio::io::split(c.inner.into_inner());
    let trickle = tokio::spawn(async move {
        // One byte every 0.5 s, never a CRLF, for up to a minute.
        for &b in b"MAIL FROM:<a@a.test>".iter().cycle().take(120) {
            if wr.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let mut text = Vec::new();
    tokio::time::timeout(GUARD, rd.read_to_end(&mut text))
        .await
        .expect("never closed")
        .expect("read");
    let waited = start.elapsed();
    trickle.abort();
    let text = String::from_utf8_lossy(&text);
    assert!(text.starts_with("421 "), "{text:?}");
    assert!(
        waited < Duration::from_secs(5),
        "closed only after {waited:?}"
    );
    let _ = task.await;
}

#[tokio::test(start_paused = true)]
async fn to_3_trickled_data_is_cut_off() {
    let sink = MemorySink::new();
    let (mut c, task) = start(limits(300, 10), mtakit::AcceptAll, sink.clone());
    c.reply().await.assert_code(220);
    c.command("EHLO client.test").await.assert_code(250);
    c.command("MAIL FROM:<a@a.test>").await.assert_code(250);
    c.command("RCPT TO:<b@b.test>").await.assert_code(250);
    c.command("DATA").await.assert_code(354);
    let start = Instant::now();
    let (mut rd, mut wr) = tokio::io::split(c.inner.into_inner());
    let trickle = tokio::spawn(async move {
        // One byte a second for ten minutes, never the terminator.
        for _ in 0..600 {
            if wr.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut text = Vec::new();
    tokio::time::timeout(GUARD, rd.read_to_end(&mut text))
        .await
        .expect("never closed")
        .expect("read");
    let waited = start.elapsed();
    trickle.abort();
    let text = String::from_utf8_lossy(&text);
    assert!(text.starts_with("421 4.4.2"), "{text:?}");
    // Any minimum rate or deadline derived from the 10 s block timeout
    // ends this long before the trickle does.
    assert!(
        waited < Duration::from_secs(60),
        "closed only after {waited:?}"
    );
    let _ = task.await;
    assert!(sink.is_empty());
}

#[tokio::test(start_paused = true)]
async fn to_4_client_that_never_reads_is_closed() {
    let server = Server::builder()
        .limits(limits(30, 180))
        .sink(MemorySink::new())
        .build();
    let (client, task) = serve_duplex(server, 4096, "192.0.2.1:4567", "192.0.2.2:25");
    let (rd, mut wr) = tokio::io::split(client);
    let flood = tokio::spawn(async move {
        let noops = b"NOOP\r\n".repeat(10_000);
        let _ = wr.write_all(&noops).await;
        // Keep the write side open: only the server may end this.
        std::future::pending::<()>().await;
    });
    let start = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(600), task).await;
    flood.abort();
    drop(rd);
    let waited = start.elapsed();
    assert!(ended.is_ok(), "the session was still open after {waited:?}");
    assert!(
        waited <= Duration::from_secs(120),
        "closed only after {waited:?}"
    );
}

/// Sleeps for an hour on one sender; accepts the others at once.
#[derive(Debug)]
struct SlowMail;

impl Policy for SlowMail {
    async fn accept_mail_from(
        &self,
        _: &SessionInfo,
        from: &ReversePath,
        _: &MailParams,
    ) -> Verdict {
        if from.to_string() == "<slow@a.test>" {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Verdict::accept()
    }
}

#[tokio::test(start_paused = true)]
async fn to_6_slow_policy_hook_gives_451_and_the_session_goes_on() {
    let sink = MemorySink::new();
    let (mut c, task) = start(limits(5, 180), SlowMail, sink.clone());
    c.reply().await.assert_code(220);
    c.command("EHLO client.test").await.assert_code(250);
    let start = Instant::now();
    c.command("MAIL FROM:<slow@a.test>")
        .await
        .assert_code(451)
        .assert_enhanced("4.3.0");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
        "hook cut off after {waited:?}"
    );
    // No transaction was opened; a fast sender works.
    c.command("RCPT TO:<b@b.test>").await.assert_code(503);
    c.command("MAIL FROM:<fast@a.test>").await.assert_code(250);
    c.command("RCPT TO:<b@b.test>").await.assert_code(250);
    c.command("DATA").await.assert_code(354);
    c.send(b"Subject: ok\r\n\r\n.\r\n").await;
    c.reply().await.assert_code(250);
    c.command("QUIT").await.assert_code(221);
    finished(task).await;
    assert_eq!(sink.len(), 1);
}

/// A sink that never finishes.
#[derive(Debug)]
struct StuckSink;

impl MessageSink for StuckSink {
    async fn deliver(&self, _: Message) -> Result<(), Reply> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn stuck_sink_gives_451_after_the_data_termination_timeout() {
    let limits = Limits {
        data_termination_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let (mut c, task) = start(limits, mtakit::AcceptAll, StuckSink);
    c.reply().await.assert_code(220);
    c.command("EHLO client.test").await.assert_code(250);
    c.command("MAIL FROM:<a@a.test>").await.assert_code(250);
    c.command("RCPT TO:<b@b.test>").await.assert_code(250);
    c.command("DATA").await.assert_code(354);
    c.send(b"Subject: stuck\r\n\r\n.\r\n").await;
    let start = Instant::now();
    c.reply().await.assert_code(451).assert_enhanced("4.3.0");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited < Duration::from_secs(61),
        "sink cut off after {waited:?}"
    );
    c.command("QUIT").await.assert_code(221);
    finished(task).await;
}
