//! The integration tests of `mtakit`, in one test binary: real sessions
//! over TCP and in-memory pipes against the server, with its policies,
//! sinks, TLS, LMTP, PROXY, faults, budgets and the test harness.

mod budgets;
mod chunking;
mod extensions_off;
mod faults;
mod findings;
mod golden;
mod input_limits;
mod interop_lettre;
mod lmtp;
mod oauth;
mod pipelining;
mod policy_compose;
mod policy_dispatch;
mod policy_errors;
mod proxy_protocol;
mod proxy_protocol_timeouts;
mod server_auth;
mod server_connections;
mod server_harness;
mod server_policy;
mod server_sinks;
mod server_timeouts;
mod smuggling;
mod soak;
mod support;
mod tls;
mod transcripts;
