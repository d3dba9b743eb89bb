//! [`ServeConfig`]: everything `mtakit serve` runs with, typed, and no
//! clap type in it. The flags are turned into one once (`from_args.rs`); the rest of the command reads only it, so
//! another front end (a Python package, a test) can build one by hand.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mtakit::proto::{Extensions, Limits};
use mtakit::proxy::Cidr;

use crate::http::HttpLimits;
use crate::relay::Relay;

/// Everything `mtakit serve` runs with.
#[derive(Clone, Debug)]
pub(crate) struct ServeConfig {
    /// The SMTP listen address (`--listen`).
    pub(crate) listen: String,
    /// The implicit-TLS listen address (`--implicit-tls`).
    pub(crate) implicit_tls: Option<String>,
    /// The HTTP API and web UI; `None` with `--no-http`.
    pub(crate) http: Option<HttpConfig>,
    /// Where the bound ports are written (`--port-file`).
    pub(crate) port_file: Option<PathBuf>,
    /// The name in the greeting and the EHLO reply.
    pub(crate) hostname: String,
    /// The session limits, defaults with what the flags override.
    pub(crate) limits: Limits,
    /// The extensions offered.
    pub(crate) extensions: Extensions,
    /// `--lmtp`.
    pub(crate) lmtp: bool,
    /// `--require-tls`.
    pub(crate) require_tls: bool,
    /// `--require-auth`.
    pub(crate) require_auth: bool,
    /// `--allow-insecure-auth`.
    pub(crate) allow_insecure_auth: bool,
    /// Networks a PROXY header is accepted (and required) from.
    pub(crate) proxy_from: Vec<Cidr>,
    /// The AUTH users, as (name, password).
    pub(crate) users: Vec<(String, String)>,
    /// Where the TLS certificate comes from.
    pub(crate) tls: TlsSource,
    /// Where accepted messages go.
    pub(crate) store: StoreKind,
    /// Print each message on stdout (not with `--quiet`, `--events -`, a
    /// Maildir or `--discard`).
    pub(crate) print: bool,
    /// Where `--events` lines go (`-` is stdout).
    pub(crate) events: Option<PathBuf>,
    /// The `--faults` file.
    pub(crate) faults: Option<PathBuf>,
    /// `--relay`, with its pool.
    pub(crate) relay: Option<RelayConfig>,
    /// Requests `/api/wait` holds at once.
    pub(crate) max_waiters: usize,
    /// Transcript bytes kept in total.
    pub(crate) sessions_max_bytes: usize,
    /// Transcript bytes per session; `None` keeps the library default.
    pub(crate) transcript_bytes: Option<usize>,
    /// Content in flight over all sessions; `None` keeps the default.
    pub(crate) max_content_in_flight: Option<usize>,
    /// Worker threads: 1 is one thread, 0 one per core.
    pub(crate) threads: usize,
    /// How long transactions in flight may finish at shutdown.
    pub(crate) shutdown_timeout: Option<Duration>,
}

/// The HTTP API's address and bounds.
#[derive(Clone, Debug)]
pub(crate) struct HttpConfig {
    /// The listen address (`--http`).
    pub(crate) addr: String,
    /// Connections, header and request timeouts.
    pub(crate) limits: HttpLimits,
}

/// Where the TLS certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TlsSource {
    /// No TLS.
    None,
    /// PEM files (`--tls-cert`, `--tls-key`).
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
    /// A generated test CA and certificate (`--tls-self-signed`), written
    /// into `dir` or a fresh private directory.
    SelfSigned {
        /// `--tls-dir`.
        dir: Option<PathBuf>,
    },
}

/// Where accepted messages are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StoreKind {
    /// In memory, within a count and a byte budget.
    Memory {
        /// `--store-limit`.
        limit: usize,
        /// `--store-bytes`.
        bytes: usize,
    },
    /// A Maildir (`--maildir`).
    Maildir(PathBuf),
    /// Nowhere (`--discard`).
    Discard,
}

/// `--relay` and its pool.
#[derive(Clone, Debug)]
pub(crate) struct RelayConfig {
    /// The next hop.
    pub(crate) relay: Arc<Relay>,
    /// Connections to it at once.
    pub(crate) connections: usize,
    /// Messages waiting for a connection.
    pub(crate) queue: usize,
}
