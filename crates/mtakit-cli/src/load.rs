//! `mtakit load ADDR`: an SMTP load generator, like Postfix's smtp-source,
//! that also reports latency.
//!
//! Each of `--connections` tasks opens a connection, reads the greeting,
//! says EHLO (or HELO with `--helo`) and sends messages until the shared
//! count of `--messages` is used up or `--duration` has passed. Without
//! `--reuse` every message gets its own connection, as smtp-source does
//! without `-d`.
//!
//! With `--pipelining`, and when the server advertises PIPELINING
//! (RFC 2920), MAIL, every RCPT and DATA go out in one write; the message
//! content is then sent together with the next MAIL/RCPT/DATA group (or
//! QUIT), since RFC 2920 §3.1 lets the content start a group. Replies are
//! read with a buffered reader and matched to the commands in order.
//!
//! `--tls` upgrades each connection with STARTTLS. With `--ca PEM` the
//! server certificate is verified against that CA. Without it, ANY
//! certificate is accepted: the handshake signatures are still checked,
//! but not who the server is. That is acceptable for a load tool pointed
//! at your own server, and for nothing else.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mtakit::proto::Reply;
use mtakit::proto::data::dot_stuff;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The flags of `mtakit load`.
#[derive(clap::Args, Debug)]
pub(crate) struct LoadArgs {
    /// Server to load, as HOST:PORT.
    #[arg(value_name = "ADDR")]
    pub(crate) addr: String,

    /// Concurrent sessions.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub(crate) connections: u64,

    /// Messages to send in total.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(crate) messages: u64,

    /// Size of each message in octets, headers included, before
    /// dot-stuffing.
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    pub(crate) size: usize,

    /// Recipients per message.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(crate) recipients: u64,

    /// Send many messages per connection; without it every message gets a
    /// new connection.
    #[arg(long)]
    pub(crate) reuse: bool,

    /// Pipeline commands (RFC 2920) when the server advertises PIPELINING:
    /// MAIL, RCPT and DATA in one write, the content together with the next
    /// group. Needs EHLO.
    #[arg(long, conflicts_with = "helo")]
    pub(crate) pipelining: bool,

    /// Upgrade each connection with STARTTLS. Without --ca, ANY server
    /// certificate is accepted: for load tests of your own server only.
    #[arg(long, conflicts_with = "helo")]
    pub(crate) tls: bool,

    /// With --tls, verify the server certificate against this PEM CA.
    #[arg(long, value_name = "PEM", requires = "tls")]
    pub(crate) ca: Option<PathBuf>,

    /// Stop starting messages after this many seconds, even if some remain.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) duration: Option<u64>,

    /// Say HELO instead of EHLO, as smtp-source does.
    #[arg(long)]
    pub(crate) helo: bool,

    /// Seconds to wait for any one reply or write before the session
    /// counts as failed.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout: u64,
}

/// `mtakit load`: runs the load on a new runtime and prints the report on
/// stdout. Fails when the arguments are unusable, or when not a single
/// message was accepted.
pub(crate) fn main(args: LoadArgs) -> ExitCode {
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mtakit: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(args: LoadArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let report = runtime.block_on(run(args))?;
    println!("{report}");
    if report.stats.sent == 0 && report.stats.errors > 0 {
        return Err("no message was accepted".to_owned());
    }
    Ok(())
}

/// Sends the load and measures it.
pub(crate) async fn run(args: LoadArgs) -> Result<Report, String> {
    let addr = tokio::net::lookup_host(&args.addr)
        .await
        .map_err(|e| format!("cannot resolve {}: {e}", args.addr))?
        .next()
        .ok_or_else(|| format!("{} resolves to no address", args.addr))?;
    let tls = if args.tls {
        let name = server_name(&args.addr)?;
        Some((client_config(args.ca.as_ref())?, name))
    } else {
        None
    };
    let shared = Arc::new(Shared {
        addr,
        tls,
        helo: args.helo,
        pipelining: args.pipelining,
        reuse: args.reuse,
        group: command_group(args.recipients),
        recipients: args.recipients,
        content: dot_stuff(&message(args.size)),
        size: args.size as u64,
        remaining: AtomicU64::new(args.messages),
        deadline: args
            .duration
            .map(|secs| Instant::now() + Duration::from_secs(secs)),
        timeout: Duration::from_secs(args.timeout),
    });
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections.min(args.messages.max(1)) {
        let shared = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move { worker(&shared).await }));
    }
    let mut total = Stats::default();
    for task in tasks {
        let stats = task.await.map_err(|e| format!("a worker failed: {e}"))?;
        total.merge(stats);
    }
    let elapsed = start.elapsed();
    total.transaction.sort_unstable();
    total.greeting.sort_unstable();
    Ok(Report {
        addr: args.addr,
        connections: args.connections,
        size: args.size,
        recipients: args.recipients,
        reuse: args.reuse,
        pipelining_asked: args.pipelining,
        tls: args.tls,
        helo: args.helo,
        elapsed,
        stats: total,
    })
}

/// What `mtakit load` measured. Latencies are sorted, in nanoseconds.
#[derive(Debug)]
pub(crate) struct Report {
    addr: String,
    connections: u64,
    size: usize,
    recipients: u64,
    reuse: bool,
    pipelining_asked: bool,
    tls: bool,
    helo: bool,
    elapsed: Duration,
    /// What every worker measured, added up.
    pub(crate) stats: Stats,
}

impl Report {
    /// Accepted messages per second.
    pub(crate) fn messages_per_sec(&self) -> f64 {
        self.stats.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Accepted message octets per second, in MiB.
    pub(crate) fn mib_per_sec(&self) -> f64 {
        self.stats.bytes as f64 / (1024.0 * 1024.0) / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match (self.reuse, self.pipelining_asked) {
            (false, false) => "new connection per message",
            (false, true) => "new connection per message, pipelining",
            (true, false) => "connections reused",
            (true, true) => "connections reused, pipelining",
        };
        writeln!(
            f,
            "mtakit load {}: {} connections, {} octets, {} recipient(s), {mode}{}{}",
            self.addr,
            self.connections,
            self.size,
            self.recipients,
            if self.tls { ", STARTTLS" } else { "" },
            if self.helo { ", HELO" } else { "" },
        )?;
        writeln!(
            f,
            "messages:    {} sent, {} errors in {:.3} s",
            self.stats.sent,
            self.stats.errors,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "throughput:  {:.1} msg/s, {:.2} MiB/s",
            self.messages_per_sec(),
            self.mib_per_sec()
        )?;
        writeln!(
            f,
            "sessions:    {} ({} pipelined)",
            self.stats.sessions, self.stats.pipelined_sessions
        )?;
        writeln!(
            f,
            "latency ms          p50        p99      p99.9        max    samples"
        )?;
        for (name, samples) in [
            ("transaction", &self.stats.transaction),
            ("first reply", &self.stats.greeting),
        ] {
            let ms = |p: f64| {
                percentile(samples, p)
                    .map_or_else(|| "-".to_owned(), |ns| format!("{:.3}", ns as f64 / 1e6))
            };
            writeln!(
                f,
                "{name:<12}{:>11}{:>11}{:>11}{:>11}{:>11}",
                ms(50.0),
                ms(99.0),
                ms(99.9),
                ms(100.0),
                samples.len()
            )?;
        }
        if !self.stats.error_kinds.is_empty() {
            writeln!(f, "errors by kind:")?;
            for (kind, count) in &self.stats.error_kinds {
                writeln!(f, "  {count:>8}  {kind}")?;
            }
        }
        Ok(())
    }
}

/// The nearest-rank percentile `p` (0..=100) of sorted samples.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // The epsilon keeps 99.9 % of 1000 at rank 999 despite rounding.
    let rank = ((p / 100.0) * n as f64 - 1e-9).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// The generated message: headers, then lines of 78 printable octets and
/// CRLF (as smtp-source sends), every 16th starting with a dot; exactly
/// `size` octets, ending in CRLF when `size >= 2`. Not yet dot-stuffed.
fn message(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 80);
    out.extend_from_slice(
        b"From: <load@mtakit.invalid>\r\n\
          To: <sink@mtakit.invalid>\r\n\
          Subject: mtakit load\r\n\
          Message-ID: <load@mtakit.invalid>\r\n\
          \r\n",
    );
    let mut line = 0usize;
    while out.len() < size {
        for i in 0..78 {
            let byte = if i == 0 && line % 16 == 15 {
                b'.'
            } else {
                b'a' + ((line + i) % 26) as u8
            };
            out.push(byte);
        }
        out.extend_from_slice(b"\r\n");
        line += 1;
    }
    out.truncate(size);
    if size >= 2 {
        out[size - 2] = b'\r';
        out[size - 1] = b'\n';
        // A cut line could now hold a bare CR right before the CRLF.
        if size >= 3 && out[size - 3] == b'\r' {
            out[size - 3] = b'x';
        }
    }
    out
}

/// The MAIL, RCPT and DATA lines of one transaction.
fn command_group(recipients: u64) -> Vec<u8> {
    let mut out = b"MAIL FROM:<load@mtakit.invalid>\r\n".to_vec();
    for i in 0..recipients {
        out.extend_from_slice(format!("RCPT TO:<sink{i}@mtakit.invalid>\r\n").as_bytes());
    }
    out.extend_from_slice(b"DATA\r\n");
    out
}

/// Settings and the message count shared by all workers.
struct Shared {
    addr: SocketAddr,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    helo: bool,
    pipelining: bool,
    reuse: bool,
    /// MAIL, the RCPTs and DATA, ready to write.
    group: Vec<u8>,
    recipients: u64,
    /// The dot-stuffed content with its terminator.
    content: Vec<u8>,
    size: u64,
    remaining: AtomicU64,
    deadline: Option<Instant>,
    timeout: Duration,
}

impl Shared {
    /// Takes one message from the count; false when none is left or the
    /// time is up.
    fn claim(&self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// What one worker measured, or (in a [`Report`]) all of them.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Messages accepted with a 2xx after the content.
    pub(crate) sent: u64,
    /// Messages that failed, by a negative reply or a broken session.
    pub(crate) errors: u64,
    /// Message octets accepted (before dot-stuffing).
    bytes: u64,
    /// Connections that got a 220 greeting.
    pub(crate) sessions: u64,
    /// Sessions that pipelined (asked for, and advertised).
    pub(crate) pipelined_sessions: u64,
    /// Errors by kind, such as `RCPT: 452 Too many recipients`.
    error_kinds: BTreeMap<String, u64>,
    /// From the first byte of MAIL to the reply after the content (sorted
    /// in a [`Report`]), in nanoseconds.
    pub(crate) transaction: Vec<u64>,
    /// From the start of connect to the greeting (sorted in a
    /// [`Report`]), in nanoseconds.
    greeting: Vec<u64>,
}

impl Stats {
    /// Records an error that cost `messages` messages (0 for one that came
    /// after every message of its session was counted, such as a lost QUIT
    /// reply).
    fn error(&mut self, kind: impl Into<String>, messages: u64) {
        self.errors += messages;
        let kind = kind.into();
        // Keep the table small when every error text differs.
        if self.error_kinds.len() < 32 || self.error_kinds.contains_key(&kind) {
            *self.error_kinds.entry(kind).or_default() += messages.max(1);
        }
    }

    fn delivered(&mut self, size: u64) {
        self.sent += 1;
        self.bytes += size;
    }

    fn merge(&mut self, other: Stats) {
        self.sent += other.sent;
        self.errors += other.errors;
        self.bytes += other.bytes;
        self.sessions += other.sessions;
        self.pipelined_sessions += other.pipelined_sessions;
        for (kind, n) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += n;
        }
        self.transaction.extend(other.transaction);
        self.greeting.extend(other.greeting);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One worker: sessions until the message count is used up.
async fn worker(shared: &Shared) -> Stats {
    let mut stats = Stats::default();
    while shared.claim() {
        // `session` owns the message just claimed; when it breaks, the
        // messages it had in flight are counted as errors.
        if let Err(e) = session(shared, &mut stats).await {
            stats.error(e.kind, e.lost);
        }
    }
    stats
}

/// A broken session: what went wrong, and how many claimed messages it
/// took down with it.
struct SessionError {
    kind: String,
    lost: u64,
}

impl SessionError {
    fn new(kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            lost: 1,
        }
    }
}

impl From<io::Error> for SessionError {
    fn from(e: io::Error) -> Self {
        Self::new(format!("I/O: {}", e.kind()))
    }
}

/// Sets how many claimed messages an error took down.
fn in_flight(lost: u64) -> impl FnOnce(SessionError) -> SessionError {
    move |mut e| {
        e.lost = lost;
        e
    }
}

/// The short form of a reply for the error table.
fn describe(stage: &str, reply: &Reply) -> String {
    let text: String = reply
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(60)
        .collect();
    format!("{stage}: {} {text}", reply.code().get())
}

fn positive(reply: &Reply) -> bool {
    reply.code().get() / 100 == 2
}

/// One connection: greeting, EHLO, optional STARTTLS, then one message
/// (or, with `--reuse`, messages until none is left), then QUIT. A message
/// has already been claimed for it.
async fn session(shared: &Shared, stats: &mut Stats) -> Result<(), SessionError> {
    let started = Instant::now();
    let tcp = TcpStream::connect(shared.addr).await?;
    tcp.set_nodelay(true)?;
    let mut conn = Conn::new(Stream::Plain(tcp), shared.timeout);
    let greeting = conn.reply().await?;
    if greeting.code().get() != 220 {
        return Err(SessionError::new(describe("greeting", &greeting)));
    }
    stats.greeting.push(nanos(started.elapsed()));
    stats.sessions += 1;
    let mut ehlo = conn.hello(shared.helo).await?;
    if let Some((config, name)) = &shared.tls {
        if !advertises(&ehlo, "STARTTLS") {
            return Err(SessionError::new("STARTTLS not advertised"));
        }
        conn.write(b"STARTTLS\r\n").await?;
        let go = conn.reply().await?;
        if go.code().get() != 220 {
            return Err(SessionError::new(describe("STARTTLS", &go)));
        }
        conn = conn.start_tls(Arc::clone(config), name.clone()).await?;
        ehlo = conn.hello(shared.helo).await?;
    }
    if shared.pipelining && advertises(&ehlo, "PIPELINING") {
        stats.pipelined_sessions += 1;
        pipelined(shared, &mut conn, stats).await
    } else {
        lock_step(shared, &mut conn, stats).await
    }
}

/// True when an EHLO reply lists `keyword` (any case) on one of its lines
/// after the first.
fn advertises(ehlo: &Reply, keyword: &str) -> bool {
    ehlo.lines().skip(1).any(|line| {
        line.split(' ')
            .next()
            .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
    })
}

/// Messages one command at a time, as smtp-source sends them.
async fn lock_step(
    shared: &Shared,
    conn: &mut Conn,
    stats: &mut Stats,
) -> Result<(), SessionError> {
    let mut lines = shared.group.split_inclusive(|&b| b == b'\n');
    let mail = lines.next().unwrap_or_default();
    let rcpts: Vec<&[u8]> = lines.take(shared.recipients as usize).collect();
    loop {
        let start = Instant::now();
        conn.write(mail).await?;
        let reply = conn.reply().await?;
        let mail_ok = positive(&reply);
        let mut failure = (!mail_ok).then(|| describe("MAIL", &reply));
        let mut accepted = 0;
        if mail_ok {
            for rcpt in &rcpts {
                conn.write(rcpt).await?;
                let reply = conn.reply().await?;
                if positive(&reply) {
                    accepted += 1;
                } else {
                    failure.get_or_insert_with(|| describe("RCPT", &reply));
                }
            }
        }
        let mut open = mail_ok;
        if accepted > 0 {
            conn.write(b"DATA\r\n").await?;
            let reply = conn.reply().await?;
            if reply.code().get() == 354 {
                conn.write(&shared.content).await?;
                let reply = conn.reply().await?;
                stats.transaction.push(nanos(start.elapsed()));
                open = false;
                if !positive(&reply) {
                    failure.get_or_insert_with(|| describe("content", &reply));
                }
            } else {
                failure.get_or_insert_with(|| describe("DATA", &reply));
            }
        }
        if open {
            // The transaction failed halfway: reset it.
            conn.write(b"RSET\r\n").await?;
            conn.reply().await?;
        }
        match failure {
            Some(kind) => stats.error(kind, 1),
            None => stats.delivered(shared.size),
        }
        if !(shared.reuse && shared.claim()) {
            break;
        }
    }
    conn.quit().await
}

/// Messages in RFC 2920 groups: MAIL, the RCPTs and DATA in one write; the
/// content and then the next group (or QUIT) in the next.
async fn pipelined(
    shared: &Shared,
    conn: &mut Conn,
    stats: &mut Stats,
) -> Result<(), SessionError> {
    let mut out = Vec::with_capacity(shared.content.len() + shared.group.len());
    let mut start = Instant::now();
    conn.write(&shared.group).await?;
    loop {
        // The replies to MAIL, each RCPT and DATA of the group in flight.
        let reply = conn.reply().await?;
        let mail_ok = positive(&reply);
        let mut failure = (!mail_ok).then(|| describe("MAIL", &reply));
        for _ in 0..shared.recipients {
            let reply = conn.reply().await?;
            if mail_ok && !positive(&reply) {
                failure.get_or_insert_with(|| describe("RCPT", &reply));
            }
        }
        let data = conn.reply().await?;
        let go = data.code().get() == 354;
        if !go {
            failure.get_or_insert_with(|| describe("DATA", &data));
        }
        out.clear();
        if go {
            out.extend_from_slice(&shared.content);
        } else if mail_ok {
            out.extend_from_slice(b"RSET\r\n");
        }
        let next = shared.reuse && shared.claim();
        if next {
            out.extend_from_slice(&shared.group);
        } else {
            out.extend_from_slice(b"QUIT\r\n");
        }
        let lost = 1 + u64::from(next);
        let next_start = Instant::now();
        conn.write(&out).await.map_err(in_flight(lost))?;
        if go || mail_ok {
            // The reply to the content, or to RSET.
            let reply = conn.reply().await.map_err(in_flight(lost))?;
            if go {
                stats.transaction.push(nanos(start.elapsed()));
                if !positive(&reply) {
                    failure.get_or_insert_with(|| describe("content", &reply));
                }
            }
        }
        match failure {
            Some(kind) => stats.error(kind, 1),
            None => stats.delivered(shared.size),
        }
        if !next {
            // The QUIT reply; every message of the session is counted.
            conn.reply().await.map_err(in_flight(0))?;
            return Ok(());
        }
        start = next_start;
    }
}

/// The byte stream under a connection.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
    #[cfg(test)]
    Memory(tokio::io::DuplexStream),
}

impl Stream {
    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.write_all(data).await,
            Self::Tls(tls) => tls.write_all(data).await,
            #[cfg(test)]
            Self::Memory(io) => io.write_all(data).await,
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf).await,
            Self::Tls(tls) => tls.read(buf).await,
            #[cfg(test)]
            Self::Memory(io) => io.read(buf).await,
        }
    }
}

/// A rustls client connection over a TCP stream, driven by hand.
struct TlsStream {
    tcp: TcpStream,
    tls: ClientConnection,
    scratch: Vec<u8>,
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl TlsStream {
    async fn handshake(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> io::Result<Self> {
        let tls = ClientConnection::new(config, name).map_err(tls_error)?;
        let mut stream = Self {
            tcp,
            tls,
            scratch: vec![0; 16 * 1024],
        };
        while stream.tls.is_handshaking() {
            stream.flush().await?;
            if stream.tls.is_handshaking() && stream.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        stream.flush().await?;
        Ok(stream)
    }

    /// Sends every pending TLS record.
    async fn flush(&mut self) -> io::Result<()> {
        let mut out = Vec::new();
        while self.tls.wants_write() {
            self.tls.write_tls(&mut out)?;
        }
        if !out.is_empty() {
            self.tcp.write_all(&out).await?;
        }
        Ok(())
    }

    /// Reads once from the socket into rustls; returns the octets read.
    async fn fill(&mut self) -> io::Result<usize> {
        let n = self.tcp.read(&mut self.scratch).await?;
        let mut input = &self.scratch[..n];
        while !input.is_empty() {
            self.tls.read_tls(&mut input)?;
            if let Err(e) = self.tls.process_new_packets() {
                // Send the alert that says why, then fail.
                let _ = self.flush().await;
                return Err(tls_error(e));
            }
        }
        Ok(n)
    }

    async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.tls.writer().write(data)?;
            data = &data[n..];
            self.flush().await?;
        }
        Ok(())
    }

    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed without close_notify.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if self.fill().await? == 0 {
                return Ok(0);
            }
            self.flush().await?;
        }
    }
}

/// A connection with a buffered reply reader.
struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    timeout: Duration,
}

/// The most reply octets buffered before the server counts as broken.
const MAX_REPLY_BUFFER: usize = 64 * 1024;

impl Conn {
    fn new(stream: Stream, timeout: Duration) -> Self {
        Self {
            stream,
            buf: vec![0; 4096],
            start: 0,
            end: 0,
            timeout,
        }
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), SessionError> {
        tokio::time::timeout(self.timeout, self.stream.write_all(data))
            .await
            .map_err(|_| SessionError::new("timeout writing"))??;
        Ok(())
    }

    /// The next complete reply, reading more when needed.
    async fn reply(&mut self) -> Result<Reply, SessionError> {
        loop {
            match Reply::parse(&self.buf[self.start..self.end]) {
                Ok(Some((reply, used))) => {
                    self.start += used;
                    if self.start == self.end {
                        self.start = 0;
                        self.end = 0;
                    }
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(_) => return Err(SessionError::new("malformed reply")),
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                if self.buf.len() >= MAX_REPLY_BUFFER {
                    return Err(SessionError::new("reply too long"));
                }
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let read = self.stream.read(&mut self.buf[self.end..]);
            let n = tokio::time::timeout(self.timeout, read)
                .await
                .map_err(|_| SessionError::new("timeout waiting for a reply"))??;
            if n == 0 {
                return Err(SessionError::new("connection closed by the server"));
            }
            self.end += n;
        }
    }

    /// EHLO (or HELO) and its reply, which must be 2xx.
    async fn hello(&mut self, helo: bool) -> Result<Reply, SessionError> {
        let (verb, line): (&str, &[u8]) = if helo {
            ("HELO", b"HELO load.mtakit.invalid\r\n")
        } else {
            ("EHLO", b"EHLO load.mtakit.invalid\r\n")
        };
        self.write(line).await?;
        let reply = self.reply().await?;
        if !positive(&reply) {
            return Err(SessionError::new(describe(verb, &reply)));
        }
        Ok(reply)
    }

    /// QUIT and its reply, after every message of the session is counted.
    async fn quit(&mut self) -> Result<(), SessionError> {
        self.write(b"QUIT\r\n").await.map_err(in_flight(0))?;
        self.reply().await.map_err(in_flight(0))?;
        Ok(())
    }

    /// Runs the TLS handshake after the server's 220 to STARTTLS.
    async fn start_tls(
        self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Self, SessionError> {
        if self.start != self.end {
            // RFC 3207 §4.2: nothing may follow the 220 in plaintext.
            return Err(SessionError::new("plaintext after the STARTTLS reply"));
        }
        let Stream::Plain(tcp) = self.stream else {
            return Err(SessionError::new("STARTTLS twice"));
        };
        let tls = tokio::time::timeout(self.timeout, TlsStream::handshake(tcp, config, name))
            .await
            .map_err(|_| SessionError::new("timeout in the TLS handshake"))?
            .map_err(|e| SessionError::new(format!("TLS handshake: {e}")))?;
        Ok(Self::new(Stream::Tls(Box::new(tls)), self.timeout))
    }
}

/// The name to check the certificate against: the host part of ADDR.
fn server_name(addr: &str) -> Result<ServerName<'static>, String> {
    let host = match addr.rsplit_once(':') {
        Some((host, _port)) => host,
        None => addr,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|e| format!("bad server name {host:?}: {e}"))
}

/// The TLS client configuration: verified against `ca`, or accepting any
/// certificate when there is none.
fn client_config(ca: Option<&PathBuf>) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match ca {
        Some(path) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("bad PEM in {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("bad CA certificate in {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("no certificate in {}", path.display()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Accepts any server certificate, whoever it names and whoever signed it,
/// while still checking the handshake signatures made with its key.
///
/// FOR LOAD TESTS ONLY: this gives no protection against a machine in the
/// middle. `mtakit load --tls` without `--ca` uses it to measure the cost
/// of TLS on your own server with a throw-away certificate.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
