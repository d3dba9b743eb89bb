//! Where the API finds messages: the bounded memory store
//! (`--store-limit`, `--store-bytes`), a Maildir (`--maildir`), and
//! nothing (`--discard`); the trace header on request (`?view=delivered`).

use serde_json::json;

use super::harness::{Dev, TempDir};

/// Sends a message with this subject to `to`; returns its content.
async fn send(dev: &Dev, to: &[&str], subject: &str) -> String {
    let content = format!("Subject: {subject}\r\n\r\nbody of {subject}\r\n");
    dev.deliver("a@example.com", to, &content).await;
    content
}

async fn subjects(dev: &Dev) -> Vec<String> {
    let list = dev.list("").await;
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn store_limit_keeps_the_newest() {
    let dev = Dev::start(&["--quiet", "--store-limit", "3"]).await;
    for i in 1..=5 {
        send(&dev, &["b@example.com"], &format!("number {i}")).await;
    }
    assert_eq!(subjects(&dev).await, ["number 5", "number 4", "number 3"]);
    assert_eq!(dev.list("").await["total"], 3);
}

#[tokio::test]
async fn store_bytes_keeps_the_newest_within_the_budget() {
    // Each message is about 100 kB; 350,000 octets hold three of them.
    let dev = Dev::start(&["--quiet", "--store-bytes", "350000"]).await;
    let filler = "x".repeat(76);
    for i in 1..=6 {
        let mut content = format!("Subject: big {i}\r\n\r\n");
        for _ in 0..1300 {
            content.push_str(&filler);
            content.push_str("\r\n");
        }
        dev.deliver("a@example.com", &["b@example.com"], &content)
            .await;
    }
    assert_eq!(subjects(&dev).await, ["big 6", "big 5", "big 4"]);
}

/// Without store flags (and without `--quiet`, so messages are printed
/// too, which the process test `prints_each_message_on_stdout` sees),
/// the memory store keeps them.
#[tokio::test]
async fn the_default_store_keeps_messages() {
    let dev = Dev::start(&[]).await;
    send(&dev, &["b@example.com"], "printed and kept").await;
    assert_eq!(subjects(&dev).await, ["printed and kept"]);
}

#[tokio::test]
async fn maildir_messages_are_listed_and_served() {
    let dir = TempDir::new("apimaildir");
    let maildir = dir.path("mail");
    let root = dir.0.join("mail");
    let dev = Dev::start(&["--maildir", &maildir]).await;
    let first = send(&dev, &["b@example.com", "c@example.com"], "on disk").await;
    send(&dev, &["d@example.com"], "second").await;
    assert_eq!(subjects(&dev).await, ["second", "on disk"]);

    let list = dev.list("").await;
    let summary = &list["messages"][1];
    assert_eq!(summary["from"], "a@example.com");
    assert_eq!(summary["to"], json!(["b@example.com", "c@example.com"]));
    assert_eq!(summary["size"], first.len(), "without the trace lines");
    let id = summary["id"].as_str().unwrap().to_owned();
    let files = files_in(&root.join("new"));
    let path = files
        .iter()
        .find(|f| f.file_name().unwrap().to_str() == Some(id.as_str()))
        .unwrap_or_else(|| panic!("the id is the file name: {id} {files:?}"));

    let raw = dev.get(&format!("/api/messages/{id}/raw")).await;
    assert_eq!(raw.text(), first, "the bytes as received, no trace lines");
    let detail = dev.get(&format!("/api/messages/{id}")).await.json();
    assert_eq!(detail["headers"][0], json!(["Subject", "on disk"]));
    assert_eq!(
        detail["envelope"]["helo"], "client.example",
        "known from this run"
    );

    // A file moved to cur/ by a mail reader keeps its id.
    let seen = root.join("cur").join(format!("{id}:2,S"));
    std::fs::rename(path, &seen).unwrap();
    assert_eq!(dev.get(&format!("/api/messages/{id}")).await.status, 200);

    // A file from elsewhere, with the same trace lines.
    let foreign = root.join("new").join("1.foreign.example");
    std::fs::write(
        &foreign,
        "Return-Path: <x@y.test>\r\nDelivered-To: <z@y.test>\r\nSubject: dropped in\r\n\r\nhi\r\n",
    )
    .unwrap();
    let list = dev.list("?from=x@y").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["messages"][0]["id"], "1.foreign.example");
    assert_eq!(list["messages"][0]["subject"], "dropped in");
    let detail = dev.get("/api/messages/1.foreign.example").await.json();
    assert_eq!(detail["envelope"]["peer"], "");
    assert_eq!(detail["envelope"]["to"], json!(["z@y.test"]));

    let one = dev.delete(&format!("/api/messages/{id}")).await;
    assert_eq!(one.status, 204);
    assert!(!seen.exists(), "the file is gone");
    assert_eq!(dev.list("").await["total"], 2);
    assert_eq!(dev.delete("/api/messages").await.status, 204);
    assert!(files_in(&root.join("new")).is_empty());
    assert!(files_in(&root.join("cur")).is_empty());
}

fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect()
}

#[tokio::test]
async fn discard_keeps_nothing() {
    let dev = Dev::start(&["--discard"]).await;
    send(&dev, &["b@example.com"], "dropped").await;
    assert_eq!(dev.list("").await["total"], 0);
}

#[tokio::test]
async fn findings_are_kept_with_the_message() {
    let dev = Dev::start(&["--quiet", "--line-endings", "record"]).await;
    let mut smtp = dev.client().await;
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(smtp.code("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(smtp.code("DATA").await, 354);
    smtp.0
        .send_raw(b"Subject: sloppy\r\n\r\nbare\nline feed\r\n")
        .await
        .unwrap();
    assert_eq!(smtp.code(".").await, 250);
    let list = dev.list("").await;
    assert_eq!(list["messages"][0]["findings"], 1);
    let id = list["messages"][0]["id"].as_str().unwrap().to_owned();
    let detail = dev.get(&format!("/api/messages/{id}")).await.json();
    assert_eq!(detail["findings"], json!(["1 bare LF in the content"]));
}

const TRACED: &str = "Subject: traced\r\n\r\nhello\r\n";

/// Sends [`TRACED`] and checks `/raw` and `/raw?view=delivered`.
async fn check_trace(dev: &Dev, maildir: bool) {
    dev.deliver("a@example.com", &["b@example.com"], TRACED)
        .await;
    let id = dev.ids("").await.remove(0);
    let raw = dev.get(&format!("/api/messages/{id}/raw")).await;
    assert_eq!(raw.text(), TRACED, "exactly as received");
    let path = format!("/api/messages/{id}/raw?view=delivered");
    let delivered = dev.get(&path).await.text();
    assert!(delivered.ends_with(TRACED), "{delivered}");
    let received =
        "Received: from client.example ([127.0.0.1])\r\n\tby mx.test (mtakit) with ESMTP id ";
    let at = delivered.find(received).expect(&delivered) + received.len();
    let trace_id = delivered[at..].split([';', '\r']).next().unwrap();
    // The API id is the message id (plus the host, for a Maildir file).
    assert!(
        id.starts_with(trace_id) && !trace_id.is_empty(),
        "{id} {trace_id}"
    );
    assert!(delivered.contains("\tfor <b@example.com>; "), "{delivered}");
    assert_eq!(
        delivered.starts_with("Return-Path: <a@example.com>\r\n"),
        maildir
    );
    let bad = dev.get(&format!("/api/messages/{id}/raw?view=nope")).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn the_memory_store_shows_the_trace_header_on_request() {
    let dev = Dev::start(&["--quiet", "--hostname", "mx.test"]).await;
    check_trace(&dev, false).await;
}

#[tokio::test]
async fn the_maildir_file_has_the_trace_header() {
    let dir = TempDir::new("trace");
    let maildir = dir.path("mail");
    let dev = Dev::start(&["--hostname", "mx.test", "--maildir", &maildir]).await;
    check_trace(&dev, true).await;
}
