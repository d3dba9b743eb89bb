//! Finding messages for a handler: store work on a blocking thread, one
//! message (or a 404), its bytes, and the answer for a message too
//! complex to take apart. Shared by every API that serves messages
//! (mtakit's own under `/api/…`, and later the Mailpit and MailHog ones).

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;

use super::error::ApiError;
use super::filter::Filter;
use super::mime_guard::TooComplex;
use super::state::App;
use super::store::Stored;

/// Runs blocking store work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(work).await??)
}

/// The messages matching `filter`, newest first.
pub(crate) async fn query(app: &App, filter: Filter) -> Result<Vec<Arc<Stored>>, ApiError> {
    let store = app.store.clone();
    blocking(move || store.query(&filter)).await
}

/// The message with this id, or a 404.
pub(crate) async fn find(app: &App, id: String) -> Result<Arc<Stored>, ApiError> {
    let store = app.store.clone();
    let key = id.clone();
    blocking(move || store.get(&key))
        .await?
        .ok_or_else(|| ApiError::no_message(&id))
}

/// The message and its bytes, or a 404.
pub(crate) async fn find_raw(app: &App, id: String) -> Result<(Arc<Stored>, Bytes), ApiError> {
    let stored = find(app, id.clone()).await?;
    let shared = stored.clone();
    match blocking(move || shared.raw()).await {
        Ok(raw) => Ok((stored, raw)),
        // Deleted between the lookup and the read.
        Err(_) => Err(ApiError::no_message(&id)),
    }
}

/// The answer for a message too complex to take apart: 409 (a 422
/// would become a 400 in `json_errors`).
pub(crate) fn too_complex(id: &str, why: TooComplex) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("message {id:?} is not taken apart because {why}; /raw has it"),
    )
}
