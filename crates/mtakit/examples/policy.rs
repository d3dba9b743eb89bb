//! A [`Policy`]: accept mail only for one domain, with a custom multi-line
//! rejection, and give each client its own message size limit.
//!
//! ```text
//! cargo run -p mtakit --example policy                      # self-demo, then exit
//! cargo run -p mtakit --example policy -- 127.0.0.1:2525    # serve until Ctrl-C
//! ```
//!
//! The self-demo connects from loopback, so it gets the small limit, and
//! asserts every reply it shows.

use std::error::Error;

use mtakit::proto::{EnhancedCode, ForwardPath, RcptParams, Reply, SessionInfo};
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{MemorySink, Policy, Server, Verdict};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Accepts recipients in `domain` only; loopback clients may send at most
/// `loopback_limit` bytes.
struct LocalDomainOnly {
    domain: String,
    loopback_limit: u64,
}

impl Policy for LocalDomainOnly {
    /// Asked once per connection. The accepting verdict may carry this
    /// client's message size limit, advertised in EHLO (`SIZE`) and
    /// enforced; without it the server-wide limit applies.
    async fn accept_connection(&self, session: &SessionInfo) -> Verdict {
        if session.peer().ip().is_loopback() {
            Verdict::accept().with_max_message_size(self.loopback_limit)
        } else {
            Verdict::accept()
        }
    }

    async fn accept_rcpt_to(
        &self,
        _session: &SessionInfo,
        to: &ForwardPath,
        _params: &RcptParams,
    ) -> Verdict {
        let Some(mailbox) = to.mailbox() else {
            // <Postmaster> must always be accepted (RFC 5321 §4.5.1).
            return Verdict::accept();
        };
        if mailbox.domain().eq_ignore_ascii_case(&self.domain) {
            return Verdict::accept();
        }
        // Replies are checked: the enhanced code must agree with 550, and
        // the text may hold no CR or LF. Should a check fail, fall back to
        // a fixed reply that cannot: `550 5.7.1 Relaying denied`.
        let reply = Reply::multiline(
            550,
            EnhancedCode::new(5, 7, 1),
            [
                format!("Relaying to {} is not allowed here", mailbox.domain()),
                format!("This server only accepts mail for {}", self.domain),
            ],
        )
        .unwrap_or_else(|_| Reply::relaying_denied());
        Verdict::reject_with(reply)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let sink = MemorySink::new();
    let server = Server::builder()
        .hostname("mx.example.com")
        .policy(LocalDomainOnly {
            domain: "example.com".to_owned(),
            loopback_limit: 1024,
        })
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
    ehlo.assert_code(250).assert_line("SIZE 1024");
    print!("C: EHLO client.example\nS: {ehlo}");

    // A sender announcing a message over the per-client limit is refused
    // at MAIL, before any data is sent.
    let too_big = client.mail_from("<alice@example.org> SIZE=5000").await?;
    too_big.assert_code(552).assert_enhanced("5.3.4");
    print!("C: MAIL FROM:<alice@example.org> SIZE=5000\nS: {too_big}");

    client
        .mail_from("<alice@example.org>")
        .await?
        .assert_code(250);
    let outside = client.rcpt_to("<bob@elsewhere.net>").await?;
    outside.assert_code(550).assert_enhanced("5.7.1");
    assert_eq!(outside.lines().count(), 2);
    print!("C: RCPT TO:<bob@elsewhere.net>\nS: {outside}");

    let inside = client.rcpt_to("<bob@example.com>").await?;
    inside.assert_code(250);
    print!("C: RCPT TO:<bob@example.com>\nS: {inside}");

    // Content over the limit is drained, not stored, and refused.
    let body = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(2000));
    let refused = client.data(body.as_bytes()).await?;
    refused.assert_code(552).assert_enhanced("5.3.4");
    print!("C: DATA (2 kB)\nS: {refused}");

    // The refused transaction is over; a small message goes through.
    client
        .mail_from("<alice@example.org>")
        .await?
        .assert_code(250);
    client.rcpt_to("<bob@example.com>").await?.assert_code(250);
    let stored = client.data(b"Subject: small\r\n\r\nHi Bob\r\n").await?;
    stored.assert_code(250);
    print!("C: DATA (small)\nS: {stored}");
    client.quit().await?.assert_code(221);

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].header("Subject"), Some("small"));
    println!("stored {} message(s)", messages.len());

    let _ = stop.send(());
    running.await??;
    Ok(())
}
