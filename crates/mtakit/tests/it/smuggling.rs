//! SMTP smuggling cases of `reference/security.md` §1 over real TCP:
//! SMUG-1/2/3/4/6/7 (NUL and size limits are in `input_limits.rs`).

use std::time::Duration;

use mtakit::Limits;
use mtakit::proto::{LineEndingPolicy, Reply};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};

use crate::support::{bounded, connect, open_data, read_reply};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

/// The end-of-data look-alikes of security.md §1.
const SEQS: [&[u8]; 11] = [
    b"\n.\n",
    b"\n.\r",
    b"\r.\n",
    b"\r.\r",
    b"\n.\r\n",
    b"\r.\r\n",
    b"\r\n.\n",
    b"\r\n.\r",
    b"\r\n.\r\r\n",
    b"\r\r\n.\r\r\n",
    b"\r\n\x00.\r\n",
];

/// How the payload is written after the `354`.
#[derive(Clone, Copy, Debug)]
enum Split {
    /// One `write_all`.
    Whole,
    /// A write boundary after every CR, so no CR LF pair shares a write.
    AfterEveryCr,
    /// One byte per write.
    Bytes,
}

fn payload(seq: &[u8]) -> Vec<u8> {
    let mut p = b"Subject: legit\r\n\r\nfirst body".to_vec();
    p.extend_from_slice(seq);
    p.extend_from_slice(b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<rcpt@b.test>\r\nDATA\r\n");
    p.extend_from_slice(b"Subject: SMUGGLED\r\n\r\nsmuggled body\r\n.\r\n");
    p
}

async fn send(client: &mut TestClient, bytes: &[u8], split: Split) {
    let pieces: Vec<&[u8]> = match split {
        Split::Whole => vec![bytes],
        Split::AfterEveryCr => bytes.split_inclusive(|&b| b == b'\r').collect(),
        Split::Bytes => bytes.chunks(1).collect(),
    };
    for piece in pieces {
        client.send_raw(piece).await.expect("write");
    }
}

/// Runs one SMUG-1 case and returns the single reply to the payload.
async fn smuggle(server: &TestServer, seq: &[u8], split: Split) -> Reply {
    let mut client = connect(server.addr(), WAIT).await;
    open_data(&mut client).await;
    send(&mut client, &payload(seq), split).await;
    client.send_raw(b"QUIT\r\n").await.expect("write");
    let end = read_reply(&mut client, WAIT).await;
    if end.code().get() == 421 {
        return end;
    }
    // Exactly one reply for the payload: the next one answers QUIT. A
    // vulnerable server would answer the smuggled MAIL/RCPT/DATA here.
    let quit = read_reply(&mut client, WAIT).await;
    assert_eq!(
        quit.code().get(),
        221,
        "seq {seq:?} {split:?}: after {end} came {quit} instead of the QUIT reply"
    );
    end
}

fn assert_nothing_smuggled(server: &TestServer, seq: &[u8]) {
    for m in server.messages() {
        assert_eq!(
            m.reverse_path().to_string(),
            "<legit@a.test>",
            "seq {seq:?}"
        );
        assert!(!m.text().starts_with("Subject: SMUGGLED"), "seq {seq:?}");
    }
}

async fn strict_default_refuses_every_seq(split: Split) {
    let server = TestServer::start_async().await;
    for seq in SEQS {
        let end = smuggle(&server, seq, split).await;
        if seq.contains(&0) {
            // No bare CR/LF here; the NUL policy (NUL-2) refuses it.
            end.assert_code(554).assert_enhanced("5.6.0");
        } else {
            // SMUG-2: bare CR/LF refused after the real end of data.
            end.assert_code(550).assert_enhanced("5.5.2");
        }
        assert_nothing_smuggled(&server, seq);
        assert!(server.messages().is_empty(), "seq {seq:?} {split:?} stored");
    }
}

#[tokio::test]
async fn smug_1_2_one_write() {
    bounded(async {
        strict_default_refuses_every_seq(Split::Whole).await;
    })
    .await;
}

#[tokio::test]
async fn smug_7_split_between_cr_and_lf() {
    bounded(async {
        strict_default_refuses_every_seq(Split::AfterEveryCr).await;
    })
    .await;
}

#[tokio::test]
async fn smug_7_one_byte_writes() {
    bounded(async {
        strict_default_refuses_every_seq(Split::Bytes).await;
    })
    .await;
}

#[tokio::test]
async fn smug_3_normalize_still_ends_only_at_crlf_dot_crlf() {
    bounded(async {
        let server = TestServer::builder()
            .limits(Limits {
                line_endings: LineEndingPolicy::Normalize,
                ..Limits::default()
            })
            .start_async()
            .await;
        for split in [Split::Whole, Split::AfterEveryCr] {
            for seq in SEQS {
                let before = server.messages().len();
                let end = smuggle(&server, seq, split).await;
                assert_nothing_smuggled(&server, seq);
                let after = server.messages().len();
                if end.code().get() == 250 {
                    assert_eq!(after, before + 1, "seq {seq:?}");
                    // The would-be commands are content of the one message.
                    let m = server.messages().pop().expect("message");
                    assert!(m.text().contains("MAIL FROM:<smuggled@evil.test>"));
                    assert!(!has_bare_newline(m.data()), "{:?}", m.text());
                } else {
                    assert!(end.code().is_permanent(), "seq {seq:?}: {end}");
                    assert_eq!(after, before, "seq {seq:?}");
                }
            }
        }
    })
    .await;
}

/// True when `data` holds a CR not followed by LF or an LF not preceded
/// by CR.
fn has_bare_newline(data: &[u8]) -> bool {
    data.iter().enumerate().any(|(i, &b)| match b {
        b'\n' => i == 0 || data[i - 1] != b'\r',
        b'\r' => data.get(i + 1) != Some(&b'\n'),
        _ => false,
    })
}

#[tokio::test]
async fn smug_4_bare_lf_command_is_not_executed() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect(server.addr(), WAIT).await;
        client
            .ehlo("client.test")
            .await
            .expect("ehlo")
            .assert_code(250);
        client
            .send_raw(b"MAIL FROM:<lf@a.test>\n")
            .await
            .expect("write");
        let first = read_reply(&mut client, WAIT).await;
        assert!(
            first.code().get() >= 500 || first.code().get() == 421,
            "bare-LF command answered {first}"
        );
        if first.code().get() == 421 {
            return;
        }
        first.assert_code(500).assert_enhanced("5.5.2");
        // The MAIL was not executed: RCPT is out of sequence.
        client
            .rcpt_to("<r@b.test>")
            .await
            .expect("rcpt")
            .assert_code(503);
        client.command("NOOP").await.expect("noop").assert_code(250);
        client.quit().await.expect("quit").assert_code(221);
    })
    .await;
}

#[tokio::test]
async fn smug_6_transparency() {
    bounded(async {
        let server = TestServer::start_async().await;
        let cases: [(&[u8], &[u8]); 4] = [
            (b"..leading\r\n.\r\n", b".leading\r\n"),
            (b".\r\n", b""),
            (b"\r\n.\r\n", b"\r\n"),
            (b"a\r\n..\r\n.\r\n", b"a\r\n.\r\n"),
        ];
        for split in [Split::Whole, Split::AfterEveryCr, Split::Bytes] {
            server.sink().take();
            for (input, _) in cases {
                let mut client = connect(server.addr(), WAIT).await;
                open_data(&mut client).await;
                send(&mut client, input, split).await;
                read_reply(&mut client, WAIT).await.assert_code(250);
                client.quit().await.expect("quit").assert_code(221);
            }
            let messages = server.wait_for_messages_async(cases.len()).await;
            let got: Vec<&[u8]> = messages.iter().map(|m| m.data()).collect();
            let expected: Vec<&[u8]> = cases.iter().map(|(_, want)| *want).collect();
            assert_eq!(got, expected, "{split:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn smug_6_dot_line_after_bare_lf_is_not_a_terminator() {
    bounded(async {
        let server = TestServer::start_async().await;
        let mut client = connect(server.addr(), WAIT).await;
        open_data(&mut client).await;
        client
            .send_raw(b"x\n.\r\nstill data\r\n.\r\n")
            .await
            .expect("write");
        // One reply only, after the real terminator: the bare LF refuses it.
        read_reply(&mut client, WAIT).await.assert_code(550);
        client.quit().await.expect("quit").assert_code(221);
        assert!(server.messages().is_empty());
    })
    .await;
}
