//! The process contract of `mtakit serve` around its HTTP side: the
//! announce line, `--port-file`, `--no-http`, `--events -`, and flags or
//! files that stop the start. What the API answers is tested in process
//! (`src/http/tests`).

use crate::support::{Daemon, TempDir, run_to_exit, send_one};

fn send(daemon: &Daemon, to: &str, subject: &str) {
    let content = format!("Subject: {subject}\r\n\r\nbody\r\n");
    send_one(daemon.addr, "a@example.com", &[to], &content);
}

#[test]
fn http_listens_on_loopback_by_default() {
    // The default is 127.0.0.1:8025; another server may hold that port, in
    // which case the error names the address instead.
    let mut child = crate::support::mtakit()
        .args(["serve", "--listen", "127.0.0.1:0", "--quiet"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let Ok(line) = line else { break };
            let last = line.contains("listening on") || line.contains("cannot listen");
            let _ = tx.send(line);
            if last {
                break;
            }
        }
    });
    let mut seen = String::new();
    while let Ok(line) = rx.recv_timeout(crate::support::WAIT) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("listening on") || line.contains("cannot listen") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.contains("http://127.0.0.1:8025") || seen.contains("cannot listen on 127.0.0.1:8025"),
        "{seen}"
    );
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
fn store_limit_needs_the_memory_store() {
    let (status, stderr) = run_to_exit(&["serve", "--discard", "--store-limit", "3"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    let (status, _) = run_to_exit(&["serve", "--store-limit", "0"]);
    assert_eq!(status.code(), Some(2));
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

#[test]
fn relaying_is_logged() {
    let target = Daemon::start(&[]);
    let source = Daemon::start(&["--quiet", "--relay", &format!("smtp://{}", target.addr)]);
    send(&source, "bob@example.com", "relayed");
    source.wait_stderr("message relayed");
    target.wait_stdout("Subject: relayed");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = Daemon::start(&["--quiet", "--relay", &format!("smtp://127.0.0.1:{port}")]);
    send(&down, "bob@example.com", "not relayed");
    down.wait_stderr("message not relayed");
}
