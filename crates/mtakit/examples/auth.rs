//! An [`Authenticator`] backed by your own user store (here a `HashMap`),
//! with AUTH required before MAIL.
//!
//! ```text
//! cargo run -p mtakit --example auth                      # self-demo, then exit
//! cargo run -p mtakit --example auth -- 127.0.0.1:2525    # serve until Ctrl-C
//! ```
//!
//! The demo shows a refused MAIL before AUTH, a failed AUTH PLAIN, a
//! successful one, and the authenticated user on the stored message.

use std::collections::HashMap;
use std::error::Error;

use mtakit::proto::{Credentials, SessionInfo};
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{AuthResult, Authenticator, MemorySink, Server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// User names and passwords. A real store would keep password hashes (and
/// might be a database: `authenticate` is async).
struct Accounts {
    passwords: HashMap<String, String>,
}

impl Authenticator for Accounts {
    // `mechanisms` keeps its default: PLAIN and LOGIN.

    async fn authenticate(&self, credentials: &Credentials, session: &SessionInfo) -> AuthResult {
        let ok = self
            .passwords
            .get(credentials.username())
            .is_some_and(|password| password == credentials.password());
        if !ok {
            eprintln!(
                "failed login for {:?} from {}",
                credentials.username(),
                session.peer()
            );
        }
        // false gives `535 5.7.8`, and the session stays unauthenticated.
        AuthResult::from(ok)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let accounts = Accounts {
        passwords: HashMap::from([("alice".to_owned(), "wonderland".to_owned())]),
    };
    let sink = MemorySink::new();
    let server = Server::builder()
        .hostname("mail.example.com")
        .authenticator(accounts)
        // AUTH sends the password in clear text. By default it is only
        // offered under TLS (RFC 4954 §4); this demo allows it over plain
        // TCP on loopback. In production, configure TLS instead.
        .allow_insecure_auth(true)
        .require_auth(true)
        .sink(sink.clone())
        .build();

    if let Some(addr) = std::env::args().nth(1) {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("listening on {}; Ctrl-C stops", listener.local_addr()?);
        server
            .serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));

    let mut client = TestClient::connect(addr).await?;
    let ehlo = client.ehlo("client.example").await?;
    ehlo.assert_code(250).assert_line("AUTH PLAIN LOGIN");
    print!("S: {ehlo}");

    let refused = client.mail_from("<alice@example.com>").await?;
    refused.assert_code(530).assert_enhanced("5.7.0");
    print!("C: MAIL FROM before AUTH\nS: {refused}");

    let failed = client.auth_plain("alice", "guess").await?;
    failed.assert_code(535).assert_enhanced("5.7.8");
    print!("C: AUTH PLAIN (wrong password)\nS: {failed}");

    let ok = client.auth_plain("alice", "wonderland").await?;
    ok.assert_code(235);
    print!("C: AUTH PLAIN (right password)\nS: {ok}");

    client
        .mail_from("<alice@example.com>")
        .await?
        .assert_code(250);
    client.rcpt_to("<bob@example.com>").await?.assert_code(250);
    client
        .data(b"Subject: signed in\r\n\r\nHello\r\n")
        .await?
        .assert_code(250);
    client.quit().await?.assert_code(221);

    let messages = sink.messages();
    let user = messages[0].auth().map(|a| a.username.as_str());
    assert_eq!(user, Some("alice"));
    println!("message stored, sent by {}", user.unwrap_or("?"));

    let _ = stop.send(());
    running.await??;
    Ok(())
}
