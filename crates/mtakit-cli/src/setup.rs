//! The parts of `mtakit serve` that come with the HTTP API: binding and
//! announcing every listener (with `--port-file`), the HTTP listener's
//! bounds, the message store, the fault plan of `--faults`, the sessions'
//! byte budget and the `--events` output.

use std::io;
use std::net::SocketAddr;

use mtakit::fault::FaultPlan;
use tokio::net::TcpListener;

use crate::config::{ServeConfig, StoreKind};
use crate::error::ServeError;
use crate::http::Store;

/// The listeners, bound and announced.
pub(crate) struct Listeners {
    pub(crate) plain: TcpListener,
    pub(crate) implicit_tls: Option<TcpListener>,
    pub(crate) http: Option<TcpListener>,
}

/// Binds every listener, announces them, and writes `--port-file`. The
/// line scripts and tests wait for (`listening on`) comes last, once
/// everything is bound; stderr is unbuffered.
pub(crate) async fn bind_all(config: &ServeConfig) -> Result<Listeners, ServeError> {
    let (plain, local) = bind(&config.listen).await?;
    let implicit_tls = match &config.implicit_tls {
        Some(addr) => {
            let (listener, local) = bind(addr).await?;
            eprintln!("mtakit: listening (implicit TLS) on {local}");
            Some((listener, local.port()))
        }
        None => None,
    };
    let http = if let Some(http) = &config.http {
        let (listener, local) = bind(&http.addr).await?;
        if !local.ip().is_loopback() {
            tracing::warn!(%local, "the HTTP API has no authentication and is not on loopback");
        }
        eprintln!("{}", crate::http::announce(local));
        Some((listener, local.port()))
    } else {
        None
    };
    if let Some(file) = &config.port_file {
        crate::ports::write(
            file,
            local.port(),
            http.as_ref().map(|h| h.1),
            implicit_tls.as_ref().map(|t| t.1),
        )
        .map_err(|e| ServeError::PortFile(file.clone(), e))?;
    }
    eprintln!("mtakit: listening on {local}");
    Ok(Listeners {
        plain,
        implicit_tls: implicit_tls.map(|t| t.0),
        http: http.map(|h| h.0),
    })
}

async fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| ServeError::Bind(addr.to_owned(), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| ServeError::Bind(addr.to_owned(), e))?;
    Ok((listener, local))
}

/// Where the HTTP API finds the messages: the Maildir, nowhere
/// (`--discard`), or memory.
pub(crate) fn make_store(config: &ServeConfig) -> Store {
    let store = match &config.store {
        StoreKind::Maildir(dir) => Store::maildir_for(dir.clone(), config.limits.max_message_size),
        StoreKind::Discard => Store::discard(),
        StoreKind::Memory { limit, bytes } => Store::memory(*limit, *bytes),
    };
    store.max_waiters(config.max_waiters)
}

/// The fault plan shared by the server and `/api/faults`, with the rules
/// of `--faults`.
pub(crate) fn make_plan(config: &ServeConfig) -> Result<FaultPlan, ServeError> {
    let plan = FaultPlan::new();
    if let Some(file) = &config.faults {
        let rules =
            crate::http::load_faults(file).map_err(|e| ServeError::Faults(file.clone(), e))?;
        tracing::info!(rules = rules.len(), file = %file.display(), "fault rules loaded");
        plan.set_rules(rules);
    }
    Ok(plan)
}

/// Where `--events` lines go.
pub(crate) fn open_events(
    config: &ServeConfig,
) -> Result<Option<Box<dyn io::Write + Send>>, ServeError> {
    match &config.events {
        None => Ok(None),
        Some(path) if path.as_os_str() == "-" => Ok(Some(Box::new(io::stdout()))),
        Some(path) => std::fs::File::create(path)
            .map(|f| Some(Box::new(f) as Box<dyn io::Write + Send>))
            .map_err(|e| ServeError::Events(path.clone(), e)),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    use std::time::Duration;

    use crate::http::{HttpLimits, SESSIONS_MAX_BYTES};

    #[test]
    fn http_flags_become_limits() {
        let config = |flags: &[&str]| ServeConfig::from_args(&crate::test_args::serve_args(flags));
        assert_eq!(config(&[]).http.unwrap().limits, HttpLimits::default());
        assert_eq!(config(&[]).sessions_max_bytes, SESSIONS_MAX_BYTES);
        let flags = config(&[
            "--http-max-connections",
            "9",
            "--http-header-timeout",
            "3",
            "--http-request-timeout",
            "4",
            "--sessions-max-bytes",
            "1000",
        ]);
        let http = flags.http.unwrap().limits;
        assert_eq!(http.max_connections, 9);
        assert_eq!(http.header_timeout, Duration::from_secs(3));
        assert_eq!(http.request_timeout, Duration::from_secs(4));
        assert_eq!(flags.sessions_max_bytes, 1000);
    }

    /// The `[default: …]` in the help text is the constant's value.
    #[test]
    fn help_shows_the_defaults() {
        let d = HttpLimits::default();
        let expected = [
            ("http_max_connections", d.max_connections.to_string()),
            (
                "http_header_timeout",
                d.header_timeout.as_secs().to_string(),
            ),
            (
                "http_request_timeout",
                d.request_timeout.as_secs().to_string(),
            ),
            (
                "sessions_max_bytes",
                format!("{} MiB", SESSIONS_MAX_BYTES >> 20),
            ),
            (
                "transcript_bytes",
                format!("{} KiB", mtakit::observe::TRANSCRIPT_BYTES >> 10),
            ),
            (
                "max_content_in_flight",
                format!("{}", mtakit::DEFAULT_CONTENT_IN_FLIGHT),
            ),
        ];
        crate::test_args::assert_help_defaults(&expected);
    }
}
