//! Deterministic fault plans: once, after, times, probability, delays,
//! disconnects (also right after the 354) and a slow drip of reply bytes.

use std::time::Duration;

use mtakit::fault::{Action, FaultError, FaultPlan, FaultRule, Scope, Stage};
use mtakit::proto::{ForwardPath, RcptParams, SessionInfo};
use mtakit::test_util::{ReplyExt, TestClient, TestServer};
use mtakit::{MemorySink, Policy, Server, Verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{cmd, connect_greeted, replies, send, serve_duplex, serve_tcp};

/// Every network wait in the LMTP tests is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

async fn session(server: &TestServer) -> TestClient {
    let mut c = TestClient::connect(server.addr()).await.unwrap();
    c.ehlo("client.test").await.unwrap();
    c.mail_from("<a@a.test>").await.unwrap().assert_code(250);
    c
}

#[tokio::test]
async fn a_rule_fires_once_with_its_reply() {
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Rcpt)
            .matching("^<bob@")
            .unwrap()
            .reply("550 5.1.1 No such user")
            .unwrap()
            .times(1),
    );
    let server = TestServer::builder()
        .policy(plan.clone())
        .start_async()
        .await;
    let mut c = session(&server).await;
    c.rcpt_to("<bob@b.test>")
        .await
        .unwrap()
        .assert_code(550)
        .assert_enhanced("5.1.1")
        .assert_contains("No such user");
    c.rcpt_to("<bob@b.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<alice@b.test>").await.unwrap().assert_code(250);
    assert_eq!(plan.fired(), [1]);
}

#[tokio::test]
async fn after_skips_and_times_limits() {
    // Every RCPT after the first two fails, twice.
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Rcpt)
            .reply("452 4.5.3 Too many recipients")
            .unwrap()
            .after(2)
            .times(2),
    );
    let server = TestServer::builder().policy(plan).start_async().await;
    let mut c = session(&server).await;
    let mut codes = Vec::new();
    for i in 0..6 {
        codes.push(
            c.rcpt_to(&format!("<r{i}@b.test>"))
                .await
                .unwrap()
                .code()
                .get(),
        );
    }
    assert_eq!(codes, [250, 250, 452, 452, 250, 250]);
}

#[tokio::test]
async fn probability_is_repeatable_with_a_seed() {
    let run = |seed| async move {
        let plan = FaultPlan::new().with_seed(seed).with_rule(
            FaultRule::new(Stage::Rcpt)
                .reply("451 4.3.0 Random failure")
                .unwrap()
                .probability(0.5)
                .unwrap(),
        );
        let server = TestServer::builder().policy(plan).start_async().await;
        let mut c = session(&server).await;
        let mut codes = Vec::new();
        for i in 0..40 {
            codes.push(
                c.rcpt_to(&format!("<r{i}@b.test>"))
                    .await
                    .unwrap()
                    .code()
                    .get(),
            );
        }
        codes
    };
    let a = run(42).await;
    assert_eq!(a, run(42).await, "same seed, same faults");
    let failures = a.iter().filter(|&&c| c == 451).count();
    assert!((8..=32).contains(&failures), "about half fail: {failures}");
}

#[tokio::test]
async fn disconnect_and_disconnect_after_354() {
    let plan = FaultPlan::new()
        .with_rule(
            FaultRule::new(Stage::Mail)
                .matching("drop")
                .unwrap()
                .disconnect(),
        )
        .with_rule(FaultRule::new(Stage::Data).action(Action::DisconnectAfterReply));
    let server = TestServer::builder().policy(plan).start_async().await;
    let mut c = TestClient::connect(server.addr()).await.unwrap();
    c.ehlo("c").await.unwrap();
    c.send_raw(b"MAIL FROM:<drop@a.test>\r\n").await.unwrap();
    assert!(c.read_reply().await.is_err(), "closed without a reply");

    let mut c = session(&server).await;
    c.rcpt_to("<b@b.test>").await.unwrap();
    c.command("DATA").await.unwrap().assert_code(354);
    assert!(c.is_closed().await.unwrap(), "closed right after the 354");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn rules_can_be_replaced_while_the_server_runs() {
    let plan = FaultPlan::new();
    let server = TestServer::builder()
        .policy(plan.clone())
        .start_async()
        .await;
    let mut c = session(&server).await;
    c.rcpt_to("<b@b.test>").await.unwrap().assert_code(250);
    plan.set_rules(vec![
        FaultRule::new(Stage::Rcpt)
            .reply("421 4.3.2 Going away")
            .unwrap(),
    ]);
    c.rcpt_to("<b@b.test>").await.unwrap().assert_code(421);
    plan.clear();
    assert!(plan.rules().is_empty());
}

#[tokio::test]
async fn message_stage_matches_the_content() {
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Message)
            .matching("(?m)^Subject: spam")
            .unwrap()
            .reply("554 5.7.1 Content rejected")
            .unwrap(),
    );
    let server = TestServer::builder().policy(plan).start_async().await;
    let mut c = session(&server).await;
    c.rcpt_to("<b@b.test>").await.unwrap();
    c.data(b"Subject: spam\r\n\r\nbuy\r\n")
        .await
        .unwrap()
        .assert_code(554);
    c.mail_from("<a@a.test>").await.unwrap();
    c.rcpt_to("<b@b.test>").await.unwrap();
    c.data(b"Subject: ham\r\n\r\nhi\r\n")
        .await
        .unwrap()
        .assert_code(250);
    assert_eq!(server.messages().len(), 1);
}

/// A policy of the user's own, behind the plan.
struct OnlyExample;

impl Policy for OnlyExample {
    async fn accept_rcpt_to(&self, _: &SessionInfo, to: &ForwardPath, _: &RcptParams) -> Verdict {
        Verdict::from(to.to_string().ends_with("@example.com>"))
    }
}

#[tokio::test]
async fn a_plan_in_front_of_a_policy() {
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Rcpt)
            .matching("^<flaky@")
            .unwrap()
            .reply("451 4.4.1 Try later")
            .unwrap(),
    );
    let server = TestServer::builder()
        .policy(plan.wrap(OnlyExample))
        .start_async()
        .await;
    let mut c = session(&server).await;
    c.rcpt_to("<flaky@example.com>")
        .await
        .unwrap()
        .assert_code(451);
    c.rcpt_to("<ok@example.com>")
        .await
        .unwrap()
        .assert_code(250);
    c.rcpt_to("<ok@other.test>").await.unwrap().assert_code(550);
}

/// Makes one policy per connection, numbered: the second connection's
/// policy refuses every recipient.
#[derive(Default)]
struct Numbered(std::sync::atomic::AtomicU64);

struct Nth(u64);

impl Policy for Nth {
    async fn accept_rcpt_to(&self, _: &SessionInfo, _: &ForwardPath, _: &RcptParams) -> Verdict {
        Verdict::from(self.0 != 1)
    }
}

impl mtakit::MakePolicy for Numbered {
    type Policy = Nth;
    type Io<IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> = IO;

    fn connect<IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send>(
        this: &std::sync::Arc<Self>,
        io: IO,
        _: &mtakit::proto::ConnectionInfo,
    ) -> (IO, Nth) {
        let n = this.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (io, Nth(n))
    }
}

#[tokio::test]
async fn a_plan_in_front_of_a_per_connection_policy_maker() {
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Rcpt)
            .matching("^<flaky@")
            .unwrap()
            .reply("451 4.4.1 Try later")
            .unwrap(),
    );
    let server = TestServer::builder()
        .policy(plan.wrap(Numbered::default()))
        .start_async()
        .await;
    let mut first = session(&server).await;
    first
        .rcpt_to("<flaky@example.com>")
        .await
        .unwrap()
        .assert_code(451);
    first
        .rcpt_to("<ok@example.com>")
        .await
        .unwrap()
        .assert_code(250);
    // The second connection has its own policy, which refuses; the plan's
    // rule still comes first.
    let mut second = session(&server).await;
    second
        .rcpt_to("<ok@example.com>")
        .await
        .unwrap()
        .assert_code(550);
    second
        .rcpt_to("<flaky@example.com>")
        .await
        .unwrap()
        .assert_code(451);
}

#[tokio::test(start_paused = true)]
async fn delay_and_drip_use_time_not_sleeps_in_the_test() {
    let plan = FaultPlan::new()
        .with_rule(FaultRule::new(Stage::Helo).delay(Duration::from_secs(30)))
        .with_rule(FaultRule::new(Stage::Mail).action(Action::Drip(Duration::from_millis(100))));
    let server = Server::builder().policy(plan).build();
    let (mut client, _session) = serve_duplex(server, 4096, "192.0.2.1:1000", "192.0.2.2:25");
    let mut buf = [0u8; 512];
    let n = client.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"220"));

    let start = tokio::time::Instant::now();
    client.write_all(b"HELO c\r\n").await.unwrap();
    let n = client.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"250"));
    assert!(start.elapsed() >= Duration::from_secs(30), "delayed");

    let start = tokio::time::Instant::now();
    client.write_all(b"MAIL FROM:<a@a.test>\r\n").await.unwrap();
    let mut reply = Vec::new();
    while !reply.ends_with(b"\r\n") {
        let n = client.read(&mut buf).await.unwrap();
        assert_eq!(n, 1, "one octet at a time");
        reply.extend_from_slice(&buf[..n]);
    }
    assert_eq!(reply, b"250 OK\r\n");
    assert!(
        start.elapsed() >= Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn bad_rules_are_refused_with_a_reason() {
    assert!(matches!(
        FaultRule::new(Stage::Rcpt).matching("(").unwrap_err(),
        FaultError::Regex(_)
    ));
    let reply = |text: &str| FaultRule::new(Stage::Rcpt).reply(text);
    assert!(matches!(
        reply("5x0 oops").unwrap_err(),
        FaultError::Reply(_)
    ));
    assert!(matches!(
        reply("700 nope").unwrap_err(),
        FaultError::Reply(_)
    ));
    assert!(reply("250 5.1.1 mismatch").is_err());
    assert_eq!(
        FaultRule::new(Stage::Rcpt).probability(1.5).unwrap_err(),
        FaultError::Probability
    );
    let r: mtakit::Reply = "550 5.1.1 No such user".parse().unwrap();
    assert_eq!(r.to_string(), "550 5.1.1 No such user\r\n");
    let r: mtakit::Reply = "421 Bye\nfor now".parse().unwrap();
    assert_eq!(r.to_string(), "421-Bye\r\n421 for now\r\n");
    assert_eq!(Stage::from_name("RCPT"), Some(Stage::Rcpt));
    assert_eq!(Stage::from_name("nope"), None);
}

/// Sends one LMTP transaction to `rcpts` and returns the replies after
/// the data, one per recipient.
async fn lmtp_message(plan: FaultPlan, rcpts: &[&str]) -> (Vec<u16>, MemorySink) {
    let sink = MemorySink::new();
    let server = Server::builder()
        .lmtp(true)
        .policy(plan)
        .sink(sink.clone())
        .build();
    let (addr, stop, task) = serve_tcp(server).await;
    let mut c = connect_greeted(addr, WAIT).await;
    cmd(&mut c, "LHLO client.test", WAIT).await.assert_code(250);
    cmd(&mut c, "MAIL FROM:<a@a.test>", WAIT)
        .await
        .assert_code(250);
    for rcpt in rcpts {
        cmd(&mut c, &format!("RCPT TO:<{rcpt}>"), WAIT)
            .await
            .assert_code(250);
    }
    cmd(&mut c, "DATA", WAIT).await.assert_code(354);
    send(&mut c, b"Subject: hi\r\n\r\nx\r\n.\r\n", WAIT).await;
    let codes = replies(&mut c, rcpts.len(), WAIT)
        .await
        .iter()
        .map(|r| r.code().get())
        .collect();
    cmd(&mut c, "NOOP", WAIT).await.assert_code(250);
    let _ = stop.send(());
    let _ = tokio::time::timeout(WAIT, task).await;
    (codes, sink)
}

#[tokio::test]
async fn lmtp_message_rules_can_answer_per_recipient() {
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Message)
            .rcpt_matching("^<full@")
            .unwrap()
            .reply("452 4.2.2 Mailbox full")
            .unwrap(),
    );
    let rcpts = ["one@b.test", "full@b.test", "three@b.test"];
    let (codes, sink) = lmtp_message(plan.clone(), &rcpts).await;
    assert_eq!(codes, [250, 452, 250]);
    assert_eq!(plan.fired(), [1]);
    // Only the accepted recipients reached the sink.
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let delivered: Vec<String> = messages[0].forward_paths().map(|p| p.to_string()).collect();
    assert_eq!(delivered, ["<one@b.test>", "<three@b.test>"]);
}

#[tokio::test]
async fn lmtp_rcpt_rules_count_each_recipient_and_plain_rules_answer_for_all() {
    // Counted per recipient: the second matching one is the first to fail.
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Message)
            .rcpt_matching("@b\\.test>$")
            .unwrap()
            .reply("550 5.1.1 No such user")
            .unwrap()
            .after(1)
            .times(1),
    );
    let (codes, _) = lmtp_message(plan, &["a@b.test", "b@b.test", "c@b.test"]).await;
    assert_eq!(codes, [250, 550, 250]);
    // A rule without `rcpt` still gives every recipient the same answer,
    // and counts once per message.
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Message)
            .reply("452 4.3.1 Insufficient storage")
            .unwrap()
            .times(1),
    );
    let (codes, sink) = lmtp_message(plan.clone(), &["a@b.test", "b@b.test"]).await;
    assert_eq!(codes, [452, 452]);
    assert_eq!(plan.fired(), [1]);
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn in_smtp_a_rcpt_rule_applies_when_any_recipient_matches() {
    let plan = FaultPlan::new().with_rule(
        FaultRule::new(Stage::Message)
            .rcpt_matching("^<full@")
            .unwrap()
            .reply("452 4.2.2 Mailbox full")
            .unwrap(),
    );
    let server = TestServer::builder().policy(plan).start_async().await;
    let mut c = session(&server).await;
    c.rcpt_to("<ok@b.test>").await.unwrap();
    c.rcpt_to("<full@b.test>").await.unwrap();
    c.data(b"Subject: x\r\n\r\nx\r\n")
        .await
        .unwrap()
        .assert_code(452);
    c.mail_from("<a@a.test>").await.unwrap();
    c.rcpt_to("<ok@b.test>").await.unwrap();
    c.data(b"Subject: x\r\n\r\nx\r\n")
        .await
        .unwrap()
        .assert_code(250);
}

/// The codes of `n` RCPTs from one session as if from `peer`.
async fn rcpt_codes(plan: &FaultPlan, peer: &str, n: usize) -> Vec<u16> {
    let server = Server::builder().policy(plan.clone()).build();
    let (mut client, _session) = serve_duplex(server, 4096, peer, "192.0.2.25:25");
    let mut buf = vec![0u8; 4096];
    let mut read_reply = async |client: &mut tokio::io::DuplexStream| {
        let n = client.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n])[..3]
            .parse::<u16>()
            .unwrap()
    };
    assert_eq!(read_reply(&mut client).await, 220);
    client.write_all(b"HELO c\r\n").await.unwrap();
    assert_eq!(read_reply(&mut client).await, 250);
    client.write_all(b"MAIL FROM:<a@a.test>\r\n").await.unwrap();
    assert_eq!(read_reply(&mut client).await, 250);
    let mut codes = Vec::new();
    for _ in 0..n {
        client.write_all(b"RCPT TO:<b@b.test>\r\n").await.unwrap();
        codes.push(read_reply(&mut client).await);
    }
    codes
}

#[tokio::test]
async fn scoped_counters_are_per_peer_or_per_session() {
    let rule = |scope| {
        FaultRule::new(Stage::Rcpt)
            .reply("451 4.3.0 Try again")
            .unwrap()
            .times(1)
            .scope(scope)
    };
    // Global (the default): another client uses up the test's `times`.
    let plan = FaultPlan::new().with_rule(rule(Scope::Global));
    assert_eq!(rcpt_codes(&plan, "192.0.2.9:1000", 1).await, [451]);
    assert_eq!(rcpt_codes(&plan, "192.0.2.1:1000", 2).await, [250, 250]);

    let plan = FaultPlan::new().with_rule(rule(Scope::Peer));
    assert_eq!(rcpt_codes(&plan, "192.0.2.9:1000", 1).await, [451]);
    assert_eq!(rcpt_codes(&plan, "192.0.2.1:1000", 2).await, [451, 250]);
    assert_eq!(
        rcpt_codes(&plan, "192.0.2.1:1001", 1).await,
        [250],
        "same address"
    );

    let plan = FaultPlan::new().with_rule(rule(Scope::Session));
    assert_eq!(rcpt_codes(&plan, "192.0.2.1:1000", 2).await, [451, 250]);
    assert_eq!(rcpt_codes(&plan, "192.0.2.1:1001", 1).await, [451]);
    // A later connection from the same address and port starts afresh.
    assert_eq!(rcpt_codes(&plan, "192.0.2.1:1000", 1).await, [451]);
    assert_eq!(plan.fired(), [3]);
}
