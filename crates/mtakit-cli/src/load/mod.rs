//! `mtakit load ADDR`: an SMTP load generator, like Postfix's smtp-source,
//! that also reports latency.
//!
//! The flags and the run are here; [`workload`] makes what is sent,
//! [`session`] drives the connections with the library's
//! [`Client`](mtakit::client::Client), [`report`] adds up and prints what
//! was measured, and [`tls`] builds the client's TLS configuration.
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
//! read with the client's bounded reply reader and matched to the
//! commands in order.
//!
//! `--tls` upgrades each connection with STARTTLS. With `--ca PEM` the
//! server certificate is verified against that CA. Without it, ANY
//! certificate is accepted: the handshake signatures are still checked,
//! but not who the server is. That is acceptable for a load tool pointed
//! at your own server, and for nothing else.

mod report;
mod session;
mod tls;
mod workload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mtakit::proto::data::dot_stuff;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;

pub(crate) use report::{Report, Stats};
use tls::{client_config, server_name};
use workload::{command_group, message};

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
        tasks.push(tokio::spawn(async move { session::worker(&shared).await }));
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

#[cfg(test)]
mod tests;
