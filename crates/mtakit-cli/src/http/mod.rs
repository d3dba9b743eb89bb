//! The HTTP side of `mtakit serve`: a JSON API over the received messages,
//! live events, session transcripts and fault rules, and the web UI.

mod detail;
mod error;
mod events;
mod filter;
mod forward;
mod fuzzing;
mod headers;
mod listener;
mod lookup;
mod maildir;
mod mime_guard;
mod model;
mod native;
mod router;
mod sink;
mod state;
mod store;
mod stored;
#[cfg(test)]
mod tests;
mod ui;
mod waiters;

pub(crate) use events::{Hub, HubThread, SESSIONS_MAX_BYTES};
pub(crate) use forward::{RELAY_CONNECTIONS, RELAY_QUEUE};
pub(crate) use fuzzing::message_model;
pub(crate) use listener::HttpLimits;
pub(crate) use native::load_file as load_faults;
pub(crate) use router::{announce, serve};
pub(crate) use sink::StoreSink;
pub(crate) use state::App;
pub(crate) use store::{STORE_BYTES, Store};
pub(crate) use waiters::MAX_WAITERS;
