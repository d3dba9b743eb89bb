//! The integration tests of the `mtakit` command, in one test binary: the
//! binary run as a process (stdout, stderr, port file, signals, start-up
//! errors, descriptor bounds), its web UI in a browser, TLS, LMTP with a
//! real Postfix, and `load`. The HTTP API's semantics are tested in
//! process, in the library (`src/http/tests`).

mod browser;
mod contract;
mod http_limits;
mod load;
mod postfix_lmtp;
mod protocol;
mod serve;
mod shutdown;
mod support;
mod tls;
