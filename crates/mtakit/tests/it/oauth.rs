//! AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) over real TCP: initial
//! responses, `334` continuations, the error challenge before `535`, the
//! identity on the message, garbage, and AUTH refused over plaintext.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mtakit::UserTable;
use mtakit::proto::{Mechanism, Reply};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use tokio::time::timeout;

use crate::support::{cmd, connect_greeted};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

const USER: &str = "alice@example.com";
const TOKEN: &str = "good-token";

async fn server() -> TestServer {
    TestServer::builder()
        .authenticator(UserTable::new().with_user(USER, TOKEN))
        .start_async()
        .await
}

async fn ehlo(c: &mut TestClient) -> Reply {
    let reply = cmd(c, "EHLO client.test", WAIT).await;
    reply.assert_code(250);
    reply
}

fn xoauth2(user: &str, token: &str) -> String {
    B64.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

fn oauthbearer(user: &str, token: &str) -> String {
    B64.encode(format!(
        "n,a={user},\x01host=mx.test\x01auth=Bearer {token}\x01\x01"
    ))
}

/// Sends one message and returns it as stored.
async fn send_message(c: &mut TestClient, server: &TestServer, n: usize) -> mtakit::Message {
    cmd(c, "MAIL FROM:<alice@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(c, "RCPT TO:<bob@example.com>", WAIT)
        .await
        .assert_code(250);
    let reply = timeout(WAIT, c.data(b"Subject: oauth\r\n\r\nhi\r\n"))
        .await
        .expect("data timed out")
        .expect("data");
    reply.assert_code(250);
    server.wait_for_messages_async(n).await.remove(n - 1)
}

/// The text of a `334` error challenge, decoded.
fn challenge(reply: &Reply) -> String {
    reply.assert_code(334);
    let decoded = B64.decode(reply.text().trim()).expect("base64 challenge");
    String::from_utf8(decoded).expect("UTF-8 challenge")
}

#[tokio::test]
async fn both_mechanisms_are_advertised() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    let reply = ehlo(&mut c).await;
    let auth = reply
        .lines()
        .find(|l| l.starts_with("AUTH "))
        .expect("AUTH advertised");
    assert!(auth.split(' ').any(|m| m == "XOAUTH2"), "{auth}");
    assert!(auth.split(' ').any(|m| m == "OAUTHBEARER"), "{auth}");
}

#[tokio::test]
async fn xoauth2_with_an_initial_response_and_the_identity_on_the_message() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, TOKEN)),
        WAIT,
    )
    .await
    .assert_code(235)
    .assert_enhanced("2.7.0");
    let message = send_message(&mut c, &server, 1).await;
    let auth = message.auth().expect("authenticated identity");
    assert_eq!(auth.username, USER);
    assert_eq!(auth.mechanism, Mechanism::XOAuth2);
    // A second AUTH is out of sequence.
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, TOKEN)),
        WAIT,
    )
    .await
    .assert_code(503);
}

#[tokio::test]
async fn xoauth2_through_a_continuation() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    let go_ahead = cmd(&mut c, "AUTH XOAUTH2", WAIT).await;
    go_ahead.assert_code(334);
    assert_eq!(go_ahead.text(), "");
    cmd(&mut c, &xoauth2(USER, TOKEN), WAIT)
        .await
        .assert_code(235);
}

#[tokio::test]
async fn oauthbearer_through_a_continuation_and_with_an_initial_response() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    cmd(&mut c, "AUTH OAUTHBEARER", WAIT).await.assert_code(334);
    cmd(&mut c, &oauthbearer(USER, TOKEN), WAIT)
        .await
        .assert_code(235)
        .assert_enhanced("2.7.0");
    let message = send_message(&mut c, &server, 1).await;
    let auth = message.auth().expect("authenticated identity");
    assert_eq!(auth.username, USER);
    assert_eq!(auth.mechanism, Mechanism::OAuthBearer);

    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    cmd(
        &mut c,
        &format!("AUTH OAUTHBEARER {}", oauthbearer(USER, TOKEN)),
        WAIT,
    )
    .await
    .assert_code(235);
}

#[tokio::test]
async fn a_bad_token_gets_an_error_challenge_then_535() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    let reply = cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, "stale")),
        WAIT,
    )
    .await;
    let json = challenge(&reply);
    assert!(json.contains("\"status\":\"invalid_token\""), "{json}");
    // XOAUTH2 clients answer the challenge with an empty line.
    cmd(&mut c, "", WAIT)
        .await
        .assert_code(535)
        .assert_enhanced("5.7.8");

    // OAUTHBEARER clients answer with a single ^A (RFC 7628 §3.2.3).
    cmd(&mut c, "AUTH OAUTHBEARER", WAIT).await.assert_code(334);
    let reply = cmd(&mut c, &oauthbearer(USER, "stale"), WAIT).await;
    assert!(challenge(&reply).contains("invalid_token"));
    cmd(&mut c, "AQ==", WAIT)
        .await
        .assert_code(535)
        .assert_enhanced("5.7.8");

    // After the failures the session is not authenticated: the right
    // token still works, and only it marks the message.
    let message = send_message(&mut c, &server, 1).await;
    assert_eq!(message.auth(), None);
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, TOKEN)),
        WAIT,
    )
    .await
    .assert_code(235);
    let message = send_message(&mut c, &server, 2).await;
    assert_eq!(message.auth().map(|a| a.username.as_str()), Some(USER));
}

#[tokio::test]
async fn an_unknown_user_fails_like_a_bad_token() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    let reply = cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2("mallory@example.com", TOKEN)),
        WAIT,
    )
    .await;
    assert!(challenge(&reply).contains("invalid_token"));
    cmd(&mut c, "", WAIT).await.assert_code(535);
}

#[tokio::test]
async fn three_failures_close_the_session() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    for _ in 0..2 {
        cmd(
            &mut c,
            &format!("AUTH XOAUTH2 {}", xoauth2(USER, "bad")),
            WAIT,
        )
        .await
        .assert_code(334);
        cmd(&mut c, "", WAIT).await.assert_code(535);
    }
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, "bad")),
        WAIT,
    )
    .await
    .assert_code(334);
    cmd(&mut c, "", WAIT).await.assert_code(535);
    let bye = timeout(WAIT, c.read_reply()).await.unwrap().unwrap();
    bye.assert_code(421).assert_enhanced("4.7.0");
    assert!(timeout(WAIT, c.is_closed()).await.unwrap().unwrap_or(true));
}

#[tokio::test]
async fn garbage_gets_501_and_no_panic() {
    let server = server().await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    let no_bearer = B64.encode("user=alice@example.com\x01\x01");
    let no_user = B64.encode("auth=Bearer good-token\x01\x01");
    let no_suffix = B64.encode(format!("user={USER}\x01auth=Bearer {TOKEN}"));
    let basic = B64.encode(format!("user={USER}\x01auth=Basic {TOKEN}\x01\x01"));
    let not_utf8 = B64.encode(b"user=\xff\x01auth=Bearer x\x01\x01");
    let bad_gs2 = B64.encode(format!("x,a={USER},\x01auth=Bearer {TOKEN}\x01\x01"));
    let cases = [
        "AUTH XOAUTH2 !!!not-base64!!!".to_owned(),
        "AUTH XOAUTH2 =".to_owned(),
        "AUTH XOAUTH2 dXNlcj1h".to_owned(),
        format!("AUTH XOAUTH2 {no_bearer}"),
        format!("AUTH XOAUTH2 {no_user}"),
        format!("AUTH XOAUTH2 {no_suffix}"),
        format!("AUTH XOAUTH2 {basic}"),
        format!("AUTH XOAUTH2 {not_utf8}"),
        format!("AUTH OAUTHBEARER {bad_gs2}"),
        "AUTH OAUTHBEARER =".to_owned(),
    ];
    for line in &cases {
        let reply = cmd(&mut c, line, WAIT).await;
        assert_eq!(reply.code().get(), 501, "{line}: {reply}");
    }
    // Garbage as a continuation, and a cancelled exchange.
    cmd(&mut c, "AUTH OAUTHBEARER", WAIT).await.assert_code(334);
    cmd(&mut c, "%%%", WAIT).await.assert_code(501);
    cmd(&mut c, "AUTH XOAUTH2", WAIT).await.assert_code(334);
    cmd(&mut c, "*", WAIT).await.assert_code(501);
    // An unknown mechanism is 504.
    cmd(&mut c, "AUTH XOAUTH3 abc", WAIT).await.assert_code(504);
    // None of it authenticated or broke the session.
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, TOKEN)),
        WAIT,
    )
    .await
    .assert_code(235);
    let message = send_message(&mut c, &server, 1).await;
    assert_eq!(
        message.auth().map(|a| a.mechanism),
        Some(Mechanism::XOAuth2)
    );
}

#[tokio::test]
async fn plaintext_auth_is_538_until_starttls() {
    let server = TestServer::builder()
        .authenticator(UserTable::new().with_user(USER, TOKEN))
        .allow_insecure_auth(false)
        .tls_self_signed()
        .start_async()
        .await;
    let pki = server.pki().expect("test PKI");
    let mut c = connect_greeted(server.addr(), WAIT).await;
    let reply = ehlo(&mut c).await;
    reply.assert_line("STARTTLS");
    assert!(
        !reply.lines().any(|l| l.starts_with("AUTH")),
        "AUTH offered over plaintext: {reply}"
    );
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, TOKEN)),
        WAIT,
    )
    .await
    .assert_code(538)
    .assert_enhanced("5.7.11");
    cmd(&mut c, "AUTH OAUTHBEARER", WAIT)
        .await
        .assert_code(538)
        .assert_enhanced("5.7.11");

    timeout(WAIT, c.starttls(pki.client_config(), "localhost"))
        .await
        .expect("STARTTLS timed out")
        .expect("STARTTLS")
        .assert_code(220);
    let reply = ehlo(&mut c).await;
    reply.assert_contains("XOAUTH2");
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, TOKEN)),
        WAIT,
    )
    .await
    .assert_code(235);
    let message = send_message(&mut c, &server, 1).await;
    assert!(message.tls().is_some());
    assert_eq!(message.auth().map(|a| a.username.as_str()), Some(USER));
}

#[tokio::test]
async fn a_long_token_goes_through_a_continuation_or_the_auth_line() {
    // Real access tokens run to a few KiB. RFC 4954 §4 wants them after
    // `334` (lines up to 12288 octets), but clients also put them on the
    // AUTH line, so that line may be as long as a SASL line too.
    let long = "t".repeat(4000);
    let server = TestServer::builder()
        .authenticator(UserTable::new().with_user(USER, long.as_str()))
        .start_async()
        .await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    cmd(&mut c, "AUTH XOAUTH2", WAIT).await.assert_code(334);
    cmd(&mut c, &xoauth2(USER, &long), WAIT)
        .await
        .assert_code(235);

    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo(&mut c).await;
    cmd(
        &mut c,
        &format!("AUTH XOAUTH2 {}", xoauth2(USER, &long)),
        WAIT,
    )
    .await
    .assert_code(235);
    // Other commands keep the 512-octet limit.
    cmd(&mut c, &format!("NOOP {}", "x".repeat(600)), WAIT)
        .await
        .assert_code(500)
        .assert_enhanced("5.5.6");
}
