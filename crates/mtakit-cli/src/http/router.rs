//! [`router`]: every route of the dev server's HTTP side, composed from
//! one router per family, inside the security and error layers; and
//! [`serve`], which runs it on a listener.
//!
//! The tree: [`ui`] serves the web UI, [`native`]
//! mtakit's own JSON API under `/api/…`. The Mailpit v1 (`/api/v1/…`) and
//! MailHog v2 (`/api/v2/…`) APIs are meant to be sibling modules merged
//! here the same way, sharing [`lookup`](super::lookup).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use tokio::net::TcpListener;

use super::error::{ApiError, BODY_LIMIT, host_guard, json_errors, security_headers};
use super::listener::HttpLimits;
use super::state::App;
use super::{native, ui};

/// Serves the API and the UI on `listener`, within `limits`, until the
/// app's shutdown signal becomes true.
pub(crate) async fn serve(
    listener: TcpListener,
    app: App,
    limits: HttpLimits,
) -> std::io::Result<()> {
    let loopback = listener.local_addr()?.ip().is_loopback();
    let shutdown = app.shutdown.clone();
    super::listener::serve(listener, router(app, loopback), limits, shutdown).await
}

/// Every route, and the layers around them: JSON errors, the request
/// body limit, the Host guard (for a `loopback` listener, only local
/// names) and the security headers.
pub(crate) fn router(app: App, loopback: bool) -> Router {
    Router::new()
        .merge(ui::routes())
        .merge(native::routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(loopback, host_guard))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// The line that says where the UI is.
pub(crate) fn announce(addr: SocketAddr) -> String {
    format!("mtakit: web UI and API on http://{addr}")
}
