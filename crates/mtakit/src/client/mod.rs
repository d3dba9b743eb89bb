//! [`Client`]: the client side of SMTP over any byte stream.
//!
//! One small async client shared by `test_util::TestClient`,
//! the `mtakit` command's relay and its load generator. It sends exactly
//! what it is told and returns each reply typed; it makes no decisions.
//! Replies are read with the bounded
//! [`ReplyReader`], and every wait (a reply, a
//! write, the TLS handshake) is bounded by the timeout the caller gives.
//! It runs over anything that is `AsyncRead + AsyncWrite`: a `TcpStream`,
//! a TLS stream, or one end of [`tokio::io::duplex`] against
//! [`Server::serve_connection`](crate::Server::serve_connection).

mod error;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mtakit_proto::{EhloInfo, Reply, ReplyReader};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

pub use error::ClientError;

/// How many octets one read asks for.
const READ_CHUNK: usize = 4096;

/// An SMTP client over the stream `S`.
///
/// ```
/// use std::time::Duration;
/// use mtakit::client::Client;
/// use mtakit::proto::ConnectionInfo;
/// use mtakit::Server;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mtakit::client::ClientError> {
/// let (io, server_io) = tokio::io::duplex(4096);
/// let info = ConnectionInfo::new("192.0.2.1:4000".parse().unwrap(), "192.0.2.2:25".parse().unwrap());
/// tokio::spawn(Server::builder().build().serve_connection(server_io, info));
///
/// let mut client = Client::new(io, Duration::from_secs(5));
/// assert_eq!(client.read_reply().await?.code().get(), 220);
/// client.ehlo("client.example").await?;
/// assert!(client.ehlo_info().expect("EHLO accepted").pipelining());
/// client.command("MAIL FROM:<a@example.com>").await?;
/// client.command("RCPT TO:<b@example.com>").await?;
/// let reply = client.data(b"Subject: hi\r\n\r\n.dot\r\n").await?;
/// assert_eq!(reply.code().get(), 250);
/// assert_eq!(client.command("QUIT").await?.code().get(), 221);
/// # Ok(()) }
/// ```
pub struct Client<S> {
    io: S,
    reader: ReplyReader,
    timeout: Duration,
    ehlo: Option<EhloInfo>,
}

impl<S> fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("buffered", &self.reader.buffered())
            .field("timeout", &self.timeout)
            .field("ehlo", &self.ehlo)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// A client over `io` that waits at most `timeout` for each reply,
    /// write or handshake, reading replies with the default bounds of
    /// [`ReplyReader::new`]. Nothing is read yet: the first reply is the
    /// greeting.
    pub fn new(io: S, timeout: Duration) -> Self {
        Self::with_reader(io, timeout, ReplyReader::new())
    }

    /// As [`new`](Self::new), with a reader of your own bounds.
    pub fn with_reader(io: S, timeout: Duration, reader: ReplyReader) -> Self {
        Self {
            io,
            reader,
            timeout,
            ehlo: None,
        }
    }

    /// The timeout for each wait.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Changes the timeout for each wait.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// What the last accepted EHLO or LHLO said; `None` before one, after
    /// a refused one, and after a TLS upgrade (RFC 3207 §4.2).
    pub fn ehlo_info(&self) -> Option<&EhloInfo> {
        self.ehlo.as_ref()
    }

    /// Octets received and not yet read as a reply.
    pub fn buffered(&self) -> usize {
        self.reader.buffered()
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The stream, mutably. Bytes read from it directly bypass the
    /// client.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The stream; anything buffered is dropped.
    pub fn into_inner(self) -> S {
        self.io
    }

    async fn bounded<T>(
        timeout: Duration,
        step: impl Future<Output = std::io::Result<T>>,
    ) -> Result<T, ClientError> {
        tokio::time::timeout(timeout, step)
            .await
            .map_err(|_| ClientError::Timeout)?
            .map_err(ClientError::Io)
    }

    /// Writes `bytes` as they are, and flushes.
    ///
    /// # Errors
    ///
    /// [`ClientError::Io`] or [`ClientError::Timeout`].
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let io = &mut self.io;
        Self::bounded(self.timeout, async {
            io.write_all(bytes).await?;
            io.flush().await
        })
        .await
    }

    /// Reads once more from the stream into the reader; false at EOF.
    async fn fill(&mut self) -> Result<bool, ClientError> {
        let mut chunk = [0u8; READ_CHUNK];
        let n = Self::bounded(self.timeout, self.io.read(&mut chunk)).await?;
        self.reader.feed(&chunk[..n]);
        Ok(n > 0)
    }

    /// The next complete reply; pipelined replies come one call each.
    ///
    /// # Errors
    ///
    /// [`ClientError::Closed`] if the stream ends first,
    /// [`ClientError::Reply`] past the reader's bounds, and I/O or
    /// timeout errors.
    pub async fn read_reply(&mut self) -> Result<Reply, ClientError> {
        loop {
            if let Some(reply) = self.reader.next_reply()? {
                return Ok(reply);
            }
            if !self.fill().await? {
                return Err(ClientError::Closed);
            }
        }
    }

    /// True once the server has closed the connection: reads until EOF or
    /// until it sends something more (kept for
    /// [`read_reply`](Self::read_reply)). A reset counts as closed.
    ///
    /// # Errors
    ///
    /// Other I/O errors, and [`ClientError::Timeout`].
    pub async fn is_closed(&mut self) -> Result<bool, ClientError> {
        match self.fill().await {
            Ok(more) => Ok(!more),
            Err(ClientError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Sends one line (CRLF added) and reads its reply.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send) and [`read_reply`](Self::read_reply).
    pub async fn command(&mut self, line: &str) -> Result<Reply, ClientError> {
        let mut wire = Vec::with_capacity(line.len() + 2);
        wire.extend_from_slice(line.as_bytes());
        wire.extend_from_slice(b"\r\n");
        self.send(&wire).await?;
        self.read_reply().await
    }

    /// `EHLO name`; a `2xx` reply is kept as [`ehlo_info`](Self::ehlo_info).
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub async fn ehlo(&mut self, name: &str) -> Result<Reply, ClientError> {
        self.hello("EHLO", name).await
    }

    /// `LHLO name` (LMTP, RFC 2033), as [`ehlo`](Self::ehlo).
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub async fn lhlo(&mut self, name: &str) -> Result<Reply, ClientError> {
        self.hello("LHLO", name).await
    }

    async fn hello(&mut self, verb: &str, name: &str) -> Result<Reply, ClientError> {
        let reply = self.command(&format!("{verb} {name}")).await?;
        self.ehlo = EhloInfo::from_reply(&reply);
        Ok(reply)
    }

    /// `DATA`; on `354`, sends `content` dot-stuffed with its terminator
    /// ([`dot_stuff`](mtakit_proto::data::dot_stuff)) and returns the reply
    /// to it. Any other reply to DATA is returned as it is.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub async fn data(&mut self, content: &[u8]) -> Result<Reply, ClientError> {
        let reply = self.command("DATA").await?;
        if reply.code().get() != 354 {
            return Ok(reply);
        }
        self.send(&mtakit_proto::data::dot_stuff(content)).await?;
        self.read_reply().await
    }

    /// `BDAT n` (`BDAT n LAST` when `last`) with `chunk` in the same
    /// write (RFC 3030), and its reply.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub async fn bdat(&mut self, chunk: &[u8], last: bool) -> Result<Reply, ClientError> {
        let head = format!(
            "BDAT {}{}\r\n",
            chunk.len(),
            if last { " LAST" } else { "" }
        );
        let mut wire = Vec::with_capacity(head.len() + chunk.len());
        wire.extend_from_slice(head.as_bytes());
        wire.extend_from_slice(chunk);
        self.send(&wire).await?;
        self.read_reply().await
    }

    /// Runs the TLS handshake, after the server's `220` to STARTTLS (or at
    /// once for implicit TLS), verifying the server as `name` with
    /// `config`. Anything still buffered is dropped first, so a reply
    /// injected in plaintext is never read as one inside TLS; check
    /// [`buffered`](Self::buffered) before to refuse such a server
    /// instead. The EHLO information is forgotten.
    ///
    /// # Errors
    ///
    /// [`ClientError::Io`] if the handshake fails, or
    /// [`ClientError::Timeout`].
    pub async fn upgrade_tls(
        mut self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Client<TlsStream<S>>, ClientError> {
        self.reader.clear();
        let handshake = TlsConnector::from(config).connect(name, self.io);
        let io = Self::bounded(self.timeout, handshake).await?;
        Ok(Client {
            io,
            reader: self.reader,
            timeout: self.timeout,
            ehlo: None,
        })
    }
}

#[cfg(test)]
mod tests;
