//! Delivery over TCP: a failing sink, a panicking sink and the Maildir
//! sink. A message is either acknowledged with 250 after it was stored, or
//! not acknowledged (DESIGN.md principle 5).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtakit::proto::{EnhancedCode, Reply};
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{MaildirSink, MemorySink, Message, MessageSink, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::{bounded, connect_greeted, serve_tcp};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

/// A running server; stops when dropped.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), mtakit::ServerError>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

async fn start<S: MessageSink>(sink: S) -> Running {
    let server = Server::builder()
        .hostname("mx.test")
        .sink(sink)
        .shutdown_timeout(Duration::from_secs(2))
        .build();
    let (addr, stop, task) = serve_tcp(server).await;
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Sends one transaction and returns the reply to the end of data.
async fn transaction(client: &mut TestClient, subject: &str) -> Reply {
    tokio::time::timeout(WAIT, async {
        client.mail_from("<a@a.test>").await?.assert_code(250);
        client.rcpt_to("<b@b.test>").await?.assert_code(250);
        client
            .data(format!("Subject: {subject}\r\n\r\nbody\r\n").as_bytes())
            .await
    })
    .await
    .expect("transaction timed out")
    .expect("transaction")
}

/// Fails the first `failures` deliveries with its own reply, then stores.
#[derive(Debug)]
struct Flaky {
    failures: AtomicUsize,
    store: MemorySink,
}

impl MessageSink for Flaky {
    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(
                Reply::new(451, EnhancedCode::parse("4.3.1"), "Disk full, try later")
                    .expect("valid reply"),
            );
        }
        self.store.push(message);
        Ok(())
    }
}

#[tokio::test]
async fn sink_error_reply_reaches_the_client_and_a_retry_works() {
    bounded(async {
        let store = MemorySink::new();
        let running = start(Flaky {
            failures: AtomicUsize::new(1),
            store: store.clone(),
        })
        .await;
        let mut client = connect_greeted(running.addr, WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        transaction(&mut client, "try 1")
            .await
            .assert_code(451)
            .assert_enhanced("4.3.1")
            .assert_contains("Disk full");
        assert!(store.is_empty());
        transaction(&mut client, "try 2").await.assert_code(250);
        client.quit().await.expect("quit").assert_code(221);
        let messages = store.wait_for_async(1, WAIT).await.expect("stored");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].header("Subject"), Some("try 2"));
    })
    .await;
}

/// Panics on the first delivery, then stores.
#[derive(Debug, Default)]
struct Panicky {
    calls: AtomicUsize,
    store: MemorySink,
}

impl MessageSink for Panicky {
    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("sink exploded (expected by the test)");
        }
        self.store.push(message);
        Ok(())
    }
}

#[tokio::test]
async fn panicking_sink_gives_451_and_the_server_goes_on() {
    bounded(async {
        let sink = Arc::new(Panicky::default());
        let running = start(sink.clone()).await;
        let mut client = connect_greeted(running.addr, WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        transaction(&mut client, "boom")
            .await
            .assert_code(451)
            .assert_enhanced("4.3.0");
        // The same connection still works ...
        transaction(&mut client, "same connection")
            .await
            .assert_code(250);
        client.quit().await.expect("quit").assert_code(221);
        // ... and so do new ones.
        let mut second = connect_greeted(running.addr, WAIT).await;
        second.ehlo("client.test").await.expect("ehlo");
        transaction(&mut second, "new connection")
            .await
            .assert_code(250);
        second.quit().await.expect("quit").assert_code(221);

        let messages = sink.store.wait_for_async(2, WAIT).await.expect("stored");
        let subjects: Vec<&str> = messages
            .iter()
            .map(|m| m.header("Subject").unwrap_or_default())
            .collect();
        assert_eq!(subjects, ["same connection", "new connection"]);
    })
    .await;
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "mtakit-{tag}-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(read) => read.map(|e| e.expect("dir entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn maildir_file_is_in_new_before_the_250() {
    bounded(async {
        let dir = TempDir::new("maildir");
        let root = dir.0.join("Maildir");
        let running = start(MaildirSink::create(&root).expect("maildir")).await;
        let mut client = connect_greeted(running.addr, WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .rcpt_to("<c@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(b"Subject: stored\r\n\r\n.dotted line\r\nend\r\n")
            .await
            .expect("data")
            .assert_code(250);

        // No waiting: the 250 promises the file is already in new/.
        let new = entries(&root.join("new"));
        assert_eq!(new.len(), 1, "{new:?}");
        assert!(entries(&root.join("tmp")).is_empty());
        assert!(entries(&root.join("cur")).is_empty());
        let content = std::fs::read(&new[0]).expect("read message file");
        let text = String::from_utf8(content.clone()).unwrap();
        // Return-Path, the envelope record, Delivered-To (no brackets),
        // Received, then the message exactly as received.
        assert!(
            text.starts_with("Return-Path: <a@a.test>\r\nX-Mtakit-Envelope: v=1;"),
            "{text}"
        );
        let record = mtakit::sink::MaildirEnvelope::parse(&content).expect("a record");
        assert_eq!(record.to, ["b@b.test", "c@b.test"]);
        let (trace, data) = content.split_at(record.skip);
        assert_eq!(data, b"Subject: stored\r\n\r\n.dotted line\r\nend\r\n");
        let trace = String::from_utf8_lossy(trace);
        assert!(
            trace.contains("\r\nDelivered-To: b@b.test\r\nDelivered-To: c@b.test\r\nReceived: from client.test ([127.0.0.1])\r\n"),
            "{trace}"
        );
        assert!(!trace.contains("\tfor <"), "no `for` with two recipients");
        client.quit().await.expect("quit").assert_code(221);
    })
    .await;
}

#[tokio::test]
async fn maildir_without_new_gives_451_and_leaves_tmp_empty() {
    bounded(async {
        let dir = TempDir::new("maildir-broken");
        let root = dir.0.join("Maildir");
        let sink = MaildirSink::create(&root).expect("maildir");
        std::fs::remove_dir(root.join("new")).expect("remove new/");
        let running = start(sink).await;
        let mut client = connect_greeted(running.addr, WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        transaction(&mut client, "lost?")
            .await
            .assert_code(451)
            .assert_enhanced("4.3.0");
        assert!(entries(&root.join("tmp")).is_empty(), "partial file left");
        assert!(!root.join("new").exists());

        // Once the directory is back, the retry on the same connection works.
        std::fs::create_dir(root.join("new")).expect("recreate new/");
        transaction(&mut client, "retry").await.assert_code(250);
        assert_eq!(entries(&root.join("new")).len(), 1);
        assert!(entries(&root.join("tmp")).is_empty());
        client.quit().await.expect("quit").assert_code(221);
    })
    .await;
}

/// Records the order of events seen by a sink relative to the reply.
#[derive(Debug, Default)]
struct Recording {
    seen: Mutex<Vec<Vec<u8>>>,
}

impl MessageSink for Recording {
    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        self.seen
            .lock()
            .expect("lock")
            .push(message.data().to_vec());
        Ok(())
    }
}

#[tokio::test]
async fn sink_has_the_message_when_the_client_gets_250() {
    bounded(async {
        let sink = Arc::new(Recording::default());
        let running = start(sink.clone()).await;
        let mut client = connect_greeted(running.addr, WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        transaction(&mut client, "ordered").await.assert_code(250);
        // Checked right after the reply, without waiting.
        assert_eq!(
            *sink.seen.lock().expect("lock"),
            [b"Subject: ordered\r\n\r\nbody\r\n".to_vec()]
        );
    })
    .await;
}

/// The final `250` names the message id, as Postfix's `queued as` does, and
/// it is the id the sink got (interop D9): a client's log line can be
/// matched with the stored message.
#[tokio::test]
async fn the_final_reply_names_the_message_id() {
    bounded(async {
        let sink = MemorySink::new();
        let server = start(sink.clone()).await;
        let mut c = connect_greeted(server.addr, Duration::from_secs(5)).await;
        c.ehlo("client.test").await.expect("ehlo");
        c.mail_from("<a@a.test>").await.expect("mail");
        c.rcpt_to("<b@b.test>").await.expect("rcpt");
        let reply = c.data(b"Subject: id\r\n\r\nhi\r\n").await.expect("reply");
        reply.assert_code(250).assert_enhanced("2.0.0");
        let messages = sink
            .wait_for_async(1, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(reply.text(), format!("Ok: queued as {}", messages[0].id()));
    })
    .await;
}
