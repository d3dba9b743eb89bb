//! Interoperability with a real SMTP client: lettre's async transport and
//! its lower-level connection, against `TestServer` over TCP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mtakit::proto::{Body, ForwardPath, RcptParams, SessionInfo};
use mtakit::test_util::TestServer;
use mtakit::{Policy, UserTable, Verdict};

use crate::support::bounded;

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

fn transport(server: &TestServer) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr().port())
        .hello_name(ClientId::Domain("client.test".to_owned()))
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn mailbox(s: &str) -> Mailbox {
    s.parse().expect("valid mailbox")
}

fn simple(subject: &str, to: &str, body: &str) -> lettre::Message {
    lettre::Message::builder()
        .from(mailbox("Sender <sender@a.test>"))
        .to(mailbox(to))
        .subject(subject)
        .body(body.to_owned())
        .expect("valid message")
}

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    message: lettre::Message,
) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
    tokio::time::timeout(WAIT, transport.send(message))
        .await
        .expect("lettre send timed out")
}

/// Counts accepted connections; rejects one recipient address.
#[derive(Debug, Default)]
struct Counting {
    connections: AtomicUsize,
}

impl Policy for Counting {
    async fn accept_connection(&self, _: &SessionInfo) -> Verdict {
        self.connections.fetch_add(1, Ordering::SeqCst);
        Verdict::accept()
    }

    async fn accept_rcpt_to(&self, _: &SessionInfo, to: &ForwardPath, _: &RcptParams) -> Verdict {
        Verdict::from(to.to_string() != "<bad@b.test>")
    }
}

#[tokio::test]
async fn plain_text_message() {
    bounded(async {
        let server = TestServer::start_async().await;
        let response = send(
            &transport(&server),
            simple("Plain", "Rcpt <rcpt@b.test>", "Hello from lettre.\r\n"),
        )
        .await
        .expect("send succeeds");
        assert_eq!(response.code().to_string(), "250");

        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        let m = &messages[0];
        assert_eq!(m.reverse_path().to_string(), "<sender@a.test>");
        let to: Vec<String> = m.forward_paths().map(ToString::to_string).collect();
        assert_eq!(to, ["<rcpt@b.test>"]);
        assert_eq!(
            m.helo().map(ToString::to_string).as_deref(),
            Some("client.test")
        );
        assert_eq!(m.header("Subject"), Some("Plain"));
        assert!(m.text().contains("Hello from lettre.\r\n"), "{}", m.text());
        assert!(m.auth().is_none());
        // Stored bytes keep CRLF and never contain the terminator line.
        assert!(!m.data().windows(5).any(|w| w == b"\r\n.\r\n"));
    })
    .await;
}

/// What lettre encodes (a UTF-8 subject and display names as RFC 2047
/// words, the bodies as quoted-printable or base64, the attachment as
/// base64) reads back decoded through `Message`'s assertion helpers.
#[tokio::test]
async fn decoded_assertions_on_a_lettre_message() {
    bounded(async {
        let server = TestServer::start_async().await;
        let pdf = b"%PDF-1.7\n\x00\xff binary".to_vec();
        let text = "Grüße aus Köln! A line long enough that lettre has to wrap it when it encodes \
                    the body as quoted-printable: ünïcödé everywhere.\n";
        let html = "<p>Grüße aus <b>Köln</b></p>\n";
        let message = lettre::Message::builder()
            .from(mailbox("Jürgen Müller <juergen@a.test>"))
            .to(mailbox("Ada Lovelace <ada@b.test>"))
            .to(mailbox("bob@b.test"))
            .cc(mailbox("Zoë <zoe@b.test>"))
            .subject("Grüße aus Köln — 你好")
            .multipart(
                MultiPart::mixed()
                    .multipart(MultiPart::alternative_plain_html(
                        text.to_owned(),
                        html.to_owned(),
                    ))
                    .singlepart(
                        Attachment::new("Bericht März.pdf".to_owned())
                            .body(pdf.clone(), "application/pdf".parse().expect("type")),
                    ),
            )
            .expect("valid message");
        send(&transport(&server), message)
            .await
            .expect("send succeeds");

        let messages = server.wait_for_messages_async(1).await;
        let m = &messages[0];
        // On the wire, nothing of it is readable as such ...
        let raw_subject = m.raw_header("Subject").expect("subject");
        assert!(raw_subject.starts_with("=?utf-8?"), "{raw_subject}");
        assert!(!m.text().contains("Grüße"), "{}", m.text());
        // ... and decoded, all of it is.
        assert_eq!(m.subject(), Some("Grüße aus Köln — 你好"));
        assert_eq!(m.header("subject"), m.subject());
        assert_eq!(m.from()[0].name(), Some("Jürgen Müller"));
        assert_eq!(m.from()[0].address(), "juergen@a.test");
        let to: Vec<String> = m.to().iter().map(ToString::to_string).collect();
        assert_eq!(to, ["Ada Lovelace <ada@b.test>", "bob@b.test"]);
        assert_eq!(m.cc()[0].name(), Some("Zoë"));
        // The envelope stays apart from the header fields.
        assert_eq!(m.reverse_path().to_string(), "<juergen@a.test>");
        assert_eq!(m.text_body(), Some(text.replace('\n', "\r\n").as_str()));
        assert_eq!(m.html_body(), Some(html.replace('\n', "\r\n").as_str()));
        let attachments = m.attachments();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].name(), Some("Bericht März.pdf"));
        assert_eq!(attachments[0].content_type(), "application/pdf");
        assert_eq!(attachments[0].data(), pdf);
    })
    .await;
}

#[tokio::test]
async fn multipart_attachment_is_stored_intact() {
    bounded(async {
        let server = TestServer::start_async().await;
        let payload: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let message = lettre::Message::builder()
            .from(mailbox("sender@a.test"))
            .to(mailbox("rcpt@b.test"))
            .subject("With attachment")
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain("See the attachment.".to_owned()))
                    .singlepart(Attachment::new("report.bin".to_owned()).body(
                        payload.clone(),
                        ContentType::parse("application/octet-stream").expect("content type"),
                    )),
            )
            .expect("valid message");
        send(&transport(&server), message)
            .await
            .expect("send succeeds");

        let messages = server.wait_for_messages_async(1).await;
        let text = messages[0].text().into_owned();
        assert!(
            text.contains("Content-Disposition: attachment; filename=\"report.bin\""),
            "{text}"
        );
        assert!(text.contains("Content-Transfer-Encoding: base64"), "{text}");
        assert!(text.contains("multipart/mixed"), "{text}");
        let unfolded = text.replace("\r\n", "");
        let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
        assert!(
            unfolded.contains(&encoded),
            "base64 body not found in {text}"
        );
    })
    .await;
}

#[tokio::test]
async fn eight_bit_utf8_body_round_trips() {
    bounded(async {
        let server = TestServer::start_async().await;
        let body = "Grüße aus Köln — ✓ 日本語\r\nZweite Zeile: naïve café\r\n";
        // lettre's own choice for this mostly non-ASCII text would be base64;
        // ask for 8bit explicitly (it checks the body is valid for it).
        let eight_bit = lettre::message::Body::new_with_encoding(
            body.to_owned(),
            lettre::message::header::ContentTransferEncoding::EightBit,
        )
        .expect("8bit is valid for this body");
        let message = lettre::Message::builder()
            .from(mailbox("sender@a.test"))
            .to(mailbox("rcpt@b.test"))
            .subject("Umlaute")
            .body(eight_bit)
            .expect("valid message");
        let formatted = message.formatted();
        let text = String::from_utf8(formatted.clone()).expect("utf-8");
        assert!(
            text.contains("Content-Transfer-Encoding: 8bit"),
            "lettre did not pick 8bit: {text}"
        );
        send(&transport(&server), message)
            .await
            .expect("send succeeds");

        let messages = server.wait_for_messages_async(1).await;
        let m = &messages[0];
        assert_eq!(m.mail_params().body, Some(Body::EightBitMime));
        assert!(
            m.data().windows(body.len()).any(|w| w == body.as_bytes()),
            "8-bit body not byte-identical: {:?}",
            m.text()
        );
        // The whole message arrives exactly as lettre formatted it; lettre
        // always sends `\r\n.\r\n` after it, so one empty line follows.
        let mut expected = formatted;
        expected.extend_from_slice(b"\r\n");
        assert_eq!(m.data(), expected.as_slice());
        assert!(m.stats().eight_bit > 0);
    })
    .await;
}

#[tokio::test]
async fn fifty_recipients_keep_their_order() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut builder = lettre::Message::builder()
            .from(mailbox("sender@a.test"))
            .subject("Many");
        let expected: Vec<String> = (0..50).map(|i| format!("r{i:02}@b.test")).collect();
        for r in &expected {
            builder = builder.to(mailbox(r));
        }
        let message = builder.body("Hi all\r\n".to_owned()).expect("valid");
        send(&transport(&server), message)
            .await
            .expect("send succeeds");

        let messages = server.wait_for_messages_async(1).await;
        let got: Vec<String> = messages[0]
            .forward_paths()
            .map(|p| p.to_string().trim_matches(['<', '>']).to_owned())
            .collect();
        assert_eq!(got, expected);
    })
    .await;
}

#[tokio::test]
async fn five_messages_on_one_connection() {
    bounded(async {
        let policy = Arc::new(Counting::default());
        let server = TestServer::builder()
            .policy(policy.clone())
            .start_async()
            .await;
        let mut conn = tokio::time::timeout(
            WAIT,
            AsyncSmtpConnection::connect_tokio1(
                server.addr(),
                Some(Duration::from_secs(5)),
                &ClientId::Domain("client.test".to_owned()),
                None,
                None,
            ),
        )
        .await
        .expect("connect timed out")
        .expect("connect");
        for i in 0..5 {
            let message = simple(
                &format!("Message {i}"),
                "rcpt@b.test",
                "Same connection\r\n",
            );
            let envelope = message.envelope().clone();
            let reply = tokio::time::timeout(WAIT, conn.send(&envelope, &message.formatted()))
                .await
                .expect("send timed out")
                .expect("send succeeds");
            assert_eq!(reply.code().to_string(), "250");
        }
        let quit = tokio::time::timeout(WAIT, conn.quit())
            .await
            .expect("quit timed out")
            .expect("quit");
        assert_eq!(quit.code().to_string(), "221");

        let messages = server.wait_for_messages_async(5).await;
        assert_eq!(messages.len(), 5);
        let subjects: Vec<String> = messages
            .iter()
            .map(|m| m.header("Subject").unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            subjects,
            [
                "Message 0",
                "Message 1",
                "Message 2",
                "Message 3",
                "Message 4"
            ]
        );
        assert_eq!(policy.connections.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn transport_sends_five_messages_in_sequence() {
    bounded(async {
        let policy = Arc::new(Counting::default());
        let server = TestServer::builder()
            .policy(policy.clone())
            .start_async()
            .await;
        let transport = transport(&server);
        for i in 0..5 {
            send(&transport, simple(&format!("T{i}"), "rcpt@b.test", "x\r\n"))
                .await
                .expect("send succeeds");
        }
        let messages = server.wait_for_messages_async(5).await;
        assert_eq!(messages.len(), 5);
        // Without lettre's `pool` feature every send opens its own connection;
        // with it, fewer are used. Never more than one per message.
        let used = policy.connections.load(Ordering::SeqCst);
        assert!((1..=5).contains(&used), "{used} connections");
    })
    .await;
}

#[tokio::test]
async fn rejected_recipient_is_a_550_error_and_nothing_is_stored() {
    bounded(async {
        let server = TestServer::builder()
            .policy(Counting::default())
            .start_async()
            .await;
        let transport = transport(&server);
        let message = lettre::Message::builder()
            .from(mailbox("sender@a.test"))
            .to(mailbox("good@b.test"))
            .to(mailbox("bad@b.test"))
            .subject("Rejected")
            .body("x\r\n".to_owned())
            .expect("valid");
        let err = send(&transport, message)
            .await
            .expect_err("a rejected recipient fails the send");
        assert!(err.is_permanent(), "{err:?}");
        assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("550"));

        // A good message afterwards is the only one stored.
        send(&transport, simple("After", "good@b.test", "y\r\n"))
            .await
            .expect("send succeeds");
        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].header("Subject"), Some("After"));
    })
    .await;
}

async fn auth_roundtrip(mechanism: Mechanism) {
    let users = UserTable::new().with_user("alice", "s3cret");
    let server = TestServer::builder()
        .authenticator(users)
        .start_async()
        .await;
    let good = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr().port())
        .hello_name(ClientId::Domain("client.test".to_owned()))
        .timeout(Some(Duration::from_secs(5)))
        .credentials(Credentials::new("alice".to_owned(), "s3cret".to_owned()))
        .authentication(vec![mechanism])
        .build();
    send(&good, simple("Authed", "rcpt@b.test", "x\r\n"))
        .await
        .expect("authenticated send succeeds");
    let messages = server.wait_for_messages_async(1).await;
    let auth = messages[0].auth().expect("message carries the identity");
    assert_eq!(auth.username, "alice");

    let bad = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr().port())
        .hello_name(ClientId::Domain("client.test".to_owned()))
        .timeout(Some(Duration::from_secs(5)))
        .credentials(Credentials::new("alice".to_owned(), "wrong".to_owned()))
        .authentication(vec![mechanism])
        .build();
    let err = send(&bad, simple("Not authed", "rcpt@b.test", "x\r\n"))
        .await
        .expect_err("bad credentials fail");
    assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("535"));
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn auth_plain_with_lettre() {
    bounded(async {
        auth_roundtrip(Mechanism::Plain).await;
    })
    .await;
}

#[tokio::test]
async fn auth_login_with_lettre() {
    bounded(async {
        auth_roundtrip(Mechanism::Login).await;
    })
    .await;
}
