//! Errors of the server and of single connections.
//!
//! The `Display` text of these errors is for people and is not stable.

use std::io;

/// Setting up or running the accept loop failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Binding, or reading the listener's address, failed.
    #[error("cannot listen: {0}")]
    Bind(#[source] io::Error),
    /// Implicit TLS was asked for without a TLS configuration.
    #[error("implicit TLS needs a TLS configuration")]
    NoTls,
    /// Accepting failed in a way that cannot be retried.
    #[error("accept failed: {0}")]
    Accept(#[source] io::Error),
}

/// One connection ended with an error. These are logged by
/// [`Server::serve`](crate::Server::serve) and returned by
/// [`Server::serve_connection`](crate::Server::serve_connection).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// Reading or writing the stream failed (including a peer reset).
    #[error("connection I/O: {}", without_url(.0))]
    Io(#[from] io::Error),
    /// A trusted proxy sent no valid PROXY header.
    #[error("bad PROXY header: {0}")]
    Proxy(#[source] io::Error),
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {}", without_url(.0))]
    Tls(#[source] io::Error),
    /// The TLS handshake did not finish in time.
    #[error("TLS handshake timed out")]
    Timeout,
    /// The client did not read the replies within the command timeout.
    #[error("timed out writing to the client")]
    WriteTimeout,
    /// The driver hit a state it does not expect; a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The error's text without a trailing link to documentation (rustls
/// appends one to some errors): session end texts are shown in transcripts
/// and logs, where a URL is noise.
fn without_url(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(": https://") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

impl ConnectionError {
    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    /// True for I/O errors.
    pub fn is_io(&self) -> bool {
        matches!(self, Self::Io(_))
    }

    /// True for TLS handshake failures and timeouts.
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_) | Self::Timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_texts_carry_no_docs_url() {
        let eof = io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "peer closed connection without sending TLS close_notify: \
             https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof",
        );
        assert_eq!(
            ConnectionError::Io(eof).to_string(),
            "connection I/O: peer closed connection without sending TLS close_notify"
        );
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
        assert_eq!(
            ConnectionError::Tls(reset).to_string(),
            "TLS handshake failed: reset by peer"
        );
    }
}
