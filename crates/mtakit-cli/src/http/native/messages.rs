//! The list of messages: `GET /api/messages` (filters and pages, newest
//! first) and `DELETE /api/messages`.

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

/// Messages in a page of `GET /api/messages` without `limit`: 200.
pub(crate) const PAGE_DEFAULT: usize = 200;
/// The largest `limit` of `GET /api/messages`: 1,000.
pub(crate) const PAGE_MAX: usize = 1000;

/// `GET` and `DELETE /api/messages`.
pub(super) fn routes() -> Router<App> {
    Router::new().route("/api/messages", get(list).delete(delete_all))
}

/// The query of `GET /api/messages`: the filters and a page.
#[derive(Debug, Deserialize)]
struct ListQuery {
    to: Option<String>,
    from: Option<String>,
    subject: Option<String>,
    q: Option<String>,
    /// At most this many messages ([`PAGE_DEFAULT`], at most
    /// [`PAGE_MAX`]).
    limit: Option<usize>,
    /// Skip this many of the newest matching messages.
    start: Option<usize>,
}

/// `GET /api/messages`: `{"total": N, "start": S, "limit": L, "messages":
/// [...]}`, newest first; `total` counts every matching message, the
/// page holds at most `limit` of them from `start` on.
async fn list(State(app): State<App>, Query(w): Query<ListQuery>) -> Result<Response, ApiError> {
    let limit = w.limit.unwrap_or(PAGE_DEFAULT);
    if limit > PAGE_MAX {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is above the largest page, {PAGE_MAX}"
        )));
    }
    let start = w.start.unwrap_or(0);
    let filter = Filter {
        to: w.to,
        from: w.from,
        subject: w.subject,
        q: w.q,
    };
    let found = query(&app, filter).await?;
    let page = found
        .get(start.min(found.len())..)
        .unwrap_or_default()
        .iter()
        .take(limit);
    let messages: Vec<_> = page.map(|s| s.summary()).collect();
    Ok(Json(serde_json::json!({
        "total": found.len(),
        "start": start,
        "limit": limit,
        "messages": messages,
    }))
    .into_response())
}

/// `DELETE /api/messages`.
async fn delete_all(State(app): State<App>) -> Result<StatusCode, ApiError> {
    let store = app.store.clone();
    blocking(move || store.clear()).await?;
    app.hub.deleted(None);
    Ok(StatusCode::NO_CONTENT)
}
