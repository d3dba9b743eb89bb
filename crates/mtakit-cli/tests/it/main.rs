//! The integration tests of the `mtakit` command, in one test binary: the
//! binary run as a process (stdout, stderr, port file, signals), its HTTP
//! API and web UI, TLS, LMTP with a real Postfix, the relay and `load`.

mod browser;
mod http_api;
mod http_faults;
mod http_limits;
mod http_live;
mod http_stores;
mod load;
mod postfix_lmtp;
mod protocol;
mod relay;
mod relay_smuggling;
mod serve;
mod shutdown;
mod support;
mod tls;
mod trace_header;
