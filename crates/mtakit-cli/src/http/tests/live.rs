//! Waiting without polling: `/api/wait` woken by a message delivered over
//! SMTP, its timeout (paused time), the SSE stream, session transcripts
//! and the `--events` file.

use std::time::Duration;

use serde_json::json;

use super::harness::{Dev, TempDir, WAIT, message, until_waiting};

/// Sends a message with this subject to `to`, over SMTP.
async fn send(dev: &Dev, to: &str, subject: &str) {
    let content = format!("Subject: {subject}\r\n\r\nbody\r\n");
    dev.deliver("a@example.com", &[to], &content).await;
}

#[tokio::test]
async fn wait_answers_as_soon_as_enough_messages_match() {
    let dev = std::sync::Arc::new(Dev::start(&["--quiet"]).await);
    let waiting = {
        let dev = dev.clone();
        tokio::spawn(async move { dev.get("/api/wait?count=1&timeout_ms=20000&to=bob").await })
    };
    until_waiting(&dev.app.store, 1).await;
    // Live delivery: the waiter is woken by the second message of one
    // SMTP session, not by the first.
    let mut smtp = dev.client().await;
    for (to, subject) in [("x@example.com", "first"), ("bob@example.com", "second")] {
        let content = format!("Subject: {subject}\r\n\r\nbody\r\n");
        let reply = smtp
            .transaction("a@example.com", &[to], content.as_bytes())
            .await;
        assert_eq!(reply.code().get(), 250);
    }
    assert_eq!(smtp.code("QUIT").await, 221);
    let found = tokio::time::timeout(WAIT, waiting)
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(found.status, 200, "{}", found.text());
    let found = found.json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["messages"][0]["subject"], "second");

    // Enough already there: at once.
    let now = dev.get("/api/wait?count=2&timeout_ms=20000").await;
    assert_eq!(now.status, 200);
    assert_eq!(now.json()["total"], 2);
}

#[tokio::test(start_paused = true)]
async fn wait_times_out_with_408() {
    let dev = Dev::start(&["--quiet"]).await;
    let only = b"Subject: only one\r\n\r\nbody\r\n".to_vec();
    dev.app.store.keep(message("m1", only));
    let started = tokio::time::Instant::now();
    let late = dev.get("/api/wait?count=2&timeout_ms=400").await;
    let took = started.elapsed();
    assert_eq!(late.error(408), "timeout");
    assert_eq!(late.json()["total"], 1);
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_millis(500), "{took:?}");
    let filtered = dev.get("/api/wait?timeout_ms=100&subject=nothing").await;
    assert_eq!(filtered.json()["total"], 0);
    assert_eq!(filtered.status, 408);
    // Without timeout_ms, and above the cap: five minutes.
    let started = tokio::time::Instant::now();
    let capped = dev.get("/api/wait?count=2&timeout_ms=999999999").await;
    assert_eq!(capped.status, 408);
    assert_eq!(started.elapsed(), Duration::from_secs(300));
}

#[tokio::test]
async fn sse_streams_messages_sessions_and_deletes() {
    let dev = Dev::start(&["--quiet"]).await;
    let mut events = dev.events().await;
    send(&dev, "bob@example.com", "live one").await;

    let message = events.next("message").await;
    assert_eq!(message["subject"], "live one");
    assert_eq!(message["to"], json!(["bob@example.com"]));
    let id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(dev.get(&format!("/api/messages/{id}")).await.status, 200);

    let session = events.next("session").await;
    assert_eq!(session["messages"], 1);
    assert_eq!(
        session["commands"], 5,
        "EHLO MAIL RCPT DATA QUIT: {session}"
    );
    assert_eq!(session["end"], "closed");
    assert!(session["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(session["peer"].as_str().unwrap().starts_with("127.0.0.1:"));

    let one = dev.delete(&format!("/api/messages/{id}")).await;
    assert_eq!(one.status, 204);
    let deleted = events.next("deleted").await;
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(dev.delete("/api/messages").await.status, 204);
    let all = events.next("deleted").await;
    assert_eq!(all["id"], serde_json::Value::Null);
}

#[tokio::test]
async fn sessions_hold_the_transcript() {
    let dev = Dev::start(&["--quiet"]).await;
    let mut events = dev.events().await;
    send(&dev, "bob@example.com", "transcribed").await;
    events.next("session").await;
    let sessions = dev.get("/api/sessions").await.json();
    let summary = &sessions["sessions"][0];
    assert_eq!(summary["messages"], 1);
    assert_eq!(summary["omitted"], 0);
    assert!(summary.get("entries").is_none(), "the list has summaries");
    let id = summary["id"].as_u64().unwrap();
    let session = dev.get(&format!("/api/sessions/{id}")).await.json();
    assert_eq!(session["id"], id);
    assert_eq!(session["tls"], serde_json::Value::Null);
    let entries = session["entries"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "reply", "the greeting");
    assert_eq!(*kinds.last().unwrap(), "end");
    assert!(kinds.contains(&"message"), "{kinds:?}");
    let texts: Vec<&str> = entries
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"MAIL FROM:<a@example.com>"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("250 2.1.5")),
        "{texts:?}"
    );
    let times: Vec<f64> = entries
        .iter()
        .map(|e| e["at_ms"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[tokio::test]
async fn events_file_gets_one_line_per_message_and_session() {
    let dir = TempDir::new("events");
    let file = dir.path("events.jsonl");
    let dev = Dev::start(&["--quiet", "--events", &file]).await;
    let mut events = dev.events().await;
    send(&dev, "bob@example.com", "logged").await;
    events.next("session").await;
    // The hub thread writes the line right after it broadcasts the event.
    let deadline = tokio::time::Instant::now() + WAIT;
    let lines = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.lines().count() >= 2 || tokio::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let lines: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["type"], "message");
    assert_eq!(lines[0]["subject"], "logged");
    assert_eq!(lines[0]["from"], "a@example.com");
    assert_eq!(lines[1]["type"], "session");
    assert_eq!(lines[1]["messages"], 1);
}
