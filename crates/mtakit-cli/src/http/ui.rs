//! The web UI: static files compiled into the binary, served with the
//! strict policy of [`UI_CSP`](super::error::UI_CSP) (added by the
//! security layer): the page, its style sheet, and JavaScript modules
//! (`/app.js`, which imports the others from `/ui/`), with no build step.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

const INDEX: &str = include_str!("ui/index.html");
const APP_JS: &str = include_str!("ui/app.js");
const STYLE_CSS: &str = include_str!("ui/style.css");
/// The modules `/app.js` imports, by file name under `/ui/`.
const MODULES: [(&str, &str); 5] = [
    ("dom.js", include_str!("ui/dom.js")),
    ("state.js", include_str!("ui/state.js")),
    ("list.js", include_str!("ui/list.js")),
    ("message.js", include_str!("ui/message.js")),
    ("sessions.js", include_str!("ui/sessions.js")),
];

/// `GET /`.
pub(crate) async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX)
}

/// `GET /app.js`.
pub(crate) async fn app_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
}

/// `GET /ui/{name}`: one of the UI's modules; 404 for any other name.
pub(crate) async fn module(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, source) = MODULES
        .iter()
        .find(|(file, _)| *file == name)
        .ok_or_else(|| ApiError::not_found("no such file"))?;
    Ok((
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        *source,
    )
        .into_response())
}

/// `GET /style.css`.
pub(crate) async fn style_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE_CSS,
    )
}
