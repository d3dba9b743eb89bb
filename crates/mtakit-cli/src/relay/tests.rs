use super::*;
use tokio::io::AsyncWriteExt;

#[test]
fn relay_urls() {
    let relay: Relay = "smtp://mail.example.com:2525".parse().unwrap();
    assert_eq!(
        (relay.host.as_str(), relay.port),
        ("mail.example.com", 2525)
    );
    let relay: Relay = "smtp://127.0.0.1".parse().unwrap();
    assert_eq!((relay.host.as_str(), relay.port), ("127.0.0.1", 25));
    let relay: Relay = "smtp://[::1]:26/".parse().unwrap();
    assert_eq!((relay.host.as_str(), relay.port), ("::1", 26));
    assert_eq!(relay.to_string(), "smtp://[::1]:26");
    for bad in [
        "mail.example.com",
        "smtps://h:465",
        "smtp://",
        "smtp://h:0",
        "smtp://h:port",
        "smtp://u@h",
        "smtp://h/path",
        "smtp://[::1",
    ] {
        assert!(bad.parse::<Relay>().is_err(), "{bad}");
    }
}

/// Sends share the relay's connection budget: with one slot, a second
/// send waits until the first is done, without connecting.
#[tokio::test]
async fn sends_share_the_connection_budget() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (count, mut accepted) = tokio::sync::watch::channel(0usize);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream); // never greets
            count.send_modify(|n| *n += 1);
        }
    });
    let relay: Relay = format!("smtp://127.0.0.1:{port}").parse().unwrap();
    let relay = Arc::new(relay.with_connections(1));
    let send = |relay: Arc<Relay>| {
        tokio::spawn(async move {
            let to = ["b@example.com".to_owned()];
            let content = Payload::Memory(b"x\r\n".to_vec().into());
            relay.send("me", "a@example.com", &to, &content).await
        })
    };
    let first = send(relay.clone());
    accepted.wait_for(|n| *n == 1).await.unwrap();
    let _second = send(relay.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*accepted.borrow(), 1, "the second send waits");
    first.abort();
    accepted.wait_for(|n| *n == 2).await.unwrap();
}

/// Stored addresses are checked again: no parameters, no line breaks.
#[test]
fn stored_addresses_carry_nothing_else() {
    let ok = |from: &str, to: &str| check_addresses(from, &[to.to_owned()]).is_ok();
    assert!(ok("a@example.com", "b@example.com"));
    assert!(ok("", "Postmaster"));
    assert!(!ok("a@example.com", "x@evil.example> NOTIFY=SUCCESS"));
    assert!(!ok(
        "a@example.com",
        "y@evil.example>\rRCPT TO:<z@evil.example"
    ));
    assert!(!ok("a@example.com", "y@evil.example\r\nRSET"));
    assert!(!ok("a@x> SIZE=1", "b@example.com"));
    assert!(!ok("a@example.com", "not an address"));
}

/// A server without ESMTP: EHLO gets 502, so the relay says HELO and
/// sends no parameters, even for 8-bit content.
#[tokio::test]
async fn helo_when_ehlo_is_refused() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut seen = Vec::new();
        let mut in_data = false;
        write.write_all(b"220 old.example\r\n").await.unwrap();
        while let Some(line) = lines.next_line().await.unwrap() {
            let reply: &[u8] = match line.as_str() {
                "." if in_data => {
                    in_data = false;
                    b"250 Queued\r\n"
                }
                _ if in_data => b"",
                "DATA" => {
                    in_data = true;
                    b"354 Go ahead\r\n"
                }
                "QUIT" => b"221 Bye\r\n",
                l if l.starts_with("EHLO") => b"502 Command not implemented\r\n",
                _ => b"250 Ok\r\n",
            };
            let quit = line == "QUIT";
            seen.push(line);
            write.write_all(reply).await.unwrap();
            if quit {
                break;
            }
        }
        seen
    });
    let relay: Relay = format!("smtp://127.0.0.1:{port}").parse().unwrap();
    let to = ["b@example.com".to_owned()];
    let reply = relay
        .send(
            "me.example",
            "a@example.com",
            &to,
            &Payload::Memory(b"caf\xc3\xa9\r\n".to_vec().into()),
        )
        .await
        .unwrap();
    assert_eq!(reply, "250 Queued");
    let seen = server.await.unwrap();
    assert_eq!(
        seen,
        [
            "EHLO me.example",
            "HELO me.example",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<b@example.com>",
            "DATA",
            "caf\u{e9}",
            ".",
            "QUIT"
        ]
    );
}

/// A relay that answers with an endless multi-line greeting is cut off at
/// the client's reply bound: the send fails as a protocol error instead of
/// buffering the flood.
#[tokio::test]
async fn an_endless_reply_from_the_relay_is_cut_off() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        // Stops when the relay client closes the connection.
        while stream.write_all(b"220-still greeting\r\n").await.is_ok() {}
    });
    let relay: Relay = format!("smtp://127.0.0.1:{port}").parse().unwrap();
    let to = ["b@example.com".to_owned()];
    let content = Payload::Memory(b"x\r\n".to_vec().into());
    let result = relay.send("me", "a@example.com", &to, &content).await;
    match result {
        Err(RelayError::Protocol(what)) => assert!(what.contains("lines"), "{what}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}
