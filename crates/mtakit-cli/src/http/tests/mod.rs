//! The HTTP API's semantics, in process: requests go through
//! [`router`](super::router::router) with `oneshot`, and messages arrive
//! either straight in the store or over real SMTP sessions to an
//! in-process server (`harness`).

mod faults;
mod harness;
mod limits;
mod live;
mod messages;
mod relay;
mod smuggling;
mod stores;
