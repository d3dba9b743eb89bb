//! Waiting without polling: `/api/wait`, the SSE stream, session
//! transcripts, `--events` lines, `--port-file` and `--no-http`.

use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Daemon, Smtp, Sse, TempDir, WAIT, get, send_one};

fn send(daemon: &Daemon, to: &str, subject: &str) {
    let content = format!("Subject: {subject}\r\n\r\nbody\r\n");
    send_one(daemon.addr, "a@example.com", &[to], &content);
}

#[test]
fn wait_answers_as_soon_as_enough_messages_match() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    let sender = {
        let daemon_addr = daemon.addr;
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            let mut smtp = Smtp::connect(daemon_addr);
            assert_eq!(smtp.cmd("HELO c").0, 250);
            for (to, subject) in [("x@example.com", "first"), ("bob@example.com", "second")] {
                let content = format!("Subject: {subject}\r\n\r\nbody\r\n");
                assert_eq!(smtp.transaction("a@example.com", &[to], &content).0, 250);
            }
            assert_eq!(smtp.cmd("QUIT").0, 221);
        })
    };
    let started = Instant::now();
    let found = get(http, "/api/wait?count=1&timeout_ms=20000&to=bob");
    let took = started.elapsed();
    sender.join().unwrap();
    assert_eq!(found.status, 200, "{}", found.text());
    let json = found.json();
    assert_eq!(json["total"], 1);
    assert_eq!(json["messages"][0]["subject"], "second");
    assert!(took < Duration::from_secs(10), "answered early: {took:?}");

    // Enough already there: at once.
    let now = get(http, "/api/wait?count=2&timeout_ms=20000");
    assert_eq!(now.status, 200);
    assert_eq!(now.json()["total"], 2);
}

#[test]
fn wait_times_out_with_408() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    send(&daemon, "bob@example.com", "only one");
    let started = Instant::now();
    let late = get(http, "/api/wait?count=2&timeout_ms=400");
    let took = started.elapsed();
    assert_eq!(late.error(408), "timeout");
    assert_eq!(late.json()["total"], 1);
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let filtered = get(http, "/api/wait?timeout_ms=100&subject=nothing");
    assert_eq!(filtered.json()["total"], 0);
    assert_eq!(filtered.status, 408);
}

#[test]
fn sse_streams_messages_sessions_and_deletes() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    let mut events = Sse::open(http);
    send(&daemon, "bob@example.com", "live one");

    let message = events.next("message", WAIT).expect("a message event");
    assert_eq!(message["subject"], "live one");
    assert_eq!(message["to"], serde_json::json!(["bob@example.com"]));
    let id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(get(http, &format!("/api/messages/{id}")).status, 200);

    let session = events.next("session", WAIT).expect("a session event");
    assert_eq!(session["messages"], 1);
    assert_eq!(
        session["commands"], 5,
        "EHLO MAIL RCPT DATA QUIT: {session}"
    );
    assert_eq!(session["end"], "closed");
    assert!(session["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(session["peer"].as_str().unwrap().starts_with("127.0.0.1:"));

    assert_eq!(
        crate::support::delete(http, &format!("/api/messages/{id}")).status,
        204
    );
    let deleted = events.next("deleted", WAIT).expect("a deleted event");
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(crate::support::delete(http, "/api/messages").status, 204);
    let all = events.next("deleted", WAIT).expect("a deleted event");
    assert_eq!(all["id"], serde_json::Value::Null);
}

#[test]
fn sessions_hold_the_transcript() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    let mut events = Sse::open(http);
    send(&daemon, "bob@example.com", "transcribed");
    events.next("session", WAIT).expect("the session ended");
    let sessions = get(http, "/api/sessions").json();
    let summary = &sessions["sessions"][0];
    assert_eq!(summary["messages"], 1);
    assert_eq!(summary["omitted"], 0);
    assert!(summary.get("entries").is_none(), "the list has summaries");
    let id = summary["id"].as_u64().unwrap();
    let session = get(http, &format!("/api/sessions/{id}")).json();
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
    assert!(texts.contains(&"250 2.1.5 OK") || texts.iter().any(|t| t.starts_with("250 2.1.5")));
    let times: Vec<f64> = entries
        .iter()
        .map(|e| e["at_ms"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn events_file_gets_one_line_per_message_and_session() {
    let dir = TempDir::new("events");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("events.jsonl");
    let daemon = Daemon::start(&["--quiet", "--events", file.to_str().unwrap()]);
    send(&daemon, "bob@example.com", "logged");
    let deadline = Instant::now() + WAIT;
    let lines = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        if lines.len() >= 2 || Instant::now() > deadline {
            break lines;
        }
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["type"], "message");
    assert_eq!(lines[0]["subject"], "logged");
    assert_eq!(lines[0]["from"], "a@example.com");
    assert_eq!(lines[1]["type"], "session");
    assert_eq!(lines[1]["messages"], 1);
}

#[test]
fn events_to_stdout_replace_the_printed_messages() {
    let daemon = Daemon::start(&["--events", "-"]);
    send(&daemon, "bob@example.com", "on stdout");
    let out = daemon.wait_stdout("\"type\":\"session\"");
    assert!(!out.contains("MESSAGE FOLLOWS"), "{out}");
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "message");
}

#[test]
fn port_file_names_every_port() {
    let dir = TempDir::new("ports");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("ports.json");
    let daemon = Daemon::start(&["--quiet", "--port-file", file.to_str().unwrap()]);
    let ports: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
        .expect("the port file is JSON");
    assert_eq!(ports["smtp"], daemon.addr.port());
    assert_eq!(ports["http"], daemon.http().port());
    assert_eq!(ports["implicit_tls"], serde_json::Value::Null);
    assert_eq!(
        std::fs::read_dir(&dir.0).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn no_http_serves_no_api() {
    let dir = TempDir::new("nohttp");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("ports.json");
    let daemon = Daemon::start(&["--no-http", "--port-file", file.to_str().unwrap()]);
    let ports: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(ports["http"], serde_json::Value::Null);
    assert_eq!(ports["smtp"], daemon.addr.port());
    assert!(!daemon.stderr().contains("http://"), "{}", daemon.stderr());
    // SMTP still works, and messages are still printed.
    send(&daemon, "bob@example.com", "printed");
    daemon.wait_stdout("Subject: printed");
}
