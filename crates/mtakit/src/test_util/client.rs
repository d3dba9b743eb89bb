use std::net::SocketAddr;
use std::sync::Arc;

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::{EnhancedCode, Reply};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

/// A byte stream the client can speak over: plain TCP or TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

async fn tls_handshake(
    stream: Box<dyn Stream>,
    config: Arc<ClientConfig>,
    server_name: &str,
) -> std::io::Result<Box<dyn Stream>> {
    let name = ServerName::try_from(server_name.to_owned()).map_err(invalid)?;
    let tls = TlsConnector::from(config).connect(name, stream).await?;
    Ok(Box::new(tls))
}

/// A raw SMTP client for tests: it sends exactly what you say and returns
/// each reply typed, so a test can assert on codes, enhanced codes and
/// lines.
///
/// ```
/// use mtakit::test_util::{ReplyExt, TestClient, TestServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let server = TestServer::start_async().await;
/// let mut client = TestClient::connect(server.addr()).await?;
/// client.greeting().assert_code(220);
/// client.ehlo("client.example").await?.assert_code(250).assert_line("PIPELINING");
/// client.mail_from("<a@example.com>").await?.assert_enhanced("2.1.0");
/// client.rcpt_to("<b@example.com>").await?.assert_code(250);
/// client.data(b"Subject: hi\r\n\r\n.leading dot\r\n").await?.assert_code(250);
/// client.quit().await?.assert_code(221);
///
/// let messages = server.wait_for_messages_async(1).await;
/// assert_eq!(messages[0].data(), b"Subject: hi\r\n\r\n.leading dot\r\n");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestClient {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
    greeting: Reply,
}

impl TestClient {
    /// Connects and reads the greeting.
    ///
    /// # Errors
    ///
    /// If the connection or the greeting fails.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        Self::greet(Box::new(stream)).await
    }

    /// Connects with TLS from the first byte (implicit TLS), verifying the
    /// server's certificate for `server_name` with `config`, and reads the
    /// greeting.
    ///
    /// # Errors
    ///
    /// If the connection, the handshake or the greeting fails.
    pub async fn connect_tls(
        addr: SocketAddr,
        config: Arc<ClientConfig>,
        server_name: &str,
    ) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let tls = tls_handshake(Box::new(stream), config, server_name).await?;
        Self::greet(tls).await
    }

    async fn greet(stream: Box<dyn Stream>) -> std::io::Result<Self> {
        let mut client = Self {
            stream,
            buf: Vec::new(),
            greeting: Reply::new(220, None, "").expect("valid"),
        };
        client.greeting = client.read_reply().await?;
        Ok(client)
    }

    /// Sends STARTTLS; on `220`, discards anything else buffered (so a
    /// reply injected before TLS is never taken for one inside it), runs
    /// the handshake and returns the `220`. Any other reply is returned
    /// as it is, without a handshake.
    ///
    /// # Errors
    ///
    /// If the exchange or the handshake fails.
    pub async fn starttls(
        &mut self,
        config: Arc<ClientConfig>,
        server_name: &str,
    ) -> std::io::Result<Reply> {
        let reply = self.command("STARTTLS").await?;
        if reply.code().get() == 220 {
            self.upgrade_tls(config, server_name).await?;
        }
        Ok(reply)
    }

    /// Runs the TLS handshake now, after a `220` to a STARTTLS sent by hand,
    /// first discarding anything buffered.
    ///
    /// # Errors
    ///
    /// If the handshake fails.
    pub async fn upgrade_tls(
        &mut self,
        config: Arc<ClientConfig>,
        server_name: &str,
    ) -> std::io::Result<()> {
        self.buf.clear();
        let plain = std::mem::replace(&mut self.stream, Box::new(Closed));
        self.stream = tls_handshake(plain, config, server_name).await?;
        Ok(())
    }

    /// The greeting the server sent.
    pub fn greeting(&self) -> &Reply {
        &self.greeting
    }

    /// Sends raw bytes without reading anything.
    ///
    /// # Errors
    ///
    /// If writing fails.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads one complete reply.
    ///
    /// # Errors
    ///
    /// If the connection closes first, or the reply is malformed.
    pub async fn read_reply(&mut self) -> std::io::Result<Reply> {
        loop {
            match Reply::parse(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads `n` replies (for pipelined commands).
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn read_replies(&mut self, n: usize) -> std::io::Result<Vec<Reply>> {
        let mut replies = Vec::with_capacity(n);
        for _ in 0..n {
            replies.push(self.read_reply().await?);
        }
        Ok(replies)
    }

    /// True once the server closed the connection (reads to EOF; use
    /// after a closing reply).
    ///
    /// # Errors
    ///
    /// If reading fails other than by EOF.
    pub async fn is_closed(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 64];
        match self.stream.read(&mut chunk).await {
            Ok(0) => Ok(true),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(false)
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Sends one line (CRLF added) and reads its reply.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn command(&mut self, line: &str) -> std::io::Result<Reply> {
        self.send_raw(format!("{line}\r\n").as_bytes()).await?;
        self.read_reply().await
    }

    /// `EHLO name`.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn ehlo(&mut self, name: &str) -> std::io::Result<Reply> {
        self.command(&format!("EHLO {name}")).await
    }

    /// `HELO name`.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn helo(&mut self, name: &str) -> std::io::Result<Reply> {
        self.command(&format!("HELO {name}")).await
    }

    /// `MAIL FROM:` followed by `path` as given (include the brackets and
    /// any parameters).
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn mail_from(&mut self, path: &str) -> std::io::Result<Reply> {
        self.command(&format!("MAIL FROM:{path}")).await
    }

    /// `RCPT TO:` followed by `path` as given.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn rcpt_to(&mut self, path: &str) -> std::io::Result<Reply> {
        self.command(&format!("RCPT TO:{path}")).await
    }

    /// `DATA`; if the server answers `354`, sends `content` dot-stuffed
    /// (a CRLF is added if it does not end with one) and the terminator,
    /// and returns the final reply; otherwise returns the DATA reply.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn data(&mut self, content: &[u8]) -> std::io::Result<Reply> {
        let reply = self.command("DATA").await?;
        if reply.code().get() != 354 {
            return Ok(reply);
        }
        self.send_raw(&mtakit_proto::data::dot_stuff(content))
            .await?;
        self.read_reply().await
    }

    /// `AUTH PLAIN` with an initial response.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn auth_plain(&mut self, username: &str, password: &str) -> std::io::Result<Reply> {
        let token = encode_base64(format!("\0{username}\0{password}").as_bytes());
        self.command(&format!("AUTH PLAIN {token}")).await
    }

    /// `RSET`.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn rset(&mut self) -> std::io::Result<Reply> {
        self.command("RSET").await
    }

    /// `QUIT`.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn quit(&mut self) -> std::io::Result<Reply> {
        self.command("QUIT").await
    }
}

/// A placeholder stream during a TLS upgrade.
#[derive(Debug)]
struct Closed;

impl AsyncRead for Closed {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Closed {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Err(std::io::ErrorKind::NotConnected.into()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Fluent assertions on a [`Reply`]; each panics with the whole reply when
/// it does not hold.
pub trait ReplyExt {
    /// Asserts the reply code.
    #[track_caller]
    fn assert_code(&self, code: u16) -> &Self;
    /// Asserts the enhanced status code, e.g. `"2.1.5"`.
    #[track_caller]
    fn assert_enhanced(&self, enhanced: &str) -> &Self;
    /// Asserts that one line of text equals `line`.
    #[track_caller]
    fn assert_line(&self, line: &str) -> &Self;
    /// Asserts that the text contains `needle`.
    #[track_caller]
    fn assert_contains(&self, needle: &str) -> &Self;
}

impl ReplyExt for Reply {
    fn assert_code(&self, code: u16) -> &Self {
        assert_eq!(self.code().get(), code, "unexpected reply: {self}");
        self
    }

    fn assert_enhanced(&self, enhanced: &str) -> &Self {
        assert_eq!(
            self.enhanced(),
            EnhancedCode::parse(enhanced),
            "unexpected enhanced code in: {self}"
        );
        self
    }

    fn assert_line(&self, line: &str) -> &Self {
        assert!(
            self.lines().any(|l| l == line),
            "no line {line:?} in: {self}"
        );
        self
    }

    fn assert_contains(&self, needle: &str) -> &Self {
        assert!(self.text().contains(needle), "{needle:?} not in: {self}");
        self
    }
}
