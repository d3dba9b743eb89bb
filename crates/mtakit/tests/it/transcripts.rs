//! Session transcripts handed to a `SessionObserver`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtakit::observe::{Entry, SessionObserver, Transcript};
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::tls::TestPki;
use mtakit::{MemorySink, Server, UserTable};
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Clone, Default)]
struct Collect {
    transcripts: Arc<Mutex<Vec<Transcript>>>,
    started: Arc<Mutex<Vec<u64>>>,
    ended: Arc<Notify>,
}

impl SessionObserver for Collect {
    fn session_started(&self, id: u64, _: std::net::SocketAddr) {
        self.started.lock().unwrap().push(id);
    }

    fn session_ended(&self, transcript: Transcript) {
        self.transcripts.lock().unwrap().push(transcript);
        self.ended.notify_one();
    }
}

#[tokio::test]
async fn a_transcript_has_every_command_reply_and_message() {
    let pki = TestPki::new(&["localhost"]);
    let observer = Collect::default();
    let sink = MemorySink::new();
    let server = Server::builder()
        .observer(observer.clone())
        .tls(pki.server_config())
        .authenticator(UserTable::new().with_user("alice", "secret"))
        .sink(sink.clone())
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));

    let mut c = TestClient::connect(addr).await.unwrap();
    c.ehlo("client.test").await.unwrap();
    c.starttls(pki.client_config(), "localhost").await.unwrap();
    c.ehlo("client.test").await.unwrap();
    c.auth_plain("alice", "secret")
        .await
        .unwrap()
        .assert_code(235);
    c.mail_from("<a@a.test>").await.unwrap();
    c.rcpt_to("<b@b.test>").await.unwrap();
    c.data(b"Subject: t\r\n\r\nx\r\n")
        .await
        .unwrap()
        .assert_code(250);
    c.quit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), observer.ended.notified())
        .await
        .unwrap();

    let transcripts = observer.transcripts.lock().unwrap().clone();
    assert_eq!(transcripts.len(), 1);
    let t = &transcripts[0];
    assert_eq!(*observer.started.lock().unwrap(), [t.id]);
    assert_eq!(
        t.commands().collect::<Vec<_>>(),
        [
            "EHLO client.test",
            "STARTTLS",
            "EHLO client.test",
            "AUTH PLAIN ***",
            "MAIL FROM:<a@a.test>",
            "RCPT TO:<b@b.test>",
            "DATA",
            "QUIT"
        ]
    );
    let stored = sink.messages();
    assert_eq!(t.messages().collect::<Vec<_>>(), [stored[0].id()]);
    assert_eq!(t.tls.as_ref().unwrap().version, "TLSv1.3");
    assert!(
        t.entries
            .iter()
            .any(|e| e.entry == Entry::Tls("TLSv1.3".into()))
    );
    assert!(matches!(&t.entries[0].entry, Entry::Reply(r) if r.starts_with("220 ")));
    assert!(matches!(&t.entries.last().unwrap().entry, Entry::End(e) if e == "closed"));
    assert!(
        t.entries.windows(2).all(|w| w[0].at <= w[1].at),
        "times go forward"
    );
    // No secret anywhere in the transcript.
    assert!(!format!("{t:?}").contains("AGFsaWNlAHNlY3JldA"));
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_client_that_vanishes_still_gets_a_transcript() {
    let observer = Collect::default();
    let server = Server::builder().observer(observer.clone()).build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener, std::future::pending()));
    let mut c = TestClient::connect(addr).await.unwrap();
    c.ehlo("gone.test").await.unwrap();
    drop(c);
    tokio::time::timeout(Duration::from_secs(10), observer.ended.notified())
        .await
        .unwrap();
    let t = observer.transcripts.lock().unwrap()[0].clone();
    assert_eq!(
        t.commands().collect::<Vec<_>>(),
        ["EHLO client.test".replace("client", "gone")]
    );
    assert!(matches!(&t.entries.last().unwrap().entry, Entry::End(e) if e == "client closed"));
}

/// `Builder::transcript_bytes`: a session of thousands of long pipelined
/// commands keeps a transcript within the budget, with its start, its end
/// and a count of what was dropped (redteam §3: 10,000 entries × 512
/// characters per session before).
#[tokio::test]
async fn a_transcript_stays_within_its_byte_budget() {
    let observer = Collect::default();
    let server = Server::builder()
        .observer(observer.clone())
        .transcript_bytes(16 * 1024)
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    let mut c = TestClient::connect(addr).await.unwrap();
    c.ehlo("first.test").await.unwrap();
    let noop = format!("NOOP {}\r\n", "x".repeat(500));
    c.send_raw(noop.repeat(2_000).as_bytes()).await.unwrap();
    c.read_replies(2_000).await.unwrap();
    c.quit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), observer.ended.notified())
        .await
        .expect("the session ended");
    let transcripts = observer.transcripts.lock().unwrap();
    let t = &transcripts[0];
    assert!(t.bytes() <= 16 * 1024, "{} bytes kept", t.bytes());
    let (entries, bytes) = t.omitted().expect("the middle was dropped");
    assert!(
        entries > 3_000 && bytes > 1_000_000,
        "{entries} entries, {bytes} bytes"
    );
    assert_eq!(t.commands().next(), Some("EHLO first.test"));
    assert_eq!(t.commands().last(), Some("QUIT"));
    assert_eq!(t.command_count(), 2_002);
}
