//! The dev server in process: [`Dev::start`] builds it from `mtakit serve`
//! flags (the same `ServeConfig` and the same parts as `serve::run`),
//! serves SMTP on `127.0.0.1:0`, and answers HTTP requests through
//! [`router`] with `oneshot`, without a socket.
//!
//! The server and the app come from `assemble`, as in `serve::run`; what
//! the tests leave out is the descriptor budget, the listeners of the
//! flags and the signals.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use mtakit::proto::Reply;
use mtakit::test_util::TestClient;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tower::ServiceExt;

use crate::assemble::{Assembled, assemble};
use crate::config::ServeConfig;
use crate::http::Store;
use crate::http::events::HubThread;
use crate::http::headers::subject_of;
use crate::http::router::router;
use crate::http::state::App;
use crate::http::stored::{Content, Stored};

/// How long any wait of a test may take.
pub(super) const WAIT: Duration = Duration::from_secs(15);

/// A dev server: its HTTP app and its SMTP address.
pub(super) struct Dev {
    pub(super) app: App,
    /// The SMTP listener.
    pub(super) smtp: SocketAddr,
    server: JoinHandle<()>,
    /// Dropped last: ends the waits and the SSE streams, then the hub.
    _keep: (watch::Sender<bool>, HubThread),
}

impl Drop for Dev {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Dev {
    /// `mtakit serve FLAGS`, in process (only the listen address is
    /// ours: `127.0.0.1:0`).
    pub(super) async fn start(flags: &[&str]) -> Dev {
        let config = ServeConfig::from_args(&crate::test_args::serve_args(flags));
        let assembled = assemble(&config, config.limits.clone()).expect("the dev server");
        let (stop, shutdown) = watch::channel(false);
        let app = assembled.app(&config, shutdown);
        let Assembled {
            server, hub_thread, ..
        } = assembled;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let smtp = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = server.serve(listener, std::future::pending::<()>()).await;
        });
        Dev {
            app,
            smtp,
            server,
            _keep: (stop, hub_thread),
        }
    }

    /// Sends `request` through the router of a loopback listener; a
    /// request without `Host` gets `127.0.0.1`.
    pub(super) async fn send(&self, mut request: Request<Body>) -> Response {
        if !request.headers().contains_key("host") {
            let local = "127.0.0.1".parse().unwrap();
            request.headers_mut().insert("host", local);
        }
        let response = router(self.app.clone(), true)
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        Response {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub(super) async fn get(&self, path: &str) -> Response {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// `DELETE path`.
    pub(super) async fn delete(&self, path: &str) -> Response {
        self.send(Request::delete(path).body(Body::empty()).unwrap())
            .await
    }

    /// `method path` with a JSON body.
    pub(super) async fn json(&self, method: Method, path: &str, body: &str) -> Response {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(request).await
    }

    /// `PUT /api/faults` with `rules`, which must be accepted.
    pub(super) async fn put_faults(&self, rules: &str) -> serde_json::Value {
        let response = self.json(Method::PUT, "/api/faults", rules).await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }

    /// The list of messages (`GET /api/messages{query}`).
    pub(super) async fn list(&self, query: &str) -> serde_json::Value {
        let list = self.get(&format!("/api/messages{query}")).await;
        assert_eq!(list.status, 200, "{}", list.text());
        list.json()
    }

    /// The ids of the listed messages, newest first.
    pub(super) async fn ids(&self, query: &str) -> Vec<String> {
        let list = self.list(query).await;
        let ids: Vec<String> = list["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(list["total"], ids.len(), "{list}");
        ids
    }

    /// An SMTP client that said `EHLO client.example`.
    pub(super) async fn client(&self) -> Smtp {
        let mut smtp = Smtp::connect(self.smtp).await;
        assert_eq!(smtp.code("EHLO client.example").await, 250);
        smtp
    }

    /// Sends one message over SMTP (`content` is dot-stuffed on the way)
    /// and checks the `250`.
    pub(super) async fn deliver(&self, from: &str, to: &[&str], content: &str) {
        let mut smtp = self.client().await;
        let reply = smtp.transaction(from, to, content.as_bytes()).await;
        assert_eq!(reply.code().get(), 250, "{reply}");
        assert_eq!(smtp.code("QUIT").await, 221);
    }

    /// Opens `GET /api/events`.
    pub(super) async fn events(&self) -> Sse {
        let request = Request::get("/api/events")
            .header("host", "127.0.0.1")
            .body(Body::empty())
            .unwrap();
        let response = router(self.app.clone(), true)
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut sse = Sse {
            body: response.into_body().into_data_stream(),
            text: String::new(),
        };
        // The first comment says the subscription is live.
        let deadline = tokio::time::Instant::now() + WAIT;
        let first = sse.block(deadline).await.expect("the first comment");
        assert!(first.starts_with(':'), "{first}");
        sse
    }
}

/// A whole response.
#[derive(Debug)]
pub(super) struct Response {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl Response {
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and a JSON `{"error": "..."}` body; returns the
    /// message.
    #[track_caller]
    pub(super) fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let json = self.json();
        json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {json}"))
            .to_owned()
    }
}

/// An SSE stream, read event by event.
pub(super) struct Sse {
    body: axum::body::BodyDataStream,
    text: String,
}

impl Sse {
    /// The next block (up to a blank line), or `None` once `deadline`
    /// passes.
    async fn block(&mut self, deadline: tokio::time::Instant) -> Option<String> {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block = self.text[..end].to_owned();
                self.text.drain(..end + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()?;
            let chunk = chunk.expect("the stream is open").unwrap();
            self.text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The data of the next event of `kind`, skipping others (and
    /// keep-alive comments); panics if none comes within [`WAIT`].
    pub(super) async fn next(&mut self, kind: &str) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let block = self.block(deadline).await;
            let block = block.unwrap_or_else(|| panic!("no {kind} event within {WAIT:?}"));
            let event = block.lines().find_map(|l| l.strip_prefix("event: "));
            if event == Some(kind) {
                let data = block.lines().find_map(|l| l.strip_prefix("data: "));
                return serde_json::from_str(data.expect("data")).unwrap();
            }
        }
    }
}

/// An SMTP client over TCP ([`TestClient`]), with the shorthands these
/// tests use.
pub(super) struct Smtp(pub(super) TestClient);

impl Smtp {
    /// Connects and checks the `220`.
    pub(super) async fn connect(addr: SocketAddr) -> Smtp {
        let mut client = TestClient::connect(addr).await.expect("connect");
        client.set_timeout(WAIT);
        assert_eq!(client.greeting().code().get(), 220);
        Smtp(client)
    }

    /// Sends `line`, returns the reply.
    pub(super) async fn cmd(&mut self, line: &str) -> Reply {
        self.0.command(line).await.expect("a reply")
    }

    /// Sends `line`, returns the reply code.
    pub(super) async fn code(&mut self, line: &str) -> u16 {
        self.cmd(line).await.code().get()
    }

    /// MAIL, RCPT for each of `to` (each must be accepted), DATA with
    /// `content`: the final reply.
    pub(super) async fn transaction(&mut self, from: &str, to: &[&str], content: &[u8]) -> Reply {
        assert_eq!(self.code(&format!("MAIL FROM:<{from}>")).await, 250);
        for rcpt in to {
            assert_eq!(self.code(&format!("RCPT TO:<{rcpt}>")).await, 250);
        }
        self.0.data(content).await.expect("a reply")
    }
}

/// Standard base64 with padding (RFC 4648 §4).
pub(super) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A fresh directory under the system temp dir, removed on drop.
pub(super) struct TempDir(pub(super) std::path::PathBuf);

impl TempDir {
    pub(super) fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("mtakit-cli-unit-{tag}-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// `name` in the directory, as a string for a flag.
    pub(super) fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A message as the store keeps it, put there without SMTP.
pub(super) fn message(id: &str, data: Vec<u8>) -> Arc<Stored> {
    Arc::new(Stored {
        id: id.to_owned(),
        received_at: SystemTime::now(),
        from: "a@example.com".to_owned(),
        to: vec!["b@example.com".to_owned()],
        size: data.len() as u64,
        meta: None,
        subject: subject_of(&data),
        content: Content::Memory(Bytes::from(data)),
    })
}

/// Yields until `n` requests wait in `/api/wait`.
pub(super) async fn until_waiting(store: &Store, n: usize) {
    for _ in 0..10_000 {
        if store.waiters().len() >= n {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{n} waiters never registered");
}
