//! STARTTLS (RFC 3207) and implicit TLS (RFC 8314) over real TCP: lettre
//! verifying the test CA, the CVE-2011-0411 injection defence, the session
//! reset, AUTH only under TLS, and the client-testing scenarios.

use std::time::Duration;

use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use mtakit::tls::{TestPki, TlsScenario};
use mtakit::{Server, UserTable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

use crate::support::serve_duplex;

const WAIT: Duration = Duration::from_secs(10);

fn email(to: &str) -> lettre::Message {
    lettre::Message::builder()
        .from("App <app@example.com>".parse().unwrap())
        .to(to.parse().unwrap())
        .subject("over TLS")
        .body("secret body\r\n".to_owned())
        .unwrap()
}

fn lettre_tls(pki: &TestPki) -> TlsParameters {
    TlsParameters::builder("localhost".to_owned())
        .add_root_certificate(Certificate::from_pem(pki.ca_pem().as_bytes()).unwrap())
        .build_rustls()
        .unwrap()
}

#[tokio::test]
async fn lettre_starttls_verifies_the_test_ca() {
    let server = TestServer::builder().tls_self_signed().start_async().await;
    let pki = server.pki().unwrap();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("localhost")
        .port(server.addr().port())
        .tls(Tls::Required(lettre_tls(pki)))
        .build();
    timeout(WAIT, mailer.send(email("user@example.com")))
        .await
        .unwrap()
        .unwrap();
    let messages = server.wait_for_messages_async(1).await;
    let tls = messages[0].tls().expect("message came over TLS");
    assert_eq!(tls.version, "TLSv1.3");
    assert!(!tls.cipher.is_empty());
    assert_eq!(tls.sni.as_deref(), Some("localhost"));
    assert!(messages[0].text().contains("secret body"));
}

#[tokio::test]
async fn lettre_implicit_tls_verifies_the_test_ca() {
    let server = TestServer::builder()
        .tls_self_signed()
        .implicit_tls()
        .start_async()
        .await;
    let pki = server.pki().unwrap();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("localhost")
        .port(server.addr().port())
        .tls(Tls::Wrapper(lettre_tls(pki)))
        .build();
    timeout(WAIT, mailer.send(email("user@example.com")))
        .await
        .unwrap()
        .unwrap();
    let messages = server.wait_for_messages_async(1).await;
    assert!(messages[0].tls().is_some());
}

#[tokio::test]
async fn lettre_refuses_a_server_its_ca_did_not_sign() {
    let server = TestServer::builder().tls_self_signed().start_async().await;
    let stranger = TestPki::new(&["localhost"]);
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("localhost")
        .port(server.addr().port())
        .tls(Tls::Required(lettre_tls(&stranger)))
        .build();
    let result = timeout(WAIT, mailer.send(email("user@example.com")))
        .await
        .unwrap();
    assert!(result.is_err(), "the chain must not verify");
    assert!(server.messages().is_empty());
}

/// TLS-1, NST-2: plaintext pipelined after STARTTLS is discarded, never
/// executed inside TLS.
#[tokio::test]
async fn pipelined_plaintext_after_starttls_is_discarded() {
    let server = TestServer::builder().tls_self_signed().start_async().await;
    let pki = server.pki().unwrap();
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    client
        .ehlo("client.test")
        .await
        .unwrap()
        .assert_line("STARTTLS");
    client
        .send_raw(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
        .await
        .unwrap();
    client.read_reply().await.unwrap().assert_code(220);
    client
        .upgrade_tls(pki.client_config(), "localhost")
        .await
        .unwrap();
    // No unsolicited reply: the next reply answers our EHLO.
    let ehlo = client.ehlo("client.test").await.unwrap();
    ehlo.assert_code(250);
    assert!(!ehlo.lines().any(|l| l == "STARTTLS"), "TLS-5: {ehlo}");
    // The injected MAIL never ran: RCPT has no transaction (TLS-1).
    client.rcpt_to("<r@b.test>").await.unwrap().assert_code(503);
    client.quit().await.unwrap().assert_code(221);
    assert!(server.messages().is_empty());
}

/// TLS-3: after STARTTLS the server waits for a ClientHello and answers no
/// pipelined plaintext command.
#[tokio::test]
async fn no_plaintext_reply_after_starttls() {
    let server = TestServer::builder().tls_self_signed().start_async().await;
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    client.ehlo("client.test").await.unwrap();
    client.send_raw(b"STARTTLS\r\nNOOP\r\n").await.unwrap();
    client.read_reply().await.unwrap().assert_code(220);
    let extra = timeout(Duration::from_millis(300), client.read_reply()).await;
    assert!(extra.is_err(), "a plaintext reply arrived: {extra:?}");
}

/// TLS-4, TLS-6, TLS-10: the session resets after TLS.
#[tokio::test]
async fn session_resets_after_tls() {
    let server = TestServer::builder().tls_self_signed().start_async().await;
    let pki = server.pki().unwrap();
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    client.ehlo("client.test").await.unwrap();
    client
        .starttls(pki.client_config(), "localhost")
        .await
        .unwrap()
        .assert_code(220);
    client
        .mail_from("<a@a.test>")
        .await
        .unwrap()
        .assert_code(503);
    client.ehlo("client.test").await.unwrap().assert_code(250);
    client.command("STARTTLS").await.unwrap().assert_code(503);
    client
        .mail_from("<a@a.test>")
        .await
        .unwrap()
        .assert_code(250);
    client.rcpt_to("<b@b.test>").await.unwrap().assert_code(250);
    client
        .data(b"Subject: t\r\n\r\nx\r\n")
        .await
        .unwrap()
        .assert_code(250);
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages[0].tls().unwrap().version, "TLSv1.3");
}

/// AUTH-1, AUTH-2, TLS-5: AUTH is offered and accepted only under TLS.
#[tokio::test]
async fn auth_only_after_tls_by_default() {
    let server = TestServer::builder()
        .tls_self_signed()
        .allow_insecure_auth(false)
        .authenticator(UserTable::new().with_user("alice", "secret"))
        .start_async()
        .await;
    let pki = server.pki().unwrap();
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    let ehlo = client.ehlo("client.test").await.unwrap();
    assert!(!ehlo.lines().any(|l| l.starts_with("AUTH")), "{ehlo}");
    client
        .auth_plain("alice", "secret")
        .await
        .unwrap()
        .assert_code(538)
        .assert_enhanced("5.7.11");
    client
        .starttls(pki.client_config(), "localhost")
        .await
        .unwrap();
    client
        .ehlo("client.test")
        .await
        .unwrap()
        .assert_line("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER");
    client
        .auth_plain("alice", "wrong")
        .await
        .unwrap()
        .assert_code(535);
    client
        .auth_plain("alice", "secret")
        .await
        .unwrap()
        .assert_code(235)
        .assert_enhanced("2.7.0");
}

/// TLS-8: no TLS configuration, no STARTTLS.
#[tokio::test]
async fn starttls_without_tls_is_454() {
    let server = TestServer::start_async().await;
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    let ehlo = client.ehlo("client.test").await.unwrap();
    assert!(!ehlo.lines().any(|l| l == "STARTTLS"));
    client
        .command("STARTTLS")
        .await
        .unwrap()
        .assert_code(454)
        .assert_enhanced("4.7.0");
    client
        .command("STARTTLS now")
        .await
        .unwrap()
        .assert_code(501);
    client.quit().await.unwrap().assert_code(221);
}

#[tokio::test]
async fn require_tls_refuses_mail_in_plaintext() {
    let server = TestServer::builder()
        .tls_self_signed()
        .require_tls()
        .start_async()
        .await;
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    client.ehlo("client.test").await.unwrap();
    client
        .mail_from("<a@a.test>")
        .await
        .unwrap()
        .assert_code(530)
        .assert_enhanced("5.7.0");
    client
        .starttls(server.pki().unwrap().client_config(), "localhost")
        .await
        .unwrap();
    client.ehlo("client.test").await.unwrap();
    client
        .mail_from("<a@a.test>")
        .await
        .unwrap()
        .assert_code(250);
}

/// TLS-9: garbage instead of a ClientHello closes that connection only.
#[tokio::test]
async fn garbage_handshake_closes_cleanly() {
    let server = TestServer::builder().tls_self_signed().start_async().await;
    let mut raw = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let _ = raw.read(&mut buf).await.unwrap();
    raw.write_all(b"EHLO x\r\n").await.unwrap();
    let _ = raw.read(&mut buf).await.unwrap();
    raw.write_all(b"STARTTLS\r\n").await.unwrap();
    let n = raw.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"220"));
    raw.write_all(b"this is not a ClientHello\r\n\r\n")
        .await
        .unwrap();
    // The server closes (possibly after a TLS alert).
    let closed = timeout(WAIT, async {
        loop {
            match raw.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
    let client = TestClient::connect(server.addr()).await.unwrap();
    client.greeting().assert_code(220);
    assert!(server.messages().is_empty());
}

async fn handshake_with(
    scenario: TlsScenario,
    with_cert: bool,
) -> std::io::Result<(TestServer, TestClient)> {
    let server = TestServer::builder()
        .tls_scenario(scenario)
        .start_async()
        .await;
    let pki = server.pki().unwrap();
    let config = if with_cert {
        pki.client_config_with_cert("client.test")
    } else {
        pki.client_config()
    };
    let mut client = TestClient::connect(server.addr()).await?;
    client.ehlo("client.test").await?;
    client.starttls(config, "localhost").await?;
    client.ehlo("client.test").await?.assert_code(250);
    Ok((server, client))
}

#[tokio::test]
async fn scenario_expired_certificate_fails_verification() {
    let err = handshake_with(TlsScenario::Expired, false)
        .await
        .unwrap_err();
    assert!(err.to_string().to_lowercase().contains("expired"), "{err}");
}

#[tokio::test]
async fn scenario_wrong_hostname_fails_verification() {
    let err = handshake_with(TlsScenario::WrongHostname, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("not valid for name"),
        "{err}"
    );
}

#[tokio::test]
async fn scenario_client_certificate_required() {
    assert!(
        handshake_with(TlsScenario::ClientCertRequired, false)
            .await
            .is_err()
    );
    assert!(
        handshake_with(TlsScenario::ClientCertRequired, true)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn scenario_tls12_only_and_client_certificate_reach_the_message() {
    let server = TestServer::builder()
        .tls_scenario(TlsScenario::Tls12Only)
        .start_async()
        .await;
    let pki = server.pki().unwrap();
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    client.ehlo("c").await.unwrap();
    client
        .starttls(pki.client_config(), "localhost")
        .await
        .unwrap();
    client.ehlo("c").await.unwrap();
    client.mail_from("<a@a.test>").await.unwrap();
    client.rcpt_to("<b@b.test>").await.unwrap();
    client.data(b"x\r\n").await.unwrap().assert_code(250);
    let m = server.wait_for_messages_async(1).await;
    assert_eq!(m[0].tls().unwrap().version, "TLSv1.2");

    let server = TestServer::builder()
        .tls_scenario(TlsScenario::ClientCertOptional)
        .start_async()
        .await;
    let pki = server.pki().unwrap();
    let mut client = TestClient::connect(server.addr()).await.unwrap();
    client.ehlo("c").await.unwrap();
    client
        .starttls(pki.client_config_with_cert("client.test"), "localhost")
        .await
        .unwrap();
    client.ehlo("c").await.unwrap();
    client.mail_from("<a@a.test>").await.unwrap();
    client.rcpt_to("<b@b.test>").await.unwrap();
    client.data(b"x\r\n").await.unwrap().assert_code(250);
    let m = server.wait_for_messages_async(1).await;
    assert_eq!(m[0].tls().unwrap().peer_certificates.len(), 1);
}

/// The client's read buffer is cleared at the switch (NST-3): a fake server
/// that injects a reply before TLS cannot answer the first TLS command.
#[tokio::test]
async fn test_client_drops_replies_injected_before_tls() {
    let pki = TestPki::new(&["localhost"]);
    let config = pki.server_config();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"220 fake\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf).await.unwrap(); // STARTTLS
        s.write_all(b"220 ready\r\n250 INJECTED\r\n").await.unwrap();
        let mut tls = tokio_rustls::TlsAcceptor::from(config)
            .accept(s)
            .await
            .unwrap();
        let _ = tls.read(&mut buf).await.unwrap(); // NOOP
        tls.write_all(b"250 2.0.0 honest\r\n").await.unwrap();
        tls.flush().await.unwrap();
    });
    let mut client = TestClient::connect(addr).await.unwrap();
    client
        .starttls(pki.client_config(), "localhost")
        .await
        .unwrap();
    client
        .command("NOOP")
        .await
        .unwrap()
        .assert_contains("honest");
    fake.await.unwrap();
}

/// TO-5: a client that never starts the handshake is cut off at the
/// command timeout (paused time, in memory).
#[tokio::test(start_paused = true)]
async fn handshake_stall_times_out() {
    let pki = TestPki::new(&["localhost"]);
    let limits = mtakit::Limits {
        command_timeout: Duration::from_secs(30),
        ..mtakit::Limits::default()
    };
    let server = Server::builder()
        .tls(pki.server_config())
        .limits(limits)
        .build();
    let (mut client, task) = serve_duplex(server, 4096, "192.0.2.1:1000", "192.0.2.2:25");
    client.write_all(b"EHLO x\r\nSTARTTLS\r\n").await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("220 2.0.0") {
        let n = client.read(&mut buf).await.unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    let result = task.await.unwrap();
    assert!(result.unwrap_err().is_tls());
}

#[test]
fn test_pki_refuses_names_it_cannot_certify_and_hides_its_key() {
    assert!(TestPki::try_new(&["bücher.example"]).is_err());
    assert!(TestPki::try_new(&["xn--bcher-kva.example", "192.0.2.1"]).is_ok());
    let dir = std::env::temp_dir().join(format!("mtakit-pki-{}", std::process::id()));
    TestPki::new(&["localhost"]).write_to(&dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key.pem is private");
    }
    assert!(
        std::fs::read_to_string(dir.join("ca.pem"))
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// max_connections counts every listener of a server together.
#[tokio::test]
async fn the_connection_cap_is_shared_by_both_listeners() {
    let pki = TestPki::new(&["localhost"]);
    let limits = mtakit::Limits {
        max_connections: 1,
        ..mtakit::Limits::default()
    };
    let server = Server::builder()
        .tls(pki.server_config())
        .limits(limits)
        .build();
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let implicit = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (plain_addr, implicit_addr) = (plain.local_addr().unwrap(), implicit.local_addr().unwrap());
    tokio::spawn(server.clone().serve(plain, std::future::pending()));
    tokio::spawn(server.serve_implicit_tls(implicit, std::future::pending()));
    let mut first = TestClient::connect(plain_addr).await.unwrap();
    first.greeting().assert_code(220);
    let second = TestClient::connect_tls(implicit_addr, pki.client_config(), "localhost").await;
    match second {
        Ok(c) => {
            c.greeting().assert_code(421);
        }
        // The refusal is written in plaintext on the TLS port: the client
        // sees a failed handshake, which is a refusal too.
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    first.quit().await.unwrap().assert_code(221);
}
