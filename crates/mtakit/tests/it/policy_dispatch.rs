//! The server asks a policy through `Policy::decide` only: a wrapper that
//! forwards that one method sees every stage, and the wrapped policy's
//! per-stage methods still decide.

use std::sync::{Arc, Mutex};

use mtakit::proto::{ConnectionInfo, SessionInfo};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use mtakit::{Message, Policy, Reply, Server, Stage, UserTable, Verdict};

/// Forwards only `decide`, recording the name of each stage.
struct Seen<P> {
    inner: P,
    stages: Arc<Mutex<Vec<&'static str>>>,
}

impl<P: Policy> Policy for Seen<P> {
    async fn decide(&self, session: &SessionInfo, stage: Stage<'_>) -> Verdict {
        self.stages.lock().unwrap().push(stage.name());
        self.inner.decide(session, stage).await
    }
}

/// Decides with its per-stage methods, so the test sees them reached.
struct Inner;

impl Policy for Inner {
    async fn accept_vrfy(&self, _: &SessionInfo, argument: &str) -> Verdict {
        let text = format!("{argument} <{argument}@b.test>");
        Verdict::accept_with(Reply::new(250, None, text).unwrap())
    }

    async fn accept_message(&self, _: &SessionInfo, message: &Message) -> Verdict {
        Verdict::from(message.raw_header("Subject").as_deref() != Some("spam"))
    }

    async fn accept_message_each(&self, _: &SessionInfo, message: &Message) -> Vec<Verdict> {
        (message.forward_paths())
            .map(|to| Verdict::from(!to.to_string().starts_with("<full@")))
            .collect()
    }
}

fn seen(inner: Inner) -> (Seen<Inner>, Arc<Mutex<Vec<&'static str>>>) {
    let stages = Arc::new(Mutex::new(Vec::new()));
    let policy = Seen {
        inner,
        stages: stages.clone(),
    };
    (policy, stages)
}

#[tokio::test]
async fn a_wrapper_forwarding_decide_sees_every_smtp_stage() {
    let (policy, stages) = seen(Inner);
    let server = TestServer::builder()
        .tls_self_signed()
        .authenticator(UserTable::new().with_user("u", "p"))
        .policy(policy)
        .start_async()
        .await;
    let mut c = TestClient::connect(server.addr()).await.unwrap();
    c.ehlo("client.test").await.unwrap().assert_code(250);
    let pki = server.pki().unwrap();
    c.starttls(pki.client_config(), "localhost")
        .await
        .unwrap()
        .assert_code(220);
    c.ehlo("client.test").await.unwrap().assert_code(250);
    c.auth_plain("u", "p").await.unwrap().assert_code(235);
    c.mail_from("<a@a.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<b@b.test>").await.unwrap().assert_code(250);
    c.data(b"Subject: spam\r\n\r\nx\r\n")
        .await
        .unwrap()
        .assert_code(550);
    c.command("VRFY bob")
        .await
        .unwrap()
        .assert_code(250)
        .assert_contains("<bob@b.test>");
    c.command("HELO again.test").await.unwrap().assert_code(250);
    c.quit().await.unwrap();
    assert_eq!(
        *stages.lock().unwrap(),
        [
            "connect", "EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "message",
            "VRFY", "HELO"
        ]
    );
}

#[tokio::test]
async fn a_wrapper_forwarding_decide_sees_the_lmtp_message_stage() {
    let (policy, stages) = seen(Inner);
    let server = Server::builder().lmtp(true).policy(policy).build();
    let (client, server_side) = tokio::io::duplex(4096);
    let info = ConnectionInfo::new(
        "192.0.2.1:1000".parse().unwrap(),
        "192.0.2.2:24".parse().unwrap(),
    );
    let task = tokio::spawn(server.serve_connection(server_side, info));
    let mut c = TestClient::new(client).await.unwrap();
    c.command("LHLO client.test")
        .await
        .unwrap()
        .assert_code(250);
    c.mail_from("<a@a.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<ok@b.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<full@b.test>").await.unwrap().assert_code(250);
    c.command("DATA").await.unwrap().assert_code(354);
    c.send_raw(b"Subject: hi\r\n\r\nx\r\n.\r\n").await.unwrap();
    let replies = c.read_replies(2).await.unwrap();
    let codes: Vec<u16> = replies.iter().map(|r| r.code().get()).collect();
    // accept_message_each was reached through the wrapper: one verdict each.
    assert_eq!(codes, [250, 550]);
    c.quit().await.unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(
        *stages.lock().unwrap(),
        [
            "connect",
            "EHLO",
            "MAIL",
            "RCPT",
            "RCPT",
            "DATA",
            "LMTP message"
        ]
    );
}
