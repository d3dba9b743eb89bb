//! Soak: hundreds of concurrent clients on loopback mix valid mail with
//! garbage, resets, endless lines, smuggling payloads and abrupt
//! disconnects. Afterwards every message acknowledged with 250 is stored
//! exactly once, nothing unacknowledged is stored, and the server still
//! answers. Peak memory is reported, not asserted (see the benchmarks).
//!
//! Bounded: 400 clients, at most 64 at a time, each step under a timeout.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mtakit::Limits;
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

const CLIENTS: u64 = 400;
const CONCURRENCY: usize = 64;
const STEP: Duration = Duration::from_secs(20);

/// A small deterministic generator, so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Clone, Copy, Debug)]
enum Scenario {
    Valid,
    ValidPipelined,
    Garbage,
    Reset,
    EndlessLine,
    Smuggling,
    DisconnectInData,
    Oversized,
}

const SCENARIOS: [Scenario; 8] = [
    Scenario::Valid,
    Scenario::ValidPipelined,
    Scenario::Garbage,
    Scenario::Reset,
    Scenario::EndlessLine,
    Scenario::Smuggling,
    Scenario::DisconnectInData,
    Scenario::Oversized,
];

fn body(token: &str) -> Vec<u8> {
    format!("Subject: {token}\r\n\r\nsoak body for {token}\r\n.dot line\r\n").into_bytes()
}

/// Runs one client; returns the token if the server acknowledged a message.
async fn client(addr: SocketAddr, id: u64, scenario: Scenario) -> std::io::Result<Option<String>> {
    let token = format!("token-{id}");
    let mut c = TestClient::connect(addr).await?;
    c.ehlo("soak.test").await?.assert_code(250);
    match scenario {
        Scenario::Valid => {
            c.mail_from(&format!("<sender{id}@a.test>"))
                .await?
                .assert_code(250);
            c.rcpt_to("<r@b.test>").await?.assert_code(250);
            let reply = c.data(&body(&token)).await?;
            c.quit().await?;
            Ok((reply.code().get() == 250).then_some(token))
        }
        Scenario::ValidPipelined => {
            let mut batch = format!(
                "MAIL FROM:<p{id}@a.test>\r\nRCPT TO:<r@b.test>\r\nRCPT TO:<s@b.test>\r\nDATA\r\n"
            )
            .into_bytes();
            c.send_raw(&batch).await?;
            let replies = c.read_replies(4).await?;
            assert_eq!(replies[3].code().get(), 354, "{replies:?}");
            batch.clear();
            // Sent raw, so dot-stuffed by hand (RFC 5321 §4.5.2).
            let content = String::from_utf8(body(&token)).expect("ASCII");
            batch.extend_from_slice(content.replace("\r\n.", "\r\n..").as_bytes());
            batch.extend_from_slice(b".\r\nQUIT\r\n");
            c.send_raw(&batch).await?;
            let done = c.read_reply().await?;
            Ok((done.code().get() == 250).then_some(token))
        }
        Scenario::Garbage => {
            c.send_raw(b"\x00\x01\x02 GARBAGE \xff\xfe\r\nFROB nicate\r\nMAIL TO:<x>\r\n")
                .await?;
            for r in c.read_replies(3).await? {
                assert!(r.code().is_permanent(), "{r}");
            }
            c.quit().await?;
            Ok(None)
        }
        Scenario::Reset => {
            c.mail_from("<a@a.test>").await?;
            c.rcpt_to("<r@b.test>").await?;
            c.rset().await?.assert_code(250);
            c.quit().await?;
            Ok(None)
        }
        Scenario::EndlessLine => {
            c.send_raw(&vec![b'A'; 100_000]).await?;
            // Then just go away in the middle of the line.
            Ok(None)
        }
        Scenario::Smuggling => {
            c.mail_from("<legit@a.test>").await?;
            c.rcpt_to("<r@b.test>").await?;
            c.command("DATA").await?.assert_code(354);
            let payload = format!(
                "Subject: {token}\r\n\r\nfirst\n.\nMAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<r@b.test>\r\nDATA\r\nSubject: SMUGGLED\r\n\r\nx\r\n.\r\n"
            );
            c.send_raw(payload.as_bytes()).await?;
            c.read_reply().await?.assert_code(550);
            c.quit().await?.assert_code(221);
            Ok(None)
        }
        Scenario::DisconnectInData => {
            c.mail_from("<a@a.test>").await?;
            c.rcpt_to("<r@b.test>").await?;
            c.command("DATA").await?.assert_code(354);
            c.send_raw(format!("Subject: {token}\r\n\r\nhalf a mess").as_bytes())
                .await?;
            Ok(None)
        }
        Scenario::Oversized => {
            c.mail_from("<a@a.test>").await?;
            c.rcpt_to("<r@b.test>").await?;
            c.command("DATA").await?.assert_code(354);
            let mut big = format!("Subject: {token}\r\n\r\n").into_bytes();
            big.extend(std::iter::repeat_n(b'x', 70_000));
            big.extend_from_slice(b"\r\n.\r\n");
            c.send_raw(&big).await?;
            c.read_reply().await?.assert_code(552);
            c.quit().await?;
            Ok(None)
        }
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_mixed_clients_lose_nothing() {
    let limits = Limits {
        max_message_size: 64 * 1024,
        ..Limits::default()
    };
    let server = TestServer::builder().limits(limits).start_async().await;
    let addr = server.addr();
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let counts = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let started = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..CLIENTS {
        let scenario = SCENARIOS[(rng.next() % SCENARIOS.len() as u64) as usize];
        let (gate, acked, counts) = (gate.clone(), acked.clone(), counts.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await.expect("semaphore");
            let outcome = tokio::time::timeout(STEP, client(addr, id, scenario))
                .await
                .unwrap_or_else(|_| panic!("client {id} ({scenario:?}) hung"))
                .unwrap_or_else(|e| panic!("client {id} ({scenario:?}): {e}"));
            *counts
                .lock()
                .unwrap()
                .entry(format!("{scenario:?}"))
                .or_default() += 1;
            if let Some(token) = outcome {
                acked.lock().unwrap().push(token);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("client task");
    }
    let elapsed = started.elapsed();
    let acked: Vec<String> = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "too few valid clients: {}", acked.len());
    let messages = server.wait_for_messages_async(acked.len()).await;

    let stored: Vec<String> = messages
        .iter()
        .map(|m| m.header("Subject").expect("subject").to_owned())
        .collect();
    let stored_set: BTreeSet<&String> = stored.iter().collect();
    assert_eq!(stored.len(), stored_set.len(), "a message was stored twice");
    let acked_set: BTreeSet<&String> = acked.iter().collect();
    assert_eq!(stored_set, acked_set, "stored and acknowledged differ");
    assert!(
        messages
            .iter()
            .all(|m| m.reverse_path().to_string() != "<smuggled@evil.test>"),
        "a smuggled message was stored"
    );
    for m in &messages {
        assert!(m.text().contains("\r\n.dot line\r\n"), "unstuffing broke");
    }

    // The server still answers.
    let mut c = TestClient::connect(addr)
        .await
        .expect("connect after the soak");
    c.command("NOOP").await.expect("noop").assert_code(250);
    let _ = c.send_raw(b"QUIT\r\n").await;

    println!(
        "soak: {CLIENTS} clients in {elapsed:?}, {} acknowledged and stored, scenarios {:?}, peak RSS {} KiB (server and clients in one process)",
        acked.len(),
        counts.lock().unwrap(),
        peak_rss_kib().map_or_else(|| "unknown".to_owned(), |k| k.to_string()),
    );
}

#[tokio::test]
async fn the_server_survives_many_abrupt_disconnects() {
    let server = TestServer::start_async().await;
    for i in 0..200u32 {
        let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        if i % 2 == 0 {
            let _ = s.write_all(b"EHLO x\r\nMAIL FROM:<a@a.test>\r\n").await;
        }
        drop(s);
    }
    let mut c = TestClient::connect(server.addr()).await.unwrap();
    c.ehlo("after.test").await.unwrap().assert_code(250);
    assert!(server.messages().is_empty());
}
