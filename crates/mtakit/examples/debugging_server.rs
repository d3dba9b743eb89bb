//! A debugging server, as in pymta's `examples/debugging_server.py`: every
//! message it accepts is printed on stdout between two marker lines.
//!
//! It shows the smallest useful [`MessageSink`]: one async method.
//!
//! ```text
//! cargo run -p mtakit --example debugging_server -- 127.0.0.1 8025   # serve until Ctrl-C
//! cargo run -p mtakit --example debugging_server                     # self-demo, then exit
//! ```
//!
//! With no arguments it listens on a free port, sends itself one message
//! with [`TestClient`], prints it and exits. With a host (and optionally a
//! port, default 8025) it serves until Ctrl-C; try it with
//! `swaks --server 127.0.0.1:8025` or Python's `smtplib`.

use std::error::Error;

use mtakit::proto::Reply;
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{Message, MessageSink, Server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Prints each message, like pymta's `STDOUTDeliverer`.
struct PrintSink;

impl MessageSink for PrintSink {
    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        println!("---------- MESSAGE FOLLOWS ----------");
        println!("Peer: {}", message.peer());
        if let Some(helo) = message.helo() {
            println!("Helo: {helo}");
        }
        println!("Mail-From: {}", message.reverse_path());
        for to in message.forward_paths() {
            println!("Rcpt-To: {to}");
        }
        println!();
        // The content line by line, each after "| " so that no line of the
        // message can pass for an end marker, and with control characters
        // (ESC, say) escaped so that a message cannot drive the terminal.
        for line in message.text().split_terminator("\r\n") {
            let shown: String = line
                .chars()
                .map(|c| match c {
                    '\t' => c.to_string(),
                    c if c.is_control() => c.escape_unicode().to_string(),
                    c => c.to_string(),
                })
                .collect();
            println!("| {shown}");
        }
        println!("------------ END MESSAGE ------------");
        // Ok means "stored": the client now gets its 250.
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let server = Server::builder()
        .hostname("localhost")
        .sink(PrintSink)
        .build();

    if let Some(host) = args.first() {
        let port: u16 = match args.get(1) {
            Some(port) => port.parse()?,
            None => 8025,
        };
        let listener = TcpListener::bind((host.as_str(), port)).await?;
        eprintln!("listening on {}; Ctrl-C stops", listener.local_addr()?);
        server
            .serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }

    // Self-demo: a free port, one message, then a clean shutdown.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    eprintln!("listening on {addr} (demo: sending one message, then exiting)");
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));

    let mut client = TestClient::connect(addr).await?;
    client.ehlo("client.example").await?.assert_code(250);
    client
        .mail_from("<alice@example.com>")
        .await?
        .assert_code(250);
    client.rcpt_to("<bob@example.com>").await?.assert_code(250);
    client
        .data(
            b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Hello\r\n\r\nHi Bob!\r\n",
        )
        .await?
        .assert_code(250);
    client.quit().await?.assert_code(221);

    let _ = stop.send(());
    running.await??;
    Ok(())
}
