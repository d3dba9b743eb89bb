//! The HTTP API in process (`Router::oneshot`): hostile messages in the
//! detail views, bounded and paged lists, and `/api/wait` waiters.

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{Request, StatusCode};
use mtakit::fault::FaultPlan;
use tokio::sync::watch;
use tower::ServiceExt;

use super::harness::{message, until_waiting};

use crate::http::events::{Hub, HubThread};
use crate::http::router::router;
use crate::http::state::App;
use crate::http::store::Store;

/// The app, and what must outlive it: the hub's thread and the shutdown
/// sender (a dropped sender ends every wait at once).
fn app(store: Store) -> (App, (HubThread, watch::Sender<bool>)) {
    let (hub, thread) = Hub::start(None, crate::http::SESSIONS_MAX_BYTES).unwrap();
    let (stop, shutdown) = watch::channel(false);
    let app = App {
        store,
        hub,
        plan: FaultPlan::new(),
        relay: None,
        hostname: "test".to_owned(),
        shutdown,
    };
    (app, (thread, stop))
}

async fn get(app: &App, path: &str) -> (StatusCode, Bytes) {
    let request = Request::get(path)
        .header("host", "127.0.0.1")
        .body(Body::empty())
        .unwrap();
    let response = router(app.clone(), true).oneshot(request).await.unwrap();
    let status = response.status();
    (
        status,
        to_bytes(response.into_body(), usize::MAX).await.unwrap(),
    )
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

/// redteam §1: before, the first view aborted the process (stack
/// overflow in mail-parser's drop); this test process would die.
#[tokio::test]
async fn deeply_nested_rfc822_is_shown_without_parsing() {
    let store = Store::memory(10, 1 << 30);
    let (app, _hub) = app(store.clone());
    let mut raw = b"Subject: Your verification code\r\n".to_vec();
    for _ in 0..50_000 {
        raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
    }
    raw.extend_from_slice(b"Subject: x\r\n\r\nx\r\n");
    store.keep(message("deep", raw.clone())).unwrap();

    let (status, body) = get(&app, "/api/messages/deep").await;
    assert_eq!(status, StatusCode::OK);
    let detail = json(&body);
    assert!(
        detail["notice"]
            .as_str()
            .unwrap()
            .contains("nested more than"),
        "{detail}"
    );
    assert_eq!(detail["subject"], "Your verification code");
    assert_eq!(detail["headers"][0][0], "Subject");
    for path in [
        "/api/messages/deep/html",
        "/api/messages/deep/attachments/0",
    ] {
        let (status, body) = get(&app, path).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}");
        assert!(json(&body)["error"].as_str().unwrap().contains("/raw"));
    }
    let (status, body) = get(&app, "/api/messages/deep/raw").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), raw.len());
}

#[tokio::test]
async fn lists_are_bounded_and_paged() {
    let store = Store::memory(100, 1 << 30);
    let (app, _hub) = app(store.clone());
    let huge = "s".repeat(2_000_000);
    for i in 0..5 {
        let data = format!("Subject: {i} {huge}\r\n\r\nbody\r\n").into_bytes();
        store.keep(message(&format!("m{i}"), data)).unwrap();
    }
    let (status, body) = get(&app, "/api/messages").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.len() < 5 * 1100 + 2000, "{} octets", body.len());
    let list = json(&body);
    assert_eq!(list["total"], 5);
    assert_eq!(list["messages"].as_array().unwrap().len(), 5);

    let (_, body) = get(&app, "/api/messages?limit=2&start=1").await;
    let page = json(&body);
    assert_eq!(page["total"], 5);
    let ids: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["m3", "m2"]);
    let (_, body) = get(&app, "/api/messages?start=9").await;
    assert_eq!(json(&body)["messages"].as_array().unwrap().len(), 0);
    let (status, _) = get(&app, "/api/messages?limit=100000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn waiters_are_capped() {
    let store = Store::memory(10, 1 << 30).max_waiters(2);
    let (app, _hub) = app(store.clone());
    let mut held = Vec::new();
    for _ in 0..2 {
        let app = app.clone();
        held.push(tokio::spawn(async move {
            get(&app, "/api/wait?timeout_ms=60000").await
        }));
    }
    until_waiting(&store, 2).await;
    let (status, body) = get(&app, "/api/wait?timeout_ms=60000").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(json(&body)["error"].as_str().unwrap().contains("at most 2"));
    // A new message releases both; then there is room again.
    store.keep(message("m", b"Subject: hi\r\n\r\nx\r\n".to_vec()));
    for task in held {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json(&body)["total"], 1);
    }
    assert_eq!(store.waiters().len(), 0);
}

#[tokio::test]
async fn a_waiter_wakes_for_a_matching_message_only() {
    let store = Store::memory(10, 1 << 30);
    let (app, _hub) = app(store.clone());
    store.keep(message("old", b"Subject: other\r\n\r\nx\r\n".to_vec()));
    let task = {
        let app = app.clone();
        tokio::spawn(async move { get(&app, "/api/wait?q=NEEDLE&timeout_ms=60000").await })
    };
    until_waiting(&store, 1).await;
    store.keep(message("miss", b"Subject: nope\r\n\r\nhay\r\n".to_vec()));
    store.keep(message("hit", b"Subject: yes\r\n\r\na needle\r\n".to_vec()));
    let (status, body) = task.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let found = json(&body);
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["messages"][0]["id"], "hit");
}
