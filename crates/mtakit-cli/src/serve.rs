//! `mtakit serve`: turns the flags into a [`mtakit::Server`], binds the
//! listeners, announces them, and serves until Ctrl-C or SIGTERM.
//!
//! On the first signal both listeners (plain and, with `--implicit-tls`,
//! implicit TLS) stop accepting, idle clients get `421`, transactions in
//! flight may finish within the shutdown timeout, and the process exits 0.
//! A second signal stops at once.

use std::time::Duration;

use tokio::sync::watch;

use crate::assemble::{Assembled, DevServer, assemble};
use crate::config::ServeConfig;
use crate::error::ServeError;
use crate::http::{App, HttpLimits};
use crate::setup::{Listeners, bind_all};

/// Runs `mtakit serve` until a signal asks it to stop.
pub(crate) fn run(config: ServeConfig) -> Result<(), ServeError> {
    let mut limits = config.limits.clone();
    let mut http = config
        .http
        .as_ref()
        .map_or_else(HttpLimits::default, |h| h.limits);
    let http_cap = if config.http.is_none() {
        0
    } else {
        http.max_connections
    };
    let (smtp_cap, http_cap) = crate::fds::budget(limits.max_connections, http_cap);
    limits.max_connections = smtp_cap;
    http.max_connections = http_cap.max(1);
    let assembled = assemble(&config, limits)?;
    let runtime = match config.threads {
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
    let app = assembled.app(&config, stopped);
    let Assembled {
        server, hub_thread, ..
    } = assembled;
    let result = runtime.block_on(async move {
        let listeners = bind_all(&config).await?;
        serve(server, listeners, (app, http), stop).await
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
    server: DevServer,
    listeners: Listeners,
    (app, http): (App, HttpLimits),
    stop: watch::Sender<bool>,
) -> Result<(), ServeError> {
    let (signals_tx, signals) = watch::channel(0u32);
    tokio::spawn(count_signals(signals_tx));
    let first = |mut signals: watch::Receiver<u32>| async move {
        let _ = signals.wait_for(|n| *n >= 1).await;
    };
    if let Some(listener) = listeners.http {
        tokio::spawn(async move {
            if let Err(e) = crate::http::serve(listener, app, http).await {
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
