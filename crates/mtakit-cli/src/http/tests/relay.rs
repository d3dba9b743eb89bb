//! `--relay`: every accepted message is forwarded to another server, and
//! `POST /api/messages/{id}/release` sends a stored one again. The "real
//! server" here is a second in-process dev server.

use axum::http::Method;
use serde_json::json;

use super::harness::{Dev, Response};

/// Waits until `dev` holds `count` messages; returns them, newest first.
pub(super) async fn wait_for(dev: &Dev, count: usize) -> Vec<serde_json::Value> {
    let waited = dev
        .get(&format!("/api/wait?count={count}&timeout_ms=10000"))
        .await;
    assert_eq!(waited.status, 200, "{}", waited.text());
    let list = dev.list("").await;
    list["messages"].as_array().unwrap().clone()
}

async fn raw(dev: &Dev, id: &serde_json::Value) -> Vec<u8> {
    let path = format!("/api/messages/{}/raw", id.as_str().unwrap());
    let raw = dev.get(&path).await;
    assert_eq!(raw.status, 200);
    raw.body.to_vec()
}

/// `POST /api/messages/{id}/release` with `body`.
pub(super) async fn release(dev: &Dev, id: &str, body: &str) -> Response {
    let path = format!("/api/messages/{id}/release");
    dev.json(Method::POST, &path, body).await
}

/// A dev server relaying to `to`.
async fn relaying(to: impl std::fmt::Display) -> Dev {
    Dev::start(&["--quiet", "--relay", &format!("smtp://{to}")]).await
}

/// A loopback port that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The content as sent and stored, and as the relay must receive it
/// (the client dot-stuffs it on the wire).
const STORED: &[u8] = b"Subject: relayed\r\n\r\nfirst\r\n.leading dot\r\n..two dots\r\nlast\r\n";

async fn send(dev: &Dev, to: &[&str]) {
    let content = std::str::from_utf8(STORED).unwrap();
    dev.deliver("alice@example.com", to, content).await;
}

#[tokio::test]
async fn every_accepted_message_is_forwarded_byte_exact() {
    let target = Dev::start(&["--quiet"]).await;
    let source = relaying(target.smtp).await;
    send(&source, &["bob@example.com", "carol@example.org"]).await;
    let here = wait_for(&source, 1).await;
    let there = wait_for(&target, 1).await;
    assert_eq!(there[0]["from"], "alice@example.com");
    assert_eq!(
        there[0]["to"],
        json!(["bob@example.com", "carol@example.org"])
    );
    assert_eq!(raw(&target, &there[0]["id"]).await, STORED);
    assert_eq!(raw(&source, &here[0]["id"]).await, STORED);
    let relay = source.get("/api/relay").await.json();
    assert_eq!(relay["relay"], json!(format!("smtp://{}", target.smtp)));
}

#[tokio::test]
async fn release_sends_a_stored_message_again_to_other_recipients() {
    let target = Dev::start(&["--quiet"]).await;
    let source = relaying(target.smtp).await;
    send(&source, &["bob@example.com"]).await;
    let id = wait_for(&source, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for(&target, 1).await;

    let released = release(&source, &id, r#"{"to": ["dave@example.net"]}"#).await;
    assert_eq!(released.status, 200, "{}", released.text());
    let json = released.json();
    assert_eq!(json["to"], json!(["dave@example.net"]));
    assert!(json["reply"].as_str().unwrap().starts_with("250"), "{json}");

    let there = wait_for(&target, 2).await;
    assert_eq!(there[0]["to"], json!(["dave@example.net"]));
    assert_eq!(raw(&target, &there[0]["id"]).await, STORED);

    // An empty body object releases to the message's own recipients.
    let again = release(&source, &id, "{}").await;
    assert_eq!(again.status, 200, "{}", again.text());
    let there = wait_for(&target, 3).await;
    assert_eq!(there[0]["to"], json!(["bob@example.com"]));
}

#[tokio::test]
async fn release_errors_are_json_4xx_or_502() {
    let plain = Dev::start(&["--quiet"]).await;
    send(&plain, &["bob@example.com"]).await;
    let id = wait_for(&plain, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = release(&plain, &id, "{}").await.error(409);
    assert!(refused.contains("--relay"), "{refused}");
    let relay = plain.get("/api/relay").await.json();
    assert_eq!(relay["relay"], serde_json::Value::Null);

    let port = closed_port();
    let down = relaying(format!("127.0.0.1:{port}")).await;
    send(&down, &["bob@example.com"]).await;
    // The client got its 250 and the message is kept, relay or not.
    let id = wait_for(&down, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unreachable = release(&down, &id, "{}").await.error(502);
    assert!(unreachable.contains(&port.to_string()), "{unreachable}");
    let unknown = release(&down, "no-such-id", "{}").await.error(404);
    assert!(unknown.contains("no-such-id"), "{unknown}");
    let bad = release(&down, &id, r#"{"to": ["not an address"]}"#).await;
    assert!(bad.error(400).contains("not a mailbox"));
    assert_eq!(release(&down, &id, r#"{"to": 1}"#).await.status, 400);
    let unknown_field = release(&down, &id, r#"{"cc": []}"#).await;
    assert_eq!(unknown_field.status, 400);
}

#[tokio::test]
async fn a_refusing_relay_is_reported_with_its_reply() {
    // The target refuses every recipient through a fault rule.
    let target = Dev::start(&["--quiet"]).await;
    target
        .put_faults(r#"{"rules": [{"stage": "rcpt", "reply": "550 5.1.1 No such user"}]}"#)
        .await;
    let source = relaying(target.smtp).await;
    send(&source, &["bob@example.com"]).await;
    let id = wait_for(&source, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = release(&source, &id, "{}").await.error(502);
    assert!(
        refused.contains("550") && refused.contains("No such user"),
        "{refused}"
    );
}
