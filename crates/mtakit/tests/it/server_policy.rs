//! Policy hooks over TCP: every hook's verdict reaches
//! the client as the right reply, and a refused stage stores nothing.

use std::time::Duration;

use mtakit::proto::{Domain, ForwardPath, MailParams, RcptParams, Reply, ReversePath, SessionInfo};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use mtakit::{Message, Policy, Verdict};

use crate::support::{bounded, closed, connect, reply};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

/// One hook per stage, keyed on the input so that one policy covers every
/// case.
#[derive(Debug)]
struct Hooks;

impl Policy for Hooks {
    async fn accept_helo(&self, session: &SessionInfo, name: &Domain, extended: bool) -> Verdict {
        if !extended && name.eq_ignore_ascii_case("multi.test") {
            let lines = ["Hello multi.test", "pleased to meet you", "have a nice day"];
            return Verdict::accept_with(Reply::multiline(250, None, lines).expect("valid"));
        }
        if name.eq_ignore_ascii_case("nopipe.test") {
            let mut extensions = session.configured_extensions().clone();
            extensions.pipelining = false;
            return Verdict::accept().with_extensions(extensions);
        }
        Verdict::from(!name.eq_ignore_ascii_case("evil.test"))
    }

    async fn accept_mail_from(
        &self,
        _: &SessionInfo,
        from: &ReversePath,
        _: &MailParams,
    ) -> Verdict {
        match from.to_string().as_str() {
            "<blocked@a.test>" => Verdict::reject_with(reply(550, "5.7.1", "Sender blocked")),
            "<bye@a.test>" => Verdict::reject_with(reply(554, "5.7.1", "Go away")).and_close(),
            _ => Verdict::accept(),
        }
    }

    async fn accept_rcpt_to(&self, _: &SessionInfo, to: &ForwardPath, _: &RcptParams) -> Verdict {
        match to.to_string().as_str() {
            "<unknown@b.test>" => Verdict::reject_with(reply(550, "5.1.1", "No such user here")),
            "<later@b.test>" => Verdict::reject_with(reply(451, "4.7.1", "Greylisted")),
            "<relay@c.test>" => Verdict::reject(),
            // A policy mistake: accepting with a 5xx reply.
            "<confused@b.test>" => Verdict::accept_with(reply(550, "5.0.0", "accepted?")),
            "<custom@b.test>" => Verdict::accept_with(reply(250, "2.1.5", "Custom recipient ok")),
            _ => Verdict::accept(),
        }
    }

    async fn accept_data(&self, session: &SessionInfo) -> Verdict {
        let nodata = session
            .envelope()
            .is_some_and(|e| e.reverse_path.to_string() == "<nodata@a.test>");
        if nodata {
            Verdict::reject_with(reply(554, "5.7.1", "No data for you"))
        } else {
            Verdict::accept()
        }
    }

    async fn accept_message(&self, _: &SessionInfo, message: &Message) -> Verdict {
        Verdict::from(message.header("Subject") != Some("spam"))
    }

    async fn accept_vrfy(&self, _: &SessionInfo, argument: &str) -> Verdict {
        if argument == "alice" {
            Verdict::accept_with(reply(250, "2.1.5", "Alice <alice@b.test>"))
        } else {
            Verdict::accept()
        }
    }
}

async fn hooks_server() -> TestServer {
    TestServer::builder().policy(Hooks).start_async().await
}

/// Refuses every connection.
#[derive(Debug)]
struct NoConnections;

impl Policy for NoConnections {
    async fn accept_connection(&self, _: &SessionInfo) -> Verdict {
        Verdict::reject()
    }
}

#[tokio::test]
async fn rejected_connection_gets_554_and_is_closed() {
    bounded(async {
        let server = TestServer::builder()
            .policy(NoConnections)
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        client.greeting().assert_code(554);
        assert!(closed(&mut client, WAIT).await);
    })
    .await;
}

/// Drops every connection without a word.
#[derive(Debug)]
struct SilentDrop;

impl Policy for SilentDrop {
    async fn accept_connection(&self, _: &SessionInfo) -> Verdict {
        Verdict::disconnect()
    }
}

#[tokio::test]
async fn disconnect_verdict_closes_without_a_greeting() {
    bounded(async {
        let server = TestServer::builder().policy(SilentDrop).start_async().await;
        let mut stream = tokio::net::TcpStream::connect(server.addr())
            .await
            .expect("connect");
        let mut got = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut got)
            .await
            .expect("read");
        assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    })
    .await;
}

#[tokio::test]
async fn helo_hooks() {
    bounded(async {
        let server = hooks_server().await;
        let mut client = connect(server.addr(), WAIT).await;
        let multi = client.helo("multi.test").await.expect("helo");
        multi.assert_code(250);
        let lines: Vec<&str> = multi.lines().collect();
        assert_eq!(
            lines,
            ["Hello multi.test", "pleased to meet you", "have a nice day"]
        );
        let refused = client.ehlo("evil.test").await.expect("ehlo");
        assert!(refused.code().is_permanent(), "{refused}");
        client.quit().await.expect("quit").assert_code(221);
    })
    .await;
}

/// Hides PIPELINING from every client.
#[derive(Debug)]
struct NoPipelining;

impl Policy for NoPipelining {
    async fn accept_helo(&self, session: &SessionInfo, _: &Domain, _: bool) -> Verdict {
        let mut extensions = session.configured_extensions().clone();
        extensions.pipelining = false;
        Verdict::accept().with_extensions(extensions)
    }
}

#[tokio::test]
async fn an_ehlo_verdict_can_hide_pipelining() {
    bounded(async {
        let server = TestServer::builder()
            .policy(NoPipelining)
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        let hidden = client.ehlo("client.test").await.expect("ehlo");
        hidden.assert_code(250);
        assert!(!hidden.lines().any(|l| l == "PIPELINING"), "{hidden}");
        assert!(hidden.lines().any(|l| l.starts_with("SIZE")), "{hidden}");
        // The default policy advertises it.
        let plain = TestServer::start_async().await;
        let mut client = connect(plain.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_line("PIPELINING");
    })
    .await;
}

#[tokio::test]
async fn an_ehlo_verdict_sees_the_name_being_greeted() {
    bounded(async {
        let server = hooks_server().await;
        let mut client = connect(server.addr(), WAIT).await;
        let plain = client.ehlo("client.test").await.expect("ehlo");
        plain.assert_line("PIPELINING");
        let hidden = client.ehlo("nopipe.test").await.expect("ehlo");
        assert!(!hidden.lines().any(|l| l == "PIPELINING"), "{hidden}");
        let again = client.ehlo("client.test").await.expect("ehlo");
        again.assert_line("PIPELINING");
    })
    .await;
}

#[tokio::test]
async fn mail_hooks_reject_and_close() {
    bounded(async {
        let server = hooks_server().await;
        let mut client = connect(server.addr(), WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        client
            .mail_from("<blocked@a.test>")
            .await
            .expect("mail")
            .assert_code(550)
            .assert_enhanced("5.7.1")
            .assert_contains("Sender blocked");
        // No transaction was opened.
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(503);
        client
            .mail_from("<bye@a.test>")
            .await
            .expect("mail")
            .assert_code(554)
            .assert_contains("Go away");
        assert!(closed(&mut client, WAIT).await, "and_close() did not close");
    })
    .await;
}

#[tokio::test]
async fn rcpt_hooks_give_their_replies() {
    bounded(async {
        let server = hooks_server().await;
        let mut client = connect(server.addr(), WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        check(&mut client, "unknown@b.test", 550, "5.1.1")
            .await
            .assert_contains("No such user here");
        check(&mut client, "later@b.test", 451, "4.7.1").await;
        check(&mut client, "relay@c.test", 550, "5.7.1").await;
        // An accept with a 5xx reply is a policy error, never a 5xx "success".
        check(&mut client, "confused@b.test", 451, "4.3.0").await;
        check(&mut client, "custom@b.test", 250, "2.1.5")
            .await
            .assert_contains("Custom recipient ok");
        check(&mut client, "b@b.test", 250, "2.1.5").await;
        client
            .data(b"Subject: rcpt\r\n\r\nx\r\n")
            .await
            .expect("data")
            .assert_code(250);
        let messages = server.wait_for_messages_async(1).await;
        let to: Vec<String> = messages[0].forward_paths().map(|p| p.to_string()).collect();
        assert_eq!(to, ["<custom@b.test>", "<b@b.test>"]);
    })
    .await;
}

/// Sends `RCPT TO:<to>` and checks the reply's codes.
async fn check(client: &mut TestClient, to: &str, code: u16, enhanced: &str) -> Reply {
    let got = client.rcpt_to(&format!("<{to}>")).await.expect("rcpt");
    got.assert_code(code).assert_enhanced(enhanced);
    got
}

#[tokio::test]
async fn data_and_message_hooks_store_nothing_when_they_refuse() {
    bounded(async {
        let server = hooks_server().await;
        let mut client = connect(server.addr(), WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");

        client
            .mail_from("<nodata@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .command("DATA")
            .await
            .expect("data")
            .assert_code(554)
            .assert_contains("No data for you");
        client.rset().await.expect("rset").assert_code(250);

        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(b"Subject: spam\r\n\r\nbuy now\r\n")
            .await
            .expect("data")
            .assert_code(550)
            .assert_enhanced("5.7.1");

        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(b"Subject: ham\r\n\r\nhello\r\n")
            .await
            .expect("data")
            .assert_code(250);
        client.quit().await.expect("quit").assert_code(221);

        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].header("Subject"), Some("ham"));
    })
    .await;
}

#[tokio::test]
async fn vrfy_hook() {
    bounded(async {
        let server = hooks_server().await;
        let mut client = connect(server.addr(), WAIT).await;
        client.ehlo("client.test").await.expect("ehlo");
        client
            .command("VRFY alice")
            .await
            .expect("vrfy")
            .assert_code(250)
            .assert_contains("<alice@b.test>");
        client
            .command("VRFY bob")
            .await
            .expect("vrfy")
            .assert_code(252)
            .assert_enhanced("2.5.2");
    })
    .await;
}

/// A smaller size limit for one peer.
#[derive(Debug)]
struct SmallForLoopback;

impl Policy for SmallForLoopback {
    async fn accept_connection(&self, session: &SessionInfo) -> Verdict {
        if session.peer().ip().is_loopback() {
            Verdict::accept().with_max_message_size(5_000)
        } else {
            Verdict::accept()
        }
    }
}

#[tokio::test]
async fn per_peer_max_message_size_is_advertised_and_enforced() {
    bounded(async {
        let server = TestServer::builder()
            .policy(SmallForLoopback)
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_line("SIZE 5000");
        client
            .mail_from("<a@a.test> SIZE=5001")
            .await
            .expect("mail")
            .assert_code(552)
            .assert_enhanced("5.3.4");
        client
            .mail_from("<a@a.test> SIZE=4000")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        let mut big = b"Subject: big\r\n\r\n".to_vec();
        while big.len() < 6_000 {
            big.extend_from_slice(b"0123456789012345678901234567890123456789\r\n");
        }
        client
            .data(&big)
            .await
            .expect("data")
            .assert_code(552)
            .assert_enhanced("5.3.4");
        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(&big[..4_000])
            .await
            .expect("data")
            .assert_code(250);
        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
    })
    .await;
}
