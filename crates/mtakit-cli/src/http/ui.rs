//! The web UI: static files compiled into the binary, served with the
//! strict policy of [`UI_CSP`](super::error::UI_CSP) (added by the
//! security layer): the page, its style sheet, and JavaScript modules
//! (`/app.js`, which imports the others from `/ui/`), with no build step.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::ApiError;
use super::state::App;

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

/// The UI's routes: `/`, `/index.html`, `/app.js`, `/ui/{name}` and
/// `/style.css`.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/app.js", get(app_js))
        .route("/ui/{name}", get(module))
        .route("/style.css", get(style_css))
}

/// `GET /`.
async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX)
}

/// `GET /app.js`.
async fn app_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
}

/// `GET /ui/{name}`: one of the UI's modules; 404 for any other name.
async fn module(Path(name): Path<String>) -> Result<Response, ApiError> {
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
async fn style_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE_CSS,
    )
}
