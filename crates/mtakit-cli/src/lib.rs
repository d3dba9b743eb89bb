//! The `mtakit` command as a library: `mtakit serve`, the development mail
//! server, and `mtakit load`, the load generator. The binary (`main.rs`)
//! only calls [`main`].
//!
//! ```text
//! mtakit serve                          # print every message on stdout
//! mtakit serve --maildir ./mail         # store messages in a Maildir
//! mtakit serve --listen 127.0.0.1:0     # pick a free port; see stderr
//! ```
//!
//! [`main`] parses the arguments, sets up logging and hands over to the
//! `serve` module; `cli` declares the arguments and `output` the sinks.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use tracing_subscriber::EnvFilter;

mod assemble;
mod cli;
mod config;
mod error;
mod fds;
mod from_args;
mod http;
mod load;
mod output;
mod parts;
mod ports;
mod relay;
mod serve;
mod setup;
#[cfg(test)]
mod test_args;

use cli::{Cli, Command};

/// Entry points for the fuzz targets in `fuzz/`; not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    /// Runs `data`, as a received message, through everything the dev
    /// server's HTTP API does with one: the list entry (summary and its
    /// JSON), a `q` search, the detail, the HTML body and the attachments.
    /// Panics if a list string is over its bound.
    pub fn message_model(data: &[u8]) {
        crate::http::message_model(data);
    }
}

/// Runs the `mtakit` command with the process arguments and returns its
/// exit code.
pub fn main() -> ExitCode {
    run(std::env::args_os())
}

/// Runs the `mtakit` command with these arguments (the first is the
/// program name) and returns its exit code. This is what the Python
/// package's `mtakit` command calls. Bad arguments print clap's message and
/// exit the process with status 2, as the binary does.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    let args = match cli.command {
        Command::Serve(ref args) => args,
        Command::Load(args) => {
            init_logging();
            return load::main(args);
        }
    };
    match args.check() {
        Ok(warnings) => {
            for warning in warnings {
                eprintln!("mtakit: warning: {warning}");
            }
        }
        Err(message) => {
            let mut command = Cli::command();
            command.build();
            let serve = command
                .find_subcommand_mut("serve")
                .expect("the serve subcommand");
            serve.error(ErrorKind::ArgumentConflict, message).exit();
        }
    }
    init_logging();
    let result = match cli.command {
        Command::Serve(args) => serve::run(config::ServeConfig::from_args(&args)),
        Command::Load(_) => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mtakit: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// rustls's logs are kept to errors unless `RUST_LOG` names rustls: it
/// warns once per connection about harmless client behaviour (GnuTLS
/// clients send an IP address as SNI, interop D7).
const QUIET_RUSTLS: &str = "rustls=error";

/// Logs go to stderr at `info` unless `RUST_LOG` says otherwise; stdout is
/// reserved for printed messages.
fn init_logging() {
    let wanted = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    let directives = if wanted.contains("rustls") {
        wanted
    } else {
        format!("{wanted},{QUIET_RUSTLS}")
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
