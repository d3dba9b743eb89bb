use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::{EhloInfo, EnhancedCode, Reply};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::client::Client;

/// A byte stream the client can speak over: TCP, TLS, a duplex pipe.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

/// A raw SMTP client for tests: it sends exactly what you say and returns
/// each reply typed, so a test can assert on codes, enhanced codes and
/// lines. A thin layer over [`Client`] that speaks `std::io::Result`;
/// every wait is bounded by [`TestClient::DEFAULT_TIMEOUT`] unless
/// [`set_timeout`](Self::set_timeout) says otherwise.
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
///
/// Over any stream, such as a [`tokio::io::duplex`] pipe to
/// [`Server::serve_connection`](crate::Server::serve_connection), which
/// works with paused time:
///
/// ```
/// use mtakit::proto::ConnectionInfo;
/// use mtakit::test_util::{ReplyExt, TestClient};
/// use mtakit::Server;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (io, server_io) = tokio::io::duplex(4096);
/// let info = ConnectionInfo::new("192.0.2.1:4000".parse().unwrap(), "192.0.2.2:25".parse().unwrap());
/// tokio::spawn(Server::builder().build().serve_connection(server_io, info));
/// let mut client = TestClient::new(io).await?;
/// client.greeting().assert_code(220);
/// client.quit().await?.assert_code(221);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestClient {
    client: Client<Box<dyn Stream>>,
    greeting: Reply,
}

impl TestClient {
    /// How long each wait (a reply, a write, a handshake) may take
    /// unless [`set_timeout`](Self::set_timeout) changes it: 60 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// Speaks over `io`, any byte stream, and reads the greeting.
    ///
    /// # Errors
    ///
    /// If the greeting cannot be read.
    pub async fn new(
        io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    ) -> std::io::Result<Self> {
        Self::greet(Box::new(io)).await
    }

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
        let plain: Client<Box<dyn Stream>> = Client::new(Box::new(stream), Self::DEFAULT_TIMEOUT);
        let tls = Self::handshake(plain, config, server_name).await?;
        Self::greet(Box::new(tls.into_inner())).await
    }

    async fn greet(stream: Box<dyn Stream>) -> std::io::Result<Self> {
        let mut client = Client::new(stream, Self::DEFAULT_TIMEOUT);
        let greeting = client.read_reply().await?;
        Ok(Self { client, greeting })
    }

    async fn handshake(
        plain: Client<Box<dyn Stream>>,
        config: Arc<ClientConfig>,
        server_name: &str,
    ) -> std::io::Result<Client<Box<dyn Stream>>> {
        let name = ServerName::try_from(server_name.to_owned()).map_err(invalid)?;
        let timeout = plain.timeout();
        let tls = plain.upgrade_tls(config, name).await?;
        Ok(Client::new(Box::new(tls.into_inner()), timeout))
    }

    /// Changes the bound on each wait (the default is
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)). With paused time, set
    /// it above any delay the server under test takes.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.client.set_timeout(timeout);
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
        let timeout = self.client.timeout();
        let plain = std::mem::replace(&mut self.client, Client::new(Box::new(Closed), timeout));
        self.client = Self::handshake(plain, config, server_name).await?;
        Ok(())
    }

    /// The greeting the server sent.
    pub fn greeting(&self) -> &Reply {
        &self.greeting
    }

    /// What the last accepted EHLO said: the server's name and extensions.
    pub fn ehlo_info(&self) -> Option<&EhloInfo> {
        self.client.ehlo_info()
    }

    /// Sends raw bytes without reading anything.
    ///
    /// # Errors
    ///
    /// If writing fails.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        Ok(self.client.send(bytes).await?)
    }

    /// Reads one complete reply.
    ///
    /// # Errors
    ///
    /// If the connection closes first, or the reply is malformed or
    /// beyond the reader's bounds.
    pub async fn read_reply(&mut self) -> std::io::Result<Reply> {
        Ok(self.client.read_reply().await?)
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
        Ok(self.client.is_closed().await?)
    }

    /// Sends one line (CRLF added) and reads its reply.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn command(&mut self, line: &str) -> std::io::Result<Reply> {
        Ok(self.client.command(line).await?)
    }

    /// `EHLO name`.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn ehlo(&mut self, name: &str) -> std::io::Result<Reply> {
        Ok(self.client.ehlo(name).await?)
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
        Ok(self.client.data(content).await?)
    }

    /// `BDAT n` (`BDAT n LAST` when `last`) with `chunk`, and its reply.
    ///
    /// # Errors
    ///
    /// As [`read_reply`](Self::read_reply).
    pub async fn bdat(&mut self, chunk: &[u8], last: bool) -> std::io::Result<Reply> {
        Ok(self.client.bdat(chunk, last).await?)
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
