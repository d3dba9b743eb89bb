//! The PROXY protocol (v1 and v2) in front of SMTP, over real TCP: the
//! header sets the peer the policy and the message see; it is accepted
//! only from trusted networks; a malformed or missing header closes the
//! connection before any session starts; it works with implicit TLS and
//! STARTTLS. The header timeout is in `proxy_protocol_timeouts.rs`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtakit::client::Client;
use mtakit::proto::{Reply, SessionInfo};
use mtakit::test_util::ReplyExt;
use mtakit::tls::TestPki;
use mtakit::{MemorySink, Policy, Server, Verdict};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_rustls::rustls::pki_types::ServerName;

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

/// Records the peer and local address of every accepted connection.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<(SocketAddr, SocketAddr)>>>,
}

impl Recorder {
    fn peers(&self) -> Vec<SocketAddr> {
        self.seen.lock().unwrap().iter().map(|(p, _)| *p).collect()
    }

    fn locals(&self) -> Vec<SocketAddr> {
        self.seen.lock().unwrap().iter().map(|(_, l)| *l).collect()
    }
}

impl Policy for Recorder {
    async fn accept_connection(&self, session: &SessionInfo) -> Verdict {
        let entry = (session.peer(), session.local());
        self.seen.lock().unwrap().push(entry);
        Verdict::accept()
    }
}

struct Running {
    addr: SocketAddr,
    sink: MemorySink,
    recorder: Recorder,
    _stop: oneshot::Sender<()>,
}

/// A server trusting `trusted` to send PROXY headers; with `pki`, it speaks
/// implicit TLS.
async fn start(trusted: &str, pki: Option<&TestPki>) -> Running {
    start_with(trusted, pki, pki.is_some()).await
}

/// As [`start`]; with `pki` and not `implicit`, it offers STARTTLS.
async fn start_with(trusted: &str, pki: Option<&TestPki>, implicit: bool) -> Running {
    let sink = MemorySink::new();
    let recorder = Recorder::default();
    let builder = Server::builder()
        .hostname("mx.test")
        .proxy_protocol_from([trusted.parse().unwrap()])
        .shutdown_timeout(Duration::from_secs(1));
    let builder = match pki {
        Some(pki) => builder.tls(pki.server_config()),
        None => builder,
    };
    let server = builder.policy(recorder.clone()).sink(sink.clone()).build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = async {
        let _ = stopped.await;
    };
    if implicit {
        tokio::spawn(server.serve_implicit_tls(listener, stopped));
    } else {
        tokio::spawn(server.serve(listener, stopped));
    }
    Running {
        addr,
        sink,
        recorder,
        _stop: stop,
    }
}

/// A raw client over any stream: the library's [`Client`], panicking on
/// any failure.
struct Wire<S> {
    client: Client<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    fn new(io: S) -> Self {
        Self {
            client: Client::new(io, WAIT),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.client.send(bytes).await.expect("write");
    }

    async fn reply(&mut self) -> Reply {
        self.client.read_reply().await.expect("a reply")
    }

    async fn command(&mut self, line: &str) -> Reply {
        self.client.command(line).await.expect("a reply")
    }

    /// Reads to the end of the stream (a reset counts as the end) and
    /// returns everything the server sent; no reply was read before.
    async fn rest(self) -> Vec<u8> {
        assert_eq!(self.client.buffered(), 0);
        let mut out = Vec::new();
        let _ = timeout(WAIT, self.client.into_inner().read_to_end(&mut out))
            .await
            .expect("the server did not close the connection");
        out
    }

    /// EHLO, one message to `<b@example.com>` with this subject, QUIT.
    async fn send_message(&mut self, subject: &str) {
        self.command("EHLO client.test").await.assert_code(250);
        self.command("MAIL FROM:<a@example.com>")
            .await
            .assert_code(250);
        self.command("RCPT TO:<b@example.com>")
            .await
            .assert_code(250);
        self.command("DATA").await.assert_code(354);
        self.send(format!("Subject: {subject}\r\n\r\nhi\r\n.\r\n").as_bytes())
            .await;
        self.reply().await.assert_code(250);
        self.command("QUIT").await.assert_code(221);
    }
}

async fn connect(addr: SocketAddr) -> Wire<TcpStream> {
    let stream = timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect");
    stream.set_nodelay(true).unwrap();
    Wire::new(stream)
}

/// A PROXY v2 header: `command` 0x20 LOCAL or 0x21 PROXY, `family` e.g.
/// 0x11 TCP over IPv4 or 0x21 TCP over IPv6, then `rest` (addresses and
/// TLVs) with its length.
fn v2(command: u8, family: u8, rest: &[u8]) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.push(command);
    out.push(family);
    out.extend_from_slice(&u16::try_from(rest.len()).unwrap().to_be_bytes());
    out.extend_from_slice(rest);
    out
}

fn v2_tcp(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let mut rest = Vec::new();
    let family = match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            rest.extend_from_slice(&s.ip().octets());
            rest.extend_from_slice(&d.ip().octets());
            0x11
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            rest.extend_from_slice(&s.ip().octets());
            rest.extend_from_slice(&d.ip().octets());
            0x21
        }
        _ => panic!("mixed families"),
    };
    rest.extend_from_slice(&source.port().to_be_bytes());
    rest.extend_from_slice(&destination.port().to_be_bytes());
    // A PP2_TYPE_NOOP TLV, which the server must skip.
    rest.extend_from_slice(&[0x04, 0x00, 0x02, 0xAB, 0xCD]);
    v2(0x21, family, &rest)
}

/// Sends `header`, then a whole message, and checks that the policy and
/// the message saw `peer` and `local`.
async fn proxied_message(header: &[u8], peer: &str, local: &str) {
    let server = start("127.0.0.0/8", None).await;
    let mut c = connect(server.addr).await;
    c.send(header).await;
    let greeting = c.reply().await;
    let peer: SocketAddr = peer.parse().unwrap();
    let local: SocketAddr = local.parse().unwrap();
    greeting.assert_code(220);
    c.send_message("proxied").await;
    let messages = timeout(WAIT, server.sink.wait_for_async(1, WAIT))
        .await
        .unwrap()
        .expect("the message");
    assert_eq!(messages[0].peer(), peer);
    assert_eq!(messages[0].local(), local);
    assert_eq!(server.recorder.peers(), [peer]);
    assert_eq!(server.recorder.locals(), [local]);
}

#[tokio::test]
async fn v1_tcp4_sets_the_peer() {
    proxied_message(
        b"PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\n",
        "192.0.2.10:56324",
        "198.51.100.1:25",
    )
    .await;
}

#[tokio::test]
async fn v1_tcp6_sets_the_peer() {
    proxied_message(
        b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 587\r\n",
        "[2001:db8::1]:4000",
        "[2001:db8::2]:587",
    )
    .await;
}

#[tokio::test]
async fn v2_ipv4_with_a_tlv_sets_the_peer() {
    let (peer, local) = ("203.0.113.7:40000", "198.51.100.9:25");
    let header = v2_tcp(peer.parse().unwrap(), local.parse().unwrap());
    proxied_message(&header, peer, local).await;
}

#[tokio::test]
async fn v2_ipv6_sets_the_peer() {
    let (peer, local) = ("[2001:db8:1::77]:1234", "[2001:db8:2::1]:2525");
    let header = v2_tcp(peer.parse().unwrap(), local.parse().unwrap());
    proxied_message(&header, peer, local).await;
}

#[tokio::test]
async fn v2_local_and_v1_unknown_keep_the_real_peer() {
    let server = start("127.0.0.0/8", None).await;
    for header in [v2(0x20, 0x00, &[]), b"PROXY UNKNOWN\r\n".to_vec()] {
        let mut c = connect(server.addr).await;
        let real = c.client.get_ref().local_addr().unwrap();
        c.send(&header).await;
        c.reply().await.assert_code(220);
        c.send_message("local").await;
        assert_eq!(server.recorder.peers().last(), Some(&real));
        assert_eq!(server.recorder.locals().last(), Some(&server.addr));
    }
    let messages = server.sink.wait_for_async(2, WAIT).await.unwrap();
    assert!(messages.iter().all(|m| m.peer().ip().is_loopback()));
}

#[tokio::test]
async fn header_and_pipelined_smtp_in_one_write() {
    let server = start("127.0.0.0/8", None).await;
    let mut c = connect(server.addr).await;
    c.send(
        b"PROXY TCP4 192.0.2.44 192.0.2.1 1111 25\r\nEHLO client.test\r\n\
          MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n",
    )
    .await;
    c.reply().await.assert_code(220);
    c.reply().await.assert_code(250).assert_line("PIPELINING");
    c.reply().await.assert_code(250);
    c.reply().await.assert_code(250);
    c.reply().await.assert_code(354);
    c.send(b"Subject: pipelined\r\n\r\nhi\r\n.\r\n").await;
    c.reply().await.assert_code(250);
    // A second PROXY line is an SMTP command like any other, and changes
    // nothing.
    c.command("PROXY TCP4 6.6.6.6 192.0.2.1 1 25")
        .await
        .assert_code(500);
    let messages = server.sink.wait_for_async(1, WAIT).await.unwrap();
    assert_eq!(messages[0].peer(), "192.0.2.44:1111".parse().unwrap());
    assert_eq!(server.recorder.peers().len(), 1);
}

/// Sends `bytes` (then closes the write side, with `half_close`), and
/// checks that the server closed without starting a session; then that a
/// good connection is still served.
async fn refused(bytes: &[u8], half_close: bool) {
    let server = start("127.0.0.0/8", None).await;
    let mut c = connect(server.addr).await;
    c.send(bytes).await;
    if half_close {
        c.client.get_mut().shutdown().await.unwrap();
    }
    let got = c.rest().await;
    assert!(
        !got.starts_with(b"220"),
        "a session started: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(server.recorder.peers().is_empty(), "policy was consulted");

    let mut good = connect(server.addr).await;
    good.send(b"PROXY TCP4 192.0.2.5 192.0.2.1 2222 25\r\n")
        .await;
    good.reply().await.assert_code(220);
    good.send_message("after").await;
    let messages = server.sink.wait_for_async(1, WAIT).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].header("Subject"), Some("after"));
    assert_eq!(server.recorder.peers(), ["192.0.2.5:2222".parse().unwrap()]);
}

#[tokio::test]
async fn malformed_v1_port_closes_without_a_session() {
    refused(b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 25\r\n", false).await;
}

#[tokio::test]
async fn malformed_v1_followed_by_a_message_stores_nothing() {
    refused(
        b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 25\r\nEHLO x\r\nMAIL FROM:<a@example.com>\r\n\
          RCPT TO:<b@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n",
        false,
    )
    .await;
}

#[tokio::test]
async fn smtp_without_a_header_from_a_trusted_network_is_closed() {
    refused(b"EHLO x\r\n", false).await;
}

#[tokio::test]
async fn v1_with_the_wrong_family_is_closed() {
    refused(b"PROXY TCP6 1.2.3.4 5.6.7.8 1 25\r\n", false).await;
}

#[tokio::test]
async fn truncated_v2_then_close_is_closed() {
    let header = v2_tcp(
        "192.0.2.1:1".parse().unwrap(),
        "192.0.2.2:2".parse().unwrap(),
    );
    refused(&header[..20], true).await;
}

#[tokio::test]
async fn v2_with_a_bad_version_is_closed() {
    let mut header = v2(0x21, 0x11, &[0; 12]);
    header[12] = 0x11;
    refused(&header, false).await;
}

#[tokio::test]
async fn untrusted_source_gets_proxy_as_an_smtp_command() {
    let server = start("10.0.0.0/8", None).await;
    let mut c = connect(server.addr).await;
    let real = c.client.get_ref().local_addr().unwrap();
    // No header is expected: the greeting comes at once.
    c.reply().await.assert_code(220);
    c.command("PROXY TCP4 192.0.2.10 198.51.100.1 56324 25")
        .await
        .assert_code(500);
    c.send_message("direct").await;
    let messages = server.sink.wait_for_async(1, WAIT).await.unwrap();
    assert_eq!(messages[0].peer(), real);
    assert_eq!(server.recorder.peers(), [real]);
}

#[tokio::test]
async fn header_then_implicit_tls() {
    let pki = TestPki::new(&["localhost"]);
    let server = start("127.0.0.0/8", Some(&pki)).await;
    let mut tcp = timeout(WAIT, TcpStream::connect(server.addr))
        .await
        .unwrap()
        .unwrap();
    tcp.write_all(b"PROXY TCP4 192.0.2.99 192.0.2.1 4321 465\r\n")
        .await
        .unwrap();
    let connector = tokio_rustls::TlsConnector::from(pki.client_config());
    let name = ServerName::try_from("localhost").unwrap();
    let tls = timeout(WAIT, connector.connect(name, tcp))
        .await
        .expect("handshake timed out")
        .expect("handshake");
    let mut c = Wire::new(tls);
    c.reply().await.assert_code(220);
    c.send_message("tls").await;
    let messages = server.sink.wait_for_async(1, WAIT).await.unwrap();
    assert_eq!(messages[0].peer(), "192.0.2.99:4321".parse().unwrap());
    assert_eq!(messages[0].local(), "192.0.2.1:465".parse().unwrap());
    let tls = messages[0].tls().expect("the message came over TLS");
    assert_eq!(tls.sni.as_deref(), Some("localhost"));
}

#[tokio::test]
async fn header_then_starttls_discards_plaintext_pipelined_with_it() {
    let pki = TestPki::new(&["localhost"]);
    let server = start_with("127.0.0.0/8", Some(&pki), false).await;
    let mut c = connect(server.addr).await;
    // Header, EHLO, STARTTLS and an injected command in one segment
    // (CVE-2011-0411): the injected MAIL must never be executed.
    c.send(
        b"PROXY TCP4 192.0.2.77 192.0.2.1 5000 25\r\nEHLO client.test\r\nSTARTTLS\r\n\
          MAIL FROM:<injected@example.com>\r\n",
    )
    .await;
    c.reply().await.assert_code(220);
    c.reply().await.assert_code(250).assert_line("STARTTLS");
    c.reply().await.assert_code(220);
    assert_eq!(
        c.client.buffered(),
        0,
        "a reply to the injected command arrived"
    );
    let name = ServerName::try_from("localhost").unwrap();
    let client = c
        .client
        .upgrade_tls(pki.client_config(), name)
        .await
        .expect("handshake (a plaintext reply to MAIL would break it)");
    let mut c = Wire { client };
    // After TLS, the session is fresh: MAIL before EHLO is out of sequence.
    c.command("MAIL FROM:<a@example.com>")
        .await
        .assert_code(503);
    c.send_message("starttls").await;
    let messages = server.sink.wait_for_async(1, WAIT).await.unwrap();
    assert_eq!(messages[0].peer(), "192.0.2.77:5000".parse().unwrap());
    assert!(messages[0].tls().is_some());
    assert_eq!(messages[0].reverse_path().to_string(), "<a@example.com>");
}
