//! A test harness: [`TestServer`] runs a real server on `127.0.0.1:0`,
//! [`TestClient`] speaks raw SMTP to it and returns typed replies.
//!
//! Enable it with the `test-util` feature, usually as a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! mtakit = { version = "0.1", features = ["test-util"] }
//! ```

mod client;
mod server;

pub use crate::message::{Attachment, NamedAddress};
pub use client::{ReplyExt, TestClient};
pub use server::{TestServer, TestServerBuilder};
