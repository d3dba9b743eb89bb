//! The `mtakit` command and its subcommands.

use clap::{Parser, Subcommand};

use super::ServeArgs;

/// A development SMTP server: receive mail from the code you are testing and
/// print it, store it in a Maildir, or drop it.
#[derive(Debug, Parser)]
#[command(name = "mtakit", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
// ServeArgs is much larger than LoadArgs; the value is parsed once, so
// boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    /// Run an SMTP server until Ctrl-C or SIGTERM.
    ///
    /// Each accepted message is kept in memory for the web UI and the HTTP
    /// API (http://127.0.0.1:8025 by default) and printed on stdout, unless
    /// --maildir, --discard or --quiet is given. Once the listeners are
    /// bound, one line with `listening on IP:PORT` is printed on stderr
    /// (after the `http://IP:PORT` line of the HTTP API and the `listening
    /// (implicit TLS) on IP:PORT` line of --implicit-tls).
    Serve(ServeArgs),
    /// Generate SMTP load against a server and report throughput and
    /// latency (like Postfix's smtp-source, with pipelining and
    /// percentiles). Loopback or your own servers only.
    Load(crate::load::LoadArgs),
}
