//! `mtakit serve --relay`: every accepted message is forwarded to another
//! server, and `POST /api/messages/{id}/release` sends a stored one again.
//! The "real server" here is a second `mtakit serve`.

use std::net::{SocketAddr, TcpListener};

use crate::support::{Daemon, get, request, run_to_exit, send_one};

/// Sends one message over SMTP and checks the 250.
fn send(daemon: &Daemon, from: &str, to: &[&str], content: &str) {
    send_one(daemon.addr, from, to, content);
}

/// Waits until `daemon` holds `count` messages; returns them, newest first.
fn wait_for(daemon: &Daemon, count: usize) -> Vec<serde_json::Value> {
    let waited = get(
        daemon.http(),
        &format!("/api/wait?count={count}&timeout_ms=10000"),
    );
    assert_eq!(waited.status, 200, "{}", waited.text());
    let list = get(daemon.http(), "/api/messages").json();
    list["messages"].as_array().unwrap().clone()
}

fn raw(daemon: &Daemon, id: &serde_json::Value) -> Vec<u8> {
    let raw = get(
        daemon.http(),
        &format!("/api/messages/{}/raw", id.as_str().unwrap()),
    );
    assert_eq!(raw.status, 200);
    raw.body
}

fn release(http: SocketAddr, id: &str, body: &str) -> crate::support::Response {
    request(
        http,
        "POST",
        &format!("/api/messages/{id}/release"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// A loopback port that nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The content as sent on the wire (dot-stuffed; the helper sends it as is).
const CONTENT: &str = "Subject: relayed\r\n\r\nfirst\r\n..leading dot\r\n...two dots\r\nlast\r\n";
/// The same content as stored, and as the relay must receive it.
const STORED: &[u8] = b"Subject: relayed\r\n\r\nfirst\r\n.leading dot\r\n..two dots\r\nlast\r\n";

#[test]
fn every_accepted_message_is_forwarded_byte_exact() {
    let target = Daemon::start(&["--quiet"]);
    let relay = format!("smtp://{}", target.addr);
    let source = Daemon::start(&["--quiet", "--relay", &relay]);

    send(
        &source,
        "alice@example.com",
        &["bob@example.com", "carol@example.org"],
        CONTENT,
    );
    let here = wait_for(&source, 1);
    let there = wait_for(&target, 1);
    assert_eq!(there[0]["from"], "alice@example.com");
    assert_eq!(
        there[0]["to"],
        serde_json::json!(["bob@example.com", "carol@example.org"])
    );
    assert_eq!(raw(&target, &there[0]["id"]), STORED);
    assert_eq!(raw(&source, &here[0]["id"]), STORED);
    source.wait_stderr("message relayed");
    assert_eq!(
        get(source.http(), "/api/relay").json()["relay"],
        serde_json::json!(relay)
    );
}

#[test]
fn release_sends_a_stored_message_again_to_other_recipients() {
    let target = Daemon::start(&["--quiet"]);
    let source = Daemon::start(&["--quiet", "--relay", &format!("smtp://{}", target.addr)]);
    send(&source, "alice@example.com", &["bob@example.com"], CONTENT);
    let id = wait_for(&source, 1)[0]["id"].as_str().unwrap().to_owned();
    wait_for(&target, 1);

    let released = release(source.http(), &id, r#"{"to": ["dave@example.net"]}"#);
    assert_eq!(released.status, 200, "{}", released.text());
    let json = released.json();
    assert_eq!(json["to"], serde_json::json!(["dave@example.net"]));
    assert!(json["reply"].as_str().unwrap().starts_with("250"), "{json}");

    let there = wait_for(&target, 2);
    assert_eq!(there[0]["to"], serde_json::json!(["dave@example.net"]));
    assert_eq!(raw(&target, &there[0]["id"]), STORED);

    // An empty body object releases to the message's own recipients.
    let again = release(source.http(), &id, "{}");
    assert_eq!(again.status, 200, "{}", again.text());
    let there = wait_for(&target, 3);
    assert_eq!(there[0]["to"], serde_json::json!(["bob@example.com"]));
}

#[test]
fn release_errors_are_json_4xx_or_502() {
    let plain = Daemon::start(&["--quiet"]);
    send(&plain, "alice@example.com", &["bob@example.com"], CONTENT);
    let id = wait_for(&plain, 1)[0]["id"].as_str().unwrap().to_owned();
    assert!(
        release(plain.http(), &id, "{}")
            .error(409)
            .contains("--relay")
    );
    assert_eq!(
        get(plain.http(), "/api/relay").json()["relay"],
        serde_json::Value::Null
    );

    let port = closed_port();
    let down = Daemon::start(&["--quiet", "--relay", &format!("smtp://127.0.0.1:{port}")]);
    send(&down, "alice@example.com", &["bob@example.com"], CONTENT);
    // The client got its 250 and the message is kept, relay or not.
    let id = wait_for(&down, 1)[0]["id"].as_str().unwrap().to_owned();
    down.wait_stderr("message not relayed");
    assert!(
        release(down.http(), &id, "{}")
            .error(502)
            .contains(&port.to_string())
    );
    assert!(
        release(down.http(), "no-such-id", "{}")
            .error(404)
            .contains("no-such-id")
    );
    assert!(
        release(down.http(), &id, r#"{"to": ["not an address"]}"#)
            .error(400)
            .contains("not a mailbox")
    );
    assert_eq!(release(down.http(), &id, r#"{"to": 1}"#).status, 400);
}

#[test]
fn a_refusing_relay_is_reported_with_its_reply() {
    // The target refuses every recipient through a fault rule.
    let target = Daemon::start(&["--quiet"]);
    let rules = r#"{"rules": [{"stage": "rcpt", "reply": "550 5.1.1 No such user"}]}"#;
    let put = crate::support::put_json(target.http(), "/api/faults", rules);
    assert_eq!(put.status, 200, "{}", put.text());
    let source = Daemon::start(&["--quiet", "--relay", &format!("smtp://{}", target.addr)]);
    send(&source, "alice@example.com", &["bob@example.com"], CONTENT);
    let id = wait_for(&source, 1)[0]["id"].as_str().unwrap().to_owned();
    let refused = release(source.http(), &id, "{}").error(502);
    assert!(
        refused.contains("550") && refused.contains("No such user"),
        "{refused}"
    );
}

#[test]
fn bad_relay_urls_are_refused_at_start() {
    for url in ["mail.example.com", "smtps://h:465", "smtp://h:0"] {
        let (status, stderr) = run_to_exit(&["serve", "--relay", url]);
        assert!(!status.success(), "{url}");
        assert!(
            stderr.contains("smtp://HOST") || stderr.contains("bad port"),
            "{url}: {stderr}"
        );
    }
    let (status, stderr) = run_to_exit(&["serve", "--discard", "--relay", "smtp://127.0.0.1"]);
    assert!(!status.success());
    assert!(stderr.contains("--discard"), "{stderr}");
}
