//! The HTTP side of `mtakit serve`: a JSON API over the received messages,
//! live events, session transcripts and fault rules, and the web UI.

mod api;
#[cfg(test)]
mod api_tests;
mod detail;
mod error;
mod events;
mod faults;
mod filter;
mod forward;
mod fuzzing;
mod headers;
mod listener;
mod maildir;
mod mime_guard;
mod model;
mod sessions;
mod sink;
mod sse;
mod state;
mod store;
mod stored;
mod ui;
mod waiters;

pub(crate) use api::{App, announce, serve};
pub(crate) use events::{Hub, SESSIONS_MAX_BYTES};
pub(crate) use faults::load_file as load_faults;
pub(crate) use forward::{RELAY_CONNECTIONS, RELAY_QUEUE};
pub(crate) use fuzzing::message_model;
pub(crate) use listener::HttpLimits;
pub(crate) use sink::StoreSink;
pub(crate) use store::{STORE_BYTES, Store};
pub(crate) use waiters::MAX_WAITERS;
