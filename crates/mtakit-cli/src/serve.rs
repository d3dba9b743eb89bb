//! `mtakit serve`: turns the flags into a [`mtakit::Server`], binds the
//! listeners, announces them, and serves until Ctrl-C or SIGTERM.
//!
//! On the first signal both listeners (plain and, with `--implicit-tls`,
//! implicit TLS) stop accepting, idle clients get `421`, transactions in
//! flight may finish within the shutdown timeout, and the process exits 0.
//! A second signal stops at once.

use std::fmt;
use std::future::{Future, ready};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mtakit::fault::FaultPlan;
use mtakit::proto::{Credentials, Extensions, Limits, Mechanism, SessionInfo};
use mtakit::tls::rustls::ServerConfig;
use mtakit::tls::{TestPki, server_config_from_pem};
use mtakit::{AuthResult, Authenticator, MaildirSink, NullSink, Server, UserTable};
use tokio::sync::watch;

use crate::cli::{Extension, ServeArgs};
use crate::http::{App, Hub, StoreSink};
use crate::output::{Sink, StdoutSink};
use crate::setup::{Listeners, bind_all, make_plan, make_store, open_events};

/// Why `mtakit serve` could not run.
#[derive(Debug)]
pub(crate) enum ServeError {
    /// The Maildir could not be created.
    Maildir(PathBuf, io::Error),
    /// The certificate or key could not be loaded.
    Tls(io::Error),
    /// The `--tls-self-signed` files could not be written.
    TlsDir(PathBuf, io::Error),
    /// A listen address could not be bound.
    Bind(String, io::Error),
    /// The async runtime could not start.
    Runtime(io::Error),
    /// An accept loop failed.
    Server(mtakit::ServerError),
    /// The `--faults` file could not be read or has a bad rule.
    Faults(PathBuf, String),
    /// The `--events` file could not be created.
    Events(PathBuf, io::Error),
    /// The `--port-file` could not be written.
    PortFile(PathBuf, io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Maildir(dir, e) => {
                write!(f, "cannot create the Maildir {}: {e}", dir.display())
            }
            ServeError::Tls(e) => write!(f, "cannot load the TLS certificate: {e}"),
            ServeError::TlsDir(dir, e) => write!(
                f,
                "cannot write the test certificates into {}: {e}",
                dir.display()
            ),
            ServeError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            ServeError::Runtime(e) => write!(f, "cannot start: {e}"),
            ServeError::Server(e) => write!(f, "server failed: {e}"),
            ServeError::Faults(file, e) => write!(
                f,
                "cannot load the fault rules from {}: {e}",
                file.display()
            ),
            ServeError::Events(file, e) => {
                write!(f, "cannot write events to {}: {e}", file.display())
            }
            ServeError::PortFile(file, e) => {
                write!(f, "cannot write the port file {}: {e}", file.display())
            }
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
    /// Whatever [`UserTable`] offers: PLAIN, LOGIN, XOAUTH2 and
    /// OAUTHBEARER.
    fn mechanisms(&self) -> Vec<Mechanism> {
        match self {
            Auth::Disabled => Vec::new(),
            Auth::Users(users) => users.mechanisms(),
        }
    }

    /// The password, or for the OAuth mechanisms the bearer token, is
    /// checked against the user's password.
    fn authenticate(
        &self,
        credentials: &Credentials,
        _: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        let ok = match self {
            Auth::Users(users) => users.check(credentials.username(), credentials.password()),
            Auth::Disabled => false,
        };
        if !ok {
            tracing::info!(
                user = credentials.username(),
                mechanism = ?credentials.mechanism(),
                "authentication failed"
            );
        }
        ready(AuthResult::from(ok))
    }
}

/// Runs `mtakit serve` until a signal asks it to stop.
pub(crate) fn run(args: ServeArgs) -> Result<(), ServeError> {
    let sink = make_sink(&args)?;
    let store = make_store(&args);
    let plan = make_plan(&args)?;
    let events = open_events(&args)?;
    let tls = make_tls(&args)?;
    let (hub, hub_thread) = Hub::start(events).map_err(ServeError::Runtime)?;
    let mut builder = Server::builder()
        .hostname(args.hostname.clone())
        .limits(limits(&args))
        .extensions(extensions(&args))
        .allow_insecure_auth(args.allow_insecure_auth)
        .require_tls(args.require_tls)
        .lmtp(args.lmtp)
        .proxy_protocol_from(args.proxy_protocol_from.iter().copied())
        .policy(plan.clone());
    if !args.no_http || args.events.is_some() {
        builder = builder.observer(hub.clone());
    }
    if let Some(secs) = args.shutdown_timeout {
        builder = builder.shutdown_timeout(Duration::from_secs(secs));
    }
    if let Some(config) = tls {
        builder = builder.tls(config);
    }
    let server = builder
        .authenticator(make_auth(&args))
        .sink(StoreSink::new(sink, store.clone(), hub.clone()))
        .build();
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        0 => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    }
    .map_err(ServeError::Runtime)?;
    let (stop, stopped) = watch::channel(false);
    let app = App {
        store,
        hub,
        plan,
        shutdown: stopped,
    };
    let result = runtime.block_on(async move {
        let listeners = bind_all(&args).await?;
        serve(server, listeners, app, stop).await
    });
    // Ends the HTTP tasks, and with them the last event senders.
    runtime.shutdown_timeout(Duration::from_secs(1));
    hub_thread.finish(Duration::from_secs(2));
    result
}

/// Serves until the first signal, then drains; a second signal ends the
/// drain early. Both SMTP listeners share the signals; the HTTP API stops
/// at the first one.
async fn serve(
    server: Server<FaultPlan, Auth, StoreSink>,
    listeners: Listeners,
    app: App,
    stop: watch::Sender<bool>,
) -> Result<(), ServeError> {
    let (signals_tx, signals) = watch::channel(0u32);
    tokio::spawn(count_signals(signals_tx));
    let first = |mut signals: watch::Receiver<u32>| async move {
        let _ = signals.wait_for(|n| *n >= 1).await;
    };
    if let Some(listener) = listeners.http {
        tokio::spawn(async move {
            if let Err(e) = crate::http::serve(listener, app).await {
                tracing::error!(error = %e, "the HTTP API failed");
            }
        });
    }
    let stopping = first(signals.clone());
    tokio::spawn(async move {
        stopping.await;
        let _ = stop.send(true);
    });
    let plain = {
        let shutdown = first(signals.clone());
        server.clone().serve(listeners.plain, async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections, finishing open sessions");
        })
    };
    let all = async {
        match listeners.implicit_tls {
            Some(listener) => {
                let implicit = server.serve_implicit_tls(listener, first(signals.clone()));
                tokio::try_join!(plain, implicit).map(|_| ())
            }
            None => plain.await,
        }
    };
    let mut second = signals.clone();
    tokio::select! {
        result = all => result.map_err(ServeError::Server)?,
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
    } else if args.quiet || args.events.as_deref() == Some(Path::new("-")) {
        Ok(Sink::Quiet)
    } else {
        Ok(Sink::Stdout(StdoutSink))
    }
}

/// The TLS configuration: from `--tls-cert` and `--tls-key`, generated by
/// `--tls-self-signed`, or none.
fn make_tls(args: &ServeArgs) -> Result<Option<Arc<ServerConfig>>, ServeError> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let config = server_config_from_pem(cert, key).map_err(ServeError::Tls)?;
        tracing::info!(cert = %cert.display(), "STARTTLS enabled");
        return Ok(Some(config));
    }
    if !args.tls_self_signed {
        return Ok(None);
    }
    let dir = match &args.tls_dir {
        Some(dir) => dir.clone(),
        None => fresh_dir().map_err(|e| ServeError::TlsDir(std::env::temp_dir(), e))?,
    };
    let mut names = Vec::new();
    if usable_dns_name(&args.hostname) && args.hostname != "localhost" {
        names.push(args.hostname.as_str());
    }
    names.push("localhost");
    let pki = TestPki::new(&names);
    pki.write_to(&dir)
        .map_err(|e| ServeError::TlsDir(dir.clone(), e))?;
    eprintln!(
        "mtakit: test CA certificate: {}",
        dir.join("ca.pem").display()
    );
    tracing::info!(names = ?names, "STARTTLS enabled with a self-signed test certificate");
    Ok(Some(pki.server_config()))
}

/// A name rcgen accepts as a DNS name or IP address.
fn usable_dns_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic())
}

/// A new directory under the system temp dir, readable by this user only,
/// for the test key.
fn fresh_dir() -> io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "mtakit-tls-{}-{nanos}-{attempt}",
            std::process::id()
        ));
        match create_private_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free directory name")))
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn make_auth(args: &ServeArgs) -> Auth {
    if args.users.is_empty() {
        return Auth::Disabled;
    }
    let mut users = UserTable::new();
    for user in &args.users {
        users.insert(user.name.clone(), user.password.clone());
    }
    Auth::Users(users)
}

/// The library defaults, with what the flags override. `--timeout` sets
/// the command and data block timeouts; the specific flags win over it.
fn limits(args: &ServeArgs) -> Limits {
    let mut limits = Limits::default();
    if let Some(size) = args.max_message_size {
        limits.max_message_size = size;
    }
    if let Some(n) = args.max_recipients {
        limits.max_recipients = n;
    }
    if let Some(n) = args.max_command_line {
        limits.command_line = n;
        // A MAIL or RCPT line with parameters may be at least as long.
        limits.command_line_extended = limits.command_line_extended.max(n);
    }
    if let Some(n) = args.max_command_line_extended {
        limits.command_line_extended = n;
    }
    if let Some(n) = args.max_auth_line {
        limits.auth_line = n;
    }
    if let Some(n) = args.max_text_line {
        limits.text_line = Some(n);
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
    if let Some(n) = args.max_auth_failures {
        limits.max_auth_failures = n;
    }
    if let Some(secs) = args.timeout {
        limits.command_timeout = Duration::from_secs(secs);
        limits.data_block_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.command_timeout {
        limits.command_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.data_block_timeout {
        limits.data_block_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.data_termination_timeout {
        limits.data_termination_timeout = Duration::from_secs(secs);
    }
    if let Some(rate) = args.min_data_rate {
        limits.min_data_rate = rate;
    }
    if let Some(policy) = args.line_endings {
        limits.line_endings = policy.into();
    }
    limits.allow_nul = args.allow_nul;
    limits
}

/// Every extension on, except those named by `--disable`.
fn extensions(args: &ServeArgs) -> Extensions {
    let mut on = Extensions::default();
    for extension in &args.disable {
        let flag = match extension {
            Extension::Pipelining => &mut on.pipelining,
            Extension::Size => &mut on.size,
            Extension::EightBitMime => &mut on.eight_bit_mime,
            Extension::SmtpUtf8 => &mut on.smtputf8,
            Extension::EnhancedStatusCodes => &mut on.enhanced_status_codes,
            Extension::Chunking => &mut on.chunking,
            Extension::BinaryMime => &mut on.binarymime,
            Extension::Dsn => &mut on.dsn,
            Extension::StartTls => &mut on.starttls,
            Extension::Auth => &mut on.auth,
        };
        *flag = false;
    }
    on
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
            Command::Load(_) => unreachable!("parsed serve"),
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
    fn every_limit_flag() {
        let limits = limits(&args(&[
            "--max-command-line",
            "1024",
            "--max-command-line-extended",
            "4096",
            "--max-auth-line",
            "20000",
            "--max-text-line",
            "1000",
            "--max-auth-failures",
            "4",
            "--command-timeout",
            "11",
            "--data-block-timeout",
            "12",
            "--data-termination-timeout",
            "13",
            "--min-data-rate",
            "0",
            "--line-endings",
            "normalize",
            "--allow-nul",
        ]));
        let expected = Limits {
            command_line: 1024,
            command_line_extended: 4096,
            auth_line: 20000,
            text_line: Some(1000),
            max_auth_failures: 4,
            command_timeout: Duration::from_secs(11),
            data_block_timeout: Duration::from_secs(12),
            data_termination_timeout: Duration::from_secs(13),
            min_data_rate: 0,
            line_endings: mtakit::proto::LineEndingPolicy::Normalize,
            allow_nul: true,
            ..Limits::default()
        };
        assert_eq!(limits, expected);
    }

    #[test]
    fn specific_timeouts_win_over_timeout_in_any_order() {
        for flags in [
            ["--timeout", "9", "--command-timeout", "4"],
            ["--command-timeout", "4", "--timeout", "9"],
        ] {
            let got = limits(&args(&flags));
            assert_eq!(got.command_timeout, Duration::from_secs(4));
            assert_eq!(got.data_block_timeout, Duration::from_secs(9));
        }
        let got = limits(&args(&["--data-block-timeout", "2", "--timeout", "9"]));
        assert_eq!(got.command_timeout, Duration::from_secs(9));
        assert_eq!(got.data_block_timeout, Duration::from_secs(2));
    }

    #[test]
    fn a_long_command_line_raises_the_extended_one() {
        let long = limits(&args(&["--max-command-line", "4000"]));
        assert_eq!(long.command_line, 4000);
        assert_eq!(long.command_line_extended, 4000);
        let short = limits(&args(&["--max-command-line", "1000"]));
        assert_eq!(short.command_line_extended, 2048);
    }

    #[test]
    fn disable_switches_extensions_off() {
        assert_eq!(extensions(&args(&[])), Extensions::default());
        let on = extensions(&args(&[
            "--disable",
            "Chunking,PIPELINING",
            "--disable",
            "8bitmime",
        ]));
        assert!(!on.chunking && !on.pipelining && !on.eight_bit_mime);
        assert!(on.size && on.dsn && on.binarymime && on.starttls && on.auth);
        let off = extensions(&args(&[
            "--disable",
            "pipelining,size,8bitmime,smtputf8,enhancedstatuscodes,chunking,binarymime,dsn,starttls,auth",
        ]));
        assert!(
            !(off.pipelining
                || off.size
                || off.eight_bit_mime
                || off.smtputf8
                || off.enhanced_status_codes
                || off.chunking
                || off.binarymime
                || off.dsn
                || off.starttls
                || off.auth)
        );
    }

    #[test]
    fn auth_offers_what_user_table_offers() {
        assert!(make_auth(&args(&[])).mechanisms().is_empty());
        let auth = make_auth(&args(&["--auth", "a:b", "--allow-insecure-auth"]));
        assert_eq!(
            auth.mechanisms(),
            [
                Mechanism::Plain,
                Mechanism::Login,
                Mechanism::XOAuth2,
                Mechanism::OAuthBearer
            ]
        );
    }

    #[test]
    fn self_signed_files_go_into_tls_dir() {
        let dir = std::env::temp_dir().join(format!("mtakit-cli-unit-{}", std::process::id()));
        let config = make_tls(&args(&[
            "--tls-self-signed",
            "--tls-dir",
            dir.to_str().unwrap(),
            "--hostname",
            "mx.example.test",
        ]))
        .unwrap();
        assert!(config.is_some());
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            assert!(dir.join(file).is_file(), "{file}");
        }
        // The files load back as --tls-cert and --tls-key.
        let again = make_tls(&args(&[
            "--tls-cert",
            dir.join("cert.pem").to_str().unwrap(),
            "--tls-key",
            dir.join("key.pem").to_str().unwrap(),
        ]));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(again.unwrap().is_some());
    }

    #[test]
    fn fresh_dirs_are_new_and_private() {
        let a = fresh_dir().unwrap();
        let b = fresh_dir().unwrap();
        assert_ne!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&a).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        let _ = std::fs::remove_dir(&a);
        let _ = std::fs::remove_dir(&b);
    }

    #[test]
    fn missing_certificate_is_an_error() {
        let err = make_tls(&args(&[
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("cannot load the TLS certificate"),
            "{err}"
        );
    }
}
