//! Each switchable extension, switched off over real TCP: the EHLO reply
//! does not list it, and its command or parameter is refused, so that a
//! client's fallback paths can be tested.

use std::time::Duration;

use mtakit::UserTable;
use mtakit::proto::{Extensions, Reply};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use tokio::time::timeout;

use crate::support::{cmd, connect_greeted, replies};

/// Every network wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

/// The EHLO keywords every switch controls, with everything on.
const ALL: [&str; 11] = [
    "PIPELINING",
    "SIZE",
    "8BITMIME",
    "SMTPUTF8",
    "ENHANCEDSTATUSCODES",
    "CHUNKING",
    "BINARYMIME",
    "DSN",
    "STARTTLS",
    "AUTH",
    "HELP",
];

/// A server with these extensions, TLS and an authenticator, so that
/// STARTTLS and AUTH would be offered if switched on.
async fn start(extensions: Extensions) -> TestServer {
    TestServer::builder()
        .extensions(extensions)
        .tls_self_signed()
        .authenticator(UserTable::new().with_user("alice", "secret"))
        .start_async()
        .await
}

/// The default extensions with some switched off.
fn without(off: fn(&mut Extensions)) -> Extensions {
    let mut e = Extensions::default();
    off(&mut e);
    e
}

/// The keyword of each EHLO line after the greeting line.
fn keywords(ehlo: &Reply) -> Vec<String> {
    ehlo.lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap_or("").to_owned())
        .collect()
}

async fn ehlo_keywords(c: &mut TestClient) -> Vec<String> {
    let reply = cmd(c, "EHLO client.test", WAIT).await;
    reply.assert_code(250);
    keywords(&reply)
}

#[tokio::test]
async fn everything_on_advertises_every_keyword() {
    let server = start(Extensions::default()).await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    let got = ehlo_keywords(&mut c).await;
    for keyword in ALL {
        assert!(got.iter().any(|k| k == keyword), "{keyword} not in {got:?}");
    }
}

/// One switch: what it hides, then commands (after EHLO) with the code
/// each must get.
struct Case {
    name: &'static str,
    off: fn(&mut Extensions),
    hidden: &'static [&'static str],
    steps: &'static [(&'static str, u16)],
}

const CASES: &[Case] = &[
    Case {
        name: "size",
        off: |e| e.size = false,
        hidden: &["SIZE"],
        steps: &[
            ("MAIL FROM:<a@example.com> SIZE=100", 555),
            ("MAIL FROM:<a@example.com>", 250),
        ],
    },
    Case {
        name: "8bitmime",
        off: |e| e.eight_bit_mime = false,
        // SMTPUTF8 needs 8BITMIME (RFC 6531 §3.1), BINARYMIME needs BODY=.
        hidden: &["8BITMIME", "SMTPUTF8", "BINARYMIME"],
        steps: &[
            ("MAIL FROM:<a@example.com> SMTPUTF8", 555),
            ("MAIL FROM:<a@example.com> BODY=BINARYMIME", 555),
            ("MAIL FROM:<a@example.com> BODY=8BITMIME", 555),
            ("MAIL FROM:<a@example.com> BODY=7BIT", 555),
            ("MAIL FROM:<a@example.com>", 250),
        ],
    },
    Case {
        name: "smtputf8",
        off: |e| e.smtputf8 = false,
        hidden: &["SMTPUTF8"],
        steps: &[
            ("MAIL FROM:<a@example.com> SMTPUTF8", 555),
            ("MAIL FROM:<jörg@example.com>", 553),
            ("MAIL FROM:<a@example.com>", 250),
            ("RCPT TO:<δοκιμή@example.com>", 553),
            ("RCPT TO:<b@example.com>", 250),
        ],
    },
    Case {
        name: "binarymime",
        off: |e| e.binarymime = false,
        hidden: &["BINARYMIME"],
        steps: &[
            ("MAIL FROM:<a@example.com> BODY=BINARYMIME", 555),
            ("MAIL FROM:<a@example.com> BODY=8BITMIME", 250),
            ("RCPT TO:<b@example.com>", 250),
            // CHUNKING itself still works.
            ("BDAT 0 LAST", 250),
        ],
    },
    Case {
        name: "chunking",
        off: |e| e.chunking = false,
        // BINARYMIME is offered only with CHUNKING.
        hidden: &["CHUNKING", "BINARYMIME"],
        steps: &[
            ("MAIL FROM:<a@example.com> BODY=BINARYMIME", 555),
            ("MAIL FROM:<a@example.com>", 250),
            ("RCPT TO:<b@example.com>", 250),
            ("BDAT 0 LAST", 502),
        ],
    },
    Case {
        name: "dsn",
        off: |e| e.dsn = false,
        hidden: &["DSN"],
        steps: &[
            ("MAIL FROM:<a@example.com> RET=FULL", 555),
            ("MAIL FROM:<a@example.com> ENVID=abc123", 555),
            ("MAIL FROM:<a@example.com>", 250),
            ("RCPT TO:<b@example.com> NOTIFY=NEVER", 555),
            ("RCPT TO:<b@example.com> ORCPT=rfc822;b@example.com", 555),
            ("RCPT TO:<b@example.com>", 250),
        ],
    },
    Case {
        name: "starttls",
        off: |e| e.starttls = false,
        hidden: &["STARTTLS"],
        steps: &[("STARTTLS", 454), ("NOOP", 250)],
    },
    Case {
        name: "auth",
        off: |e| e.auth = false,
        hidden: &["AUTH"],
        steps: &[
            ("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 502),
            ("AUTH LOGIN", 502),
            ("MAIL FROM:<a@example.com> AUTH=<>", 555),
            ("MAIL FROM:<a@example.com>", 250),
        ],
    },
    Case {
        name: "help",
        off: |e| e.help = false,
        hidden: &["HELP"],
        steps: &[],
    },
    Case {
        name: "pipelining",
        off: |e| e.pipelining = false,
        hidden: &["PIPELINING"],
        steps: &[],
    },
    Case {
        name: "enhancedstatuscodes",
        off: |e| e.enhanced_status_codes = false,
        hidden: &["ENHANCEDSTATUSCODES"],
        steps: &[],
    },
];

#[tokio::test]
async fn each_switch_hides_its_keyword_and_refuses_its_command() {
    for case in CASES {
        let server = start(without(case.off)).await;
        let mut c = connect_greeted(server.addr(), WAIT).await;
        let got = ehlo_keywords(&mut c).await;
        for keyword in ALL {
            let listed = got.iter().any(|k| k == keyword);
            let hidden = case.hidden.contains(&keyword);
            assert_eq!(
                listed, !hidden,
                "{}: {keyword} listed = {listed} in {got:?}",
                case.name
            );
        }
        for (line, code) in case.steps {
            let reply = cmd(&mut c, line, WAIT).await;
            assert_eq!(reply.code().get(), *code, "{}: {line}: {reply}", case.name);
            if *code == 555 {
                reply.assert_enhanced("5.5.4");
            }
        }
        cmd(&mut c, "QUIT", WAIT).await.assert_code(221);
        assert!(server.messages().is_empty() || case.name == "binarymime");
    }
}

#[tokio::test]
async fn several_switches_at_once() {
    let server = start(without(|e| {
        e.chunking = false;
        e.pipelining = false;
        e.dsn = false;
    }))
    .await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    let got = ehlo_keywords(&mut c).await;
    for gone in ["CHUNKING", "BINARYMIME", "PIPELINING", "DSN"] {
        assert!(!got.iter().any(|k| k == gone), "{gone} in {got:?}");
    }
    for kept in ["SIZE", "8BITMIME", "STARTTLS"] {
        assert!(got.iter().any(|k| k == kept), "{kept} not in {got:?}");
    }
}

#[tokio::test]
async fn chunking_off_refuses_bdat_and_drains_its_octets() {
    let server = start(without(|e| e.chunking = false)).await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo_keywords(&mut c).await;
    cmd(&mut c, "MAIL FROM:<a@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(&mut c, "RCPT TO:<b@example.com>", WAIT)
        .await
        .assert_code(250);
    // The 4 chunk octets are dropped unread; then one NOOP follows.
    timeout(WAIT, c.send_raw(b"BDAT 4 LAST\r\nNOOPNOOP\r\nRSET\r\n"))
        .await
        .unwrap()
        .unwrap();
    let got = replies(&mut c, 3, WAIT).await;
    got[0].assert_code(502).assert_enhanced("5.5.1");
    got[1].assert_code(250).assert_line("OK");
    got[2].assert_code(250).assert_line("Reset OK");
    // DATA still works.
    cmd(&mut c, "MAIL FROM:<a@example.com>", WAIT)
        .await
        .assert_code(250);
    cmd(&mut c, "RCPT TO:<b@example.com>", WAIT)
        .await
        .assert_code(250);
    let reply = timeout(WAIT, c.data(b"Subject: fallback\r\n\r\nx\r\n"))
        .await
        .unwrap()
        .unwrap();
    reply.assert_code(250);
    assert_eq!(server.wait_for_messages_async(1).await.len(), 1);
}

#[tokio::test]
async fn pipelining_off_only_changes_the_advertisement() {
    let server = start(without(|e| e.pipelining = false)).await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    timeout(
        WAIT,
        c.send_raw(
            b"EHLO client.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n\
              RCPT TO:<c@example.com>\r\nDATA\r\n",
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let got = replies(&mut c, 5, WAIT).await;
    assert!(!keywords(&got[0]).iter().any(|k| k == "PIPELINING"));
    got[1].assert_enhanced("2.1.0");
    got[2].assert_enhanced("2.1.5");
    got[3].assert_enhanced("2.1.5");
    got[4].assert_code(354);
    timeout(
        WAIT,
        c.send_raw(b"Subject: p\r\n\r\nx\r\n.\r\nNOOP\r\nQUIT\r\n"),
    )
    .await
    .unwrap()
    .unwrap();
    let got = replies(&mut c, 3, WAIT).await;
    got[0].assert_code(250).assert_enhanced("2.0.0");
    got[1].assert_code(250);
    got[2].assert_code(221);
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages[0].recipients().len(), 2);
}

#[tokio::test]
async fn enhanced_status_codes_off_leaves_them_out_of_every_reply() {
    let server = start(without(|e| e.enhanced_status_codes = false)).await;
    let mut c = connect_greeted(server.addr(), WAIT).await;
    ehlo_keywords(&mut c).await;
    let mut got = vec![
        cmd(&mut c, "MAIL FROM:<a@example.com>", WAIT).await,
        cmd(&mut c, "RCPT TO:<b@example.com>", WAIT).await,
        cmd(&mut c, "FROB", WAIT).await,
        cmd(&mut c, "MAIL FROM:<x@example.com>", WAIT).await,
        cmd(&mut c, "VRFY b", WAIT).await,
        cmd(&mut c, "NOOP", WAIT).await,
    ];
    got.push(
        timeout(WAIT, c.data(b"Subject: x\r\n\r\nx\r\n"))
            .await
            .unwrap()
            .unwrap(),
    );
    got.push(cmd(&mut c, "BDAT 0 LAST", WAIT).await);
    got.push(cmd(&mut c, "QUIT", WAIT).await);
    let codes: Vec<u16> = got.iter().map(|r| r.code().get()).collect();
    assert_eq!(codes, [250, 250, 500, 503, 252, 250, 250, 503, 221]);
    for reply in &got {
        assert_eq!(reply.enhanced(), None, "enhanced code in {reply}");
        let first = reply.lines().next().unwrap_or("");
        assert!(
            !first.starts_with(|ch: char| ch.is_ascii_digit()),
            "looks like an enhanced code: {reply}"
        );
    }
}
