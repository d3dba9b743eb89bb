//! The HTTP API of `mtakit serve`: the routes, the message handlers, wait
//! and sessions; faults and events live next door.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::net::TcpListener;

use super::detail::{self, disposition};
use super::error::{ApiError, BODY_LIMIT, JsonBody};
use super::filter::Filter;
use super::listener::HttpLimits;
use super::mime_guard::TooComplex;
use super::model::{EnvelopeJson, Meta};
pub(crate) use super::state::App;
use super::store::Stored;
use super::waiters::Full;
use super::{faults, forward, sessions, sse, ui};

/// The policy of `/api/messages/{id}/html`: even opened on its own, the
/// HTML runs no script and loads nothing from the network.
pub(crate) const HTML_CSP: &str =
    "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'";
/// The longest `timeout_ms` of `/api/wait`: five minutes.
const MAX_WAIT_MS: u64 = 300_000;
/// Messages in a page of `GET /api/messages` without `limit`: 200.
pub(crate) const PAGE_DEFAULT: usize = 200;
/// The largest `limit` of `GET /api/messages`: 1,000.
pub(crate) const PAGE_MAX: usize = 1000;

/// Serves the API and the UI on `listener`, within `limits`, until
/// `shutdown` becomes true.
pub(crate) async fn serve(
    listener: TcpListener,
    app: App,
    limits: HttpLimits,
) -> std::io::Result<()> {
    let loopback = listener.local_addr()?.ip().is_loopback();
    let shutdown = app.shutdown.clone();
    super::listener::serve(listener, router(app, loopback), limits, shutdown).await
}

/// Every route, and the layers around them.
pub(crate) fn router(app: App, loopback: bool) -> Router {
    Router::new()
        .route("/", get(ui::index))
        .route("/index.html", get(ui::index))
        .route("/app.js", get(ui::app_js))
        .route("/ui/{name}", get(ui::module))
        .route("/style.css", get(ui::style_css))
        .route("/api/messages", get(list).delete(delete_all))
        .route("/api/messages/{id}", get(show).delete(delete_one))
        .route("/api/messages/{id}/raw", get(raw))
        .route("/api/messages/{id}/release", post(release))
        .route("/api/relay", get(relay))
        .route("/api/messages/{id}/html", get(html))
        .route("/api/messages/{id}/attachments/{index}", get(attachment))
        .route("/api/wait", get(wait))
        .route("/api/events", get(sse::sse))
        .route("/api/sessions", get(sessions::list))
        .route("/api/sessions/{id}", get(sessions::show))
        .route(
            "/api/faults",
            get(faults::get).put(faults::put).delete(faults::delete),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(super::error::json_errors))
        .layer(middleware::from_fn_with_state(
            loopback,
            super::error::host_guard,
        ))
        .layer(middleware::from_fn(super::error::security_headers))
        .with_state(app)
}

/// Runs blocking store work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(work).await??)
}

/// `{"total": N, "messages": [...]}`.
fn listing(found: &[Arc<Stored>]) -> serde_json::Value {
    let messages: Vec<_> = found.iter().map(|s| s.summary()).collect();
    serde_json::json!({ "total": found.len(), "messages": messages })
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

async fn query(app: &App, filter: Filter) -> Result<Vec<Arc<Stored>>, ApiError> {
    let store = app.store.clone();
    blocking(move || store.query(&filter)).await
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

/// The answer for a message too complex to take apart: 409 (a 422
/// would become a 400 in `json_errors`).
fn too_complex(id: &str, why: TooComplex) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("message {id:?} is not taken apart because {why}; /raw has it"),
    )
}

/// The message with this id, or a 404.
async fn find(app: &App, id: String) -> Result<Arc<Stored>, ApiError> {
    let store = app.store.clone();
    let key = id.clone();
    blocking(move || store.get(&key))
        .await?
        .ok_or_else(|| ApiError::no_message(&id))
}

/// The message and its bytes, or a 404.
async fn find_raw(app: &App, id: String) -> Result<(Arc<Stored>, axum::body::Bytes), ApiError> {
    let stored = find(app, id.clone()).await?;
    let shared = stored.clone();
    match blocking(move || shared.raw()).await {
        Ok(raw) => Ok((stored, raw)),
        // Deleted between the lookup and the read.
        Err(_) => Err(ApiError::no_message(&id)),
    }
}

fn envelope(stored: &Stored) -> EnvelopeJson {
    let meta = stored
        .meta
        .as_deref()
        .cloned()
        .unwrap_or_else(Meta::default);
    EnvelopeJson {
        from: stored.from.clone(),
        to: stored.to.clone(),
        mail_params: meta.mail_params,
        helo: meta.helo,
        peer: meta.peer,
        tls: meta.tls,
        auth: meta.auth,
    }
}

/// `GET /api/messages/{id}`.
async fn show(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (stored, raw) = find_raw(&app, id).await?;
    let detail = tokio::task::spawn_blocking(move || {
        let envelope = envelope(&stored);
        detail::detail(&stored, envelope, &raw)
    })
    .await?;
    Ok(Json(detail).into_response())
}

/// The query of `/raw`.
#[derive(Debug, Default, Deserialize)]
struct RawQuery {
    /// `delivered`: with the trace header fields added on delivery.
    view: Option<String>,
}

/// `GET /api/messages/{id}/raw`: the bytes exactly as received;
/// `?view=delivered`: as delivered, after the `Received:` (and, for a
/// Maildir, `Return-Path:`, envelope record and `Delivered-To:`) header
/// fields mtakit added.
async fn raw(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(query): Query<RawQuery>,
) -> Result<Response, ApiError> {
    let raw = match query.view.as_deref() {
        None | Some("received") => find_raw(&app, id).await?.1,
        Some("delivered") => {
            let stored = find(&app, id.clone()).await?;
            blocking(move || stored.delivered())
                .await
                .map_err(|_| ApiError::no_message(&id))?
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "view must be received or delivered, not {other:?}"
            )));
        }
    };
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], Body::from(raw)).into_response())
}

/// `GET /api/messages/{id}/html`: the HTML body under a sandbox policy.
async fn html(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (_, raw) = find_raw(&app, id.clone()).await?;
    let html = tokio::task::spawn_blocking(move || detail::html(&raw))
        .await?
        .map_err(|why| too_complex(&id, why))?;
    let html =
        html.ok_or_else(|| ApiError::not_found(format!("message {id:?} has no HTML body")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, HTML_CSP),
        ],
        html,
    )
        .into_response())
}

/// `GET /api/messages/{id}/attachments/{index}`: a download.
async fn attachment(
    State(app): State<App>,
    Path((id, index)): Path<(String, usize)>,
) -> Result<Response, ApiError> {
    let (_, raw) = find_raw(&app, id.clone()).await?;
    let found = tokio::task::spawn_blocking(move || detail::attachment(&raw, index))
        .await?
        .map_err(|why| too_complex(&id, why))?;
    let download = found
        .ok_or_else(|| ApiError::not_found(format!("message {id:?} has no attachment {index}")))?;
    let disposition = disposition(download.name.as_deref(), index);
    let mut response = Body::from(download.data).into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&download.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(response)
}

/// `DELETE /api/messages/{id}`.
async fn delete_one(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = app.store.clone();
    let key = id.clone();
    if !blocking(move || store.delete(&key)).await? {
        return Err(ApiError::no_message(&id));
    }
    app.hub.deleted(Some(id));
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/relay`: `{"relay": "smtp://HOST:PORT"}`, or `null` without
/// `--relay`.
async fn relay(State(app): State<App>) -> Json<serde_json::Value> {
    let relay = app.relay.as_ref().map(ToString::to_string);
    Json(serde_json::json!({ "relay": relay }))
}

/// The body of `POST /api/messages/{id}/release`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseRequest {
    /// Other recipients; the message's own when empty or absent.
    #[serde(default)]
    to: Vec<String>,
}

/// `POST /api/messages/{id}/release`: sends a stored message to the
/// `--relay` server, for its own recipients or for `to`.
async fn release(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ReleaseRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(relay) = app.relay.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no relay: start mtakit serve with --relay smtp://HOST[:PORT]",
        ));
    };
    let stored = find(&app, id).await?;
    let to = if request.to.is_empty() {
        stored.to.clone()
    } else {
        for address in &request.to {
            let path = format!("<{address}>");
            if !matches!(mtakit::proto::ForwardPath::parse(&path), Ok((_, ""))) {
                return Err(ApiError::bad_request(format!("not a mailbox: {address:?}")));
            }
        }
        request.to
    };
    match forward::release(&relay, &app.hostname, &stored, &to).await {
        Ok(reply) => {
            tracing::info!(id = %stored.id, %relay, ?to, %reply, "message released");
            Ok(Json(serde_json::json!({
                "relay": relay.to_string(),
                "to": to,
                "reply": reply,
            })))
        }
        Err(e @ crate::relay::RelayError::BadAddress(_)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("stored envelope: {e}"),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("{relay}: {e}"),
        )),
    }
}

/// `DELETE /api/messages`.
async fn delete_all(State(app): State<App>) -> Result<StatusCode, ApiError> {
    let store = app.store.clone();
    blocking(move || store.clear()).await?;
    app.hub.deleted(None);
    Ok(StatusCode::NO_CONTENT)
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
/// messages (default 1), or 408 after `timeout_ms` (default and cap five
/// minutes); 503 when `--max-waiters` requests wait already. The store is
/// queried once; after that each new message is tested once against the
/// waiter's filter. Nothing polls.
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

/// The line that says where the UI is.
pub(crate) fn announce(addr: SocketAddr) -> String {
    format!("mtakit: web UI and API on http://{addr}")
}
