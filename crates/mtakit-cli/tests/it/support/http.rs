//! A tiny blocking HTTP/1.1 client over `TcpStream`, enough for the API
//! tests: one request per connection, bodies with `Content-Length` or
//! chunked, and a Server-Sent Events reader with a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::WAIT;

/// A response: status, headers (names lower-cased) and body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }

    /// Asserts a 4xx with `{"error": "..."}` and returns the message.
    pub(crate) fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{:?}",
            self.headers
        );
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error text: {}", self.text()))
            .to_owned()
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect to the HTTP API");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

fn head(method: &str, addr: SocketAddr, path: &str, extra: &[(&str, &str)], len: usize) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !extra
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if len > 0 || matches!(method, "PUT" | "POST") {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Sends one request and reads the whole response.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = connect(addr);
    stream
        .write_all(head(method, addr, path, headers, body.len()).as_bytes())
        .expect("send the request head");
    // The server may answer (413) before reading a large body.
    let _ = stream.write_all(body);
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if method == "HEAD" || status == 204 || status == 304 {
    } else if chunked {
        Chunked::new(reader)
            .read_to_end(&mut body)
            .expect("read a chunked body");
    } else {
        reader.read_to_end(&mut body).expect("read the body");
    }
    Response {
        status,
        headers,
        body,
    }
}

fn read_head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read the status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read a header");
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    (status, headers)
}

pub(crate) fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[], b"")
}

pub(crate) fn delete(addr: SocketAddr, path: &str) -> Response {
    request(addr, "DELETE", path, &[], b"")
}

pub(crate) fn put_json(addr: SocketAddr, path: &str, json: &str) -> Response {
    request(
        addr,
        "PUT",
        path,
        &[("Content-Type", "application/json")],
        json.as_bytes(),
    )
}

/// Decodes `Transfer-Encoding: chunked`.
struct Chunked<R> {
    inner: R,
    left: usize,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    fn new(inner: R) -> Self {
        Chunked {
            inner,
            left: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            if self.inner.read_line(&mut line)? == 0 {
                self.done = true;
                return Ok(0);
            }
            if line.trim().is_empty() {
                // The CRLF after the previous chunk.
                line.clear();
                self.inner.read_line(&mut line)?;
            }
            let size = line.trim().split(';').next().unwrap_or("0");
            self.left = usize::from_str_radix(size, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..n])?;
        self.left -= n;
        Ok(n)
    }
}

/// An open `GET /api/events` stream.
pub(crate) struct Sse {
    reader: BufReader<Chunked<BufReader<TcpStream>>>,
    stream: TcpStream,
}

impl Sse {
    /// Opens the stream and reads up to the first comment, after which
    /// the server is subscribed.
    pub(crate) fn open(addr: SocketAddr) -> Sse {
        let mut stream = connect(addr);
        stream
            .write_all(
                head(
                    "GET",
                    addr,
                    "/api/events",
                    &[("Accept", "text/event-stream")],
                    0,
                )
                .as_bytes(),
            )
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let (status, headers) = read_head(&mut reader);
        assert_eq!(status, 200);
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream")),
            "{headers:?}"
        );
        let mut sse = Sse {
            reader: BufReader::new(Chunked::new(reader)),
            stream,
        };
        let mut line = String::new();
        sse.reader.read_line(&mut line).expect("the first comment");
        assert!(line.starts_with(':'), "{line:?}");
        sse
    }

    /// The next event of this `kind` (others are skipped) as JSON, or
    /// `None` when `limit` passes first.
    pub(crate) fn next(&mut self, kind: &str, limit: Duration) -> Option<serde_json::Value> {
        let deadline = Instant::now() + limit;
        let (mut event, mut data) = (String::new(), String::new());
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if event == kind {
                    return Some(serde_json::from_str(&data).expect("event data is JSON"));
                }
                event.clear();
                data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
    }
}
