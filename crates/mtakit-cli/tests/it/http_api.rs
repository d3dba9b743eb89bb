//! The HTTP API of `mtakit serve` over real HTTP: listing, filters, the
//! detail of a message, raw bytes, the HTML body, attachments, deleting,
//! the UI pages, and bad requests.

use std::net::SocketAddr;

use crate::support::{Daemon, base64, delete, get, put_json, request, send_one};

/// Sends one message over SMTP and checks the 250.
fn send(daemon: &Daemon, from: &str, to: &[&str], content: &str) {
    send_one(daemon.addr, from, to, content);
}

fn ids(http: SocketAddr, query: &str) -> Vec<String> {
    let list = get(http, &format!("/api/messages{query}"));
    assert_eq!(list.status, 200, "{}", list.text());
    let json = list.json();
    let ids: Vec<String> = json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(json["total"], ids.len(), "{json}");
    ids
}

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

#[test]
fn list_detail_raw_html_and_attachment() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    let content = multipart();
    send(&daemon, "alice@example.com", &["bob@example.org"], &content);

    let list = get(http, "/api/messages").json();
    assert_eq!(list["total"], 1);
    let summary = &list["messages"][0];
    assert_eq!(summary["from"], "alice@example.com");
    assert_eq!(summary["to"], serde_json::json!(["bob@example.org"]));
    assert_eq!(summary["subject"], "Quarterly réport");
    assert_eq!(summary["size"], content.len());
    assert_eq!(summary["findings"], 0);
    let received = summary["received_at"].as_str().unwrap();
    assert!(
        received.ends_with('Z') && received.contains('T'),
        "{received}"
    );
    let id = summary["id"].as_str().unwrap();

    let detail = get(http, &format!("/api/messages/{id}"));
    assert_eq!(detail.status, 200, "{}", detail.text());
    let detail = detail.json();
    assert_eq!(detail["id"], id);
    let envelope = &detail["envelope"];
    assert_eq!(envelope["from"], "alice@example.com");
    assert_eq!(envelope["to"], serde_json::json!(["bob@example.org"]));
    assert_eq!(envelope["helo"], "client.example");
    assert_eq!(envelope["tls"], serde_json::Value::Null);
    assert_eq!(envelope["auth"], serde_json::Value::Null);
    assert_eq!(envelope["mail_params"]["smtputf8"], false);
    assert!(envelope["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    let headers = detail["headers"].as_array().unwrap();
    assert_eq!(
        headers[0],
        serde_json::json!(["From", "Alice <alice@example.com>"])
    );
    assert!(
        headers.contains(&serde_json::json!(["X-Folded", "one two"])),
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
    assert_eq!(detail["findings"], serde_json::json!([]));
    let attachment = &detail["attachments"][0];
    assert_eq!(attachment["index"], 0);
    assert_eq!(attachment["name"], "data.bin");
    assert_eq!(attachment["content_type"], "application/octet-stream");
    assert_eq!(attachment["size"], 700);
    let url = attachment["url"].as_str().unwrap();
    assert_eq!(url, format!("/api/messages/{id}/attachments/0"));

    let raw = get(http, &format!("/api/messages/{id}/raw"));
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("message/rfc822"));
    assert_eq!(raw.body, content.as_bytes(), "the exact bytes received");

    let html = get(http, &format!("/api/messages/{id}/html"));
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

    let download = get(http, url);
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
    let missing = get(http, &format!("/api/messages/{id}/attachments/1"));
    missing.error(404);
}

#[test]
fn plain_text_message_has_no_html() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    send(
        &daemon,
        "",
        &["bob@example.org"],
        "Subject: hi\r\n\r\njust text\r\n",
    );
    let list = get(http, "/api/messages").json();
    assert_eq!(list["messages"][0]["from"], "", "the null reverse-path");
    let id = list["messages"][0]["id"].as_str().unwrap().to_owned();
    let detail = get(http, &format!("/api/messages/{id}")).json();
    assert_eq!(detail["html"], serde_json::Value::Null);
    assert_eq!(detail["text"], "just text\r\n");
    assert_eq!(detail["attachments"], serde_json::json!([]));
    get(http, &format!("/api/messages/{id}/html")).error(404);
}

#[test]
fn filters_and_order() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    send(
        &daemon,
        "alice@example.com",
        &["bob@example.org"],
        "Subject: Invoice 1\r\n\r\napples\r\n",
    );
    send(
        &daemon,
        "carol@example.net",
        &["dave@example.org", "erin@x.test"],
        "Subject: Hello\r\n\r\nBananas\r\n",
    );
    send(
        &daemon,
        "alice@example.com",
        &["erin@x.test"],
        "Subject: invoice 2\r\n\r\ncherries\r\n",
    );
    let all = ids(http, "");
    assert_eq!(all.len(), 3);
    let subjects: Vec<String> = get(http, "/api/messages").json()["messages"]
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
    assert_eq!(ids(http, "?from=ALICE"), [all[0].clone(), all[2].clone()]);
    assert_eq!(ids(http, "?to=erin"), [all[0].clone(), all[1].clone()]);
    assert_eq!(
        ids(http, "?subject=invoice"),
        [all[0].clone(), all[2].clone()]
    );
    assert_eq!(ids(http, "?q=bananas"), [all[1].clone()]);
    assert_eq!(ids(http, "?from=alice&to=bob"), [all[2].clone()]);
    assert_eq!(ids(http, "?q=nothing%20like%20this"), Vec::<String>::new());
    assert_eq!(ids(http, "?subject=invoice%202"), [all[0].clone()]);
}

#[test]
fn delete_one_and_all() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    for i in 0..3 {
        send(
            &daemon,
            "a@example.com",
            &["b@example.com"],
            &format!("Subject: {i}\r\n\r\nx\r\n"),
        );
    }
    let all = ids(http, "");
    let gone = delete(http, &format!("/api/messages/{}", all[1]));
    assert_eq!(gone.status, 204, "{}", gone.text());
    assert_eq!(ids(http, ""), [all[0].clone(), all[2].clone()]);
    delete(http, &format!("/api/messages/{}", all[1])).error(404);
    get(http, &format!("/api/messages/{}", all[1])).error(404);
    assert_eq!(delete(http, "/api/messages").status, 204);
    assert!(ids(http, "").is_empty());
}

#[test]
fn bad_requests_get_json_errors() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    let unknown = get(http, "/api/messages/no-such-id").error(404);
    assert!(unknown.contains("no-such-id"), "{unknown}");
    get(http, "/api/messages/no-such-id/raw").error(404);
    get(http, "/api/messages/no-such-id/attachments/0").error(404);
    get(http, "/api/nothing/here").error(404);
    get(http, "/favicon.ico").error(404);
    request(http, "POST", "/api/messages", &[], b"").error(405);
    put_json(http, "/api/faults", "{not json").error(400);
    put_json(http, "/api/faults", r#"{"rules": [{"stage": 5}]}"#).error(400);
    put_json(
        http,
        "/api/faults",
        r#"{"rules": [{"stage": "mail", "nope": 1}]}"#,
    )
    .error(400);
    request(
        http,
        "PUT",
        "/api/faults",
        &[("Content-Type", "text/plain")],
        b"{}",
    )
    .error(415);
    get(http, "/api/wait?count=many").error(400);
    get(http, "/api/messages/x/attachments/minus-one").error(400);

    let big = format!(
        r#"{{"rules": [], "pad": "{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let too_big = put_json(http, "/api/faults", &big).error(413);
    assert!(too_big.contains("1 MiB"), "{too_big}");

    // DNS rebinding: a loopback server answers only to local names.
    let rebound = request(
        http,
        "GET",
        "/api/messages",
        &[("Host", "evil.example:8025")],
        b"",
    );
    assert!(rebound.error(403).contains("localhost"));
    let local = request(
        http,
        "GET",
        "/api/messages",
        &[("Host", "localhost:8025")],
        b"",
    );
    assert_eq!(local.status, 200);
}

#[test]
fn ui_pages_have_a_strict_policy() {
    let daemon = Daemon::start(&["--quiet"]);
    let http = daemon.http();
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
               frame-src 'self'; object-src 'none'; base-uri 'none'";
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "javascript"),
        ("/ui/dom.js", "javascript"),
        ("/ui/message.js", "javascript"),
        ("/style.css", "text/css"),
    ] {
        let page = get(http, path);
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
    assert!(get(http, "/").text().contains("app.js"));
    assert_eq!(get(http, "/ui/nothing.js").status, 404);
    assert_eq!(get(http, "/ui/..%2fapp.js").status, 404);
}

#[test]
fn http_listens_on_loopback_by_default() {
    // The default is 127.0.0.1:8025; another server may hold that port, in
    // which case the error names the address instead.
    let mut child = crate::support::mtakit()
        .args(["serve", "--listen", "127.0.0.1:0", "--quiet"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let Ok(line) = line else { break };
            let last = line.contains("listening on") || line.contains("cannot listen");
            let _ = tx.send(line);
            if last {
                break;
            }
        }
    });
    let mut seen = String::new();
    while let Ok(line) = rx.recv_timeout(crate::support::WAIT) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("listening on") || line.contains("cannot listen") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.contains("http://127.0.0.1:8025") || seen.contains("cannot listen on 127.0.0.1:8025"),
        "{seen}"
    );
}
