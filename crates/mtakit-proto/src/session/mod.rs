//! The SMTP session state machine (RFC 5321 §4.1.4), sans-IO.

mod apply;
mod auth;
mod check;
mod chunking;
mod config;
mod delivery;
mod event;
mod handlers;
mod info;
mod input;
mod machine;
mod offer;
mod policy_error;
mod replies;
mod state;
#[cfg(test)]
mod tests;
mod verdict;

pub use config::{ConnectionInfo, Extensions, SessionConfig, TlsInfo};
pub use event::{ApiMisuse, Event, Pending, TimeoutKind, Transaction};
pub use info::{AuthIdentity, Envelope, Greeting, Recipient, SessionInfo};
pub use input::MAX_PENDING_INPUT;
pub use machine::Session;
pub use policy_error::{PolicyError, StageKind};
pub use verdict::Verdict;
