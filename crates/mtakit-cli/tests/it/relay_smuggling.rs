//! `--relay` never turns one accepted message into two at the next hop,
//! and never sends a recipient the client did not give (the Maildir
//! envelope after a restart).
//!
//! The next hop here is a recording, *lenient* SMTP server: it ends DATA
//! at a `.` line ended by LF or CRLF alike, as the servers of the
//! CVE-2023-51764 family did, and takes every line after that as a
//! command. Each smuggling shape must arrive there as exactly one message
//! with CRLF line endings only and a single `<CRLF>.<CRLF>`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

use crate::support::{Daemon, Smtp, TempDir, WAIT, files_in, get, request};

/// What the recording next hop saw on one connection.
#[derive(Debug, Default)]
struct Seen {
    /// The command lines, without their line ending.
    commands: Vec<String>,
    /// The bytes after each `354`, up to and including the end line.
    messages: Vec<Vec<u8>>,
}

/// Starts the recording next hop; one [`Seen`] per connection.
fn recorder() -> (SocketAddr, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(stream) = stream else { return };
            let tx = tx.clone();
            thread::spawn(move || {
                let _ = tx.send(record(stream));
            });
        }
    });
    (addr, rx)
}

fn record(stream: TcpStream) -> Seen {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = Seen::default();
    let mut data: Option<Vec<u8>> = None;
    let _ = out.write_all(b"220 recorder ESMTP\r\n");
    let mut line = Vec::new();
    for _ in 0..10_000 {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if let Some(message) = data.as_mut() {
            message.extend_from_slice(&line);
            // Lenient: `.` then LF, or `.` then CRLF, ends the data.
            if line == b".\n" || line == b".\r\n" {
                seen.messages.push(data.take().unwrap());
                let _ = out.write_all(b"250 queued\r\n");
            }
            continue;
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        let upper = text.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-recorder\r\n250 8BITMIME\r\n"
        } else if upper == "DATA" {
            data = Some(Vec::new());
            b"354 go ahead\r\n"
        } else if upper == "QUIT" {
            b"221 bye\r\n"
        } else {
            b"250 ok\r\n"
        };
        seen.commands.push(text);
        let _ = out.write_all(reply);
        if upper == "QUIT" {
            break;
        }
    }
    seen
}

/// No bare CR or LF, and `<CRLF>.<CRLF>` once, at the end.
fn assert_one_clean_message(seen: &Seen, what: &str) {
    assert_eq!(
        seen.messages.len(),
        1,
        "{what}: the next hop saw {} messages: {seen:?}",
        seen.messages.len()
    );
    let mail = seen
        .commands
        .iter()
        .filter(|c| c.starts_with("MAIL"))
        .count();
    assert_eq!(mail, 1, "{what}: {:?}", seen.commands);
    let wire = &seen.messages[0];
    for (i, &b) in wire.iter().enumerate() {
        let bare_cr = b == b'\r' && wire.get(i + 1) != Some(&b'\n');
        let bare_lf = b == b'\n' && (i == 0 || wire[i - 1] != b'\r');
        assert!(!bare_cr && !bare_lf, "{what}: bare CR/LF at {i}: {wire:?}");
    }
    let ends = wire.windows(5).filter(|w| w == b"\r\n.\r\n").count();
    assert!(
        wire.ends_with(b"\r\n.\r\n") && ends == 1,
        "{what}: {wire:?}"
    );
}

/// The smuggling shapes: after "hello", a second transaction.
const SMUGGLED: [&[u8]; 5] = [
    b"Subject: s\r\n\r\nhello\n.\nMAIL FROM:<ceo@bank.example>\nRCPT TO:<victim@example.net>\nDATA\nevil\n.\n",
    b"Subject: s\r\n\r\nhello\r\n.\nMAIL FROM:<ceo@bank.example>\r\nRCPT TO:<victim@example.net>\r\n",
    b"Subject: s\r\n\r\nhello\n.\r\nMAIL FROM:<ceo@bank.example>\r\nRCPT TO:<victim@example.net>\r\n",
    b"Subject: s\r\n\r\nhello\r.\rMAIL FROM:<ceo@bank.example>\rRCPT TO:<victim@example.net>\r",
    b"Subject: s\r\n\r\nhello\r.\r\nMAIL FROM:<ceo@bank.example>\r\n",
];

/// Sends `body` with `BODY=BINARYMIME` and one `BDAT LAST`.
fn send_bdat(addr: SocketAddr, body: &[u8]) {
    send_bdat_to(addr, "b@example.com", body);
}

fn send_bdat_to(addr: SocketAddr, rcpt: &str, body: &[u8]) {
    let mut smtp = Smtp::connect(addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let mail = smtp.cmd("MAIL FROM:<a@example.com> BODY=BINARYMIME");
    assert_eq!(mail.0, 250, "{mail:?}");
    assert_eq!(smtp.cmd(&format!("RCPT TO:<{rcpt}>")).0, 250);
    smtp.send(format!("BDAT {} LAST\r\n", body.len()).as_bytes());
    smtp.send(body);
    let reply = smtp.reply();
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);
}

/// Sends `body` with DATA; it must not contain `<CRLF>.<CRLF>`.
fn send_data(addr: SocketAddr, body: &[u8]) {
    let mut smtp = Smtp::connect(addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(smtp.cmd("DATA").0, 354);
    smtp.send(body);
    let reply = smtp.cmd("\r\n.");
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);
}

#[test]
fn binarymime_bodies_reach_the_next_hop_as_one_message() {
    let (hop, seen) = recorder();
    let source = Daemon::start(&["--quiet", "--relay", &format!("smtp://{hop}")]);
    for (n, body) in SMUGGLED.iter().enumerate() {
        send_bdat(source.addr, body);
        let got = seen.recv_timeout(WAIT).expect("relayed");
        assert_one_clean_message(&got, &format!("BDAT variant {n}"));
    }
}

#[test]
fn recorded_bare_line_endings_reach_the_next_hop_as_one_message() {
    let (hop, seen) = recorder();
    let source = Daemon::start(&[
        "--quiet",
        "--line-endings",
        "record",
        "--relay",
        &format!("smtp://{hop}"),
    ]);
    for (n, body) in SMUGGLED.iter().enumerate() {
        send_data(source.addr, body);
        let got = seen.recv_timeout(WAIT).expect("relayed");
        assert_one_clean_message(&got, &format!("DATA variant {n}"));
    }
}

#[test]
fn release_normalises_the_same_way() {
    let (hop, seen) = recorder();
    let source = Daemon::start(&["--quiet", "--relay", &format!("smtp://{hop}")]);
    send_bdat(source.addr, SMUGGLED[0]);
    assert_one_clean_message(&seen.recv_timeout(WAIT).unwrap(), "forwarded");
    let list = get(source.http(), "/api/messages").json();
    let id = list["messages"][0]["id"].as_str().unwrap().to_owned();
    let released = request(
        source.http(),
        "POST",
        &format!("/api/messages/{id}/release"),
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(released.status, 200, "{}", released.text());
    assert_one_clean_message(&seen.recv_timeout(WAIT).unwrap(), "released");
}

/// The body tries to add recipients, ESMTP parameters and a command.
const HOSTILE: &[u8] = b"Delivered-To: attacker@evil.example\r\n\
Delivered-To: x@evil.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;spy@evil.example\r\n\
Delivered-To: y@evil.example>\rRCPT TO:<z@evil.example\r\n\
Subject: hostile\r\n\r\nbody\r\n";

fn release_own(daemon: &Daemon, id: &str) -> crate::support::Response {
    request(
        daemon.http(),
        "POST",
        &format!("/api/messages/{id}/release"),
        &[("Content-Type", "application/json")],
        b"{}",
    )
}

#[test]
fn after_a_restart_a_maildir_release_goes_to_the_real_recipients_only() {
    let dir = TempDir::new("envelope");
    let maildir = dir.0.to_str().unwrap().to_owned();
    let (hop, seen) = recorder();
    let relay = format!("smtp://{hop}");
    let args = ["--quiet", "--maildir", &maildir, "--relay", &relay];
    let first = Daemon::start(&args);
    send_bdat_to(first.addr, "bob@example.com", HOSTILE);
    let forwarded = seen.recv_timeout(WAIT).unwrap();
    assert!(
        forwarded
            .commands
            .contains(&"RCPT TO:<bob@example.com>".to_owned())
    );
    drop(first);

    // The file: Return-Path, the record, Delivered-To without brackets,
    // Received, then the message as received.
    let files = files_in(&dir.0.join("new"));
    assert_eq!(files.len(), 1);
    let file = std::fs::read(&files[0]).unwrap();
    let text = String::from_utf8_lossy(&file);
    assert!(
        text.starts_with("Return-Path: <a@example.com>\r\nX-Mtakit-Envelope: "),
        "{text}"
    );
    assert!(
        text.contains(
            "\r\nDelivered-To: bob@example.com\r\nReceived: from client.example ([127.0.0.1])\r\n"
        ),
        "{text}"
    );
    assert!(text.contains("\tfor <bob@example.com>; "), "{text}");
    assert!(file.ends_with(HOSTILE));

    let second = Daemon::start(&args);
    let list = get(second.http(), "/api/messages").json();
    let message = &list["messages"][0];
    assert_eq!(message["from"], "a@example.com");
    assert_eq!(message["to"], serde_json::json!(["bob@example.com"]));
    let id = message["id"].as_str().unwrap().to_owned();
    let detail = get(second.http(), &format!("/api/messages/{id}")).json();
    assert_eq!(detail["envelope"]["helo"], "client.example", "{detail}");
    assert!(
        detail["envelope"]["peer"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{detail}"
    );
    let raw = get(second.http(), &format!("/api/messages/{id}/raw"));
    assert_eq!(raw.body, HOSTILE);

    let released = release_own(&second, &id);
    assert_eq!(released.status, 200, "{}", released.text());
    let got = seen.recv_timeout(WAIT).unwrap();
    let rcpts: Vec<&String> = got
        .commands
        .iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    assert_eq!(rcpts, ["RCPT TO:<bob@example.com>"], "{got:?}");
}
