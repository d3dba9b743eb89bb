//! The `Received:` trace header added on delivery (RFC 5321 §4.4), in the
//! memory store and in a Maildir, while `/raw` still gives the bytes
//! exactly as received.

use crate::support::{Daemon, Smtp, TempDir, get};

const CONTENT: &str = "Subject: traced\r\n\r\nhello\r\n";

fn send(daemon: &Daemon, to: &[&str]) -> String {
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    assert_eq!(smtp.transaction("a@example.com", to, CONTENT).0, 250);
    assert_eq!(smtp.cmd("QUIT").0, 221);
    let list = get(daemon.http(), "/api/messages").json();
    list["messages"][0]["id"].as_str().unwrap().to_owned()
}

fn check(daemon: &Daemon, id: &str, maildir: bool) {
    let raw = get(daemon.http(), &format!("/api/messages/{id}/raw"));
    assert_eq!(raw.text(), CONTENT, "exactly as received");
    let delivered = get(
        daemon.http(),
        &format!("/api/messages/{id}/raw?view=delivered"),
    )
    .text();
    assert!(delivered.ends_with(CONTENT), "{delivered}");
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
    let bad = get(daemon.http(), &format!("/api/messages/{id}/raw?view=nope"));
    assert_eq!(bad.status, 400);
}

#[test]
fn the_memory_store_shows_the_trace_header_on_request() {
    let daemon = Daemon::start(&["--quiet", "--hostname", "mx.test"]);
    let id = send(&daemon, &["b@example.com"]);
    check(&daemon, &id, false);
}

#[test]
fn the_maildir_file_has_the_trace_header() {
    let dir = TempDir::new("trace");
    let daemon = Daemon::start(&[
        "--hostname",
        "mx.test",
        "--maildir",
        dir.0.to_str().unwrap(),
    ]);
    let id = send(&daemon, &["b@example.com"]);
    check(&daemon, &id, true);
}
