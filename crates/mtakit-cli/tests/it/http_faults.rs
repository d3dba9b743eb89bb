//! Fault rules set over `PUT /api/faults` and from `--faults FILE`, as an
//! SMTP client sees them: once, `after`, `times`, delays and disconnects.

use std::time::{Duration, Instant};

use crate::support::{Daemon, Smtp, TempDir, delete, get, put_json, run_to_exit};

fn hello(daemon: &Daemon) -> Smtp {
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    smtp
}

fn put_ok(daemon: &Daemon, json: &str) -> serde_json::Value {
    let response = put_json(daemon.http(), "/api/faults", json);
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[test]
fn a_rule_fires_once_then_the_server_accepts() {
    let daemon = Daemon::start(&["--quiet"]);
    let shown = put_ok(
        &daemon,
        r#"{"rules": [{"stage": "rcpt", "match": "^<bob@", "reply": "550 5.1.1 No such user", "times": 1}]}"#,
    );
    assert_eq!(shown["rules"][0]["stage"], "rcpt");
    assert_eq!(shown["rules"][0]["reply"], "550 5.1.1 No such user");

    let mut smtp = hello(&daemon);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<carol@example.com>").0, 250, "no match");
    let refused = smtp.cmd("RCPT TO:<bob@example.com>");
    assert_eq!(refused.0, 550);
    assert_eq!(refused.1, ["5.1.1 No such user"]);
    assert_eq!(smtp.cmd("RCPT TO:<bob@example.com>").0, 250, "only once");

    let rules = get(daemon.http(), "/api/faults").json();
    assert_eq!(rules["rules"][0]["fired"], 1);
    assert_eq!(rules["rules"][0]["match"], "^<bob@");
    assert_eq!(rules["rules"][0]["times"], 1);
}

#[test]
fn after_skips_and_times_limits() {
    let daemon = Daemon::start(&["--quiet"]);
    put_ok(
        &daemon,
        r#"{"rules": [{"stage": "mail", "reply": "451 4.3.0 Try again later", "after": 1, "times": 2}]}"#,
    );
    let mut smtp = hello(&daemon);
    let mut codes = Vec::new();
    for _ in 0..5 {
        let code = smtp.cmd("MAIL FROM:<a@example.com>").0;
        if code == 250 {
            assert_eq!(smtp.cmd("RSET").0, 250);
        }
        codes.push(code);
    }
    assert_eq!(codes, [250, 451, 451, 250, 250]);

    // PUT again: the counters start over.
    put_ok(
        &daemon,
        r#"{"rules": [{"stage": "mail", "reply": "451 4.3.0 Again", "times": 1}]}"#,
    );
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 451);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
}

#[test]
fn delete_clears_the_rules() {
    let daemon = Daemon::start(&["--quiet"]);
    put_ok(
        &daemon,
        r#"{"rules": [{"stage": "rcpt", "reply": "550 5.7.1 No"}]}"#,
    );
    assert_eq!(
        get(daemon.http(), "/api/faults").json()["rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(delete(daemon.http(), "/api/faults").status, 204);
    assert_eq!(
        get(daemon.http(), "/api/faults").json(),
        serde_json::json!({"rules": []})
    );
    let mut smtp = hello(&daemon);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<b@example.com>").0, 250);
}

#[test]
fn disconnect_after_354_and_delay() {
    let daemon = Daemon::start(&["--quiet"]);
    put_ok(
        &daemon,
        r#"{"rules": [
            {"stage": "data", "disconnect_after_reply": true, "times": 1},
            {"stage": "helo", "match": "slow", "delay_ms": 300}
        ]}"#,
    );
    let mut smtp = hello(&daemon);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(smtp.cmd("DATA").0, 354);
    assert!(smtp.closed(), "the connection closes after the 354");

    let mut smtp = Smtp::connect(daemon.addr);
    let started = Instant::now();
    assert_eq!(smtp.cmd("EHLO slow.example").0, 250);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The rule fired once: the next message goes through.
    let reply = smtp.transaction(
        "a@example.com",
        &["b@example.com"],
        "Subject: ok\r\n\r\nx\r\n",
    );
    assert_eq!(reply.0, 250);
}

#[test]
fn a_connect_rule_disconnects() {
    let daemon = Daemon::start(&["--quiet"]);
    put_ok(
        &daemon,
        r#"{"rules": [{"stage": "connect", "reply": "554 5.7.1 Go away", "times": 1}]}"#,
    );
    let mut stream = std::net::TcpStream::connect(daemon.addr).unwrap();
    stream.set_read_timeout(Some(crate::support::WAIT)).unwrap();
    let mut greeting = String::new();
    std::io::Read::read_to_string(&mut stream, &mut greeting).unwrap();
    assert!(greeting.starts_with("554"), "{greeting:?}");
    // The next client is served.
    drop(Smtp::connect(daemon.addr));
}

#[test]
fn bad_rules_are_refused_and_change_nothing() {
    let daemon = Daemon::start(&["--quiet"]);
    put_ok(
        &daemon,
        r#"{"rules": [{"stage": "mail", "reply": "451 4.3.0 Later"}]}"#,
    );
    let http = daemon.http();
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
        let error = put_json(http, "/api/faults", body).error(400);
        assert!(error.contains(expected), "{body}: {error}");
    }
    let rules = get(http, "/api/faults").json();
    assert_eq!(rules["rules"][0]["reply"], "451 4.3.0 Later", "unchanged");
}

#[test]
fn rules_from_a_toml_file() {
    let dir = TempDir::new("faults");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("faults.toml");
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
    let daemon = Daemon::start(&["--quiet", "--faults", file.to_str().unwrap()]);
    let rules = get(daemon.http(), "/api/faults").json();
    assert_eq!(rules["rules"].as_array().unwrap().len(), 2);
    assert_eq!(rules["rules"][1]["stage"], "message");

    let mut smtp = hello(&daemon);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<bob@example.com>").0, 452);
    assert_eq!(smtp.cmd("RCPT TO:<bob@example.com>").0, 452);
    assert_eq!(smtp.cmd("RCPT TO:<bob@example.com>").0, 250);
    assert_eq!(smtp.cmd("DATA").0, 354);
    smtp.send(b"Subject: SPAM offer\r\n\r\nbuy\r\n");
    assert_eq!(smtp.cmd(".").0, 554);
    let ok = smtp.transaction(
        "a@example.com",
        &["c@example.com"],
        "Subject: fine\r\n\r\nx\r\n",
    );
    assert_eq!(ok.0, 250);
    assert_eq!(get(daemon.http(), "/api/messages").json()["total"], 1);
}

#[test]
fn a_bad_faults_file_stops_the_start() {
    let dir = TempDir::new("badfaults");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("faults.toml");
    let path = file.to_str().unwrap();
    for (text, expected) in [
        (
            "[[rules]]\nstage = \"rcpt\"\nmatch = \"[\"\nreply = \"550 x\"\n",
            "rule 1: bad regular expression",
        ),
        (
            "[[rules]]\nstage = \"rcpt\"\nrepyl = \"550 x\"\n",
            "unknown field",
        ),
        ("not toml at all [", "cannot load the fault rules"),
        (
            "[[rules]]\nstage = \"message\"\nmatch = \"(?:[a-j]{1,100}){20}Q\"\nreply = \"550 x\"\n",
            "rule 1: bad regular expression: pattern too large",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let (status, stderr) = run_to_exit(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-http",
            "--faults",
            path,
        ]);
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("cannot load the fault rules from"),
            "{stderr}"
        );
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(!stderr.contains("listening on"), "{stderr}");
    }
    let missing = dir.0.join("missing.toml");
    let (status, stderr) =
        run_to_exit(&["serve", "--no-http", "--faults", missing.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{stderr}");
}

#[test]
fn a_session_scoped_rule_counts_each_connection_apart() {
    let daemon = Daemon::start(&["--quiet"]);
    let shown = put_ok(
        &daemon,
        r#"{"rules": [{"stage": "rcpt", "reply": "451 4.3.0 Try again", "times": 1, "scope": "session"}]}"#,
    );
    assert_eq!(shown["rules"][0]["scope"], "session");
    let mut first = hello(&daemon);
    assert_eq!(first.cmd("MAIL FROM:<a@example.com>").0, 250);
    let mut second = hello(&daemon);
    assert_eq!(second.cmd("MAIL FROM:<a@example.com>").0, 250);
    // The second client does not use up the first one's `times`.
    assert_eq!(second.cmd("RCPT TO:<b@example.com>").0, 451);
    assert_eq!(second.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(first.cmd("RCPT TO:<b@example.com>").0, 451);
    assert_eq!(first.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(
        get(daemon.http(), "/api/faults").json()["rules"][0]["fired"],
        2
    );
}

#[test]
fn lmtp_message_rules_answer_per_recipient() {
    let daemon = Daemon::start(&["--quiet", "--lmtp"]);
    put_ok(
        &daemon,
        r#"{"rules": [{"stage": "message", "rcpt": "^<full@", "reply": "452 4.2.2 Mailbox full"}]}"#,
    );
    let mut lmtp = Smtp::connect(daemon.addr);
    assert_eq!(lmtp.cmd("LHLO client.example").0, 250);
    assert_eq!(lmtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(lmtp.cmd("RCPT TO:<ok@example.com>").0, 250);
    assert_eq!(lmtp.cmd("RCPT TO:<full@example.com>").0, 250);
    assert_eq!(lmtp.cmd("DATA").0, 354);
    lmtp.send(b"Subject: two\r\n\r\nx\r\n");
    assert_eq!(lmtp.cmd(".").0, 250, "the first recipient is delivered");
    let full = lmtp.reply();
    assert_eq!(full.0, 452, "the second is not: {full:?}");
    assert_eq!(full.1, ["4.2.2 Mailbox full"]);
    assert_eq!(lmtp.cmd("NOOP").0, 250, "no third reply");
    let list = get(daemon.http(), "/api/messages").json();
    assert_eq!(list["total"], 1, "{list}");
}
