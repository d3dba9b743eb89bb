//! What `mtakit load` measured: [`Stats`] per worker, added up into a
//! [`Report`] that prints the summary and the latency percentiles.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// What `mtakit load` measured. Latencies are sorted, in nanoseconds.
#[derive(Debug)]
pub(crate) struct Report {
    pub(super) addr: String,
    pub(super) connections: u64,
    pub(super) size: usize,
    pub(super) recipients: u64,
    pub(super) reuse: bool,
    pub(super) pipelining_asked: bool,
    pub(super) tls: bool,
    pub(super) helo: bool,
    pub(super) elapsed: Duration,
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
pub(super) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // The epsilon keeps 99.9 % of 1000 at rank 999 despite rounding.
    let rank = ((p / 100.0) * n as f64 - 1e-9).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// What one worker measured, or (in a [`Report`]) all of them.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Messages accepted with a 2xx after the content.
    pub(crate) sent: u64,
    /// Messages that failed, by a negative reply or a broken session.
    pub(crate) errors: u64,
    /// Message octets accepted (before dot-stuffing).
    pub(super) bytes: u64,
    /// Connections that got a 220 greeting.
    pub(crate) sessions: u64,
    /// Sessions that pipelined (asked for, and advertised).
    pub(crate) pipelined_sessions: u64,
    /// Errors by kind, such as `RCPT: 452 Too many recipients`.
    pub(super) error_kinds: BTreeMap<String, u64>,
    /// From the first byte of MAIL to the reply after the content (sorted
    /// in a [`Report`]), in nanoseconds.
    pub(crate) transaction: Vec<u64>,
    /// From the start of connect to the greeting (sorted in a
    /// [`Report`]), in nanoseconds.
    pub(super) greeting: Vec<u64>,
}

impl Stats {
    /// Records an error that cost `messages` messages (0 for one that came
    /// after every message of its session was counted, such as a lost QUIT
    /// reply).
    pub(super) fn error(&mut self, kind: impl Into<String>, messages: u64) {
        self.errors += messages;
        let kind = kind.into();
        // Keep the table small when every error text differs.
        if self.error_kinds.len() < 32 || self.error_kinds.contains_key(&kind) {
            *self.error_kinds.entry(kind).or_default() += messages.max(1);
        }
    }

    pub(super) fn delivered(&mut self, size: u64) {
        self.sent += 1;
        self.bytes += size;
    }

    pub(super) fn merge(&mut self, other: Stats) {
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

pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
