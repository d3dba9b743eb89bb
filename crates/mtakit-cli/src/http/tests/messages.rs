//! Listing, filters, the detail of a message, raw bytes, the HTML body,
//! attachments, deleting, the UI pages, and bad requests; messages come
//! over real SMTP sessions.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;

use super::harness::{Dev, base64};

/// The bytes of the attachment in [`multipart`].
fn attachment_bytes() -> Vec<u8> {
    (0..=255u8).cycle().take(700).collect()
}

/// A multipart/mixed message: text, HTML with a script, and a base64
/// attachment.
fn multipart() -> String {
    let encoded = base64(&attachment_bytes());
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: Alice <alice@example.com>\r\n\
         To: bob@example.org\r\n\
         Subject: =?utf-8?q?Quarterly_r=C3=A9port?=\r\n\
         X-Folded: one\r\n two\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n\
         \r\n\
         --BOUNDARY\r\n\
         Content-Type: multipart/alternative; boundary=\"ALT\"\r\n\
         \r\n\
         --ALT\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Plain text body\r\n\
         --ALT\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         \r\n\
         <p>HTML body</p><script>alert(1)</script>\r\n\
         --ALT--\r\n\
         --BOUNDARY\r\n\
         Content-Type: application/octet-stream; name=\"data.bin\"\r\n\
         Content-Disposition: attachment; filename=\"data.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n\
         --BOUNDARY--\r\n",
        lines.join("\r\n")
    )
}

#[tokio::test]
async fn list_detail_raw_html_and_attachment() {
    let dev = Dev::start(&["--quiet"]).await;
    let content = multipart();
    dev.deliver("alice@example.com", &["bob@example.org"], &content)
        .await;

    let list = dev.list("").await;
    assert_eq!(list["total"], 1);
    let summary = &list["messages"][0];
    assert_eq!(summary["from"], "alice@example.com");
    assert_eq!(summary["to"], json!(["bob@example.org"]));
    assert_eq!(summary["subject"], "Quarterly réport");
    assert_eq!(summary["size"], content.len());
    assert_eq!(summary["findings"], 0);
    let received = summary["received_at"].as_str().unwrap();
    assert!(
        received.ends_with('Z') && received.contains('T'),
        "{received}"
    );
    let id = summary["id"].as_str().unwrap();

    let detail = dev.get(&format!("/api/messages/{id}")).await;
    assert_eq!(detail.status, 200, "{}", detail.text());
    let detail = detail.json();
    assert_eq!(detail["id"], id);
    let envelope = &detail["envelope"];
    assert_eq!(envelope["from"], "alice@example.com");
    assert_eq!(envelope["to"], json!(["bob@example.org"]));
    assert_eq!(envelope["helo"], "client.example");
    assert_eq!(envelope["tls"], serde_json::Value::Null);
    assert_eq!(envelope["auth"], serde_json::Value::Null);
    assert_eq!(envelope["mail_params"]["smtputf8"], false);
    assert!(envelope["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    let headers = detail["headers"].as_array().unwrap();
    assert_eq!(headers[0], json!(["From", "Alice <alice@example.com>"]));
    assert!(
        headers.contains(&json!(["X-Folded", "one two"])),
        "{headers:?}"
    );
    assert_eq!(detail["subject"], "Quarterly réport");
    assert_eq!(
        detail["text"].as_str().unwrap().trim_end(),
        "Plain text body"
    );
    assert!(
        detail["html"]
            .as_str()
            .unwrap()
            .contains("<p>HTML body</p>")
    );
    assert_eq!(detail["findings"], json!([]));
    let attachment = &detail["attachments"][0];
    assert_eq!(attachment["index"], 0);
    assert_eq!(attachment["name"], "data.bin");
    assert_eq!(attachment["content_type"], "application/octet-stream");
    assert_eq!(attachment["size"], 700);
    let url = attachment["url"].as_str().unwrap();
    assert_eq!(url, format!("/api/messages/{id}/attachments/0"));

    let raw = dev.get(&format!("/api/messages/{id}/raw")).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("message/rfc822"));
    assert_eq!(raw.body, content.as_bytes(), "the exact bytes received");

    let html = dev.get(&format!("/api/messages/{id}/html")).await;
    assert_eq!(html.status, 200);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        html.header("content-security-policy"),
        Some("sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'")
    );
    assert!(html.text().contains("<p>HTML body</p>"));

    let download = dev.get(url).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, attachment_bytes(), "byte-exact");
    assert_eq!(
        download.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"data.bin\"")
    );
    assert_eq!(
        download.header("content-security-policy"),
        Some("sandbox; default-src 'none'")
    );
    let missing = dev.get(&format!("/api/messages/{id}/attachments/1")).await;
    missing.error(404);
}

#[tokio::test]
async fn plain_text_message_has_no_html() {
    let dev = Dev::start(&["--quiet"]).await;
    dev.deliver("", &["bob@example.org"], "Subject: hi\r\n\r\njust text\r\n")
        .await;
    let list = dev.list("").await;
    assert_eq!(list["messages"][0]["from"], "", "the null reverse-path");
    let id = list["messages"][0]["id"].as_str().unwrap().to_owned();
    let detail = dev.get(&format!("/api/messages/{id}")).await.json();
    assert_eq!(detail["html"], serde_json::Value::Null);
    assert_eq!(detail["text"], "just text\r\n");
    assert_eq!(detail["attachments"], json!([]));
    dev.get(&format!("/api/messages/{id}/html"))
        .await
        .error(404);
}

#[tokio::test]
async fn filters_and_order() {
    let dev = Dev::start(&["--quiet"]).await;
    dev.deliver(
        "alice@example.com",
        &["bob@example.org"],
        "Subject: Invoice 1\r\n\r\napples\r\n",
    )
    .await;
    dev.deliver(
        "carol@example.net",
        &["dave@example.org", "erin@x.test"],
        "Subject: Hello\r\n\r\nBananas\r\n",
    )
    .await;
    dev.deliver(
        "alice@example.com",
        &["erin@x.test"],
        "Subject: invoice 2\r\n\r\ncherries\r\n",
    )
    .await;
    let all = dev.ids("").await;
    assert_eq!(all.len(), 3);
    let subjects: Vec<String> = dev.list("").await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        subjects,
        ["invoice 2", "Hello", "Invoice 1"],
        "newest first"
    );
    let (a, b, c) = (all[0].clone(), all[1].clone(), all[2].clone());
    assert_eq!(dev.ids("?from=ALICE").await, [a.clone(), c.clone()]);
    assert_eq!(dev.ids("?to=erin").await, [a.clone(), b.clone()]);
    assert_eq!(dev.ids("?subject=invoice").await, [a.clone(), c.clone()]);
    assert_eq!(dev.ids("?q=bananas").await, [b]);
    assert_eq!(dev.ids("?from=alice&to=bob").await, [c]);
    assert!(dev.ids("?q=nothing%20like%20this").await.is_empty());
    assert_eq!(dev.ids("?subject=invoice%202").await, [a]);
}

#[tokio::test]
async fn delete_one_and_all() {
    let dev = Dev::start(&["--quiet"]).await;
    for i in 0..3 {
        let content = format!("Subject: {i}\r\n\r\nx\r\n");
        dev.deliver("a@example.com", &["b@example.com"], &content)
            .await;
    }
    let all = dev.ids("").await;
    let one = format!("/api/messages/{}", all[1]);
    let gone = dev.delete(&one).await;
    assert_eq!(gone.status, 204, "{}", gone.text());
    assert_eq!(dev.ids("").await, [all[0].clone(), all[2].clone()]);
    dev.delete(&one).await.error(404);
    dev.get(&one).await.error(404);
    assert_eq!(dev.delete("/api/messages").await.status, 204);
    assert!(dev.ids("").await.is_empty());
}

/// `method path` with these headers and body.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let dev = Dev::start(&["--quiet"]).await;
    let unknown = dev.get("/api/messages/no-such-id").await.error(404);
    assert!(unknown.contains("no-such-id"), "{unknown}");
    dev.get("/api/messages/no-such-id/raw").await.error(404);
    dev.get("/api/messages/no-such-id/attachments/0")
        .await
        .error(404);
    dev.get("/api/nothing/here").await.error(404);
    dev.get("/favicon.ico").await.error(404);
    let post = request("POST", "/api/messages", &[], "");
    dev.send(post).await.error(405);
    let put = |body: &'static str| dev.json(Method::PUT, "/api/faults", body);
    put("{not json").await.error(400);
    put(r#"{"rules": [{"stage": 5}]}"#).await.error(400);
    put(r#"{"rules": [{"stage": "mail", "nope": 1}]}"#)
        .await
        .error(400);
    let text = request(
        "PUT",
        "/api/faults",
        &[("Content-Type", "text/plain")],
        "{}",
    );
    dev.send(text).await.error(415);
    dev.get("/api/wait?count=many").await.error(400);
    dev.get("/api/messages/x/attachments/minus-one")
        .await
        .error(400);

    let big = format!(
        r#"{{"rules": [], "pad": "{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let too_big = dev.json(Method::PUT, "/api/faults", &big).await.error(413);
    assert!(too_big.contains("1 MiB"), "{too_big}");

    // DNS rebinding: a loopback server answers only to local names.
    let evil = [("Host", "evil.example:8025")];
    let rebound = dev.send(request("GET", "/api/messages", &evil, "")).await;
    assert!(rebound.error(403).contains("localhost"));
    let local = [("Host", "localhost:8025")];
    let local = dev.send(request("GET", "/api/messages", &local, "")).await;
    assert_eq!(local.status, 200);
}

#[tokio::test]
async fn ui_pages_have_a_strict_policy() {
    let dev = Dev::start(&["--quiet"]).await;
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
               frame-src 'self'; object-src 'none'; base-uri 'none'";
    for (path, kind) in [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/app.js", "javascript"),
        ("/ui/dom.js", "javascript"),
        ("/ui/message.js", "javascript"),
        ("/style.css", "text/css"),
    ] {
        let page = dev.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.header("content-type").unwrap().contains(kind),
            "{path}"
        );
        assert_eq!(page.header("content-security-policy"), Some(csp), "{path}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(!page.body.is_empty(), "{path}");
    }
    assert!(dev.get("/").await.text().contains("app.js"));
    assert_eq!(dev.get("/ui/nothing.js").await.status, 404);
    assert_eq!(dev.get("/ui/..%2fapp.js").await.status, 404);
}

/// `serve` puts the same router on a real listener, with the Host guard
/// of a loopback address: one request over TCP, each way.
#[tokio::test]
async fn serve_answers_over_a_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dev = Dev::start(&["--quiet"]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = crate::http::HttpLimits::default();
    tokio::spawn(crate::http::serve(listener, dev.app.clone(), limits));
    for (host, status) in [("127.0.0.1", "200 OK"), ("evil.example", "403 Forbidden")] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request =
            format!("GET /api/messages HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        let read = stream.read_to_string(&mut response);
        tokio::time::timeout(super::harness::WAIT, read)
            .await
            .unwrap()
            .unwrap();
        let first = response.lines().next().unwrap_or_default();
        assert_eq!(first, format!("HTTP/1.1 {status}"), "{response}");
    }
}
