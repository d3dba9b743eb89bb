//! [`Server`] and its [`Builder`]: the accept loop, connection limits and
//! graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtakit_proto::{ConnectionInfo, Extensions, Limits, Reply, SessionConfig};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::rustls::ServerConfig;

use crate::auth::{Authenticator, NoAuth};
use crate::budget::{ContentBudget, DEFAULT_CONTENT_IN_FLIGHT};
use crate::driver::drive;
use crate::error::{ConnectionError, ServerError};
use crate::observe::{ObserverHandle, SessionObserver};
use crate::policy::{AcceptAll, MakePolicy};
use crate::proxy::Cidr;
use crate::shared::{ConnectionGuard, Connections, Refusal, Shared};
use crate::sink::{MessageSink, NullSink};

/// An SMTP server: a policy, an authenticator, a sink and limits.
///
/// Cloning is cheap; clones share everything.
///
/// ```no_run
/// use mtakit::{MemorySink, Server};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = MemorySink::new();
/// let server = Server::builder().hostname("mx.example.com").sink(sink.clone()).build();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:2525").await?;
/// server.serve(listener, async { tokio::signal::ctrl_c().await.ok(); }).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Server<P = AcceptAll, A = NoAuth, S = NullSink> {
    shared: Arc<Shared<P, A, S>>,
}

impl<P, A, S> Clone for Server<P, A, S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl Server {
    /// A builder with the defaults: accept everything, no AUTH, drop
    /// messages, no TLS.
    pub fn builder() -> Builder {
        Builder {
            options: Options {
                hostname: "localhost".to_owned(),
                limits: Limits::default(),
                extensions: Extensions::default(),
                allow_insecure_auth: false,
                require_auth: false,
                require_tls: false,
                lmtp: false,
                tls: None,
                proxy_from: Vec::new(),
                observer: None,
                shutdown_timeout: Duration::from_secs(30),
                content_in_flight: DEFAULT_CONTENT_IN_FLIGHT,
                transcript_bytes: crate::observe::TRANSCRIPT_BYTES,
            },
            policy: AcceptAll,
            authenticator: NoAuth,
            sink: NullSink,
        }
    }
}

/// The settings of a [`Builder`] that do not change its type.
#[derive(Debug)]
struct Options {
    hostname: String,
    limits: Limits,
    extensions: Extensions,
    allow_insecure_auth: bool,
    require_auth: bool,
    require_tls: bool,
    lmtp: bool,
    tls: Option<Arc<ServerConfig>>,
    proxy_from: Vec<Cidr>,
    observer: Option<ObserverHandle>,
    shutdown_timeout: Duration,
    content_in_flight: usize,
    transcript_bytes: usize,
}

/// Configures a [`Server`]; from [`Server::builder`].
#[derive(Debug)]
#[must_use]
pub struct Builder<P = AcceptAll, A = NoAuth, S = NullSink> {
    options: Options,
    policy: P,
    authenticator: A,
    sink: S,
}

impl<P: MakePolicy, A: Authenticator, S: MessageSink> Builder<P, A, S> {
    /// The name in the greeting and the EHLO reply. Default `localhost`.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.options.hostname = hostname.into();
        self
    }

    /// Every limit, including timeouts and connection caps.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options.limits = limits;
        self
    }

    /// The extensions advertised (each can be switched off).
    pub fn extensions(mut self, extensions: Extensions) -> Self {
        self.options.extensions = extensions;
        self
    }

    /// Offer and accept AUTH without TLS. Off by default (RFC 4954 §4):
    /// AUTH is then offered only after STARTTLS or on implicit TLS.
    pub fn allow_insecure_auth(mut self, allow: bool) -> Self {
        self.options.allow_insecure_auth = allow;
        self
    }

    /// Refuse MAIL until the client authenticated (`530 5.7.0`).
    pub fn require_auth(mut self, require: bool) -> Self {
        self.options.require_auth = require;
        self
    }

    /// Refuse MAIL until TLS is active (`530 5.7.0`).
    pub fn require_tls(mut self, require: bool) -> Self {
        self.options.require_tls = require;
        self
    }

    /// Speak LMTP (RFC 2033) instead of SMTP: LHLO, and one reply per
    /// recipient after the message, from
    /// [`MessageSink::deliver_each`](crate::MessageSink::deliver_each).
    pub fn lmtp(mut self, lmtp: bool) -> Self {
        self.options.lmtp = lmtp;
        self
    }

    /// Accepts a PROXY protocol header (v1 or v2) from these networks, and
    /// only from them: connections from there must start with one, and
    /// its source address becomes the peer the policy sees. Others are
    /// served as usual.
    pub fn proxy_protocol_from(mut self, networks: impl IntoIterator<Item = Cidr>) -> Self {
        self.options.proxy_from = networks.into_iter().collect();
        self
    }

    /// Records a [`Transcript`](crate::observe::Transcript) of every
    /// session and hands it to `observer` when the session ends.
    pub fn observer(mut self, observer: impl SessionObserver) -> Self {
        self.options.observer = Some(ObserverHandle(Arc::new(observer)));
        self
    }

    /// The most bytes each session's transcript holds; past it the middle
    /// of the session is dropped and counted in one
    /// [`Entry::Omitted`](crate::observe::Entry::Omitted). Default
    /// [`TRANSCRIPT_BYTES`](crate::observe::TRANSCRIPT_BYTES) (256 KiB).
    pub fn transcript_bytes(mut self, bytes: usize) -> Self {
        self.options.transcript_bytes = bytes;
        self
    }

    /// Enables STARTTLS (RFC 3207) with this configuration, and makes
    /// [`Server::serve_implicit_tls`] possible. See
    /// [`tls`](crate::tls) for building one.
    pub fn tls(mut self, config: Arc<ServerConfig>) -> Self {
        self.options.tls = Some(config);
        self
    }

    /// How long [`Server::serve`] lets transactions in flight finish after
    /// shutdown was asked for. Default 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = timeout;
        self
    }

    /// The most message content all sessions together may hold in memory
    /// while it arrives, in octets. A message whose content would overrun
    /// it is drained instead of stored and gets `452 4.3.1` at its end, so
    /// the client retries later; other sessions go on. Default
    /// [`DEFAULT_CONTENT_IN_FLIGHT`] (512 MiB).
    pub fn max_content_in_flight(mut self, octets: usize) -> Self {
        self.options.content_in_flight = octets;
        self
    }

    /// The policy deciding each command: any [`Policy`](crate::Policy),
    /// shared by all connections, or a [`MakePolicy`] that makes one per
    /// connection.
    pub fn policy<P2: MakePolicy>(self, policy: P2) -> Builder<P2, A, S> {
        Builder {
            options: self.options,
            policy,
            authenticator: self.authenticator,
            sink: self.sink,
        }
    }

    /// The authenticator checking AUTH credentials; AUTH is offered with
    /// its mechanisms.
    pub fn authenticator<A2: Authenticator>(self, authenticator: A2) -> Builder<P, A2, S> {
        Builder {
            options: self.options,
            policy: self.policy,
            authenticator,
            sink: self.sink,
        }
    }

    /// Where accepted messages go.
    pub fn sink<S2: MessageSink>(self, sink: S2) -> Builder<P, A, S2> {
        Builder {
            options: self.options,
            policy: self.policy,
            authenticator: self.authenticator,
            sink,
        }
    }

    /// Builds the server.
    pub fn build(self) -> Server<P, A, S> {
        let o = self.options;
        let mut config = SessionConfig::new(o.hostname);
        config.limits = o.limits;
        config.extensions = o.extensions;
        config.auth_mechanisms = self.authenticator.mechanisms();
        config.allow_insecure_auth = o.allow_insecure_auth;
        config.require_auth = o.require_auth;
        config.require_tls = o.require_tls;
        config.lmtp = o.lmtp;
        config.record_commands = o.observer.is_some();
        config.keep_content = self.sink.keeps_content();
        config.tls_available = o.tls.is_some();
        if o.allow_insecure_auth && !config.auth_mechanisms.is_empty() {
            tracing::warn!("AUTH is offered over plaintext connections");
        }
        Server {
            shared: Arc::new(Shared {
                config: Arc::new(config),
                policy: Arc::new(self.policy),
                authenticator: self.authenticator,
                sink: self.sink,
                tls: o.tls,
                proxy_from: o.proxy_from,
                observer: o.observer,
                content_budget: Arc::new(ContentBudget::new(o.content_in_flight)),
                transcript_bytes: o.transcript_bytes,
                shutdown_timeout: o.shutdown_timeout,
                connections: Mutex::new(Connections::default()),
            }),
        }
    }
}

impl<P: MakePolicy, A: Authenticator, S: MessageSink> Server<P, A, S> {
    /// The session configuration every connection gets.
    pub fn config(&self) -> &SessionConfig {
        &self.shared.config
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.shared.policy
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.shared.sink
    }

    /// Serves one already-accepted connection over any byte stream, until
    /// the session ends.
    ///
    /// ```
    /// use mtakit::Server;
    /// use mtakit::proto::ConnectionInfo;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (client, server_side) = tokio::io::duplex(4096);
    /// let info = ConnectionInfo::new("192.0.2.1:4567".parse()?, "192.0.2.2:25".parse()?);
    /// let task = tokio::spawn(Server::builder().build().serve_connection(server_side, info));
    ///
    /// let (mut rd, mut wr) = tokio::io::split(client);
    /// wr.write_all(b"QUIT\r\n").await?;
    /// let mut text = String::new();
    /// rd.read_to_string(&mut text).await?;
    /// assert_eq!(text, "220 localhost ESMTP mtakit\r\n221 localhost closing connection\r\n");
    /// task.await??;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConnectionError`] when the stream fails.
    pub async fn serve_connection<IO>(
        self,
        io: IO,
        info: ConnectionInfo,
    ) -> Result<(), ConnectionError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        // A sender that is never used: this connection is not drained.
        let (_keep, rx) = watch::channel(false);
        drive(io, info, self.shared, rx, false).await
    }

    /// Like [`serve_connection`](Self::serve_connection), but the TLS
    /// handshake comes first (implicit TLS, RFC 8314).
    ///
    /// # Errors
    ///
    /// [`ConnectionError`] when the stream or the handshake fails, or TLS
    /// is not configured.
    pub async fn serve_tls_connection<IO>(
        self,
        io: IO,
        info: ConnectionInfo,
    ) -> Result<(), ConnectionError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let (_keep, rx) = watch::channel(false);
        drive(io, info, self.shared, rx, true).await
    }

    /// Accepts connections from `listener` until `shutdown` completes, then
    /// stops accepting, tells idle sessions `421 4.3.2`, lets transactions
    /// in flight finish up to the shutdown timeout, and returns.
    ///
    /// Connections beyond [`Limits::max_connections`] (or the per-IP cap)
    /// get `421` and are closed.
    ///
    /// # Errors
    ///
    /// [`ServerError`] when the listener fails for good.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        self.serve_inner(listener, shutdown, false).await
    }

    /// Like [`serve`](Self::serve), but every connection starts with a TLS
    /// handshake (implicit TLS, RFC 8314, "port 465").
    ///
    /// # Errors
    ///
    /// [`ServerError::NoTls`] without a TLS configuration, or as `serve`.
    pub async fn serve_implicit_tls(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        if self.shared.tls.is_none() {
            return Err(ServerError::NoTls);
        }
        self.serve_inner(listener, shutdown, true).await
    }

    async fn serve_inner(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
        implicit_tls: bool,
    ) -> Result<(), ServerError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let local = listener.local_addr().map_err(ServerError::Bind)?;
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(5);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Err(e) = done {
                        tracing::error!(error = %e, "connection task failed");
                    }
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        backoff = Duration::from_millis(5);
                        self.spawn_connection(&mut tasks, stream, peer, local, stop_rx.clone(), implicit_tls);
                    }
                    Err(e) if is_transient(&e) => {
                        tracing::warn!(error = %e, "accept failed; backing off");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                    Err(e) => return Err(ServerError::Accept(e)),
                },
            }
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let drain = async {
            while let Some(done) = tasks.join_next().await {
                if let Err(e) = done {
                    tracing::error!(error = %e, "connection task failed");
                }
            }
        };
        if tokio::time::timeout(self.shared.shutdown_timeout, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                left = tasks.len(),
                "shutdown timeout: closing remaining sessions"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        Ok(())
    }

    fn spawn_connection(
        &self,
        tasks: &mut JoinSet<()>,
        mut stream: TcpStream,
        peer: SocketAddr,
        local: SocketAddr,
        stop: watch::Receiver<bool>,
        implicit_tls: bool,
    ) {
        let _ = stream.set_nodelay(true);
        // Every command gets a reply at once, which carries the ACK; without
        // this, Linux starts a connection in quick-ACK mode and sends a bare
        // ACK segment ahead of the first replies.
        #[cfg(target_os = "linux")]
        let _ = socket2::SockRef::from(&stream).set_tcp_quickack(false);
        let refusal = match self.shared.claim(peer.ip()) {
            Ok(()) => None,
            Err(Refusal::Total) => Some(Reply::too_many_connections()),
            Err(Refusal::PerIp) => Some(Reply::too_many_connections_from(peer.ip())),
        };
        if let Some(reply) = refusal {
            tracing::info!(%peer, "connection refused: over the limit");
            tasks.spawn(async move {
                let mut out = Vec::new();
                reply.write_to(&mut out);
                let _ = stream.write_all(&out).await;
                let _ = stream.shutdown().await;
            });
            return;
        }
        let shared = self.shared.clone();
        let info = ConnectionInfo::new(peer, local);
        tasks.spawn(async move {
            let span = tracing::debug_span!("smtp", %peer);
            let _guard = ConnectionGuard {
                shared: &shared,
                ip: peer.ip(),
            };
            let result = tracing::Instrument::instrument(
                drive(stream, info, shared.clone(), stop, implicit_tls),
                span,
            )
            .await;
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | OutOfMemory
    ) || e
        .raw_os_error()
        .is_some_and(|code| code == 23 || code == 24)
}
