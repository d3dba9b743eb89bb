//! AUTH over TCP with `TestClient` (security.md §7): PLAIN and LOGIN
//! against an `auth_fn` authenticator, and the plaintext default.

use std::time::Duration;

use mtakit::auth_fn;
use mtakit::test_util::{ReplyExt, TestServer};

use crate::support::{bounded, connect};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn auth_with_auth_fn() {
    bounded(async {
        let server = TestServer::builder()
            .authenticator(auth_fn(|c| c.username() == c.password()))
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        let ehlo = client.ehlo("client.test").await.expect("ehlo");
        assert!(
            ehlo.lines()
                .any(|l| l.starts_with("AUTH") && l.contains("PLAIN") && l.contains("LOGIN")),
            "{ehlo}"
        );
        // A failed AUTH leaves the session unauthenticated.
        client
            .auth_plain("joe", "wrong")
            .await
            .expect("auth")
            .assert_code(535)
            .assert_enhanced("5.7.8");
        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(b"Subject: anonymous\r\n\r\nx\r\n")
            .await
            .expect("data")
            .assert_code(250);
        client
            .auth_plain("joe", "joe")
            .await
            .expect("auth")
            .assert_code(235)
            .assert_enhanced("2.7.0");
        client
            .auth_plain("joe", "joe")
            .await
            .expect("auth")
            .assert_code(503);
        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(b"Subject: authenticated\r\n\r\nx\r\n")
            .await
            .expect("data")
            .assert_code(250);

        let messages = server.wait_for_messages_async(2).await;
        assert!(messages[0].auth().is_none(), "failed AUTH authenticated");
        assert_eq!(messages[1].auth().map(|a| a.username.as_str()), Some("joe"));
    })
    .await;
}

#[tokio::test]
async fn auth_login_dialogue() {
    bounded(async {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let server = TestServer::builder()
            .authenticator(auth_fn(|c| c.username() == c.password()))
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        client
            .command("AUTH LOGIN")
            .await
            .expect("auth")
            .assert_code(334);
        client
            .command(&b64("kim"))
            .await
            .expect("user")
            .assert_code(334);
        client
            .command(&b64("kim"))
            .await
            .expect("pass")
            .assert_code(235);
    })
    .await;
}

#[tokio::test]
async fn auth_over_plaintext_is_refused_unless_allowed() {
    bounded(async {
        let server = TestServer::builder()
            .authenticator(auth_fn(|_| true))
            .allow_insecure_auth(false)
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        let ehlo = client.ehlo("client.test").await.expect("ehlo");
        assert!(!ehlo.lines().any(|l| l.starts_with("AUTH")), "{ehlo}");
        let got = client.auth_plain("user", "password").await.expect("auth");
        assert!(
            matches!(got.code().get(), 538 | 503 | 502),
            "plaintext AUTH answered {got}"
        );
    })
    .await;
}

/// AUTH PLAIN with an authzid: `UserTable` lets a user act as no one else
/// (RFC 4616 §2), so `admin\0alice\0secret` is refused and the session
/// stays unauthenticated; `alice\0alice\0secret` is alice (redteam §14).
#[tokio::test]
async fn user_table_refuses_a_foreign_authzid() {
    bounded(async {
        let server = TestServer::builder()
            .authenticator(mtakit::UserTable::new().with_user("alice", "secret"))
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        let token = |s: &[u8]| mtakit::proto::sasl::encode_base64(s);
        client
            .command(&format!("AUTH PLAIN {}", token(b"admin\0alice\0secret")))
            .await
            .expect("auth")
            .assert_code(535);
        client
            .command(&format!("AUTH PLAIN {}", token(b"alice\0alice\0secret")))
            .await
            .expect("auth")
            .assert_code(235);
        client.mail_from("<a@a.test>").await.expect("mail");
        client.rcpt_to("<b@b.test>").await.expect("rcpt");
        client
            .data(b"Subject: who\r\n\r\nx\r\n")
            .await
            .expect("data")
            .assert_code(250);
        let messages = server.wait_for_messages_async(1).await;
        let auth = messages[0].auth().expect("authenticated");
        assert_eq!(auth.username, "alice");
        assert_eq!(auth.authzid.as_deref(), Some("alice"));
    })
    .await;
}
