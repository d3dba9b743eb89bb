//! LMTP (RFC 2033) over real TCP: `Server::builder().lmtp(true)` served
//! with `Server::serve`. LHLO is required, and the end of the message (DATA
//! or `BDAT ... LAST`) gets one reply per accepted recipient, in envelope
//! order, from `MessageSink::deliver_each`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtakit::proto::{ForwardPath, Greeting, RcptParams, Reply, SessionInfo};
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{MemorySink, Message, MessageSink, Policy, Server, Verdict};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::support::{cmd, codes, connect_greeted, replies, reply, send, serve_tcp};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

/// A running LMTP server and the means to stop it.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), mtakit::ServerError>>,
}

impl Running {
    async fn start<P: mtakit::MakePolicy, S: MessageSink>(policy: P, sink: S) -> Self {
        let server = Server::builder()
            .hostname("lmtp.test")
            .lmtp(true)
            .shutdown_timeout(Duration::from_secs(2))
            .policy(policy)
            .sink(sink)
            .build();
        let (addr, stop, task) = serve_tcp(server).await;
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn connect(&self) -> TestClient {
        connect_greeted(self.addr, WAIT).await
    }

    /// Stops the server and checks that `serve` returned cleanly.
    async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        timeout(WAIT, &mut self.task)
            .await
            .expect("server did not stop")
            .expect("server task")
            .expect("serve result");
    }
}

/// LHLO, MAIL and one RCPT per address, each accepted.
async fn envelope(c: &mut TestClient, recipients: &[&str]) {
    cmd(c, "LHLO client.test", WAIT).await.assert_code(250);
    cmd(c, "MAIL FROM:<sender@example.com>", WAIT)
        .await
        .assert_code(250);
    for rcpt in recipients {
        cmd(c, &format!("RCPT TO:<{rcpt}>"), WAIT)
            .await
            .assert_code(250);
    }
}

/// What a [`Mailboxes`] sink delivered: (recipient, data), in order.
type Delivered = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A sink with a per-recipient outcome: `full@...` has a full mailbox;
/// every other recipient gets the message, recorded as (recipient, data).
#[derive(Clone, Default)]
struct Mailboxes {
    delivered: Delivered,
}

impl Mailboxes {
    fn delivered(&self) -> Vec<(String, Vec<u8>)> {
        self.delivered.lock().unwrap().clone()
    }
}

impl MessageSink for Mailboxes {
    async fn deliver(&self, _: Message) -> Result<(), Reply> {
        unreachable!("an LMTP server calls deliver_each")
    }

    async fn deliver_each(&self, message: Message) -> Vec<Result<(), Reply>> {
        let mut outcomes = Vec::new();
        for rcpt in message.forward_paths() {
            let rcpt = rcpt.to_string();
            if rcpt.starts_with("<full@") {
                outcomes.push(Err(reply(452, "4.2.2", "Mailbox full")));
            } else {
                let data = message.data().to_vec();
                self.delivered.lock().unwrap().push((rcpt, data));
                outcomes.push(Ok(()));
            }
        }
        outcomes
    }
}

/// A sink that panics on a message whose subject is `boom`, and stores
/// the others.
#[derive(Clone, Default)]
struct Fragile {
    store: MemorySink,
}

impl MessageSink for Fragile {
    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        assert!(
            message.header("Subject") != Some("boom"),
            "the sink blew up (expected by the test)"
        );
        self.store.deliver(message).await
    }
}

/// Rejects messages whose subject is `spam`, and recipients at
/// `nobody@...`.
struct ContentFilter;

impl Policy for ContentFilter {
    async fn accept_rcpt_to(&self, _: &SessionInfo, to: &ForwardPath, _: &RcptParams) -> Verdict {
        Verdict::from(!to.to_string().starts_with("<nobody@"))
    }

    async fn accept_message(&self, _: &SessionInfo, message: &Message) -> Verdict {
        if message.header("Subject") == Some("spam") {
            Verdict::reject_with(reply(554, "5.7.1", "Spam refused"))
        } else {
            Verdict::accept()
        }
    }
}

#[tokio::test]
async fn lhlo_is_required_and_helo_ehlo_get_500() {
    let sink = MemorySink::new();
    let server = Running::start(mtakit::AcceptAll, sink.clone()).await;
    let mut c = server.connect().await;
    cmd(&mut c, "HELO client.test", WAIT).await.assert_code(500);
    cmd(&mut c, "EHLO client.test", WAIT).await.assert_code(500);
    // Nothing was greeted: MAIL is out of sequence.
    cmd(&mut c, "MAIL FROM:<a@example.com>", WAIT)
        .await
        .assert_code(503);
    let lhlo = cmd(&mut c, "LHLO client.test", WAIT).await;
    lhlo.assert_code(250)
        .assert_line("PIPELINING")
        .assert_line("ENHANCEDSTATUSCODES")
        .assert_line("CHUNKING");
    assert!(lhlo.text().starts_with("lmtp.test"), "{lhlo}");
    // EHLO is still refused after LHLO, and does not undo it.
    cmd(&mut c, "EHLO client.test", WAIT)
        .await
        .assert_code(500)
        .assert_enhanced("5.5.1");
    cmd(&mut c, "MAIL FROM:<a@example.com>", WAIT)
        .await
        .assert_enhanced("2.1.0");
    cmd(&mut c, "QUIT", WAIT).await.assert_code(221);
    server.stop().await;
    assert!(sink.is_empty());
}

#[tokio::test]
async fn data_gets_one_reply_per_recipient() {
    let sink = MemorySink::new();
    let server = Running::start(mtakit::AcceptAll, sink.clone()).await;
    let mut c = server.connect().await;
    let rcpts = ["a@example.com", "b@example.com", "c@example.com"];
    envelope(&mut c, &rcpts).await;
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: three\r\n\r\nbody\r\n.\r\n", WAIT).await;
    let got = replies(&mut c, 3, WAIT).await;
    for r in &got {
        r.assert_code(250).assert_enhanced("2.0.0");
    }
    // No fourth reply: the next one answers NOOP.
    cmd(&mut c, "NOOP", WAIT)
        .await
        .assert_code(250)
        .assert_line("OK");
    cmd(&mut c, "QUIT", WAIT).await.assert_code(221);
    server.stop().await;

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "the default deliver_each stores once");
    let to: Vec<String> = messages[0].forward_paths().map(|p| p.to_string()).collect();
    assert_eq!(
        to,
        ["<a@example.com>", "<b@example.com>", "<c@example.com>"]
    );
    assert_eq!(messages[0].greeting(), Some(Greeting::Lhlo));
    assert_eq!(messages[0].data(), b"Subject: three\r\n\r\nbody\r\n");
}

#[tokio::test]
async fn bdat_last_gets_one_reply_per_recipient() {
    let sink = MemorySink::new();
    let server = Running::start(mtakit::AcceptAll, sink.clone()).await;
    let mut c = server.connect().await;
    envelope(&mut c, &["a@example.com", "b@example.com"]).await;
    send(&mut c, b"BDAT 5\r\nhelloBDAT 7 LAST\r\n, world", WAIT).await;
    let got = replies(&mut c, 3, WAIT).await;
    got[0].assert_code(250).assert_contains("5 octets");
    got[1].assert_code(250).assert_enhanced("2.0.0");
    got[2].assert_code(250).assert_enhanced("2.0.0");
    cmd(&mut c, "NOOP", WAIT)
        .await
        .assert_code(250)
        .assert_line("OK");
    server.stop().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].data(), b"hello, world");
}

#[tokio::test]
async fn sink_rejects_one_recipient_and_replies_follow_envelope_order() {
    let sink = Mailboxes::default();
    let server = Running::start(mtakit::AcceptAll, sink.clone()).await;
    let mut c = server.connect().await;
    envelope(
        &mut c,
        &["a@example.com", "full@example.com", "c@example.com"],
    )
    .await;
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: hi\r\n\r\nx\r\n.\r\n", WAIT).await;
    let got = replies(&mut c, 3, WAIT).await;
    assert_eq!(codes(&got), [250, 452, 250]);
    got[1]
        .assert_enhanced("4.2.2")
        .assert_contains("Mailbox full");

    // The same over BDAT, with the full mailbox first; pipelined.
    send(
        &mut c,
        b"MAIL FROM:<s@example.com>\r\nRCPT TO:<full@example.com>\r\n\
          RCPT TO:<d@example.com>\r\nBDAT 3 LAST\r\nabc",
        WAIT,
    )
    .await;
    let got = replies(&mut c, 5, WAIT).await;
    assert_eq!(codes(&got), [250, 250, 250, 452, 250]);
    cmd(&mut c, "QUIT", WAIT).await.assert_code(221);
    server.stop().await;

    let delivered = sink.delivered();
    let names: Vec<&str> = delivered.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        names,
        ["<a@example.com>", "<c@example.com>", "<d@example.com>"]
    );
    assert_eq!(delivered[2].1, b"abc");
}

#[tokio::test]
async fn a_panicking_sink_gives_451_for_every_recipient_and_the_server_goes_on() {
    let sink = Fragile::default();
    let server = Running::start(mtakit::AcceptAll, sink.clone()).await;
    let mut c = server.connect().await;
    envelope(&mut c, &["a@example.com", "b@example.com"]).await;
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: boom\r\n\r\nx\r\n.\r\n", WAIT).await;
    for r in replies(&mut c, 2, WAIT).await {
        r.assert_code(451).assert_enhanced("4.3.0");
    }
    // The same session carries on with the next transaction.
    cmd(&mut c, "MAIL FROM:<s@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(&mut c, "RCPT TO:<a@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: fine\r\n\r\nx\r\n.\r\n", WAIT).await;
    replies(&mut c, 1, WAIT).await[0].assert_code(250);

    // And so does the server, for a new connection.
    let mut c2 = server.connect().await;
    envelope(&mut c2, &["z@example.com"]).await;
    cmd(&mut c2, "DATA", WAIT).await.assert_code(354);
    send(&mut c2, b"Subject: again\r\n\r\nx\r\n.\r\n", WAIT).await;
    replies(&mut c2, 1, WAIT).await[0].assert_code(250);
    server.stop().await;

    let messages = sink.store.messages();
    let subjects: Vec<Option<&str>> = messages.iter().map(|m| m.header("Subject")).collect();
    assert_eq!(subjects, [Some("fine"), Some("again")]);
}

#[tokio::test]
async fn accept_message_rejection_is_repeated_per_recipient() {
    let sink = MemorySink::new();
    let server = Running::start(ContentFilter, sink.clone()).await;
    let mut c = server.connect().await;
    envelope(&mut c, &["a@example.com", "b@example.com"]).await;
    // A recipient refused at RCPT gets no reply after the data.
    cmd(&mut c, "RCPT TO:<nobody@example.com>", WAIT)
        .await
        .assert_code(550);
    cmd(&mut c, "RCPT TO:<c@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: spam\r\n\r\nbuy\r\n.\r\n", WAIT).await;
    let got = replies(&mut c, 3, WAIT).await;
    for r in &got {
        r.assert_code(554)
            .assert_enhanced("5.7.1")
            .assert_contains("Spam refused");
    }
    cmd(&mut c, "NOOP", WAIT)
        .await
        .assert_code(250)
        .assert_line("OK");

    // Over BDAT, the same.
    send(
        &mut c,
        b"MAIL FROM:<s@example.com>\r\nRCPT TO:<a@example.com>\r\n\
          RCPT TO:<b@example.com>\r\nBDAT 20 LAST\r\nSubject: spam\r\n\r\nbuy",
        WAIT,
    )
    .await;
    let got = replies(&mut c, 5, WAIT).await;
    assert_eq!(codes(&got), [250, 250, 250, 554, 554]);
    // A clean message after the refusals is delivered with two 250s.
    envelope(&mut c, &[]).await;
    cmd(&mut c, "RCPT TO:<a@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(&mut c, "RCPT TO:<b@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: ham\r\n\r\nok\r\n.\r\n", WAIT).await;
    assert_eq!(codes(&replies(&mut c, 2, WAIT).await), [250, 250]);
    server.stop().await;

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "refused messages were stored");
    assert_eq!(messages[0].header("Subject"), Some("ham"));
}

/// A sink that reports the wrong number of outcomes.
struct Miscounting;

impl MessageSink for Miscounting {
    async fn deliver(&self, _: Message) -> Result<(), Reply> {
        Ok(())
    }

    async fn deliver_each(&self, _: Message) -> Vec<Result<(), Reply>> {
        vec![Ok(())]
    }
}

#[tokio::test]
async fn a_sink_with_the_wrong_number_of_outcomes_gets_451_for_each() {
    let server = Running::start(mtakit::AcceptAll, Miscounting).await;
    let mut c = server.connect().await;
    envelope(&mut c, &["a@example.com", "b@example.com", "c@example.com"]).await;
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: x\r\n\r\nx\r\n.\r\n", WAIT).await;
    for r in replies(&mut c, 3, WAIT).await {
        r.assert_code(451).assert_enhanced("4.3.0");
    }
    cmd(&mut c, "NOOP", WAIT)
        .await
        .assert_code(250)
        .assert_line("OK");
    server.stop().await;
}

#[tokio::test]
async fn a_whole_pipelined_lmtp_session_in_one_write() {
    let sink = Mailboxes::default();
    let server = Running::start(mtakit::AcceptAll, sink.clone()).await;
    let mut c = server.connect().await;
    send(
        &mut c,
        b"LHLO client.test\r\nMAIL FROM:<s@example.com>\r\nRCPT TO:<full@example.com>\r\n\
          RCPT TO:<b@example.com>\r\nDATA\r\nSubject: p\r\n\r\nx\r\n.\r\nQUIT\r\n",
        WAIT,
    )
    .await;
    let got = replies(&mut c, 8, WAIT).await;
    assert_eq!(codes(&got), [250, 250, 250, 250, 354, 452, 250, 221]);
    got[6].assert_enhanced("2.0.0");
    assert!(
        timeout(WAIT, c.is_closed())
            .await
            .expect("close")
            .unwrap_or(true)
    );
    server.stop().await;
    assert_eq!(sink.delivered().len(), 1);
}

#[tokio::test]
async fn auth_after_lhlo() {
    let server = Server::builder()
        .lmtp(true)
        .allow_insecure_auth(true)
        .authenticator(mtakit::UserTable::new().with_user("alice", "secret"))
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    let mut c = timeout(WAIT, TestClient::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect");
    cmd(&mut c, "LHLO client.test", WAIT)
        .await
        .assert_code(250)
        .assert_line("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER");
    // base64("\0alice\0secret")
    cmd(&mut c, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", WAIT)
        .await
        .assert_code(235);
}

/// A refusal at the end of DATA (here: too big, and NUL) gets one reply per
/// recipient, so that a client pipelining QUIT reads the `221` as QUIT's
/// reply and not as the second recipient's result (interop D1: Postfix and
/// Exim logged `status=sent` for mail that was never stored).
#[tokio::test]
async fn a_refused_message_gets_one_reply_per_recipient_before_a_pipelined_quit() {
    let bodies: [(&[u8], u16); 2] = [(&[b'x'; 3000], 552), (b"a\0b", 554)];
    for (body, code) in bodies {
        let sink = Mailboxes::default();
        let limits = mtakit::proto::Limits {
            max_message_size: 2000,
            ..Default::default()
        };
        let server = Server::builder()
            .hostname("lmtp.test")
            .lmtp(true)
            .limits(limits)
            .sink(sink.clone())
            .build();
        let (addr, _stop, _task) = serve_tcp(server).await;
        let mut c = connect_greeted(addr, WAIT).await;
        let mut session = b"LHLO client.test\r\nMAIL FROM:<s@example.com>\r\n\
              RCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
            .to_vec();
        session.extend_from_slice(body);
        session.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
        send(&mut c, &session, WAIT).await;
        let got = replies(&mut c, 7, WAIT).await;
        assert_eq!(codes(&got), [250, 250, 250, 250, 354, code, code]);
        assert_eq!(codes(&replies(&mut c, 1, WAIT).await), [221]);
        assert!(sink.delivered().is_empty());
    }
}
