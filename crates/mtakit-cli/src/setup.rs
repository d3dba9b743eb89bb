//! The parts of `mtakit serve` that come with the HTTP API: binding and
//! announcing every listener (with `--port-file`), the message store, the
//! fault plan of `--faults`, and the `--events` output.

use std::io;
use std::net::SocketAddr;

use mtakit::fault::FaultPlan;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::http::Store;
use crate::serve::ServeError;

/// The listeners, bound and announced.
pub(crate) struct Listeners {
    pub(crate) plain: TcpListener,
    pub(crate) implicit_tls: Option<TcpListener>,
    pub(crate) http: Option<TcpListener>,
}

/// Binds every listener, announces them, and writes `--port-file`. The
/// line scripts and tests wait for (`listening on`) comes last, once
/// everything is bound; stderr is unbuffered.
pub(crate) async fn bind_all(args: &ServeArgs) -> Result<Listeners, ServeError> {
    let (plain, local) = bind(&args.listen).await?;
    let implicit_tls = match &args.implicit_tls {
        Some(addr) => {
            let (listener, local) = bind(addr).await?;
            eprintln!("mtakit: listening (implicit TLS) on {local}");
            Some((listener, local.port()))
        }
        None => None,
    };
    let http = if args.no_http {
        None
    } else {
        let (listener, local) = bind(&args.http).await?;
        if !local.ip().is_loopback() {
            tracing::warn!(%local, "the HTTP API has no authentication and is not on loopback");
        }
        eprintln!("{}", crate::http::announce(local));
        Some((listener, local.port()))
    };
    if let Some(file) = &args.port_file {
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
pub(crate) fn make_store(args: &ServeArgs) -> Store {
    let store = match &args.maildir {
        Some(dir) => Store::maildir(dir.clone()),
        None if args.discard => Store::discard(),
        None => Store::memory(args.store_limit, args.store_bytes),
    };
    store.max_waiters(args.max_waiters)
}

/// The fault plan shared by the server and `/api/faults`, with the rules
/// of `--faults`.
pub(crate) fn make_plan(args: &ServeArgs) -> Result<FaultPlan, ServeError> {
    let plan = FaultPlan::new();
    if let Some(file) = &args.faults {
        let rules =
            crate::http::load_faults(file).map_err(|e| ServeError::Faults(file.clone(), e))?;
        tracing::info!(rules = rules.len(), file = %file.display(), "fault rules loaded");
        plan.set_rules(rules);
    }
    Ok(plan)
}

/// Where `--events` lines go.
pub(crate) fn open_events(
    args: &ServeArgs,
) -> Result<Option<Box<dyn io::Write + Send>>, ServeError> {
    match &args.events {
        None => Ok(None),
        Some(path) if path.as_os_str() == "-" => Ok(Some(Box::new(io::stdout()))),
        Some(path) => std::fs::File::create(path)
            .map(|f| Some(Box::new(f) as Box<dyn io::Write + Send>))
            .map_err(|e| ServeError::Events(path.clone(), e)),
    }
}
