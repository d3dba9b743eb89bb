//! Input limits and NUL handling of `reference/security.md` over real TCP:
//! NUL-2, LIM-3, LIM-11 and LIM-12.

use std::time::Duration;

use mtakit::Limits;
use mtakit::test_util::{ReplyExt, TestServer};

use crate::support::{bounded, connect, open_data, read_reply};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn nul_2_nul_in_data_is_refused_by_default() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect(server.addr(), WAIT).await;
        open_data(&mut client).await;
        client
            .send_raw(b"Subject: n\r\n\r\nbefore\x00after\r\n.\r\n")
            .await
            .expect("write");
        read_reply(&mut client, WAIT)
            .await
            .assert_code(554)
            .assert_enhanced("5.6.0");
        // The session goes on; a clean message still works.
        client
            .mail_from("<legit@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client
            .rcpt_to("<rcpt@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(b"Subject: clean\r\n\r\nok\r\n")
            .await
            .expect("data")
            .assert_code(250);
        client.quit().await.expect("quit").assert_code(221);
        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].header("Subject"), Some("clean"));
    })
    .await;
}

#[tokio::test]
async fn nul_2_allowed_nul_is_delivered_byte_exact() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                allow_nul: true,
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        open_data(&mut client).await;
        client
            .send_raw(b"Subject: n\r\n\r\nbefore\x00after\r\n.\r\n")
            .await
            .expect("write");
        read_reply(&mut client, WAIT).await.assert_code(250);
        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages[0].data(), b"Subject: n\r\n\r\nbefore\x00after\r\n");
    })
    .await;
}

#[tokio::test]
async fn lim_3_huge_command_line_is_refused_and_the_session_recovers() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        let mut line = b"NOOP ".to_vec();
        line.extend(std::iter::repeat_n(b'A', 65_536));
        line.extend_from_slice(b"\r\nNOOP\r\n");
        client.send_raw(&line).await.expect("write");
        let first = read_reply(&mut client, WAIT).await;
        if first.code().get() == 421 {
            return;
        }
        first.assert_code(500).assert_enhanced("5.5.6");
        // Exactly one error for the long line, then the next command is parsed
        // from the right byte.
        read_reply(&mut client, WAIT).await.assert_code(250);
        client
            .mail_from("<a@a.test>")
            .await
            .expect("mail")
            .assert_code(250);
        client.quit().await.expect("quit").assert_code(221);
    })
    .await;
}

#[tokio::test]
async fn lim_3_repeated_long_lines_hit_the_error_limit() {
    bounded(async {
        // Bounded behaviour: each long line is one error; past the limit the
        // server says 421 and closes instead of reading forever.
        let server = TestServer::builder()
            .limits(Limits {
                max_errors: 3,
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        let mut line = b"NOOP ".to_vec();
        line.extend(std::iter::repeat_n(b'A', 8_192));
        line.extend_from_slice(b"\r\n");
        for _ in 0..3 {
            client.send_raw(&line).await.expect("write");
            read_reply(&mut client, WAIT).await.assert_code(500);
        }
        let _ = client.send_raw(&line).await;
        read_reply(&mut client, WAIT)
            .await
            .assert_code(421)
            .assert_enhanced("4.7.0");
        assert!(
            tokio::time::timeout(WAIT, client.is_closed())
                .await
                .expect("close timed out")
                .unwrap_or(true)
        );
    })
    .await;
}

#[tokio::test]
async fn lim_12_oversized_data_is_drained_then_552() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                max_message_size: 10_000,
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        let ehlo = client.ehlo("client.test").await.expect("ehlo");
        ehlo.assert_line("SIZE 10000");
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
        client.command("DATA").await.expect("data").assert_code(354);
        let mut content = b"Subject: big\r\n\r\n".to_vec();
        while content.len() < 14_000 {
            content.extend_from_slice(&[b'x'; 98]);
            content.extend_from_slice(b"\r\n");
        }
        // The terminator comes in the same write; the smuggled-looking MAIL
        // after it must be a real command, parsed after the 552.
        content.extend_from_slice(b".\r\nMAIL FROM:<after@a.test>\r\n");
        client.send_raw(&content).await.expect("write");
        read_reply(&mut client, WAIT)
            .await
            .assert_code(552)
            .assert_enhanced("5.3.4");
        read_reply(&mut client, WAIT).await.assert_code(250);
        client
            .rcpt_to("<b@b.test>")
            .await
            .expect("rcpt")
            .assert_code(250);
        client
            .data(b"Subject: small\r\n\r\nfits\r\n")
            .await
            .expect("data")
            .assert_code(250);
        client.quit().await.expect("quit").assert_code(221);
        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].header("Subject"), Some("small"));
    })
    .await;
}

#[tokio::test]
async fn lim_12_size_limit_boundary() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                max_message_size: 10_000,
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        // Content of exactly the limit (CRLF counted, terminator not), then
        // one octet more. Dot-stuffing does not count: the stuffed dots
        // are removed before the size is known to the message.
        let exact = |n: usize| {
            let mut c = b"Subject: edge\r\n\r\n".to_vec();
            while c.len() + 100 <= n {
                c.extend_from_slice(&[b'.'; 98]);
                c.extend_from_slice(b"\r\n");
            }
            while c.len() + 2 < n {
                c.push(b'y');
            }
            c.extend_from_slice(b"\r\n");
            assert_eq!(c.len(), n);
            c
        };
        for (size, code) in [(10_000, 250), (10_001, 552)] {
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
            let got = client.data(&exact(size)).await.expect("data");
            assert_eq!(got.code().get(), code, "{size} octets: {got}");
        }
        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].data().len(), 10_000);
    })
    .await;
}

#[tokio::test]
async fn lim_11_declared_size_over_the_limit_is_refused_at_mail() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                max_message_size: 10_000,
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut client = connect(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        client
            .mail_from("<a@a.test> SIZE=10001")
            .await
            .expect("mail")
            .assert_code(552)
            .assert_enhanced("5.3.4");
        client
            .mail_from("<a@a.test> SIZE=10000")
            .await
            .expect("mail")
            .assert_code(250);
    })
    .await;
}
