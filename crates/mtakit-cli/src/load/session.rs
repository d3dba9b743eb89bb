//! One worker's sessions: greeting, EHLO, optional STARTTLS, then
//! messages lock-step or in RFC 2920 groups, over the library's
//! [`Client`].

use std::io;
use std::sync::Arc;
use std::time::Instant;

use mtakit::client::{Client, ClientError};
use mtakit::proto::{Reply, ReplyReadError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::Shared;
use super::report::{Stats, nanos};

/// One worker: sessions until the message count is used up.
pub(super) async fn worker(shared: &Shared) -> Stats {
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
pub(super) struct SessionError {
    pub(super) kind: String,
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

impl From<ClientError> for SessionError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Io(e) => e.into(),
            ClientError::Timeout => Self::new("timeout"),
            ClientError::Closed => Self::new("connection closed by the server"),
            ClientError::Reply(ReplyReadError::Malformed) => Self::new("malformed reply"),
            ClientError::Reply(_) => Self::new("reply too long"),
            other => Self::new(other.to_string()),
        }
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
    let tcp = tokio::time::timeout(shared.timeout, TcpStream::connect(shared.addr))
        .await
        .map_err(|_| SessionError::new("timeout connecting"))??;
    tcp.set_nodelay(true)?;
    let mut conn = Client::new(tcp, shared.timeout);
    let greeting = conn.read_reply().await?;
    if greeting.code().get() != 220 {
        return Err(SessionError::new(describe("greeting", &greeting)));
    }
    stats.greeting.push(nanos(started.elapsed()));
    stats.sessions += 1;
    hello(&mut conn, shared.helo).await?;
    let Some((config, name)) = &shared.tls else {
        return transactions(shared, &mut conn, stats).await;
    };
    if !conn.ehlo_info().is_some_and(|e| e.starttls()) {
        return Err(SessionError::new("STARTTLS not advertised"));
    }
    let go = conn.command("STARTTLS").await?;
    if go.code().get() != 220 {
        return Err(SessionError::new(describe("STARTTLS", &go)));
    }
    if conn.buffered() > 0 {
        // RFC 3207 §4.2: nothing may follow the 220 in plaintext.
        return Err(SessionError::new("plaintext after the STARTTLS reply"));
    }
    let mut conn = conn
        .upgrade_tls(Arc::clone(config), name.clone())
        .await
        .map_err(|e| match e {
            ClientError::Timeout => SessionError::new("timeout in the TLS handshake"),
            e => SessionError::new(format!("TLS handshake: {e}")),
        })?;
    hello(&mut conn, shared.helo).await?;
    transactions(shared, &mut conn, stats).await
}

/// EHLO (or HELO), whose reply must be 2xx.
async fn hello<S>(conn: &mut Client<S>, helo: bool) -> Result<(), SessionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = "load.mtakit.invalid";
    let (verb, reply) = if helo {
        ("HELO", conn.command(&format!("HELO {name}")).await?)
    } else {
        ("EHLO", conn.ehlo(name).await?)
    };
    if !positive(&reply) {
        return Err(SessionError::new(describe(verb, &reply)));
    }
    Ok(())
}

/// The messages of one session, pipelined when asked for and advertised.
async fn transactions<S>(
    shared: &Shared,
    conn: &mut Client<S>,
    stats: &mut Stats,
) -> Result<(), SessionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if shared.pipelining && conn.ehlo_info().is_some_and(|e| e.pipelining()) {
        stats.pipelined_sessions += 1;
        pipelined(shared, conn, stats).await
    } else {
        lock_step(shared, conn, stats).await
    }
}

/// Messages one command at a time, as smtp-source sends them.
async fn lock_step<S>(
    shared: &Shared,
    conn: &mut Client<S>,
    stats: &mut Stats,
) -> Result<(), SessionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut lines = shared.group.split_inclusive(|&b| b == b'\n');
    let mail = lines.next().unwrap_or_default();
    let rcpts: Vec<&[u8]> = lines.take(shared.recipients as usize).collect();
    loop {
        let start = Instant::now();
        conn.send(mail).await?;
        let reply = conn.read_reply().await?;
        let mail_ok = positive(&reply);
        let mut failure = (!mail_ok).then(|| describe("MAIL", &reply));
        let mut accepted = 0;
        if mail_ok {
            for rcpt in &rcpts {
                conn.send(rcpt).await?;
                let reply = conn.read_reply().await?;
                if positive(&reply) {
                    accepted += 1;
                } else {
                    failure.get_or_insert_with(|| describe("RCPT", &reply));
                }
            }
        }
        let mut open = mail_ok;
        if accepted > 0 {
            conn.send(b"DATA\r\n").await?;
            let reply = conn.read_reply().await?;
            if reply.code().get() == 354 {
                conn.send(&shared.content).await?;
                let reply = conn.read_reply().await?;
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
            conn.send(b"RSET\r\n").await?;
            conn.read_reply().await?;
        }
        match failure {
            Some(kind) => stats.error(kind, 1),
            None => stats.delivered(shared.size),
        }
        if !(shared.reuse && shared.claim()) {
            break;
        }
    }
    quit(conn).await
}

/// Messages in RFC 2920 groups: MAIL, the RCPTs and DATA in one write; the
/// content and then the next group (or QUIT) in the next.
async fn pipelined<S>(
    shared: &Shared,
    conn: &mut Client<S>,
    stats: &mut Stats,
) -> Result<(), SessionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut out = Vec::with_capacity(shared.content.len() + shared.group.len());
    let mut start = Instant::now();
    conn.send(&shared.group).await?;
    loop {
        // The replies to MAIL, each RCPT and DATA of the group in flight.
        let reply = conn.read_reply().await?;
        let mail_ok = positive(&reply);
        let mut failure = (!mail_ok).then(|| describe("MAIL", &reply));
        for _ in 0..shared.recipients {
            let reply = conn.read_reply().await?;
            if mail_ok && !positive(&reply) {
                failure.get_or_insert_with(|| describe("RCPT", &reply));
            }
        }
        let data = conn.read_reply().await?;
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
        conn.send(&out)
            .await
            .map_err(|e| in_flight(lost)(e.into()))?;
        if go || mail_ok {
            // The reply to the content, or to RSET.
            let reply = conn
                .read_reply()
                .await
                .map_err(|e| in_flight(lost)(e.into()))?;
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
            conn.read_reply()
                .await
                .map_err(|e| in_flight(0)(e.into()))?;
            return Ok(());
        }
        start = next_start;
    }
}

/// QUIT and its reply, after every message of the session is counted.
async fn quit<S>(conn: &mut Client<S>) -> Result<(), SessionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    conn.command("QUIT")
        .await
        .map_err(|e| in_flight(0)(e.into()))?;
    Ok(())
}
