//! One message: `GET /api/messages/{id}` (the detail), `/raw`, `/html`,
//! `/attachments/{index}`, and `DELETE /api/messages/{id}`.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::http::detail::{self, disposition};
use crate::http::error::ApiError;
use crate::http::lookup::{blocking, find, find_raw, too_complex};
use crate::http::model::{EnvelopeJson, Meta};
use crate::http::state::App;
use crate::http::store::Stored;

/// The policy of `/api/messages/{id}/html`: even opened on its own, the
/// HTML runs no script and loads nothing from the network.
pub(crate) const HTML_CSP: &str =
    "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'";
/// The policy of an attachment download.
const ATTACHMENT_CSP: &str = "sandbox; default-src 'none'";

/// The routes of one message.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/messages/{id}", get(show).delete(delete_one))
        .route("/api/messages/{id}/raw", get(raw))
        .route("/api/messages/{id}/html", get(html))
        .route("/api/messages/{id}/attachments/{index}", get(attachment))
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
        HeaderValue::from_static(ATTACHMENT_CSP),
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
