//! Pipelining (RFC 2920), transparency and chunked arrival over real TCP:
//! whatever the write boundaries, replies come in order and the message is
//! the same.

use std::time::Duration;

use mtakit::Limits;
use mtakit::proto::Reply;
use mtakit::test_util::{ReplyExt, TestClient, TestServer};

use crate::support::{bounded, closed, codes, connect, connect_greeted, replies};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

const ENVELOPE: &[u8] =
    b"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nRCPT TO:<c@b.test>\r\nDATA\r\n";

#[tokio::test]
async fn command_batch_then_content_batch() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect_greeted(server.addr(), WAIT).await;
        let mut batch = b"EHLO client.test\r\n".to_vec();
        batch.extend_from_slice(ENVELOPE);
        client.send_raw(&batch).await.expect("write");
        let got = replies(&mut client, 5, WAIT).await;
        assert_eq!(codes(&got), [250, 250, 250, 250, 354], "{got:?}");
        got[0].assert_line("PIPELINING");
        got[1].assert_enhanced("2.1.0");
        got[2].assert_enhanced("2.1.5");
        got[3].assert_enhanced("2.1.5");

        client
            .send_raw(b"Subject: batch\r\n\r\nbody line\r\n.\r\nQUIT\r\n")
            .await
            .expect("write");
        let got = replies(&mut client, 2, WAIT).await;
        assert_eq!(codes(&got), [250, 221], "{got:?}");
        assert!(closed(&mut client, WAIT).await);

        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].data(), b"Subject: batch\r\n\r\nbody line\r\n");
        let to: Vec<String> = messages[0].forward_paths().map(|p| p.to_string()).collect();
        assert_eq!(to, ["<b@b.test>", "<c@b.test>"]);
    })
    .await;
}

#[tokio::test]
async fn whole_transaction_and_content_in_one_write() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect_greeted(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        client
            .send_raw(
                b"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n\
              Subject: one write\r\n\r\nbody\r\n.\r\nQUIT\r\n",
            )
            .await
            .expect("write");
        let got = replies(&mut client, 5, WAIT).await;
        assert_eq!(codes(&got), [250, 250, 354, 250, 221], "{got:?}");
        assert!(closed(&mut client, WAIT).await);

        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].data(), b"Subject: one write\r\n\r\nbody\r\n");
    })
    .await;
}

#[tokio::test]
async fn replies_stay_in_order_when_commands_in_a_batch_fail() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect_greeted(server.addr(), WAIT).await;
        client
            .send_raw(
                b"EHLO client.test\r\nRCPT TO:<early@b.test>\r\nMAIL FROM:<a@a.test>\r\n\
              RCPT TO:<no-brackets@b.test\r\nRCPT TO:<b@b.test>\r\nNOOP\r\nDATA\r\n\
              x\r\n.\r\nRSET\r\nQUIT\r\n",
            )
            .await
            .expect("write");
        let got = replies(&mut client, 9, WAIT).await;
        assert_eq!(
            codes(&got),
            [250, 503, 250, 501, 250, 250, 354, 250, 250],
            "{got:?}"
        );
        replies(&mut client, 1, WAIT).await[0].assert_code(221);
        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages.len(), 1);
        let to: Vec<String> = messages[0].forward_paths().map(|p| p.to_string()).collect();
        assert_eq!(to, ["<b@b.test>"]);
    })
    .await;
}

#[tokio::test]
async fn dot_stuffing_is_removed() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect_greeted(server.addr(), WAIT).await;
        let mut batch = b"EHLO client.test\r\n".to_vec();
        batch.extend_from_slice(ENVELOPE);
        batch.extend_from_slice(b"..leading\r\n..\r\nmid.dle\r\n...\r\n.\r\nQUIT\r\n");
        client.send_raw(&batch).await.expect("write");
        let got = replies(&mut client, 7, WAIT).await;
        assert_eq!(codes(&got), [250, 250, 250, 250, 354, 250, 221], "{got:?}");

        let messages = server.wait_for_messages_async(1).await;
        assert_eq!(messages[0].data(), b".leading\r\n.\r\nmid.dle\r\n..\r\n");
    })
    .await;
}

#[tokio::test]
async fn lim_9_10_pipelined_recipients_up_to_the_limit() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                max_recipients: 100,
                ..Limits::default()
            })
            .start_async()
            .await;
        let mut client = connect_greeted(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        let mut batch = b"MAIL FROM:<a@a.test>\r\n".to_vec();
        for i in 0..102 {
            batch.extend_from_slice(format!("RCPT TO:<r{i}@b.test>\r\n").as_bytes());
        }
        batch.extend_from_slice(b"DATA\r\nSubject: many\r\n\r\nx\r\n.\r\nQUIT\r\n");
        client.send_raw(&batch).await.expect("write");
        let got = replies(&mut client, 1 + 102 + 3, WAIT).await;
        got[0].assert_code(250);
        for (i, r) in got[1..101].iter().enumerate() {
            assert_eq!(r.code().get(), 250, "RCPT {i}: {r}");
        }
        got[101].assert_code(452).assert_enhanced("4.5.3");
        got[102].assert_code(452).assert_enhanced("4.5.3");
        assert_eq!(codes(&got[103..]), [354, 250, 221]);

        let messages = server.wait_for_messages_async(1).await;
        let to: Vec<String> = messages[0].forward_paths().map(|p| p.to_string()).collect();
        let expected: Vec<String> = (0..100).map(|i| format!("<r{i}@b.test>")).collect();
        assert_eq!(to, expected);
    })
    .await;
}

/// The dialogue used for the chunking comparison: two transactions on one
/// connection, with dot-stuffing and an empty line.
fn dialogue() -> Vec<u8> {
    let mut d = b"EHLO client.test\r\n".to_vec();
    d.extend_from_slice(ENVELOPE);
    d.extend_from_slice(b"Subject: first\r\n\r\n..dot\r\n\r\nend\r\n.\r\n");
    d.extend_from_slice(b"MAIL FROM:<x@a.test>\r\nRCPT TO:<y@b.test>\r\nDATA\r\n");
    d.extend_from_slice(b"Subject: second\r\n\r\n.\r\n");
    d.extend_from_slice(b"QUIT\r\n");
    d
}

const DIALOGUE_REPLIES: usize = 11;

async fn run_dialogue(chunk: usize) -> (Vec<Reply>, Vec<Vec<u8>>) {
    let server = TestServer::start_async().await;
    let mut client = connect_greeted(server.addr(), WAIT).await;
    for piece in dialogue().chunks(chunk) {
        client.send_raw(piece).await.expect("write");
    }
    let got = replies(&mut client, DIALOGUE_REPLIES, WAIT).await;
    assert!(closed(&mut client, WAIT).await);
    let messages = server.wait_for_messages_async(2).await;
    assert_eq!(messages.len(), 2);
    (got, messages.iter().map(|m| m.data().to_vec()).collect())
}

/// Each reply as text, with the message id of `queued as ID` taken out
/// (every message has its own).
fn without_ids(replies: &[Reply]) -> Vec<String> {
    replies
        .iter()
        .map(|r| {
            let text = r.to_string();
            match text.find("queued as ") {
                Some(at) => text[..at].to_owned(),
                None => text,
            }
        })
        .collect()
}

#[tokio::test]
async fn one_byte_writes_give_the_same_result_as_one_write() {
    bounded(async {
        let (whole_replies, whole_data) = run_dialogue(usize::MAX).await;
        assert_eq!(
            codes(&whole_replies),
            [250, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221]
        );
        assert_eq!(
            whole_data,
            [
                b"Subject: first\r\n\r\n.dot\r\n\r\nend\r\n".to_vec(),
                b"Subject: second\r\n\r\n".to_vec(),
            ]
        );
        for chunk in [1, 2, 3, 7] {
            let (got, data) = run_dialogue(chunk).await;
            assert_eq!(
                without_ids(&got),
                without_ids(&whole_replies),
                "chunk size {chunk}"
            );
            assert_eq!(data, whole_data, "chunk size {chunk}");
        }
    })
    .await;
}

/// Connects with the per-IP cap of 1: a successful connect proves the
/// previous connection from 127.0.0.1 has ended on the server side.
async fn connect_after_previous_ended(server: &TestServer) -> TestClient {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let client = connect(server.addr(), WAIT).await;
        if client.greeting().code().get() == 220 {
            return client;
        }
        client.greeting().assert_code(421).assert_enhanced("4.7.0");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first connection never ended on the server"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn disconnect_mid_data(partial: &[u8]) {
    let server = TestServer::builder()
        .limits(Limits {
            max_connections_per_ip: Some(1),
            ..Limits::default()
        })
        .start_async()
        .await;
    let mut client = connect_greeted(server.addr(), WAIT).await;
    let mut batch = b"EHLO client.test\r\n".to_vec();
    batch.extend_from_slice(ENVELOPE);
    client.send_raw(&batch).await.expect("write");
    assert_eq!(
        codes(&replies(&mut client, 5, WAIT).await),
        [250, 250, 250, 250, 354]
    );
    client.send_raw(partial).await.expect("write");
    drop(client);

    let mut second = connect_after_previous_ended(&server).await;
    second
        .ehlo("second.test")
        .await
        .expect("ehlo")
        .assert_code(250);
    second
        .mail_from("<second@a.test>")
        .await
        .expect("mail")
        .assert_code(250);
    second
        .rcpt_to("<b@b.test>")
        .await
        .expect("rcpt")
        .assert_code(250);
    second
        .data(b"Subject: complete\r\n\r\nok\r\n")
        .await
        .expect("data")
        .assert_code(250);
    second.quit().await.expect("quit").assert_code(221);

    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages.len(), 1, "the partial message was stored");
    assert_eq!(messages[0].reverse_path().to_string(), "<second@a.test>");
}

#[tokio::test]
async fn disconnect_mid_data_stores_nothing() {
    bounded(async {
        disconnect_mid_data(b"Subject: partial\r\n\r\nhalf a body").await;
    })
    .await;
}

#[tokio::test]
async fn disconnect_after_a_partial_terminator_stores_nothing() {
    bounded(async {
        disconnect_mid_data(b"Subject: partial\r\n\r\nbody\r\n.").await;
        disconnect_mid_data(b"Subject: partial\r\n\r\nbody\r\n.\r").await;
    })
    .await;
}

/// Every connection on a thread reads through one shared buffer; sessions
/// that interleave on one thread must still keep their bytes apart. Eight
/// clients on this (single-threaded) test runtime each send two 150 KiB
/// messages of their own pattern, in odd-sized writes that yield between
/// them, so that reads of different sessions alternate.
#[tokio::test]
async fn interleaved_sessions_on_one_thread_keep_their_content_apart() {
    bounded(async {
        let server = TestServer::start_async().await;
        let addr = server.addr();
        let content = |client: u8, message: u8| -> Vec<u8> {
            let mut body = format!("Subject: {client}/{message}\r\n\r\n").into_bytes();
            let line: Vec<u8> = (0..76u8)
                .map(|i| b'A' + (i + client * 7 + message) % 26)
                .chain(*b"\r\n")
                .collect();
            while body.len() < 150 * 1024 {
                body.extend_from_slice(&line);
            }
            body
        };
        let clients = (0..8u8).map(|c| {
            tokio::spawn(async move {
                let mut client = connect_greeted(addr, WAIT).await;
                client
                    .ehlo("client.test")
                    .await
                    .expect("EHLO")
                    .assert_code(250);
                for m in 0..2u8 {
                    let mut batch =
                        format!("MAIL FROM:<c{c}@a.test>\r\nRCPT TO:<m{m}@b.test>\r\nDATA\r\n")
                            .into_bytes();
                    batch.extend_from_slice(&content(c, m));
                    batch.extend_from_slice(b".\r\n");
                    for piece in batch.chunks(4093 + usize::from(c) * 131) {
                        client.send_raw(piece).await.expect("write");
                        tokio::task::yield_now().await;
                    }
                    let got = replies(&mut client, 4, WAIT).await;
                    assert_eq!(codes(&got), [250, 250, 354, 250], "{got:?}");
                }
                client.quit().await.expect("QUIT").assert_code(221);
            })
        });
        for client in clients.collect::<Vec<_>>() {
            client.await.expect("client task");
        }
        let messages = server.wait_for_messages_async(16).await;
        assert_eq!(messages.len(), 16);
        for message in &messages {
            let from = message.reverse_path().to_string();
            let to = message
                .forward_paths()
                .next()
                .expect("recipient")
                .to_string();
            let c: u8 = from[2..from.find('@').unwrap()].parse().unwrap();
            let m: u8 = to[2..to.find('@').unwrap()].parse().unwrap();
            assert!(
                message.data() == content(c, m).as_slice(),
                "message {c}/{m} differs"
            );
        }
    })
    .await;
}
