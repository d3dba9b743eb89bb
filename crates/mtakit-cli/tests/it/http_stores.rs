//! Where the API finds messages: the bounded memory store
//! (`--store-limit`, `--store-bytes`), a Maildir (`--maildir`), and nothing (`--discard`).

use crate::support::{Daemon, Smtp, TempDir, delete, files_in, get, send_one};

fn send(daemon: &Daemon, to: &[&str], subject: &str) -> String {
    let content = format!("Subject: {subject}\r\n\r\nbody of {subject}\r\n");
    send_one(daemon.addr, "a@example.com", to, &content);
    content
}

fn subjects(daemon: &Daemon) -> Vec<String> {
    let list = get(daemon.http(), "/api/messages").json();
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn store_limit_keeps_the_newest() {
    let daemon = Daemon::start(&["--quiet", "--store-limit", "3"]);
    for i in 1..=5 {
        send(&daemon, &["b@example.com"], &format!("number {i}"));
    }
    assert_eq!(subjects(&daemon), ["number 5", "number 4", "number 3"]);
    assert_eq!(get(daemon.http(), "/api/messages").json()["total"], 3);
}

#[test]
fn store_bytes_keeps_the_newest_within_the_budget() {
    // Each message is about 100 kB; 350,000 octets hold three of them.
    let daemon = Daemon::start(&["--quiet", "--store-bytes", "350000"]);
    let filler = "x".repeat(76);
    for i in 1..=6 {
        let mut content = format!("Subject: big {i}\r\n\r\n");
        for _ in 0..1300 {
            content.push_str(&filler);
            content.push_str("\r\n");
        }
        send_one(daemon.addr, "a@example.com", &["b@example.com"], &content);
    }
    assert_eq!(subjects(&daemon), ["big 6", "big 5", "big 4"]);
}

#[test]
fn default_store_keeps_printing_on_stdout() {
    let daemon = Daemon::start(&[]);
    send(&daemon, &["b@example.com"], "printed and kept");
    daemon.wait_stdout("Subject: printed and kept");
    assert_eq!(subjects(&daemon), ["printed and kept"]);
}

#[test]
fn maildir_messages_are_listed_and_served() {
    let dir = TempDir::new("apimaildir");
    let daemon = Daemon::start(&["--maildir", dir.0.to_str().unwrap()]);
    let http = daemon.http();
    let first = send(&daemon, &["b@example.com", "c@example.com"], "on disk");
    send(&daemon, &["d@example.com"], "second");
    assert_eq!(subjects(&daemon), ["second", "on disk"]);

    let list = get(http, "/api/messages").json();
    let summary = &list["messages"][1];
    assert_eq!(summary["from"], "a@example.com");
    assert_eq!(
        summary["to"],
        serde_json::json!(["b@example.com", "c@example.com"])
    );
    assert_eq!(summary["size"], first.len(), "without the trace lines");
    let id = summary["id"].as_str().unwrap().to_owned();
    let files = files_in(&dir.0.join("new"));
    assert!(
        files
            .iter()
            .any(|f| f.file_name().unwrap().to_str() == Some(id.as_str())),
        "the id is the file name: {id} {files:?}"
    );

    let raw = get(http, &format!("/api/messages/{id}/raw"));
    assert_eq!(raw.text(), first, "the bytes as received, no trace lines");
    let detail = get(http, &format!("/api/messages/{id}")).json();
    assert_eq!(
        detail["headers"][0],
        serde_json::json!(["Subject", "on disk"])
    );
    assert_eq!(
        detail["envelope"]["helo"], "client.example",
        "known from this run"
    );

    // A file moved to cur/ by a mail reader keeps its id.
    let path = files
        .iter()
        .find(|f| f.file_name().unwrap().to_str() == Some(id.as_str()))
        .unwrap();
    let seen = dir.0.join("cur").join(format!("{id}:2,S"));
    std::fs::rename(path, &seen).unwrap();
    assert_eq!(get(http, &format!("/api/messages/{id}")).status, 200);

    // A file from elsewhere, with the same trace lines.
    let foreign = dir.0.join("new").join("1.foreign.example");
    std::fs::write(
        &foreign,
        "Return-Path: <x@y.test>\r\nDelivered-To: <z@y.test>\r\nSubject: dropped in\r\n\r\nhi\r\n",
    )
    .unwrap();
    let list = get(http, "/api/messages?from=x@y").json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["messages"][0]["id"], "1.foreign.example");
    assert_eq!(list["messages"][0]["subject"], "dropped in");
    let detail = get(http, "/api/messages/1.foreign.example").json();
    assert_eq!(detail["envelope"]["peer"], "");
    assert_eq!(detail["envelope"]["to"], serde_json::json!(["z@y.test"]));

    assert_eq!(delete(http, &format!("/api/messages/{id}")).status, 204);
    assert!(!seen.exists(), "the file is gone");
    assert_eq!(get(http, "/api/messages").json()["total"], 2);
    assert_eq!(delete(http, "/api/messages").status, 204);
    assert!(files_in(&dir.0.join("new")).is_empty());
    assert!(files_in(&dir.0.join("cur")).is_empty());
}

#[test]
fn discard_keeps_nothing() {
    let daemon = Daemon::start(&["--discard"]);
    send(&daemon, &["b@example.com"], "dropped");
    assert_eq!(get(daemon.http(), "/api/messages").json()["total"], 0);
}

#[test]
fn store_limit_needs_the_memory_store() {
    let (status, stderr) =
        crate::support::run_to_exit(&["serve", "--discard", "--store-limit", "3"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    let (status, _) = crate::support::run_to_exit(&["serve", "--store-limit", "0"]);
    assert_eq!(status.code(), Some(2));
}

#[test]
fn findings_are_kept_with_the_message() {
    let daemon = Daemon::start(&["--quiet", "--line-endings", "record"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction(
        "a@example.com",
        &["b@example.com"],
        "Subject: sloppy\r\n\r\nbare\nline feed\r\n",
    );
    assert_eq!(reply.0, 250, "{reply:?}");
    let list = get(daemon.http(), "/api/messages").json();
    assert_eq!(list["messages"][0]["findings"], 1);
    let id = list["messages"][0]["id"].as_str().unwrap().to_owned();
    let detail = get(daemon.http(), &format!("/api/messages/{id}")).json();
    assert_eq!(
        detail["findings"],
        serde_json::json!(["1 bare LF in the content"])
    );
}
