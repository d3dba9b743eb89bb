//! Testing your own mail-sending code with [`TestServer`]: the
//! "application" below sends a welcome email with lettre; the test points
//! it at a real SMTP server on a free port and asserts on what arrived.
//!
//! ```text
//! cargo run -p mtakit --example test_with_lettre
//! ```
//!
//! In your project, the same code goes in a `#[tokio::test]`, with
//! `mtakit = { version = "0.1", features = ["test-util"] }` under
//! `[dev-dependencies]`.

use std::error::Error;

use lettre::message::header::ContentType;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mtakit::test_util::TestServer;

type BoxError = Box<dyn Error + Send + Sync>;

/// The application code under test: it gets its transport from its
/// configuration, so a test can point it anywhere.
async fn send_welcome(
    mailer: &AsyncSmtpTransport<Tokio1Executor>,
    name: &str,
    address: &str,
) -> Result<(), BoxError> {
    let email = lettre::Message::builder()
        .from("Example App <noreply@app.example>".parse()?)
        .to(format!("{name} <{address}>").parse()?)
        .subject(format!("Welcome, {name}!"))
        .header(ContentType::TEXT_PLAIN)
        .body(format!("Hello {name}, thanks for signing up.\n"))?;
    mailer.send(email).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // A real SMTP server on 127.0.0.1 with a free port; it stops when
    // dropped.
    let server = TestServer::start_async().await;

    // Plain SMTP without TLS: only for tests against a local server.
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr().port())
        .hello_name(ClientId::Domain("app.example".to_owned()))
        .build();

    send_welcome(&mailer, "Zoë", "zoe@example.com").await?;

    // Waits (10 s at most) for the message, then asserts on the envelope
    // and on the content as a reader sees it: lettre sent the subject and
    // the name as RFC 2047 encoded words and the body in a transfer
    // encoding; `subject`, `to` and `text_body` decode them.
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.reverse_path().to_string(), "<noreply@app.example>");
    let to: Vec<String> = message.forward_paths().map(|p| p.to_string()).collect();
    assert_eq!(to, ["<zoe@example.com>"]);
    assert_eq!(
        message.helo().map(|h| h.to_string()).as_deref(),
        Some("app.example")
    );
    assert_eq!(message.subject(), Some("Welcome, Zoë!"));
    assert_eq!(message.to()[0].name(), Some("Zoë"));
    assert_eq!(
        message.from()[0].to_string(),
        "Example App <noreply@app.example>"
    );
    assert!(
        message
            .text_body()
            .is_some_and(|body| body.contains("Hello Zoë, thanks for signing up."))
    );

    println!(
        "the welcome email arrived: {} bytes, subject {:?} (on the wire {:?})",
        message.data().len(),
        message.subject().unwrap_or_default(),
        message.raw_header("Subject").unwrap_or_default()
    );
    Ok(())
}
