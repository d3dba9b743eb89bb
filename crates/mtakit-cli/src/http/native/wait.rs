//! `GET /api/wait`: the filtered list as soon as it holds enough
//! messages, without polling.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::filter::Filter;
use crate::http::lookup::{blocking, query};
use crate::http::state::App;
use crate::http::store::Stored;
use crate::http::waiters::Full;

/// The longest `timeout_ms` of `/api/wait`, and its default: five
/// minutes.
pub(crate) const MAX_WAIT_MS: u64 = 300_000;

/// `GET /api/wait`.
pub(super) fn routes() -> Router<App> {
    Router::new().route("/api/wait", get(wait))
}

/// `{"total": N, "messages": [...]}`.
fn listing(found: &[Arc<Stored>]) -> serde_json::Value {
    let messages: Vec<_> = found.iter().map(|s| s.summary()).collect();
    serde_json::json!({ "total": found.len(), "messages": messages })
}

/// The query of `/api/wait`: the list's filters, plus how many and how
/// long.
#[derive(Debug, Deserialize)]
struct WaitQuery {
    count: Option<usize>,
    timeout_ms: Option<u64>,
    to: Option<String>,
    from: Option<String>,
    subject: Option<String>,
    q: Option<String>,
}

/// `GET /api/wait`: the filtered list as soon as it holds `count`
/// messages (default 1), or 408 after `timeout_ms` (default and cap
/// [`MAX_WAIT_MS`]); 503 when `--max-waiters` requests wait already. The
/// store is queried once; after that each new message is tested once
/// against the waiter's filter. Nothing polls.
async fn wait(State(app): State<App>, Query(w): Query<WaitQuery>) -> Result<Response, ApiError> {
    let count = w.count.unwrap_or(1);
    let timeout = Duration::from_millis(w.timeout_ms.unwrap_or(MAX_WAIT_MS).min(MAX_WAIT_MS));
    let deadline = tokio::time::Instant::now() + timeout;
    let filter = Filter {
        to: w.to,
        from: w.from,
        subject: w.subject,
        q: w.q,
    };
    // Registered before the query: a message stored meanwhile is found by
    // one or offered to the other.
    let waiting = app
        .store
        .waiters()
        .register(filter.clone(), count)
        .map_err(|Full(cap)| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("too many requests are waiting in /api/wait (at most {cap}); try later"),
            )
        })?;
    let found = query(&app, filter).await?;
    waiting.seed(found.iter().map(|s| s.id.clone()));
    drop(found);
    let mut shutdown = app.shutdown.clone();
    loop {
        if let Some(ids) = waiting.ready() {
            let store = app.store.clone();
            let found = blocking(move || store.by_ids(&ids)).await?;
            return Ok(Json(listing(&found)).into_response());
        }
        let woke = tokio::select! {
            woken = tokio::time::timeout_at(deadline, waiting.woken()) => woken.is_ok(),
            _ = shutdown.wait_for(|stop| *stop) => false,
        };
        if !woke {
            let total = waiting.matched().len();
            let body = serde_json::json!({ "error": "timeout", "total": total });
            return Ok((StatusCode::REQUEST_TIMEOUT, Json(body)).into_response());
        }
    }
}
