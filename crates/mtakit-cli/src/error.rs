//! Why `mtakit serve` could not run: one error type for every step of
//! its set-up and its run, each with a message for people.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why `mtakit serve` could not run.
#[derive(Debug)]
pub(crate) enum ServeError {
    /// The Maildir could not be created.
    Maildir(PathBuf, io::Error),
    /// The certificate or key could not be loaded.
    Tls(io::Error),
    /// The `--tls-self-signed` files could not be written.
    TlsDir(PathBuf, io::Error),
    /// A listen address could not be bound.
    Bind(String, io::Error),
    /// The async runtime could not start.
    Runtime(io::Error),
    /// An accept loop failed.
    Server(mtakit::ServerError),
    /// The `--faults` file could not be read or has a bad rule.
    Faults(PathBuf, String),
    /// The `--events` file could not be created.
    Events(PathBuf, io::Error),
    /// The `--port-file` could not be written.
    PortFile(PathBuf, io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Maildir(dir, e) => {
                write!(f, "cannot create the Maildir {}: {e}", dir.display())
            }
            ServeError::Tls(e) => write!(f, "cannot load the TLS certificate: {e}"),
            ServeError::TlsDir(dir, e) => write!(
                f,
                "cannot write the test certificates into {}: {e}",
                dir.display()
            ),
            ServeError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            ServeError::Runtime(e) => write!(f, "cannot start: {e}"),
            ServeError::Server(e) => write!(f, "server failed: {e}"),
            ServeError::Faults(file, e) => write!(
                f,
                "cannot load the fault rules from {}: {e}",
                file.display()
            ),
            ServeError::Events(file, e) => {
                write!(f, "cannot write events to {}: {e}", file.display())
            }
            ServeError::PortFile(file, e) => {
                write!(f, "cannot write the port file {}: {e}", file.display())
            }
        }
    }
}

impl std::error::Error for ServeError {}
