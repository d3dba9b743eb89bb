//! [`ClientError`]: why a client exchange failed.

use std::fmt;
use std::io;

use mtakit_proto::ReplyReadError;

/// Why an exchange of a [`Client`](super::Client) failed. After any of
/// these the connection should be dropped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// Reading or writing failed, or the TLS handshake did.
    Io(io::Error),
    /// The server did not answer (or take what was written) within the
    /// client's timeout.
    Timeout,
    /// The server closed the connection before a whole reply.
    Closed,
    /// The server's reply broke a bound or was malformed.
    Reply(ReplyReadError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Timeout => f.write_str("the server did not answer in time"),
            Self::Closed => f.write_str("the server closed the connection"),
            Self::Reply(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Reply(e) => Some(e),
            Self::Timeout | Self::Closed => None,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<ReplyReadError> for ClientError {
    fn from(e: ReplyReadError) -> Self {
        Self::Reply(e)
    }
}

/// As an [`io::Error`]: `TimedOut`, `UnexpectedEof`, `InvalidData`, or
/// the error itself.
impl From<ClientError> for io::Error {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Io(e) => e,
            ClientError::Timeout => io::Error::new(io::ErrorKind::TimedOut, e.to_string()),
            ClientError::Closed => io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()),
            ClientError::Reply(r) => io::Error::new(io::ErrorKind::InvalidData, r),
        }
    }
}
