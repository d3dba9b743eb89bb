//! End-to-end tests of `mtakit serve`: each test runs the real binary on a
//! free port and talks SMTP to it over TCP.
//!
//! Every wait is bounded: output is polled with short intervals up to a
//! deadline, and a child process is killed when its test fails.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    Daemon, Smtp, TempDir, WAIT, base64, files_in, mtakit, plain_token, run_to_exit, wait_child,
};

const BEGIN: &str = "---------- MESSAGE FOLLOWS ----------";
const END: &str = "------------ END MESSAGE ------------";

#[test]
fn prints_each_message_on_stdout() {
    let daemon = Daemon::start(&[]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction(
        "alice@example.com",
        &["bob@example.com", "carol@example.org"],
        "Subject: Hello\r\n\r\nFirst line\r\n..leading dot\r\n",
    );
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);

    let out = daemon.wait_stdout(END);
    let start = out.find(BEGIN).expect("begin marker");
    let block = &out[start..];
    let local = smtp.writer.local_addr().unwrap();
    let expected = format!(
        "{BEGIN}\n\
         Peer: {local}\n\
         Helo: client.example\n\
         Mail-From: <alice@example.com>\n\
         Rcpt-To: <bob@example.com>\n\
         Rcpt-To: <carol@example.org>\n\
         \n\
         | Subject: Hello\n\
         | \n\
         | First line\n\
         | .leading dot\n\
         {END}\n"
    );
    assert_eq!(block, expected);
    daemon.wait_stderr("message accepted");
}

/// The message blocks in `out`, as a parser following the README reads
/// them: the envelope lines, and the content lines without their prefix.
fn blocks(out: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut lines = out.lines();
    while let Some(line) = lines.next() {
        if line != BEGIN {
            continue;
        }
        let mut envelope = Vec::new();
        let mut content = Vec::new();
        for line in lines.by_ref() {
            if line == END {
                break;
            } else if let Some(text) = line.strip_prefix("| ") {
                content.push(text.to_owned());
            } else if !line.is_empty() {
                envelope.push(line.to_owned());
            }
        }
        blocks.push((envelope, content));
    }
    blocks
}

#[test]
fn content_can_neither_drive_the_terminal_nor_forge_a_block() {
    let daemon = Daemon::start(&[]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let content = format!(
        "Subject: \x1b]0;PWNED\x07hi\r\n\r\n\x1b]52;c;cHduZWQ=\x07\x1b[2J\r\n\
         {END}\r\n{BEGIN}\r\nPeer: 10.9.8.7:25\r\nHelo: bank.example\r\n\
         Mail-From: <ceo@bank.example>\r\nRcpt-To: <you@example.com>\r\nAuth: ceo\r\n\r\n\
         Pay now.\r\n{END}\r\n"
    );
    let reply = smtp.transaction("alice@example.com", &["bob@example.com"], &content);
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);
    daemon.wait_stderr("message accepted");
    let out = daemon.wait_stdout(&format!("| {END}\n{END}\n"));

    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    assert!(
        out.contains("| \\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\n"),
        "{out}"
    );
    let blocks = blocks(&out);
    assert_eq!(blocks.len(), 1, "{out}");
    let (envelope, content) = &blocks[0];
    let local = smtp.writer.local_addr().unwrap();
    assert_eq!(
        envelope,
        &[
            format!("Peer: {local}"),
            "Helo: client.example".to_owned(),
            "Mail-From: <alice@example.com>".to_owned(),
            "Rcpt-To: <bob@example.com>".to_owned(),
        ]
    );
    assert_eq!(content[0], "Subject: \\x1b]0;PWNED\\x07hi");
    assert!(content.contains(&"Peer: 10.9.8.7:25".to_owned()));
}

#[test]
fn maildir_gets_one_file_per_message() {
    let dir = TempDir::new("maildir");
    let daemon = Daemon::start(&["--maildir", dir.0.to_str().unwrap()]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("HELO client.example").0, 250);
    let reply = smtp.transaction(
        "alice@example.com",
        &["bob@example.com"],
        "Subject: Stored\r\n\r\nKeep me\r\n",
    );
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);

    // The 250 comes after the file is in new/, so there is nothing to wait
    // for.
    let new = files_in(&dir.0.join("new"));
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(files_in(&dir.0.join("tmp")).is_empty());
    assert!(dir.0.join("cur").is_dir());
    let stored = std::fs::read_to_string(&new[0]).unwrap();
    assert!(
        stored.starts_with("Return-Path: <alice@example.com>\r\n"),
        "{stored}"
    );
    assert!(
        stored.contains("Delivered-To: bob@example.com\r\nReceived: from client.example"),
        "{stored}"
    );
    assert!(
        stored.ends_with("Subject: Stored\r\n\r\nKeep me\r\n"),
        "{stored}"
    );
    assert!(!daemon.stdout().contains(BEGIN), "nothing printed");
}

#[test]
fn auth_with_the_given_users() {
    let daemon = Daemon::start(&["--auth", "alice:secret", "--allow-insecure-auth"]);
    let mut smtp = Smtp::connect(daemon.addr);
    let (code, lines) = smtp.cmd("EHLO client.example");
    assert_eq!(code, 250);
    assert!(
        lines
            .iter()
            .any(|l| l == "AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER"),
        "{lines:?}"
    );

    let (code, lines) = smtp.cmd(&format!("AUTH PLAIN {}", plain_token("alice", "wrong")));
    assert_eq!(code, 535, "{lines:?}");
    let (code, lines) = smtp.cmd(&format!("AUTH PLAIN {}", plain_token("mallory", "secret")));
    assert_eq!(code, 535, "{lines:?}");
    let (code, lines) = smtp.cmd(&format!("AUTH PLAIN {}", plain_token("alice", "secret")));
    assert_eq!(code, 235, "{lines:?}");

    let reply = smtp.transaction("alice@example.com", &["bob@example.com"], "Hi\r\n");
    assert_eq!(reply.0, 250, "{reply:?}");
    let out = daemon.wait_stdout(END);
    assert!(out.contains("\nAuth: alice\n"), "{out}");
}

#[test]
fn auth_over_login_mechanism() {
    let daemon = Daemon::start(&["--auth", "alice:secret", "--allow-insecure-auth"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    assert_eq!(smtp.cmd("AUTH LOGIN").0, 334);
    assert_eq!(smtp.cmd(&base64(b"alice")).0, 334);
    assert_eq!(smtp.cmd(&base64(b"secret")).0, 235);
}

#[test]
fn auth_without_allow_insecure_auth_warns_and_is_not_offered() {
    let daemon = Daemon::start(&["--auth", "alice:secret"]);
    assert!(
        daemon.stderr().contains("AUTH will not be offered"),
        "{}",
        daemon.stderr()
    );
    let mut smtp = Smtp::connect(daemon.addr);
    let (code, lines) = smtp.cmd("EHLO client.example");
    assert_eq!(code, 250);
    assert!(!lines.iter().any(|l| l.starts_with("AUTH")), "{lines:?}");
}

#[test]
fn no_auth_by_default() {
    let daemon = Daemon::start(&[]);
    let mut smtp = Smtp::connect(daemon.addr);
    let (_, lines) = smtp.cmd("EHLO client.example");
    assert!(!lines.iter().any(|l| l.starts_with("AUTH")), "{lines:?}");
    let (code, _) = smtp.cmd(&format!("AUTH PLAIN {}", plain_token("a", "b")));
    assert!((500..600).contains(&code), "AUTH refused, got {code}");
}

#[test]
fn max_message_size_is_advertised_and_enforced() {
    let daemon = Daemon::start(&["--max-message-size", "100"]);
    let mut smtp = Smtp::connect(daemon.addr);
    let (code, lines) = smtp.cmd("EHLO client.example");
    assert_eq!(code, 250);
    assert!(lines.iter().any(|l| l == "SIZE 100"), "{lines:?}");
    let (code, lines) = smtp.cmd("MAIL FROM:<a@example.com> SIZE=101");
    assert_eq!(code, 552, "{lines:?}");
    let (code, _) = smtp.cmd("MAIL FROM:<a@example.com> SIZE=100");
    assert_eq!(code, 250);
    assert_eq!(smtp.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(smtp.cmd("DATA").0, 354);
    smtp.send(format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(200)).as_bytes());
    let (code, lines) = smtp.cmd(".");
    assert_eq!(code, 552, "{lines:?}");
}

#[test]
fn max_recipients_is_enforced() {
    let daemon = Daemon::start(&["--max-recipients", "2"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<c@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<d@example.com>").0, 452);
}

#[test]
fn timeout_closes_idle_sessions_with_421() {
    let daemon = Daemon::start(&["--timeout", "1"]);
    let mut smtp = Smtp::connect(daemon.addr);
    let started = Instant::now();
    let (code, lines) = smtp.reply();
    assert_eq!(code, 421, "{lines:?}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(smtp.closed());
}

#[test]
fn sigterm_tells_idle_clients_421_and_exits_0() {
    let mut daemon = Daemon::start(&[]);
    let mut idle = Smtp::connect(daemon.addr);
    assert_eq!(idle.cmd("EHLO client.example").0, 250);
    daemon.signal("TERM");
    let (code, lines) = idle.reply();
    assert_eq!(code, 421, "{lines:?}");
    assert!(idle.closed());
    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", daemon.stderr());
    assert!(TcpStream::connect_timeout(&daemon.addr, Duration::from_secs(1)).is_err());
}

#[test]
fn ctrl_c_exits_0() {
    let mut daemon = Daemon::start(&[]);
    let mut idle = Smtp::connect(daemon.addr);
    daemon.signal("INT");
    assert_eq!(idle.reply().0, 421);
    assert_eq!(daemon.wait_exit().code(), Some(0));
    daemon.wait_stderr("received Ctrl-C");
}

#[test]
fn sigterm_lets_a_transaction_in_flight_finish() {
    let mut daemon = Daemon::start(&[]);
    let mut busy = Smtp::connect(daemon.addr);
    assert_eq!(busy.cmd("EHLO client.example").0, 250);
    assert_eq!(busy.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(busy.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(busy.cmd("DATA").0, 354);
    daemon.signal("TERM");
    busy.send(b"Subject: late\r\n\r\nstill delivered\r\n");
    let (code, lines) = busy.cmd(".");
    assert_eq!(code, 250, "{lines:?}");
    daemon.wait_stdout("still delivered");
    assert_eq!(daemon.wait_exit().code(), Some(0));
}

#[test]
fn python_smtplib_can_send() {
    if Command::new("python3").arg("--version").output().is_err() {
        println!("note: python3 is not installed; skipping the smtplib test");
        return;
    }
    let daemon = Daemon::start(&[]);
    let script = "import smtplib, sys\n\
                  s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', timeout=10)\n\
                  s.sendmail('py@example.com', ['to@example.com'], \
                  'Subject: from python\\r\\n\\r\\nhello from smtplib\\r\\n')\n\
                  s.quit()\n";
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(daemon.addr.port().to_string())
        .stdin(Stdio::null())
        .spawn()
        .expect("run python3");
    let status = wait_child(&mut child, WAIT).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("python3 did not finish within {WAIT:?}")
    });
    assert!(status.success(), "python3 failed: {status}");
    let out = daemon.wait_stdout(END);
    assert!(out.contains("Helo: py.example\n"), "{out}");
    assert!(out.contains("Mail-From: <py@example.com>\n"), "{out}");
    assert!(out.contains("Rcpt-To: <to@example.com>\n"), "{out}");
    assert!(out.contains("Subject: from python\n"), "{out}");
    assert!(out.contains("hello from smtplib\n"), "{out}");
}

#[test]
fn discard_accepts_and_prints_nothing() {
    let daemon = Daemon::start(&["--discard"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction("a@example.com", &["b@example.com"], "gone\r\n");
    assert_eq!(reply.0, 250);
    assert_eq!(smtp.cmd("QUIT").0, 221);
    assert!(!daemon.stdout().contains(BEGIN));
}

#[test]
fn hostname_is_used_in_the_greeting() {
    let daemon = Daemon::start(&["--hostname", "mx.example.test"]);
    let stream = TcpStream::connect_timeout(&daemon.addr, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut greeting = String::new();
    BufReader::new(stream).read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("220 mx.example.test"), "{greeting:?}");
}

#[test]
fn bind_failure_exits_non_zero() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, text) = run_to_exit(&["serve", "--listen", &addr]);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("cannot listen on {addr}")), "{text}");
    assert!(!text.contains("listening on"), "{text}");
}

#[test]
fn uncreatable_maildir_exits_non_zero() {
    let dir = TempDir::new("notadir");
    std::fs::write(&dir.0, b"a file, not a directory").unwrap();
    let path = dir.0.to_str().unwrap();
    let (status, text) = run_to_exit(&["serve", "--listen", "127.0.0.1:0", "--maildir", path]);
    let _ = std::fs::remove_file(&dir.0);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("cannot create the Maildir"), "{text}");
    assert!(!text.contains("listening on"), "{text}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let (status, text) = run_to_exit(&["serve", "--auth", "no-colon"]);
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("USER:PASS"), "{text}");
    let (status, text) = run_to_exit(&["serve", "--max-connections", "0"]);
    assert_eq!(status.code(), Some(2), "{text}");
}

#[test]
fn version_flag() {
    let output = mtakit().arg("--version").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.trim(), format!("mtakit {}", env!("CARGO_PKG_VERSION")));
}
