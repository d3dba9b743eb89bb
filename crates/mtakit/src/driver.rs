//! The per-connection driver: socket bytes into the [`Session`], events out
//! to the socket, the policy, the authenticator and the sink.

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use mtakit_proto::{ConnectionInfo, Event, Pending, Session, TimeoutKind, Verdict};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::auth::Authenticator;
use crate::budget::Reservation;
use crate::error::ConnectionError;
use crate::hooks::{decide, deliver, queued_as};
use crate::observe::{Entry, Recorder};
use crate::policy::MakePolicy;
use crate::shared::Shared;
use crate::sink::MessageSink;
use crate::tls::tls_info;

/// The size of each thread's read buffer, and so the most one read takes
/// from the socket.
const READ_SIZE: usize = 64 * 1024;

/// Replies waiting to be sent beyond which the driver stops handling
/// input and writes them first. A client that pipelines commands and never
/// reads the replies (18 times as many octets for `HELP`) thus holds at
/// most this much of the server's memory, as with Postfix's lock-step
/// flush.
pub(crate) const UNSENT_REPLIES_MAX: usize = 16 * 1024;

/// The reply buffer's capacity kept after a flush; a larger one (after a
/// burst) is freed.
const UNSENT_REPLIES_KEEP: usize = 4 * 1024;

thread_local! {
    /// The buffer every connection on this thread reads into. A read takes
    /// it only for one synchronous `poll_read` and hands the bytes to the
    /// [`Session`] before giving it back, so no connection owns a read
    /// buffer: an idle session costs no buffer memory, and a busy one never
    /// allocates, zeroes or frees one per message.
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_SIZE].into_boxed_slice());
}

/// Reads once from `io` and feeds what arrived to `session`. Returns the
/// number of octets read; 0 is the end of input.
fn poll_read_into<IO: AsyncRead + Unpin>(
    io: &mut IO,
    session: &mut Session,
    cx: &mut Context<'_>,
) -> Poll<std::io::Result<usize>> {
    READ_BUF.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => read_and_feed(io, session, cx, &mut buf),
        // Only a reentrant poll on this thread gets here; it reads into a
        // buffer of its own rather than fail.
        Err(_) => read_and_feed(io, session, cx, &mut vec![0u8; 4096]),
    })
}

fn read_and_feed<IO: AsyncRead + Unpin>(
    io: &mut IO,
    session: &mut Session,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<std::io::Result<usize>> {
    let mut read = ReadBuf::new(buf);
    ready!(Pin::new(io).poll_read(cx, &mut read))?;
    let filled = read.filled();
    if !filled.is_empty() {
        session.receive(filled);
    }
    Poll::Ready(Ok(filled.len()))
}

/// What ended a run of the read/write loop.
enum Outcome {
    /// The session closed.
    Closed,
    /// The session asked for a TLS handshake.
    StartTls,
}

/// The state of one connection that survives a STARTTLS upgrade.
struct Driver<P: MakePolicy, A, S> {
    shared: Arc<Shared<P, A, S>>,
    /// This connection's policy.
    policy: P::Policy,
    session: Session,
    shutdown: watch::Receiver<bool>,
    draining: bool,
    out: Vec<u8>,
    /// The transcript, when the server has an observer.
    recorder: Option<Box<Recorder>>,
    /// The client closed its side first.
    peer_gone: bool,
    /// This connection's share of the server's content budget.
    reservation: Reservation,
}

/// Drives one connection to its end; with `implicit_tls`, the TLS
/// handshake comes first (RFC 8314).
pub(crate) async fn drive<IO, P, A, S>(
    io: IO,
    mut info: ConnectionInfo,
    shared: Arc<Shared<P, A, S>>,
    shutdown: watch::Receiver<bool>,
    implicit_tls: bool,
) -> Result<(), ConnectionError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
    P: MakePolicy,
    A: Authenticator,
    S: MessageSink,
{
    let (mut io, policy) = P::connect(&shared.policy, io, &info);
    let mut prefix = Vec::new();
    if shared
        .proxy_from
        .iter()
        .any(|net| net.contains(info.peer.ip()))
    {
        let (header, rest) =
            crate::proxy::read_header(&mut io, shared.config.limits.command_timeout)
                .await
                .map_err(ConnectionError::Proxy)?;
        tracing::debug!(?header, "PROXY header");
        crate::proxy::apply(&header, &mut info.peer, &mut info.local);
        prefix = rest;
    }
    let io = crate::proxy::Prefixed::new(prefix, io);
    if implicit_tls {
        // Boxed: the TLS stream is large, and plaintext sessions need not
        // carry room for it.
        return Box::pin(async move {
            let mut tls = handshake(&shared, io).await?;
            let tls_facts = tls_info(tls.get_ref().1);
            info.tls = Some(tls_facts.clone());
            let mut driver = Driver::new(shared, shutdown, info, policy);
            if let Some(recorder) = driver.recorder.as_mut() {
                recorder.tls(&tls_facts);
            }
            let result = driver.run(&mut tls).await.map(|_| ());
            driver.finish(&result);
            result
        })
        .await;
    }
    let mut driver = Driver::new(shared, shutdown, info, policy);
    let result = driver.run_with_starttls(io).await;
    driver.finish(&result);
    result
}

/// Runs the server side of a TLS handshake within the command timeout.
async fn handshake<IO, P, A, S>(
    shared: &Shared<P, A, S>,
    io: IO,
) -> Result<tokio_rustls::server::TlsStream<IO>, ConnectionError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let Some(config) = shared.tls.clone() else {
        return Err(ConnectionError::internal(
            "TLS requested but not configured",
        ));
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    match tokio::time::timeout(shared.config.limits.command_timeout, acceptor.accept(io)).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(e)) => Err(ConnectionError::Tls(e)),
        Err(_) => Err(ConnectionError::Timeout),
    }
}

impl<P, A, S> Driver<P, A, S>
where
    P: MakePolicy,
    A: Authenticator,
    S: MessageSink,
{
    /// Looks, without waiting, for input that arrived before the greeting
    /// was sent: an early talker (recorded as a finding). What it sent is
    /// kept and answered in order after the greeting.
    async fn check_early_talker<IO: AsyncRead + Unpin>(&mut self, io: &mut IO) {
        // Poll the read once: data already there, or nothing now.
        let session = &mut self.session;
        let ready = poll_fn(|cx| match poll_read_into(io, session, cx) {
            Poll::Ready(result) => Poll::Ready(Some(result)),
            Poll::Pending => Poll::Ready(None),
        })
        .await;
        if let Some(Ok(n)) = ready
            && n > 0
        {
            self.session.client_spoke_early();
        }
    }

    /// Writes the queued replies, within the command timeout: a client
    /// that stops reading cannot hold the connection (security.md TO-4).
    async fn flush<IO: AsyncWrite + Unpin>(&mut self, io: &mut IO) -> Result<(), ConnectionError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let wait = self.shared.config.limits.command_timeout;
        let write = async {
            io.write_all(&self.out).await?;
            io.flush().await
        };
        match tokio::time::timeout(wait, write).await {
            Ok(result) => result?,
            Err(_) => return Err(ConnectionError::WriteTimeout),
        }
        self.out.clear();
        if self.out.capacity() > UNSENT_REPLIES_KEEP {
            // After a burst: an idle connection keeps no large buffer.
            self.out = Vec::new();
        }
        Ok(())
    }

    fn new(
        shared: Arc<Shared<P, A, S>>,
        shutdown: watch::Receiver<bool>,
        info: ConnectionInfo,
        policy: P::Policy,
    ) -> Self {
        let recorder = shared.observer.as_ref().map(|observer| {
            let recorder = Box::new(Recorder::with_budget(
                info.peer,
                info.local,
                shared.transcript_bytes,
            ));
            observer.session_started(recorder.id(), info.peer);
            recorder
        });
        let mut session = Session::new(shared.config.clone(), info);
        let draining = *shutdown.borrow();
        if draining {
            session.shutdown();
        }
        Self {
            reservation: Reservation::new(shared.content_budget.clone()),
            shared,
            policy,
            session,
            shutdown,
            draining,
            // Grows with a batch of replies, up to about
            // UNSENT_REPLIES_MAX, and is freed again after a large one.
            out: Vec::new(),
            recorder,
            peer_gone: false,
        }
    }

    /// Runs the session, upgrading to TLS when it asks for STARTTLS.
    async fn run_with_starttls<IO>(&mut self, mut io: IO) -> Result<(), ConnectionError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        match self.run(&mut io).await? {
            Outcome::Closed => Ok(()),
            Outcome::StartTls => Box::pin(self.upgrade(io)).await,
        }
    }

    /// Runs the STARTTLS handshake and the rest of the session over TLS.
    async fn upgrade<IO>(&mut self, io: IO) -> Result<(), ConnectionError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut tls = handshake(&self.shared, io).await?;
        let facts = tls_info(tls.get_ref().1);
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.tls(&facts);
        }
        self.session
            .tls_established(facts)
            .map_err(ConnectionError::internal)?;
        match self.run(&mut tls).await? {
            Outcome::Closed => Ok(()),
            Outcome::StartTls => Err(ConnectionError::internal("STARTTLS inside TLS")),
        }
    }

    /// Hands the transcript to the observer.
    fn finish(&mut self, result: &Result<(), ConnectionError>) {
        if let (Some(recorder), Some(observer)) = (self.recorder.take(), &self.shared.observer) {
            let end = match result {
                Ok(()) if self.peer_gone => "client closed".to_owned(),
                Ok(()) => "closed".to_owned(),
                Err(e) => e.to_string(),
            };
            observer.session_ended((*recorder).finish(end));
        }
    }

    /// Reads, feeds the session and answers its events until it closes or
    /// asks for TLS.
    async fn run<IO>(&mut self, io: &mut IO) -> Result<Outcome, ConnectionError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let shared = self.shared.clone();
        let limits = &shared.config.limits;
        // The deadline for the input the session waits for. It is set when
        // the session starts waiting (after it produced events), and partial
        // input does not push it back: a command must be complete within the
        // command timeout (security.md TO-2). In DATA and BDAT, each read
        // earns time at the minimum data rate, never more than one data
        // block timeout ahead (TO-3).
        let mut deadline: Option<(TimeoutKind, Instant)> = None;
        loop {
            let mut progressed = false;
            while let Some(event) = self.session.poll_event() {
                progressed = true;
                match event {
                    Event::Reply(reply) => {
                        if let Some(recorder) = self.recorder.as_mut() {
                            recorder.reply(&reply);
                        }
                        reply.write_to(&mut self.out);
                        if self.out.len() >= UNSENT_REPLIES_MAX {
                            self.flush(io).await?;
                        }
                    }
                    Event::PolicyError(error) => {
                        // A bug in the policy or sink: the client got a
                        // corrected reply; say why here.
                        tracing::warn!(peer = %self.session.info().peer(), %error, "policy error");
                    }
                    Event::Command(line) => {
                        if let Some(recorder) = self.recorder.as_mut() {
                            recorder.push(Entry::Command(line));
                        }
                    }
                    Event::Decide(pending) => {
                        let connect = matches!(pending, Pending::Connect);
                        // Boxed, like the other rare steps, so that an idle
                        // connection's future stays small.
                        let verdict =
                            Box::pin(decide(&shared, &self.policy, &self.session, pending)).await;
                        self.session
                            .decide(verdict)
                            .map_err(ConnectionError::internal)?;
                        if connect {
                            self.check_early_talker(io).await;
                        }
                    }
                    Event::Deliver(transaction) => {
                        let (mut verdicts, id) =
                            deliver(&shared, &self.policy, &self.session, transaction).await;
                        for verdict in &mut verdicts {
                            queued_as(verdict, &id);
                        }
                        if let Some(recorder) = self.recorder.as_mut()
                            && verdicts.iter().any(Verdict::is_accept)
                        {
                            recorder.push(Entry::Message(id));
                        }
                        let decided = if shared.config.lmtp {
                            self.session.decide_each(verdicts)
                        } else {
                            let verdict = verdicts.pop().unwrap_or_else(Verdict::reject);
                            self.session.decide(verdict)
                        };
                        decided.map_err(ConnectionError::internal)?;
                        // The content was held until the sink answered.
                        self.reservation.release_to(self.session.content_held());
                    }
                    Event::StartTls => {
                        self.flush(io).await?;
                        return Ok(Outcome::StartTls);
                    }
                    Event::Close => {
                        self.flush(io).await?;
                        let _ = io.shutdown().await;
                        return Ok(Outcome::Closed);
                    }
                    _ => {}
                }
            }
            self.flush(io).await?;
            let kind = self.session.timeout().unwrap_or(TimeoutKind::Command);
            let until = match deadline {
                Some((k, at)) if !progressed && k == kind => at,
                _ => {
                    let wait = match kind {
                        TimeoutKind::DataBlock => limits.data_block_timeout,
                        TimeoutKind::DataTermination => limits.data_termination_timeout,
                        _ => limits.command_timeout,
                    };
                    Instant::now() + wait
                }
            };
            deadline = Some((kind, until));
            tokio::select! {
                read = tokio::time::timeout_at(until, poll_fn(|cx| poll_read_into(io, &mut self.session, cx))) => match read {
                    Err(_) => self.session.timed_out(),
                    Ok(Ok(0)) => {
                        self.session.peer_closed();
                        self.peer_gone = true;
                        return Ok(Outcome::Closed);
                    }
                    Ok(Ok(n)) => {
                        self.reservation.track(&mut self.session);
                        if kind == TimeoutKind::DataBlock {
                            deadline = Some((kind, data_deadline(limits, until, n)));
                        }
                    }
                    Ok(Err(e)) => {
                        self.session.peer_closed();
                        return Err(ConnectionError::Io(e));
                    }
                },
                changed = self.shutdown.changed(), if !self.draining => {
                    let _ = changed;
                    self.draining = true;
                    self.session.shutdown();
                }
            }
        }
    }
}

/// The DATA deadline after a read of `n` octets: `n` octets earn
/// `n / min_data_rate` seconds, never beyond one data block timeout from
/// now. With no minimum rate, each read restarts the data block timeout.
fn data_deadline(limits: &mtakit_proto::Limits, until: Instant, n: usize) -> Instant {
    let cap = Instant::now() + limits.data_block_timeout;
    if limits.min_data_rate == 0 {
        return cap;
    }
    let earned = Duration::from_secs_f64(n as f64 / limits.min_data_rate as f64);
    (until + earned).min(cap)
}
