//! The HTTP listener: hyper's HTTP/1 server on a bounded accept loop.
//!
//! Half-sent requests must never starve SMTP of file descriptors, so:
//! - at most [`HttpLimits::max_connections`] connections are open at once;
//!   past that the loop stops accepting, and new clients wait in the
//!   kernel's backlog, which costs this process no descriptor;
//! - a request head must arrive within [`HttpLimits::header_timeout`]. The
//!   same clock runs while a kept-alive connection waits for its next
//!   request, so it is also the idle limit;
//! - a handler must answer within [`HttpLimits::request_timeout`], body
//!   reading included, or the client gets `503`. The two long-lived
//!   endpoints are exempt: `/api/events` (SSE, ends at shutdown) and
//!   `/api/wait` (bounded by its own `timeout_ms`, at most five minutes).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::error::error_response;

/// Concurrent HTTP connections, by default: enough for a few browsers
/// (six connections each) and test suites, and small beside SMTP's 1000.
pub(crate) const HTTP_MAX_CONNECTIONS: usize = 128;
/// How long a client may take to send a request head, and how long a
/// kept-alive connection may sit idle: 10 seconds.
pub(crate) const HTTP_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take, body included: 30 seconds.
pub(crate) const HTTP_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause after a failed `accept` (for example out of descriptors), so
/// the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The bounds of the HTTP listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HttpLimits {
    /// Connections open at once (`--http-max-connections`).
    pub(crate) max_connections: usize,
    /// Time to send a request head, and idle time between requests
    /// (`--http-header-timeout`).
    pub(crate) header_timeout: Duration,
    /// Time to answer a request (`--http-request-timeout`).
    pub(crate) request_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: HTTP_MAX_CONNECTIONS,
            header_timeout: HTTP_HEADER_TIMEOUT,
            request_timeout: HTTP_REQUEST_TIMEOUT,
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` becomes
/// true; open connections then finish their current request and close.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let router = router.layer(middleware::from_fn_with_state(
        limits.request_timeout,
        request_timeout,
    ));
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return Ok(()),
            },
            _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(connection(
                    stream,
                    router.clone(),
                    limits,
                    shutdown.clone(),
                    permit,
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "HTTP accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Serves one connection; its permit is released when it closes.
async fn connection(
    stream: TcpStream,
    router: Router,
    limits: HttpLimits,
    mut shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let service = TowerToHyperService::new(router);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "HTTP connection ended");
    }
}

/// The layer that bounds each request's time, except for the two routes
/// that are long-lived by design.
async fn request_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if matches!(request.uri().path(), "/api/events" | "/api/wait") {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("the request took longer than {}s", limit.as_secs_f64()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::Instant;

    use super::*;

    const LIMITS: HttpLimits = HttpLimits {
        max_connections: 2,
        header_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
    };

    /// A listener with a fast route, a slow one and a slow exempt one.
    async fn start(limits: HttpLimits) -> (std::net::SocketAddr, watch::Sender<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "slow"
        };
        let router = Router::new()
            .route("/", get(|| async { "ok" }))
            .route("/slow", get(slow))
            .route("/api/wait", get(slow));
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(serve(listener, router, limits, stopped));
        (addr, stop)
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const HALF: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";

    /// Reads until the server closes, within `limit`.
    async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> String {
        let mut out = Vec::new();
        let read = tokio::time::timeout(limit, stream.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "closed within {limit:?}; got {out:?}");
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Sends `request` and reads the first response head.
    async fn ask(stream: &mut TcpStream, request: &[u8]) -> String {
        stream.write_all(request).await.unwrap();
        let mut buf = vec![0; 4096];
        let n = stream.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn a_half_sent_request_is_closed_after_the_header_timeout() {
        let (addr, _stop) = start(LIMITS).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        stream.write_all(HALF).await.unwrap();
        let out = read_to_close(&mut stream, LIMITS.header_timeout * 3).await;
        assert!(!out.contains("200 OK"), "{out}");
        assert!(started.elapsed() >= LIMITS.header_timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_kept_alive_connection_is_closed() {
        let (addr, _stop) = start(LIMITS).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        assert!(ask(&mut stream, GET).await.starts_with("HTTP/1.1 200"));
        let idle = Instant::now();
        read_to_close(&mut stream, LIMITS.header_timeout * 3).await;
        assert!(idle.elapsed() >= LIMITS.header_timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_cap_a_client_waits_for_a_free_slot() {
        let (addr, _stop) = start(LIMITS).await;
        let mut hogs = Vec::new();
        for _ in 0..LIMITS.max_connections {
            let mut hog = TcpStream::connect(addr).await.unwrap();
            hog.write_all(HALF).await.unwrap();
            hogs.push(hog);
        }
        // Let the server take both in.
        tokio::task::yield_now().await;
        let started = Instant::now();
        let mut late = TcpStream::connect(addr).await.unwrap();
        let answer = ask(&mut late, GET).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            started.elapsed() >= LIMITS.header_timeout,
            "served only once a half-sent request timed out: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_request_times_out_but_wait_is_exempt() {
        let (addr, _stop) = start(LIMITS).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        let answer = ask(
            &mut stream,
            b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(60));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let answer = ask(
            &mut stream,
            b"GET /api/wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}
