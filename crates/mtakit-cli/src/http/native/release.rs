//! The relay: `GET /api/relay` names it, `POST
//! /api/messages/{id}/release` sends a stored message to it.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::http::error::{ApiError, JsonBody};
use crate::http::forward;
use crate::http::lookup::find;
use crate::http::state::App;
use crate::relay::RelayError;

/// `GET /api/relay` and `POST /api/messages/{id}/release`.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/relay", get(relay))
        .route("/api/messages/{id}/release", post(release))
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
        Err(e @ RelayError::BadAddress(_)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("stored envelope: {e}"),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("{relay}: {e}"),
        )),
    }
}
