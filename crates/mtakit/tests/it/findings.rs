//! Findings over TCP: early talkers, Record mode and `Message::assert_clean`.

use std::time::Duration;

use mtakit::proto::{ConnectionInfo, Finding, LineEndingPolicy};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use mtakit::{Limits, MemorySink, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_client_that_talks_before_the_greeting_is_recorded() {
    // In memory, so the bytes are surely there before the server starts.
    let sink = MemorySink::new();
    let server = Server::builder().sink(sink.clone()).build();
    let (mut client, server_side) = tokio::io::duplex(64 * 1024);
    client
        .write_all(b"EHLO early.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
        .await
        .unwrap();
    let info = ConnectionInfo::new(
        "192.0.2.1:1000".parse().unwrap(),
        "192.0.2.2:25".parse().unwrap(),
    );
    let task = tokio::spawn(server.serve_connection(server_side, info));
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("354 ") {
        let n = tokio::time::timeout(WAIT, client.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    // The early commands were still answered in order after the greeting.
    assert!(String::from_utf8_lossy(&seen).starts_with("220 "));
    client.write_all(b"x\r\n.\r\nQUIT\r\n").await.unwrap();
    tokio::time::timeout(WAIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let messages = sink.messages();
    assert_eq!(messages[0].findings(), [Finding::EarlyTalker]);
    let caught = std::panic::catch_unwind(|| messages[0].assert_clean());
    let text = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(text.contains("talked before the greeting"), "{text}");
}

#[tokio::test]
async fn a_polite_client_is_clean() {
    let server = TestServer::start_async().await;
    let mut c = TestClient::connect(server.addr()).await.unwrap();
    c.ehlo("polite.test").await.unwrap();
    c.mail_from("<a@a.test>").await.unwrap();
    c.rcpt_to("<b@b.test>").await.unwrap();
    c.data(b"Subject: hi\r\n\r\nok\r\n")
        .await
        .unwrap()
        .assert_code(250);
    server.wait_for_messages_async(1).await[0].assert_clean();
}

#[tokio::test]
async fn record_mode_accepts_and_lists_bare_line_feeds() {
    let limits = Limits {
        line_endings: LineEndingPolicy::Record,
        ..Limits::default()
    };
    let server = TestServer::builder().limits(limits).start_async().await;
    let mut c = TestClient::connect(server.addr()).await.unwrap();
    c.ehlo("sloppy.test").await.unwrap();
    c.mail_from("<a@a.test>").await.unwrap();
    c.rcpt_to("<b@b.test>").await.unwrap();
    c.command("DATA").await.unwrap().assert_code(354);
    c.send_raw(b"Subject: lf\n\nbody\n\r\n.\r\n").await.unwrap();
    c.read_reply().await.unwrap().assert_code(250);
    let m = server.wait_for_messages_async(1).await;
    assert_eq!(m[0].findings(), [Finding::BareLf { count: 3 }]);
    assert_eq!(m[0].data(), b"Subject: lf\n\nbody\n\r\n");
}
