//! `GET /api/sessions` lists the kept sessions as summaries (a few hundred
//! bytes each), and `GET /api/sessions/{id}` returns one transcript. A
//! transcript holds at most [`mtakit::observe::TRANSCRIPT_BYTES`] and is
//! turned into JSON on a blocking thread, so no request builds a large
//! body on the runtime thread that also serves SMTP.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::events::Hub;
use crate::http::model::SessionSummary;
use crate::http::state::App;

/// The body of `GET /api/sessions`.
#[derive(Serialize)]
struct Listing<'a> {
    total: usize,
    sessions: Vec<&'a SessionSummary>,
}

/// `/api/sessions` and `/api/sessions/{id}`; their handlers need only the
/// hub.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/{id}", get(show))
}

/// `GET /api/sessions`: the summaries of the kept sessions, newest first.
async fn list(State(hub): State<Hub>) -> Json<serde_json::Value> {
    let records = hub.sessions();
    let listing = Listing {
        total: records.len(),
        sessions: records.iter().map(|r| &r.summary).collect(),
    };
    Json(serde_json::to_value(&listing).unwrap_or_default())
}

/// `GET /api/sessions/{id}`: one session with its transcript, or 404 once
/// it is no longer kept.
async fn show(State(hub): State<Hub>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let gone = || ApiError::not_found(format!("no session with id {id:?}"));
    let number: u64 = id.parse().map_err(|_| gone())?;
    let record = hub.session(number).ok_or_else(gone)?;
    let body = tokio::task::spawn_blocking(move || serde_json::to_vec(&*record)).await?;
    let body = body
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use mtakit::Server;
    use mtakit::observe::TRANSCRIPT_BYTES;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::broadcast;
    use tower::ServiceExt;

    use super::*;
    use crate::http::events::{Published, SESSIONS_MAX_BYTES};

    /// A hub keeping at most `max_bytes`, observing a real server.
    async fn server(max_bytes: usize) -> (Hub, std::net::SocketAddr) {
        let (hub, _thread) = Hub::start(None, max_bytes).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::builder().observer(hub.clone()).build();
        tokio::spawn(server.serve(listener, std::future::pending::<()>()));
        (hub, addr)
    }

    /// An attack-shaped session: `n` pipelined `NOOP` lines of 512 bytes,
    /// then QUIT, read to the end.
    async fn noop_flood(addr: std::net::SocketAddr, n: usize) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let noop = format!("NOOP {}\r\n", "x".repeat(505));
        let mut input = "EHLO attacker.example\r\n".to_owned();
        for _ in 0..n {
            input.push_str(&noop);
        }
        input.push_str("QUIT\r\n");
        let (mut rx, mut tx) = stream.split();
        let (_, read) = tokio::join!(tx.write_all(input.as_bytes()), async {
            let mut out = Vec::new();
            rx.read_to_end(&mut out).await.map(|_| out)
        });
        let out = String::from_utf8(read.unwrap()).unwrap();
        assert!(out.contains("221 "), "the session ended with QUIT");
    }

    /// The two routes, as `router()` mounts them, asked in process.
    async fn fetch(hub: &Hub, uri: &str) -> (StatusCode, serde_json::Value, usize) {
        let router = Router::new()
            .route("/api/sessions", get(list))
            .route("/api/sessions/{id}", get(show))
            .with_state(hub.clone());
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap(), body.len())
    }

    /// Waits (bounded) for `n` session events.
    async fn ended(events: &mut broadcast::Receiver<Published>, n: usize) {
        for _ in 0..n {
            loop {
                let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
                    .await
                    .expect("a session ended in time")
                    .unwrap();
                if event.kind == "session" {
                    break;
                }
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn transcripts_stay_within_their_budgets() {
        let max_bytes = 3 * TRANSCRIPT_BYTES;
        let (hub, addr) = server(max_bytes).await;
        let mut events = hub.subscribe();
        for _ in 0..6 {
            noop_flood(addr, 2_000).await;
        }
        ended(&mut events, 6).await;
        let kept = hub.sessions();
        assert!(
            hub.sessions_bytes() <= max_bytes,
            "{}",
            hub.sessions_bytes()
        );
        assert!(
            (2..=3).contains(&kept.len()),
            "{} sessions kept",
            kept.len()
        );
        for record in &kept {
            // Each session sent about 1 MB of commands.
            assert!(
                record.bytes() <= TRANSCRIPT_BYTES + 1024,
                "{}",
                record.bytes()
            );
            assert!(record.summary.omitted > 1000, "{}", record.summary.omitted);
            assert_eq!(record.summary.commands, 2_002, "omitted commands count");
        }
        // The newest are kept.
        let ids: Vec<u64> = kept.iter().map(|r| r.summary.id).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_list_is_summaries_and_one_transcript_comes_on_demand() {
        let (hub, addr) = server(SESSIONS_MAX_BYTES).await;
        let mut events = hub.subscribe();
        for _ in 0..3 {
            noop_flood(addr, 1_000).await;
        }
        ended(&mut events, 3).await;

        let (status, list, size) = fetch(&hub, "/api/sessions").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["total"], 3);
        let sessions = list["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(
            sessions.iter().all(|s| s.get("entries").is_none()),
            "summaries only"
        );
        assert!(size < 2048, "the list is small: {size} bytes");
        assert_eq!(sessions[0]["commands"], 1_002);

        let id = sessions[0]["id"].as_u64().unwrap();
        let (status, one, size) = fetch(&hub, &format!("/api/sessions/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["id"], id);
        let entries = one["entries"].as_array().unwrap();
        assert_eq!(entries[1]["text"], "EHLO attacker.example");
        assert_eq!(entries.last().unwrap()["kind"], "end");
        assert!(size > 100_000 && size < 2 * TRANSCRIPT_BYTES, "{size}");

        let (status, _, _) = fetch(&hub, "/api/sessions/999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = fetch(&hub, "/api/sessions/abc").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
