//! Unit tests for the `mtakit load` generator in `load.rs`.

use clap::Parser;
use mtakit::proto::LineEndingPolicy;
use mtakit::proto::data::DataReceiver;
use mtakit::{MemorySink, Server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use mtakit::client::Client;
use mtakit::proto::EhloInfo;
use tokio::io::AsyncWriteExt;

use super::report::percentile;
use super::*;

#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    load: LoadArgs,
}

fn args(argv: &[&str]) -> LoadArgs {
    Cli::try_parse_from(std::iter::once("load").chain(argv.iter().copied()))
        .unwrap()
        .load
}

#[test]
fn defaults_match_the_documentation() {
    let a = args(&["127.0.0.1:25"]);
    assert_eq!(a.addr, "127.0.0.1:25");
    assert_eq!(a.connections, 20);
    assert_eq!(a.messages, 10_000);
    assert_eq!(a.size, 1024);
    assert_eq!(a.recipients, 1);
    assert!(!a.reuse && !a.pipelining && !a.tls && !a.helo);
    assert_eq!(a.duration, None);
    assert!(Cli::try_parse_from(["load", "x:1", "--ca", "ca.pem"]).is_err());
    assert!(Cli::try_parse_from(["load", "x:1", "--helo", "--pipelining"]).is_err());
    assert!(Cli::try_parse_from(["load", "x:1", "--connections", "0"]).is_err());
}

#[test]
fn percentiles_use_the_nearest_rank() {
    let samples: Vec<u64> = (1..=1000).collect();
    assert_eq!(percentile(&samples, 50.0), Some(500));
    assert_eq!(percentile(&samples, 99.0), Some(990));
    assert_eq!(percentile(&samples, 99.9), Some(999));
    assert_eq!(percentile(&samples, 100.0), Some(1000));
    assert_eq!(percentile(&samples, 0.0), Some(1));
    assert_eq!(percentile(&[7], 99.9), Some(7));
    assert_eq!(percentile(&[1, 2], 50.0), Some(1));
    assert_eq!(percentile(&[1, 2], 50.1), Some(2));
    assert_eq!(percentile(&[], 50.0), None);
}

/// What a server stores from stuffed bytes, and how many it used.
fn unstuff(wire: &[u8]) -> (Vec<u8>, usize) {
    let mut rx = DataReceiver::new(u64::MAX, LineEndingPolicy::Reject, None);
    let used = rx.feed(wire);
    assert!(rx.is_done(), "no terminator");
    let outcome = rx.finish();
    assert_eq!(outcome.stats.bare_cr + outcome.stats.bare_lf, 0);
    (outcome.content, used)
}

#[test]
fn generated_messages_have_the_exact_size_and_survive_stuffing() {
    for size in [2, 3, 50, 80, 81, 100, 131, 1024, 4096, 102_400] {
        let content = message(size);
        assert_eq!(content.len(), size);
        assert!(content.ends_with(b"\r\n"), "{size}");
        let wire = dot_stuff(&content);
        let (back, used) = unstuff(&wire);
        assert_eq!(used, wire.len(), "{size}");
        assert_eq!(back, content, "{size}");
    }
    let big = message(4096);
    assert!(big.windows(2).any(|w| w == b"\n."));
    assert!(dot_stuff(&big).windows(3).any(|w| w == b"\n.."));
}

#[test]
fn command_groups_hold_mail_rcpts_and_data() {
    assert_eq!(
        command_group(2),
        b"MAIL FROM:<load@mtakit.invalid>\r\nRCPT TO:<sink0@mtakit.invalid>\r\n\
              RCPT TO:<sink1@mtakit.invalid>\r\nDATA\r\n"
    );
}

#[test]
fn server_names_come_from_the_address() {
    for (addr, host) in [
        ("127.0.0.1:25", "127.0.0.1"),
        ("[::1]:25", "::1"),
        ("mx.example.com:25", "mx.example.com"),
    ] {
        assert_eq!(
            server_name(addr).unwrap(),
            ServerName::try_from(host).unwrap()
        );
    }
}

#[tokio::test]
async fn replies_are_read_whole_across_reads_and_in_batches() {
    let (client, mut server) = tokio::io::duplex(64);
    let mut conn = Client::new(client, Duration::from_secs(5));
    let feed = tokio::spawn(async move {
        // A multi-line reply cut mid-line, then three replies at once.
        server
            .write_all(b"250-mx.example\r\n250-PIPE")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        server
            .write_all(b"LINING\r\n250 SIZE 100\r\n250 2.1.0 OK\r\n250 OK\r\n354 go\r\n")
            .await
            .unwrap();
        // Junk without a line end; the write fails once `conn` is gone.
        let _ = server.write_all(&[b'x'; 5000]).await;
    });
    let ehlo = conn.read_reply().await.unwrap();
    let ehlo = EhloInfo::from_reply(&ehlo).unwrap();
    assert!(ehlo.pipelining());
    assert!(!ehlo.starttls());
    assert_eq!(conn.read_reply().await.unwrap().code().get(), 250);
    assert_eq!(conn.read_reply().await.unwrap().code().get(), 250);
    assert_eq!(conn.read_reply().await.unwrap().code().get(), 354);
    let junk = conn.read_reply().await.map_err(session::SessionError::from);
    assert!(matches!(junk, Err(e) if e.kind == "reply too long"));
    drop(conn);
    feed.await.unwrap();
}

/// A server with a memory sink on a free port; it stops when the
/// returned sender is dropped.
async fn server(
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (String, MemorySink, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let sink = MemorySink::new();
    let mut builder = Server::builder().sink(sink.clone());
    if let Some(config) = tls {
        builder = builder.tls(config);
    }
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(builder.build().serve(listener, async {
        let _ = stopped.await;
    }));
    (addr, sink, stop)
}

async fn load(argv: &[&str]) -> Report {
    tokio::time::timeout(Duration::from_secs(60), run(args(argv)))
        .await
        .expect("load finished in time")
        .expect("load ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mode_delivers_every_message_intact() {
    let (addr, sink, _stop) = server(None).await;
    let modes: [&[&str]; 5] = [
        &[],
        &["--reuse"],
        &["--pipelining"],
        &["--reuse", "--pipelining", "--recipients", "3"],
        &["--reuse", "--helo"],
    ];
    let mut expected: usize = 0;
    for mode in modes {
        let mut argv = vec![
            addr.as_str(),
            "--messages",
            "40",
            "--connections",
            "4",
            "--size",
            "3000",
        ];
        argv.extend_from_slice(mode);
        let report = load(&argv).await;
        assert_eq!(
            (report.stats.sent, report.stats.errors),
            (40, 0),
            "{mode:?}: {report}"
        );
        assert_eq!(report.stats.transaction.len(), 40);
        let pipelined = mode.contains(&"--pipelining");
        assert_eq!(report.stats.pipelined_sessions > 0, pipelined, "{mode:?}");
        if mode.contains(&"--reuse") {
            assert!(report.stats.sessions <= 4, "{mode:?}: {report}");
        } else {
            assert_eq!(report.stats.sessions, 40, "{mode:?}");
        }
        expected += 40;
        let text = report.to_string();
        assert!(text.contains("40 sent, 0 errors"), "{text}");
        assert!(
            text.contains("transaction") && text.contains("first reply"),
            "{text}"
        );
    }
    let Ok(messages) = sink.wait_for_async(expected, Duration::from_secs(10)).await else {
        panic!("not every message arrived");
    };
    let content = message(3000);
    assert!(messages.iter().all(|m| m.data() == content.as_slice()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_counted_as_errors() {
    // The library refuses more than 1000 recipients per message.
    let (addr, _sink, _stop) = server(None).await;
    for extra in [&[][..], &["--pipelining"][..]] {
        let mut argv = vec![
            addr.as_str(),
            "--messages",
            "3",
            "--connections",
            "1",
            "--recipients",
            "1001",
            "--reuse",
        ];
        argv.extend_from_slice(extra);
        let report = load(&argv).await;
        assert_eq!((report.stats.sent, report.stats.errors), (0, 3), "{report}");
        assert!(
            report
                .stats
                .error_kinds
                .keys()
                .any(|k| k.starts_with("RCPT: 452")),
            "{report}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_servers_count_every_message_as_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let report = load(&[&addr, "--messages", "5", "--connections", "2"]).await;
    assert_eq!((report.stats.sent, report.stats.errors), (0, 5), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_stops_early() {
    let (addr, _sink, _stop) = server(None).await;
    let started = Instant::now();
    let report = load(&[
        &addr,
        "--messages",
        "100000000",
        "--connections",
        "2",
        "--reuse",
        "--duration",
        "1",
    ])
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(report.stats.sent > 0 && report.stats.sent < 100_000_000);
    assert_eq!(report.stats.errors, 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_any_certificate_and_with_a_ca() {
    let pki = mtakit::tls::TestPki::new(&["localhost"]);
    let (addr, sink, _stop) = server(Some(pki.server_config())).await;
    let report = load(&[
        &addr,
        "--messages",
        "6",
        "--connections",
        "2",
        "--tls",
        "--reuse",
        "--pipelining",
    ])
    .await;
    assert_eq!((report.stats.sent, report.stats.errors), (6, 0), "{report}");

    let dir = std::env::temp_dir().join(format!("mtakit-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let ca = ca.to_str().unwrap().to_owned();
    let report = load(&[
        &addr,
        "--messages",
        "4",
        "--connections",
        "2",
        "--tls",
        "--ca",
        &ca,
    ])
    .await;
    assert_eq!((report.stats.sent, report.stats.errors), (4, 0), "{report}");

    // A CA that did not sign the server's certificate fails every session.
    let other = mtakit::tls::TestPki::new(&["localhost"]);
    std::fs::write(&ca, other.ca_pem()).unwrap();
    let report = load(&[
        &addr,
        "--messages",
        "2",
        "--connections",
        "1",
        "--tls",
        "--ca",
        &ca,
    ])
    .await;
    assert_eq!((report.stats.sent, report.stats.errors), (0, 2), "{report}");
    assert!(
        report
            .stats
            .error_kinds
            .keys()
            .any(|k| k.starts_with("TLS handshake")),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let Ok(got) = sink.wait_for_async(10, Duration::from_secs(10)).await else {
        panic!("not every message arrived");
    };
    assert!(got.iter().all(|m| m.tls().is_some()));
}
