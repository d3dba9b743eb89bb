//! Fault rules set over `PUT /api/faults` and from `--faults FILE`, as an
//! SMTP client of the in-process server sees them: once, `after`,
//! `times`, delays and disconnects.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::harness::{Dev, Smtp, TempDir, WAIT};

#[tokio::test]
async fn a_rule_fires_once_then_the_server_accepts() {
    let dev = Dev::start(&["--quiet"]).await;
    let shown = dev
        .put_faults(r#"{"rules": [{"stage": "rcpt", "match": "^<bob@", "reply": "550 5.1.1 No such user", "times": 1}]}"#)
        .await;
    assert_eq!(shown["rules"][0]["stage"], "rcpt");
    assert_eq!(shown["rules"][0]["reply"], "550 5.1.1 No such user");

    let mut smtp = dev.client().await;
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 250);
    let carol = smtp.code("RCPT TO:<carol@example.com>").await;
    assert_eq!(carol, 250, "no match");
    let refused = smtp.cmd("RCPT TO:<bob@example.com>").await;
    assert_eq!(refused.code().get(), 550);
    assert_eq!(refused.enhanced().unwrap().to_string(), "5.1.1");
    assert_eq!(refused.text(), "No such user");
    let bob = smtp.code("RCPT TO:<bob@example.com>").await;
    assert_eq!(bob, 250, "only once");

    let rules = dev.get("/api/faults").await.json();
    assert_eq!(rules["rules"][0]["fired"], 1);
    assert_eq!(rules["rules"][0]["match"], "^<bob@");
    assert_eq!(rules["rules"][0]["times"], 1);
}

#[tokio::test]
async fn after_skips_and_times_limits() {
    let dev = Dev::start(&["--quiet"]).await;
    dev.put_faults(
        r#"{"rules": [{"stage": "mail", "reply": "451 4.3.0 Try again later", "after": 1, "times": 2}]}"#,
    )
    .await;
    let mut smtp = dev.client().await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let code = smtp.code("MAIL FROM:<a@example.com>").await;
        if code == 250 {
            assert_eq!(smtp.code("RSET").await, 250);
        }
        codes.push(code);
    }
    assert_eq!(codes, [250, 451, 451, 250, 250]);

    // PUT again: the counters start over.
    dev.put_faults(r#"{"rules": [{"stage": "mail", "reply": "451 4.3.0 Again", "times": 1}]}"#)
        .await;
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 451);
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 250);
}

#[tokio::test]
async fn delete_clears_the_rules() {
    let dev = Dev::start(&["--quiet"]).await;
    dev.put_faults(r#"{"rules": [{"stage": "rcpt", "reply": "550 5.7.1 No"}]}"#)
        .await;
    let rules = dev.get("/api/faults").await.json();
    assert_eq!(rules["rules"].as_array().unwrap().len(), 1);
    assert_eq!(dev.delete("/api/faults").await.status, 204);
    let rules = dev.get("/api/faults").await.json();
    assert_eq!(rules, serde_json::json!({"rules": []}));
    let mut smtp = dev.client().await;
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(smtp.code("RCPT TO:<b@example.com>").await, 250);
}

#[tokio::test]
async fn disconnect_after_354_and_delay() {
    let dev = Dev::start(&["--quiet"]).await;
    dev.put_faults(
        r#"{"rules": [
            {"stage": "data", "disconnect_after_reply": true, "times": 1},
            {"stage": "helo", "match": "slow", "delay_ms": 300}
        ]}"#,
    )
    .await;
    let mut smtp = dev.client().await;
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(smtp.code("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(smtp.code("DATA").await, 354);
    let closed = smtp.0.is_closed().await.unwrap();
    assert!(closed, "the connection closes after the 354");

    let mut smtp = Smtp::connect(dev.smtp).await;
    let started = Instant::now();
    assert_eq!(smtp.code("EHLO slow.example").await, 250);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The rule fired once: the next message goes through.
    let content = b"Subject: ok\r\n\r\nx\r\n";
    let reply = smtp
        .transaction("a@example.com", &["b@example.com"], content)
        .await;
    assert_eq!(reply.code().get(), 250);
}

#[tokio::test]
async fn a_connect_rule_disconnects() {
    let dev = Dev::start(&["--quiet"]).await;
    dev.put_faults(
        r#"{"rules": [{"stage": "connect", "reply": "554 5.7.1 Go away", "times": 1}]}"#,
    )
    .await;
    let mut stream = tokio::net::TcpStream::connect(dev.smtp).await.unwrap();
    let mut greeting = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut greeting))
        .await
        .expect("closed in time")
        .unwrap();
    let greeting = String::from_utf8_lossy(&greeting);
    assert!(greeting.starts_with("554"), "{greeting:?}");
    // The next client is served.
    drop(Smtp::connect(dev.smtp).await);
}

#[tokio::test]
async fn bad_rules_are_refused_and_change_nothing() {
    let dev = Dev::start(&["--quiet"]).await;
    dev.put_faults(r#"{"rules": [{"stage": "mail", "reply": "451 4.3.0 Later"}]}"#)
        .await;
    let cases = [
        (
            r#"{"rules": [{"stage": "rcpt", "match": "(", "reply": "550 x"}]}"#,
            "bad regular expression",
        ),
        (
            r#"{"rules": [{"stage": "rcpt", "reply": "hello"}]}"#,
            "bad reply",
        ),
        (
            r#"{"rules": [{"stage": "rcpt", "reply": "700 x"}]}"#,
            "bad reply",
        ),
        (
            r#"{"rules": [{"stage": "sometime", "disconnect": true}]}"#,
            "unknown stage",
        ),
        (r#"{"rules": [{"stage": "rcpt"}]}"#, "exactly one of"),
        (
            r#"{"rules": [{"stage": "rcpt", "delay_ms": 5, "disconnect": true}]}"#,
            "exactly one of",
        ),
        (
            r#"{"rules": [{"stage": "rcpt", "disconnect": true, "probability": 2}]}"#,
            "probability",
        ),
        // The pattern that froze the server for 41 s on a 1 MB message.
        (
            r#"{"rules": [{"stage": "message", "match": "(?:[a-j]{1,100}){20}Q", "disconnect": true}]}"#,
            "pattern too large",
        ),
        (
            r#"{"rules": [{"stage": "rcpt", "disconnect": true, "scope": "galaxy"}]}"#,
            "unknown scope",
        ),
        (
            r#"{"rules": [{"stage": "rcpt", "rcpt": "^<a@", "disconnect": true}]}"#,
            "message stage only",
        ),
    ];
    for (body, expected) in cases {
        let response = dev.json(axum::http::Method::PUT, "/api/faults", body).await;
        let error = response.error(400);
        assert!(error.contains(expected), "{body}: {error}");
    }
    let rules = dev.get("/api/faults").await.json();
    assert_eq!(rules["rules"][0]["reply"], "451 4.3.0 Later", "unchanged");
}

#[tokio::test]
async fn rules_from_a_toml_file() {
    let dir = TempDir::new("faults");
    let file = dir.path("faults.toml");
    std::fs::write(
        &file,
        r#"
# Bob fails twice, then works.
[[rules]]
stage = "rcpt"
match = "^<bob@"
reply = "452 4.2.2 Mailbox full"
times = 2

[[rules]]
stage = "message"
match = "(?i)subject: spam"
reply = "554 5.7.1 Looks like spam"
"#,
    )
    .unwrap();
    let dev = Dev::start(&["--quiet", "--faults", &file]).await;
    let rules = dev.get("/api/faults").await.json();
    assert_eq!(rules["rules"].as_array().unwrap().len(), 2);
    assert_eq!(rules["rules"][1]["stage"], "message");

    let mut smtp = dev.client().await;
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(smtp.code("RCPT TO:<bob@example.com>").await, 452);
    assert_eq!(smtp.code("RCPT TO:<bob@example.com>").await, 452);
    assert_eq!(smtp.code("RCPT TO:<bob@example.com>").await, 250);
    let spam = smtp.0.data(b"Subject: SPAM offer\r\n\r\nbuy\r\n").await;
    assert_eq!(spam.unwrap().code().get(), 554);
    let content = b"Subject: fine\r\n\r\nx\r\n";
    let ok = smtp
        .transaction("a@example.com", &["c@example.com"], content)
        .await;
    assert_eq!(ok.code().get(), 250);
    assert_eq!(dev.list("").await["total"], 1);
}

#[tokio::test]
async fn a_session_scoped_rule_counts_each_connection_apart() {
    let dev = Dev::start(&["--quiet"]).await;
    let shown = dev
        .put_faults(r#"{"rules": [{"stage": "rcpt", "reply": "451 4.3.0 Try again", "times": 1, "scope": "session"}]}"#)
        .await;
    assert_eq!(shown["rules"][0]["scope"], "session");
    let mut first = dev.client().await;
    assert_eq!(first.code("MAIL FROM:<a@example.com>").await, 250);
    let mut second = dev.client().await;
    assert_eq!(second.code("MAIL FROM:<a@example.com>").await, 250);
    // The second client does not use up the first one's `times`.
    assert_eq!(second.code("RCPT TO:<b@example.com>").await, 451);
    assert_eq!(second.code("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(first.code("RCPT TO:<b@example.com>").await, 451);
    assert_eq!(first.code("RCPT TO:<b@example.com>").await, 250);
    let rules = dev.get("/api/faults").await.json();
    assert_eq!(rules["rules"][0]["fired"], 2);
}

#[tokio::test]
async fn lmtp_message_rules_answer_per_recipient() {
    let dev = Dev::start(&["--quiet", "--lmtp"]).await;
    dev.put_faults(r#"{"rules": [{"stage": "message", "rcpt": "^<full@", "reply": "452 4.2.2 Mailbox full"}]}"#)
        .await;
    let mut lmtp = Smtp::connect(dev.smtp).await;
    assert_eq!(lmtp.code("LHLO client.example").await, 250);
    assert_eq!(lmtp.code("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(lmtp.code("RCPT TO:<ok@example.com>").await, 250);
    assert_eq!(lmtp.code("RCPT TO:<full@example.com>").await, 250);
    assert_eq!(lmtp.code("DATA").await, 354);
    lmtp.0.send_raw(b"Subject: two\r\n\r\nx\r\n").await.unwrap();
    let first = lmtp.code(".").await;
    assert_eq!(first, 250, "the first recipient is delivered");
    let full = lmtp.0.read_reply().await.unwrap();
    assert_eq!(full.code().get(), 452, "the second is not: {full}");
    assert_eq!(full.enhanced().unwrap().to_string(), "4.2.2");
    assert_eq!(full.text(), "Mailbox full");
    assert_eq!(lmtp.code("NOOP").await, 250, "no third reply");
    let list = dev.list("").await;
    assert_eq!(list["total"], 1, "{list}");
}
