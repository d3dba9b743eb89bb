use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use mtakit_proto::{Extensions, Limits};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::auth::{Authenticator, NoAuth};
use crate::message::Message;
use crate::policy::{AcceptAll, MakePolicy};
use crate::server::{Builder, Server};
use crate::sink::MemorySink;
use crate::tls::{TestPki, TlsScenario};
use tokio_rustls::rustls::ServerConfig;

/// How long [`TestServer::wait_for_messages`] waits by default.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// A real SMTP server on `127.0.0.1` with a free port, keeping every
/// accepted message in memory. It shuts down when dropped.
///
/// [`start`](Self::start) runs it on its own thread, for plain `#[test]`s;
/// [`start_async`](Self::start_async) runs it on the current tokio runtime,
/// for `#[tokio::test]`s.
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
/// use mtakit::test_util::TestServer;
///
/// let server = TestServer::start();
/// let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
/// stream
///     .write_all(b"HELO me\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
///     .unwrap();
/// let mut reader = BufReader::new(stream.try_clone().unwrap());
/// let mut line = String::new();
/// for _ in 0..5 {
///     line.clear();
///     reader.read_line(&mut line).unwrap();
/// }
/// assert!(line.starts_with("354"));
/// stream.write_all(b"Subject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n").unwrap();
///
/// let messages = server.wait_for_messages(1);
/// assert_eq!(messages[0].header("Subject"), Some("hi"));
/// assert_eq!(messages[0].reverse_path().to_string(), "<a@example.com>");
/// ```
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    sink: MemorySink,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    wait: Duration,
    pki: Option<Arc<TestPki>>,
}

impl TestServer {
    /// Starts a server with default settings on its own thread.
    #[track_caller]
    pub fn start() -> Self {
        Self::builder().start()
    }

    /// Starts a server with default settings on the current runtime.
    pub async fn start_async() -> Self {
        Self::builder().start_async().await
    }

    /// Configures a server: policy, authenticator, limits, hostname.
    pub fn builder() -> TestServerBuilder {
        let sink = MemorySink::new();
        TestServerBuilder {
            server: Server::builder()
                .allow_insecure_auth(true)
                .shutdown_timeout(Duration::from_secs(5))
                .sink(sink.clone()),
            sink,
            wait: DEFAULT_WAIT,
            pki: None,
            implicit_tls: false,
        }
    }

    /// The test PKI, when the server was started with
    /// [`tls_self_signed`](TestServerBuilder::tls_self_signed) or
    /// [`tls_scenario`](TestServerBuilder::tls_scenario); hand
    /// [`TestPki::ca_pem`] to the client as its trust root.
    pub fn pki(&self) -> Option<&TestPki> {
        self.pki.as_deref()
    }

    /// The address to connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store behind the server.
    pub fn sink(&self) -> &MemorySink {
        &self.sink
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<Message> {
        self.sink.messages()
    }

    /// Blocks until at least `n` messages arrived and returns them all.
    ///
    /// # Panics
    ///
    /// After the builder's wait timeout (10 s by default), with a list of
    /// what did arrive; the panic points at the caller's line.
    #[track_caller]
    pub fn wait_for_messages(&self, n: usize) -> Vec<Message> {
        match self.sink.wait_for(n, self.wait) {
            Ok(messages) => messages,
            Err(got) => panic!("{}", describe_shortfall(n, self.wait, &got)),
        }
    }

    /// Waits without blocking the runtime until at least `n` messages
    /// arrived, and returns them all.
    ///
    /// # Panics
    ///
    /// After the wait timeout, with a list of what did arrive. `#[track_caller]`
    /// does not reach through `.await`, so this is a plain function that
    /// notes where it was called and returns the future: the panic message
    /// names the caller's file and line (`at tests/it.rs:42:10`).
    #[track_caller]
    pub fn wait_for_messages_async(
        &self,
        n: usize,
    ) -> impl Future<Output = Vec<Message>> + Send + '_ {
        let caller = std::panic::Location::caller();
        async move {
            match self.sink.wait_for_async(n, self.wait).await {
                Ok(messages) => messages,
                Err(got) => panic!("{} (at {caller})", describe_shortfall(n, self.wait, &got)),
            }
        }
    }

    /// Stops the server now (idle sessions get `421`).
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // An async server drains on its own runtime; dropping the handle
        // detaches it.
        drop(self.task.take());
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn describe_shortfall(n: usize, wait: Duration, got: &[Message]) -> String {
    let mut text = format!(
        "expected at least {n} message(s) within {wait:?}, but {} arrived",
        got.len()
    );
    for (i, m) in got.iter().enumerate() {
        let to: Vec<String> = m.forward_paths().map(ToString::to_string).collect();
        text.push_str(&format!(
            "\n  #{i}: from {} to {} subject {:?} ({} bytes)",
            m.reverse_path(),
            to.join(", "),
            m.subject().unwrap_or_default(),
            m.data().len()
        ));
    }
    text
}

/// Configures a [`TestServer`]; from [`TestServer::builder`].
///
/// It wraps the server's own [`Builder`], with the harness's defaults
/// (AUTH allowed without TLS, a 5 s shutdown timeout, an in-memory sink);
/// [`configure`](Self::configure) reaches every setting of it.
#[derive(Debug)]
#[must_use]
pub struct TestServerBuilder<P = AcceptAll, A = NoAuth> {
    server: Builder<P, A, MemorySink>,
    sink: MemorySink,
    wait: Duration,
    pki: Option<Arc<TestPki>>,
    implicit_tls: bool,
}

impl<P: MakePolicy, A: Authenticator> TestServerBuilder<P, A> {
    /// Changes any setting of the wrapped server [`Builder`], for those
    /// that have no shortcut here (LMTP, `require_auth`, an observer, ...).
    ///
    /// ```
    /// use std::io::{BufRead, BufReader, Write};
    /// use mtakit::test_util::TestServer;
    ///
    /// let server = TestServer::builder()
    ///     .configure(|b| b.lmtp(true))
    ///     .start();
    /// let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    /// stream.write_all(b"LHLO client.example\r\n").unwrap();
    /// let mut reader = BufReader::new(stream);
    /// let mut line = String::new();
    /// reader.read_line(&mut line).unwrap(); // the greeting
    /// line.clear();
    /// reader.read_line(&mut line).unwrap();
    /// assert!(line.starts_with("250"), "{line}");
    /// ```
    pub fn configure(
        mut self,
        f: impl FnOnce(Builder<P, A, MemorySink>) -> Builder<P, A, MemorySink>,
    ) -> Self {
        self.server = f(self.server);
        self
    }

    /// Offers STARTTLS with this configuration.
    pub fn tls(self, config: Arc<ServerConfig>) -> Self {
        self.configure(|b| b.tls(config))
    }

    /// Offers STARTTLS with a certificate for `localhost`, `127.0.0.1` and
    /// `::1` from a fresh [`TestPki`]; get its CA from
    /// [`TestServer::pki`].
    pub fn tls_self_signed(self) -> Self {
        self.tls_scenario(TlsScenario::Valid)
    }

    /// Offers TLS in one of the [`TlsScenario`]s (expired certificate,
    /// wrong host name, TLS 1.2 only, client certificate required), to
    /// test how a client copes.
    pub fn tls_scenario(mut self, scenario: TlsScenario) -> Self {
        let pki = Arc::new(TestPki::new(&["localhost"]));
        self = self.tls(pki.scenario(scenario));
        self.pki = Some(pki);
        self
    }

    /// Speaks TLS from the first byte (implicit TLS, RFC 8314) instead of
    /// offering STARTTLS. Needs a TLS configuration.
    pub fn implicit_tls(mut self) -> Self {
        self.implicit_tls = true;
        self
    }

    /// Refuses MAIL until TLS is active.
    pub fn require_tls(self) -> Self {
        self.configure(|b| b.require_tls(true))
    }

    /// The hostname in the greeting. Default `localhost`.
    pub fn hostname(self, hostname: impl Into<String>) -> Self {
        self.configure(|b| b.hostname(hostname))
    }

    /// The limits.
    pub fn limits(self, limits: Limits) -> Self {
        self.configure(|b| b.limits(limits))
    }

    /// The extensions.
    pub fn extensions(self, extensions: Extensions) -> Self {
        self.configure(|b| b.extensions(extensions))
    }

    /// Offer AUTH without TLS. On by default in the harness, which only
    /// listens on loopback; turn it off to test the production default.
    pub fn allow_insecure_auth(self, allow: bool) -> Self {
        self.configure(|b| b.allow_insecure_auth(allow))
    }

    /// How long `wait_for_messages` waits before failing. Default 10 s.
    pub fn wait_timeout(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The policy.
    pub fn policy<P2: MakePolicy>(self, policy: P2) -> TestServerBuilder<P2, A> {
        TestServerBuilder {
            server: self.server.policy(policy),
            sink: self.sink,
            wait: self.wait,
            pki: self.pki,
            implicit_tls: self.implicit_tls,
        }
    }

    /// The authenticator.
    pub fn authenticator<A2: Authenticator>(self, authenticator: A2) -> TestServerBuilder<P, A2> {
        TestServerBuilder {
            server: self.server.authenticator(authenticator),
            sink: self.sink,
            wait: self.wait,
            pki: self.pki,
            implicit_tls: self.implicit_tls,
        }
    }

    /// Starts the server on its own thread with its own runtime.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    #[track_caller]
    pub fn start(self) -> TestServer {
        let Self {
            server,
            sink,
            wait,
            pki,
            implicit_tls,
        } = self;
        let server = server.build();
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = std_listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name(format!("mtakit-test-server-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                    serve_until(server, listener, implicit_tls, stopped).await;
                });
            })
            .expect("spawn the server thread");
        TestServer {
            addr,
            sink,
            stop: Some(stop),
            thread: Some(thread),
            task: None,
            wait,
            pki,
        }
    }

    /// Starts the server as a task on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or if no loopback port can be bound.
    pub async fn start_async(self) -> TestServer {
        let Self {
            server,
            sink,
            wait,
            pki,
            implicit_tls,
        } = self;
        let server = server.build();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_until(server, listener, implicit_tls, stopped));
        TestServer {
            addr,
            sink,
            stop: Some(stop),
            thread: None,
            task: Some(task),
            wait,
            pki,
        }
    }
}

/// Serves `listener` (plaintext or implicit TLS) until `stopped` fires or
/// its sender is dropped.
async fn serve_until<P: MakePolicy, A: Authenticator>(
    server: Server<P, A, MemorySink>,
    listener: TcpListener,
    implicit_tls: bool,
    stopped: oneshot::Receiver<()>,
) {
    let stopped = async {
        let _ = stopped.await;
    };
    let _ = if implicit_tls {
        server.serve_implicit_tls(listener, stopped).await
    } else {
        server.serve(listener, stopped).await
    };
}
