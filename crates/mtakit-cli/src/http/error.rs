//! Errors as `{"error": "..."}` with the right status, and the layers every
//! response passes: JSON error bodies, security headers, and a Host check
//! against DNS rebinding while the listener is on loopback.

use std::io;
use std::net::IpAddr;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The largest request body: 1 MiB.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// The policy of the UI pages (and of every response that sets none).
pub(crate) const UI_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'";

/// An API error: a status and a message.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn no_message(id: &str) -> ApiError {
        ApiError::not_found(format!("no message with id {id:?}"))
    }
}

impl From<io::Error> for ApiError {
    fn from(e: io::Error) -> ApiError {
        tracing::warn!(error = %e, "store error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("store error: {e}"),
        )
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("task failed: {e}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.status, &self.message)
    }
}

/// `{"error": message}` with `status`.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// A JSON request body; bad JSON is a 400 and a body over [`BODY_LIMIT`]
/// a 413, both with a JSON error.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(status, "request body larger than 1 MiB");
    }
    let status = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => status,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, rejection.body_text())
}

/// Turns every error response without a JSON body (axum's own
/// rejections, 404 and 405 included) into `{"error": ...}`, and a 422
/// into a 400.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let mut status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        status = StatusCode::BAD_REQUEST;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        let (mut parts, body) = response.into_parts();
        parts.status = status;
        return Response::from_parts(parts, body);
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let mut response = error_response(status, &message);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// `nosniff` everywhere, the UI's policy where a response sets none, no
/// referrer, and no caching of the API.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(UI_CSP),
        );
    }
    if api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// While the listener is on loopback, only `localhost`, `*.localhost` and
/// IP literals are accepted as Host: a web page on another name that
/// rebinds it to 127.0.0.1 cannot read the mail.
pub(crate) async fn host_guard(
    State(loopback): State<bool>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if loopback
        && let Some(host) = request.headers().get(header::HOST)
        && !local_host(host.to_str().unwrap_or(""))
    {
        return error_response(
            StatusCode::FORBIDDEN,
            "this server only answers to localhost or an IP address in the Host header",
        );
    }
    next.run(request).await
}

/// True for `localhost`, `x.localhost` and IP literals, with or without a
/// port.
fn local_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        return rest
            .split(']')
            .next()
            .is_some_and(|ip| ip.parse::<IpAddr>().is_ok());
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::local_host;

    #[test]
    fn local_hosts() {
        for ok in [
            "localhost",
            "LOCALHOST:8025",
            "ui.localhost:1",
            "127.0.0.1:8025",
            "127.0.0.1",
            "[::1]:8025",
            "[::1]",
            "10.1.2.3:80",
        ] {
            assert!(local_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8025",
            "localhost.evil.example",
            "",
            "[evil]",
        ] {
            assert!(!local_host(bad), "{bad}");
        }
    }
}
