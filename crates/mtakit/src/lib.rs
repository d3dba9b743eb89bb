//! Build custom SMTP servers with tokio, and test mail-sending code
//! against a real SMTP server.
//!
//! mtakit does what the Python library pymta does, in Rust: a real SMTP
//! server whose behaviour you inject on every command.
//!
//! - A [`Policy`] accepts or rejects each command (connection, HELO/EHLO,
//!   STARTTLS, AUTH, MAIL, RCPT, DATA, the message, VRFY) with the default
//!   reply or a custom one, single or multi-line, and can close the
//!   connection. The server asks it through one method,
//!   [`Policy::decide`], with the [`Stage`]; the verdict may carry what the
//!   stage decides besides the reply (a message size, the EHLO
//!   extensions). Policies compose: [`policy_fn`], [`Policy::and_then`],
//!   [`Either`], and a [`MakePolicy`] makes one per connection.
//! - An [`Authenticator`] checks AUTH credentials.
//! - A [`MessageSink`] stores each accepted [`Message`], with its envelope,
//!   peer, HELO name and data, before the client gets its `250`.
//! - The protocol itself is the sans-IO state machine of
//!   [`mtakit_proto`], re-exported as [`proto`].
//!
//! ```text
//!  TcpListener ─► Server::serve ─► per connection: driver ◄─► proto::Session
//!                                        │ Decide(Pending) ─► Policy::decide(Stage) / Authenticator
//!                                        │ Deliver(Transaction) ─► Policy::decide(Stage::Message) ─► MessageSink
//! ```
//!
//! # Quick start: test your mail-sending code
//!
//! ```
//! use mtakit::test_util::TestServer;
//! use std::io::{Read, Write};
//!
//! // A real server on 127.0.0.1 with a free port; it stops when dropped.
//! let server = TestServer::start();
//!
//! // ... your code sends mail to server.addr() ...
//! # let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
//! # s.write_all(b"EHLO me\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<user@example.com>\r\n").unwrap();
//! # let mut buf = [0u8; 4096]; let mut got = String::new();
//! # while got.matches("\r\n250 ").count() < 3 { let n = s.read(&mut buf).unwrap(); got.push_str(std::str::from_utf8(&buf[..n]).unwrap()); }
//! # s.write_all(b"DATA\r\n").unwrap();
//! # while !got.contains("354 ") { let n = s.read(&mut buf).unwrap(); got.push_str(std::str::from_utf8(&buf[..n]).unwrap()); }
//! # s.write_all(b"From: =?UTF-8?Q?J=C3=BCrgen?= <app@example.com>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\nHello!\r\n.\r\nQUIT\r\n").unwrap();
//!
//! let messages = server.wait_for_messages(1);
//! let message = &messages[0];
//! // What a reader sees: encoded words, transfer encodings and charsets decoded.
//! assert_eq!(message.subject(), Some("Grüße"));
//! assert_eq!(message.from()[0].name(), Some("Jürgen"));
//! assert_eq!(message.text_body().map(str::trim_end), Some("Hello!"));
//! // The envelope, as the client gave it.
//! assert_eq!(message.forward_paths().next().unwrap().to_string(), "<user@example.com>");
//! ```
//!
//! `Message::subject`, `header`, `from`, `to`, `text_body`, `html_body`
//! and `attachments` decode what a test compares (feature `test-util`);
//! [`Message::raw_header`] and [`Message::data`] give the bytes as they
//! came.
//!
//! # Quick start: a server with a policy
//!
//! ```no_run
//! use mtakit::{MaildirSink, Policy, Server, Verdict};
//! use mtakit::proto::{ForwardPath, RcptParams, SessionInfo};
//!
//! struct LocalOnly;
//!
//! impl Policy for LocalOnly {
//!     async fn accept_rcpt_to(&self, _: &SessionInfo, to: &ForwardPath, _: &RcptParams) -> Verdict {
//!         let local = to.mailbox().is_some_and(|m| m.domain().eq_ignore_ascii_case("example.com"));
//!         Verdict::from(local)
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::builder()
//!     .hostname("mx.example.com")
//!     .policy(LocalOnly)
//!     .sink(MaildirSink::create("/var/mail/incoming")?)
//!     .build();
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:2525").await?;
//! server.serve(listener, async { tokio::signal::ctrl_c().await.ok(); }).await?;
//! # Ok(()) }
//! ```
//!
//! A policy can also be one closure over the [`Stage`], and policies
//! chain: the first verdict that does not accept wins.
//!
//! ```
//! use mtakit::{Policy, Server, Stage, Verdict, policy_fn};
//!
//! let local_only = policy_fn(|_, stage| {
//!     let verdict = match stage {
//!         Stage::RcptTo { forward_path, .. } => Verdict::from(
//!             forward_path
//!                 .mailbox()
//!                 .is_some_and(|m| m.domain().eq_ignore_ascii_case("example.com")),
//!         ),
//!         _ => Verdict::accept(),
//!     };
//!     async move { verdict }
//! });
//! let small = policy_fn(|_, stage| {
//!     let verdict = match stage {
//!         // Stage data rides on the verdict: this connection's size limit.
//!         Stage::Connect => Verdict::accept().with_max_message_size(1 << 20),
//!         _ => Verdict::accept(),
//!     };
//!     async move { verdict }
//! });
//! let server = Server::builder().policy(local_only.and_then(small)).build();
//! # let _ = server;
//! ```
//!
//! # Manual
//!
//! - [`docs::security`]: each threat, its default, and the test that proves it.
//! - [`docs::rfc_compliance`]: the RFC coverage table.
//!
//! # Features
//!
//! None is on by default; the default build has no test tooling in its
//! dependency tree.
//!
#![cfg_attr(
    feature = "test-util",
    doc = "- `test-util`: the test harness, [`test_util::TestServer`] and \
           [`test_util::TestClient`], the decoding assertion helpers of \
           [`Message`] (with `mail-parser`), and the throw-away test PKI \
           [`tls::TestPki`] (with `rcgen`)."
)]
#![cfg_attr(
    not(feature = "test-util"),
    doc = "- `test-util`: the test harness, `test_util::TestServer` and \
           `test_util::TestClient`, the decoding assertion helpers of \
           `Message` (with `mail-parser`), and the throw-away test PKI \
           `tls::TestPki` (with `rcgen`)."
)]
#![cfg_attr(
    feature = "mime",
    doc = "- `mime`: [`mime::parse`], mail-parser's MIME parse bounded in \
           depth, parts and RFC 2231 sections (on with `test-util`)."
)]
#![cfg_attr(
    not(feature = "mime"),
    doc = "- `mime`: `mime::parse`, mail-parser's MIME parse bounded in \
           depth, parts and RFC 2231 sections (on with `test-util`)."
)]
#![cfg_attr(
    feature = "faults",
    doc = "- `faults`: the fault engine, [`fault`] (with `regex`)."
)]
#![cfg_attr(
    not(feature = "faults"),
    doc = "- `faults`: the fault engine, `fault` (with `regex`)."
)]
#![cfg_attr(
    feature = "faults",
    doc = "- `serde`: `Serialize` and `Deserialize` for the fault rules \
           ([`fault::FaultRule`], [`fault::Stage`], [`fault::Scope`]), in \
           the TOML/JSON form of `mtakit serve --faults`; use it with `faults`."
)]
#![cfg_attr(
    not(feature = "faults"),
    doc = "- `serde`: `Serialize` and `Deserialize` for the fault rules \
           (`fault::FaultRule`, `fault::Stage`, `fault::Scope`), in the \
           TOML/JSON form of `mtakit serve --faults`; use it with `faults`."
)]
//! - Always: [`client::Client`], the async SMTP client the test harness,
//!   the relay and `mtakit load` share.
//!
//! # Stability
//!
//! Reply wording and default limits may change between minor versions;
//! the `Display` text of errors is not stable.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod budget;
pub mod client;
pub mod docs;
mod driver;
mod either;
mod error;
#[cfg(feature = "faults")]
#[cfg_attr(docsrs, doc(cfg(feature = "faults")))]
pub mod fault;
mod hooks;
mod message;
pub mod observe;
pub mod policy;
pub mod proxy;
mod server;
mod shared;
pub mod sink;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;
#[cfg(feature = "mime")]
#[cfg_attr(docsrs, doc(cfg(feature = "mime")))]
pub use message::mime;
pub mod tls;
mod trace;

pub use mtakit_proto as proto;

pub use auth::{AuthFn, AuthResult, Authenticator, NoAuth, UserTable, auth_fn};
pub use budget::DEFAULT_CONTENT_IN_FLIGHT;
pub use either::Either;
pub use error::{ConnectionError, ServerError};
pub use message::Message;
pub use mtakit_proto::{Limits, Reply, Verdict};
pub use policy::{AcceptAll, Chain, MakePolicy, Policy, PolicyFn, Stage, policy_fn};
pub use server::{Builder, Server};
pub use sink::{MaildirSink, MemorySink, MessageSink, NullSink};
