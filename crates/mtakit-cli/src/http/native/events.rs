//! `GET /api/events`: the hub's events as Server-Sent Events.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use tokio::sync::broadcast;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;

use crate::http::state::App;

/// How often an idle SSE stream gets a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `/api/events`.
pub(super) fn routes() -> Router<App> {
    Router::new().route("/api/events", get(sse))
}

/// `GET /api/events`: a comment first (the subscription is live once it
/// arrives), then one event per message, session and delete, with a
/// keep-alive comment every 15 seconds. The stream ends at shutdown.
async fn sse(State(app): State<App>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut events = app.hub.subscribe();
    let mut shutdown = app.shutdown.clone();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let _ = tx.try_send(Ok(Event::default().comment("connected")));
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                () = tx.closed() => break,
                _ = shutdown.wait_for(|stop| *stop) => break,
            };
            let event = match event {
                Ok(p) => Event::default().event(p.kind).data(p.data),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    Event::default().comment(format!("missed {n} events"))
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            if tx.send(Ok(event)).await.is_err() {
                break;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
