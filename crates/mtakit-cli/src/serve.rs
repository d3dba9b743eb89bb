//! `mtakit serve`: turns the flags into a [`mtakit::Server`], binds the
//! listener, announces it, and serves until Ctrl-C or SIGTERM.
//!
//! On the first signal the server stops accepting, tells idle clients
//! `421`, lets transactions in flight finish, and the process exits 0. A
//! second signal stops at once.

use std::fmt;
use std::future::{Future, ready};
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use mtakit::proto::{Credentials, Limits, Mechanism, SessionInfo};
use mtakit::{AuthResult, Authenticator, MaildirSink, NullSink, Server, UserTable};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::output::{Sink, StdoutSink};

/// Why `mtakit serve` could not run.
#[derive(Debug)]
pub(crate) enum ServeError {
    /// The Maildir could not be created.
    Maildir(PathBuf, io::Error),
    /// The listen address could not be bound.
    Bind(String, io::Error),
    /// The async runtime could not start.
    Runtime(io::Error),
    /// The accept loop failed.
    Server(mtakit::ServerError),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Maildir(dir, e) => {
                write!(f, "cannot create the Maildir {}: {e}", dir.display())
            }
            ServeError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            ServeError::Runtime(e) => write!(f, "cannot start: {e}"),
            ServeError::Server(e) => write!(f, "server failed: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// The authenticator chosen on the command line: none, or the `--auth`
/// users.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    /// No `--auth`: AUTH is neither offered nor accepted.
    Disabled,
    /// `--auth USER:PASS`, repeated.
    Users(UserTable),
}

impl Authenticator for Auth {
    /// PLAIN and LOGIN, as the `--auth` flag promises; no token
    /// mechanisms, since the users have passwords.
    fn mechanisms(&self) -> Vec<Mechanism> {
        match self {
            Auth::Disabled => Vec::new(),
            Auth::Users(_) => vec![Mechanism::Plain, Mechanism::Login],
        }
    }

    fn authenticate(
        &self,
        credentials: &Credentials,
        _: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        let ok = match (self, credentials) {
            (
                Auth::Users(users),
                Credentials::Password {
                    username, password, ..
                },
            ) => users.check(username, password),
            _ => false,
        };
        if !ok {
            tracing::info!(user = credentials.username(), "authentication failed");
        }
        ready(AuthResult::from(ok))
    }
}

/// Runs `mtakit serve` until a signal asks it to stop.
pub(crate) fn run(args: ServeArgs) -> Result<(), ServeError> {
    let sink = make_sink(&args)?;
    let auth = make_auth(&args);
    let server = Server::builder()
        .hostname(args.hostname.clone())
        .limits(limits(&args))
        .allow_insecure_auth(args.allow_insecure_auth)
        .authenticator(auth)
        .sink(sink)
        .build();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&args.listen)
            .await
            .map_err(|e| ServeError::Bind(args.listen.clone(), e))?;
        let local = listener
            .local_addr()
            .map_err(|e| ServeError::Bind(args.listen.clone(), e))?;
        // The one line scripts and tests wait for; stderr is unbuffered.
        eprintln!("mtakit: listening on {local}");
        serve(server, listener).await
    })
}

/// Serves until the first signal, then drains; a second signal ends the
/// drain early.
async fn serve(
    server: Server<mtakit::AcceptAll, Auth, Sink>,
    listener: TcpListener,
) -> Result<(), ServeError> {
    let (signals_tx, signals) = watch::channel(0u32);
    tokio::spawn(count_signals(signals_tx));
    let mut first = signals.clone();
    let shutdown = async move {
        let _ = first.wait_for(|n| *n >= 1).await;
        tracing::info!("shutting down: no new connections, finishing open sessions");
    };
    let mut second = signals;
    tokio::select! {
        result = server.serve(listener, shutdown) => result.map_err(ServeError::Server)?,
        _ = second.wait_for(|n| *n >= 2) => {
            tracing::warn!("second signal: stopping without waiting for open sessions");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Counts Ctrl-C and SIGTERM signals.
async fn count_signals(count: watch::Sender<u32>) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        #[cfg(unix)]
        let terminated = async {
            match term.as_mut() {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            result = tokio::signal::ctrl_c() => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await;
                }
                tracing::info!("received Ctrl-C");
            }
            () = terminated => tracing::info!("received SIGTERM"),
        }
        count.send_modify(|n| *n += 1);
    }
}

fn make_sink(args: &ServeArgs) -> Result<Sink, ServeError> {
    if let Some(dir) = &args.maildir {
        let sink = MaildirSink::create(dir).map_err(|e| ServeError::Maildir(dir.clone(), e))?;
        tracing::info!(maildir = %dir.display(), "delivering into a Maildir");
        Ok(Sink::Maildir(sink))
    } else if args.discard {
        tracing::info!("discarding every message");
        Ok(Sink::Discard(NullSink))
    } else {
        Ok(Sink::Stdout(StdoutSink))
    }
}

fn make_auth(args: &ServeArgs) -> Auth {
    if args.users.is_empty() {
        return Auth::Disabled;
    }
    if !args.allow_insecure_auth {
        eprintln!(
            "mtakit: warning: --auth is given without --allow-insecure-auth: AUTH is only \
             offered over TLS, and `mtakit serve` has no TLS options yet (they come in a \
             later release), so AUTH will not be offered"
        );
    }
    let mut users = UserTable::new();
    for user in &args.users {
        users.insert(user.name.clone(), user.password.clone());
    }
    Auth::Users(users)
}

/// The library defaults, with what the flags override.
fn limits(args: &ServeArgs) -> Limits {
    let mut limits = Limits::default();
    if let Some(size) = args.max_message_size {
        limits.max_message_size = size;
    }
    if let Some(n) = args.max_recipients {
        limits.max_recipients = n;
    }
    if let Some(n) = args.max_connections {
        limits.max_connections = n;
    }
    if let Some(n) = args.max_connections_per_ip {
        limits.max_connections_per_ip = Some(n);
    }
    if let Some(n) = args.max_errors {
        limits.max_errors = n;
    }
    if let Some(secs) = args.timeout {
        limits.command_timeout = Duration::from_secs(secs);
        limits.data_block_timeout = Duration::from_secs(secs);
    }
    limits
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn args(flags: &[&str]) -> ServeArgs {
        let argv = ["mtakit", "serve"].iter().chain(flags);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => args,
        }
    }

    #[test]
    fn flags_become_limits() {
        let limits = limits(&args(&[
            "--max-message-size",
            "100",
            "--max-recipients",
            "5",
            "--max-connections",
            "7",
            "--max-connections-per-ip",
            "2",
            "--max-errors",
            "3",
            "--timeout",
            "9",
        ]));
        assert_eq!(limits.max_message_size, 100);
        assert_eq!(limits.max_recipients, 5);
        assert_eq!(limits.max_connections, 7);
        assert_eq!(limits.max_connections_per_ip, Some(2));
        assert_eq!(limits.max_errors, 3);
        assert_eq!(limits.command_timeout, Duration::from_secs(9));
        assert_eq!(limits.data_block_timeout, Duration::from_secs(9));
    }

    #[test]
    fn no_flags_keep_the_library_defaults() {
        assert_eq!(limits(&args(&[])), Limits::default());
    }

    #[test]
    fn auth_is_off_without_users() {
        assert!(make_auth(&args(&[])).mechanisms().is_empty());
        let auth = make_auth(&args(&["--auth", "a:b", "--allow-insecure-auth"]));
        assert_eq!(auth.mechanisms(), [Mechanism::Plain, Mechanism::Login]);
    }
}
