//! `--relay` never turns one accepted message into two at the next hop,
//! and never sends a recipient the client did not give (the Maildir
//! envelope after a restart).
//!
//! The next hop here is a recording, *lenient* SMTP server: it ends DATA
//! at a `.` line ended by LF or CRLF alike, as the servers of the
//! CVE-2023-51764 family did, and takes every line after that as a
//! command. Each smuggling shape must arrive there as exactly one message
//! with CRLF line endings only and a single `<CRLF>.<CRLF>`.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::harness::{Dev, Smtp, TempDir, WAIT};
use super::relay::release;

/// What the recording next hop saw on one connection.
#[derive(Debug, Default)]
struct Seen {
    /// The command lines, without their line ending.
    commands: Vec<String>,
    /// The bytes after each `354`, up to and including the end line.
    messages: Vec<Vec<u8>>,
}

/// The recording next hop; one [`Seen`] per connection.
struct Recorder {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Recorder {
    async fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, seen) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(record(stream).await);
                });
            }
        });
        Recorder { addr, seen }
    }

    /// The next connection's record, within [`WAIT`].
    async fn next(&mut self) -> Seen {
        tokio::time::timeout(WAIT, self.seen.recv())
            .await
            .expect("relayed in time")
            .unwrap()
    }

    /// `--relay` flags pointing here.
    fn relay(&self) -> String {
        format!("smtp://{}", self.addr)
    }
}

async fn record(stream: TcpStream) -> Seen {
    let (reader, mut out) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut seen = Seen::default();
    let mut data: Option<Vec<u8>> = None;
    let _ = out.write_all(b"220 recorder ESMTP\r\n").await;
    let mut line = Vec::new();
    for _ in 0..10_000 {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if let Some(message) = data.as_mut() {
            message.extend_from_slice(&line);
            // Lenient: `.` then LF, or `.` then CRLF, ends the data.
            if line == b".\n" || line == b".\r\n" {
                seen.messages.push(data.take().unwrap());
                let _ = out.write_all(b"250 queued\r\n").await;
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
        let _ = out.write_all(reply).await;
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

/// Sends `body` to `rcpt` with `BODY=BINARYMIME` and one `BDAT LAST`.
async fn send_bdat(addr: SocketAddr, rcpt: &str, body: &[u8]) {
    let mut smtp = Smtp::connect(addr).await;
    assert_eq!(smtp.code("EHLO client.example").await, 250);
    let mail = smtp.cmd("MAIL FROM:<a@example.com> BODY=BINARYMIME").await;
    assert_eq!(mail.code().get(), 250, "{mail}");
    assert_eq!(smtp.code(&format!("RCPT TO:<{rcpt}>")).await, 250);
    let reply = smtp.0.bdat(body, true).await.unwrap();
    assert_eq!(reply.code().get(), 250, "{reply}");
    assert_eq!(smtp.code("QUIT").await, 221);
}

/// Sends `body` with DATA as it is; it must not contain `<CRLF>.<CRLF>`.
async fn send_data(addr: SocketAddr, body: &[u8]) {
    let mut smtp = Smtp::connect(addr).await;
    assert_eq!(smtp.code("EHLO client.example").await, 250);
    assert_eq!(smtp.code("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(smtp.code("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(smtp.code("DATA").await, 354);
    smtp.0.send_raw(body).await.unwrap();
    let reply = smtp.cmd("\r\n.").await;
    assert_eq!(reply.code().get(), 250, "{reply}");
    assert_eq!(smtp.code("QUIT").await, 221);
}

#[tokio::test]
async fn binarymime_bodies_reach_the_next_hop_as_one_message() {
    let mut hop = Recorder::start().await;
    let source = Dev::start(&["--quiet", "--relay", &hop.relay()]).await;
    for (n, body) in SMUGGLED.iter().enumerate() {
        send_bdat(source.smtp, "b@example.com", body).await;
        let got = hop.next().await;
        assert_one_clean_message(&got, &format!("BDAT variant {n}"));
    }
}

#[tokio::test]
async fn recorded_bare_line_endings_reach_the_next_hop_as_one_message() {
    let mut hop = Recorder::start().await;
    let relay = hop.relay();
    let flags = ["--quiet", "--line-endings", "record", "--relay", &relay];
    let source = Dev::start(&flags).await;
    for (n, body) in SMUGGLED.iter().enumerate() {
        send_data(source.smtp, body).await;
        let got = hop.next().await;
        assert_one_clean_message(&got, &format!("DATA variant {n}"));
    }
}

#[tokio::test]
async fn release_normalises_the_same_way() {
    let mut hop = Recorder::start().await;
    let source = Dev::start(&["--quiet", "--relay", &hop.relay()]).await;
    send_bdat(source.smtp, "b@example.com", SMUGGLED[0]).await;
    assert_one_clean_message(&hop.next().await, "forwarded");
    let id = source.ids("").await.remove(0);
    let released = release(&source, &id, "{}").await;
    assert_eq!(released.status, 200, "{}", released.text());
    assert_one_clean_message(&hop.next().await, "released");
}

/// The body tries to add recipients, ESMTP parameters and a command.
const HOSTILE: &[u8] = b"Delivered-To: attacker@evil.example\r\n\
Delivered-To: x@evil.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;spy@evil.example\r\n\
Delivered-To: y@evil.example>\rRCPT TO:<z@evil.example\r\n\
Subject: hostile\r\n\r\nbody\r\n";

#[tokio::test]
async fn after_a_restart_a_maildir_release_goes_to_the_real_recipients_only() {
    let dir = TempDir::new("envelope");
    let maildir = dir.path("mail");
    let mut hop = Recorder::start().await;
    let relay = hop.relay();
    let flags = ["--quiet", "--maildir", &maildir, "--relay", &relay];
    let first = Dev::start(&flags).await;
    send_bdat(first.smtp, "bob@example.com", HOSTILE).await;
    let forwarded = hop.next().await;
    let bob = "RCPT TO:<bob@example.com>".to_owned();
    assert!(forwarded.commands.contains(&bob), "{forwarded:?}");
    drop(first);

    // The file: Return-Path, the record, Delivered-To without brackets,
    // Received, then the message as received.
    let new = dir.0.join("mail").join("new");
    let files: Vec<_> = std::fs::read_dir(&new)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
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

    // A new server on the same Maildir knows only what the file says.
    let second = Dev::start(&flags).await;
    let list = second.list("").await;
    let message = &list["messages"][0];
    assert_eq!(message["from"], "a@example.com");
    assert_eq!(message["to"], serde_json::json!(["bob@example.com"]));
    let id = message["id"].as_str().unwrap().to_owned();
    let detail = second.get(&format!("/api/messages/{id}")).await.json();
    assert_eq!(detail["envelope"]["helo"], "client.example", "{detail}");
    assert!(
        detail["envelope"]["peer"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{detail}"
    );
    let raw = second.get(&format!("/api/messages/{id}/raw")).await;
    assert_eq!(raw.body, HOSTILE);

    let released = release(&second, &id, "{}").await;
    assert_eq!(released.status, 200, "{}", released.text());
    let got = hop.next().await;
    let rcpts: Vec<&String> = got
        .commands
        .iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    assert_eq!(rcpts, ["RCPT TO:<bob@example.com>"], "{got:?}");
}
