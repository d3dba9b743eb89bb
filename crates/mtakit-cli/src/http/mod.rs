//! The HTTP side of `mtakit serve`: a JSON API over the received messages,
//! live events, session transcripts and fault rules, and the web UI.

mod api;
mod detail;
mod error;
mod events;
mod faults;
mod forward;
mod maildir;
mod model;
mod sink;
mod store;
mod ui;

pub(crate) use api::{App, announce, serve};
pub(crate) use events::Hub;
pub(crate) use faults::load_file as load_faults;
pub(crate) use forward::{RELAY_CONNECTIONS, RELAY_QUEUE};
pub(crate) use sink::StoreSink;
pub(crate) use store::Store;
