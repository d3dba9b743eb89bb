//! Policies, sinks and authenticators made of parts: `policy_fn`, `Chain`
//! (`and_then`), `Either` and `Option<A>`, over real sessions.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{
    AcceptAll, Authenticator, Either, MakePolicy, MemorySink, MessageSink, NullSink, Policy, Reply,
    Server, Stage, UserTable, Verdict, policy_fn,
};

use crate::support::serve_duplex;

async fn client<P: MakePolicy, A: Authenticator, S: MessageSink>(
    server: Server<P, A, S>,
) -> TestClient {
    let (io, _task) = serve_duplex(server, 8192, "192.0.2.1:1000", "192.0.2.2:25");
    TestClient::new(io).await.unwrap()
}

fn reply(text: &str) -> Reply {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_policy_fn_decides_every_stage_and_domains_ignore_case() {
    let policy = policy_fn(|_, stage| {
        let verdict = match stage {
            Stage::RcptTo { forward_path, .. } => Verdict::from(
                forward_path
                    .mailbox()
                    .is_some_and(|m| m.domain().eq_ignore_ascii_case("example.com")),
            ),
            Stage::Vrfy { .. } => Verdict::reject_with(reply("502 5.5.1 VRFY is off here")),
            _ => Verdict::accept(),
        };
        async move { verdict }
    });
    let mut c = client(Server::builder().policy(policy).build()).await;
    c.ehlo("client.test").await.unwrap().assert_code(250);
    c.mail_from("<a@a.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<bob@EXAMPLE.Com>")
        .await
        .unwrap()
        .assert_code(250);
    c.rcpt_to("<bob@example.org>")
        .await
        .unwrap()
        .assert_code(550);
    c.command("VRFY bob").await.unwrap().assert_code(502);
}

/// Counts the stages it is asked.
fn counting(asked: Arc<AtomicUsize>, verdict: fn(Stage<'_>) -> Verdict) -> impl Policy {
    policy_fn(move |_, stage| {
        asked.fetch_add(1, Ordering::SeqCst);
        let verdict = verdict(stage);
        async move { verdict }
    })
}

#[tokio::test]
async fn in_a_chain_the_first_refusal_wins_and_the_second_is_not_asked() {
    let asked = Arc::new(AtomicUsize::new(0));
    let first = policy_fn(|_, stage| {
        let verdict = match stage {
            Stage::MailFrom { .. } => Verdict::reject_with(reply("550 5.7.1 Not you")),
            _ => Verdict::accept(),
        };
        async move { verdict }
    });
    let second = counting(asked.clone(), |stage| match stage {
        Stage::MailFrom { .. } => Verdict::reject_with(reply("451 4.7.1 Later")),
        _ => Verdict::accept(),
    });
    let mut c = client(Server::builder().policy(first.and_then(second)).build()).await;
    c.ehlo("client.test").await.unwrap().assert_code(250);
    let before = asked.load(Ordering::SeqCst);
    c.mail_from("<a@a.test>")
        .await
        .unwrap()
        .assert_code(550)
        .assert_contains("Not you");
    assert_eq!(asked.load(Ordering::SeqCst), before, "second was asked");
}

#[tokio::test]
async fn in_a_chain_accepting_verdicts_merge() {
    let first = policy_fn(|session, stage| {
        let verdict = match stage {
            Stage::Connect => Verdict::accept().with_max_message_size(5_000),
            Stage::Helo { .. } => {
                let mut ext = session.configured_extensions().clone();
                ext.pipelining = false;
                Verdict::accept().with_extensions(ext)
            }
            Stage::RcptTo { .. } => Verdict::accept_with(reply("250 2.1.5 First says ok")),
            _ => Verdict::accept(),
        };
        async move { verdict }
    });
    let second = policy_fn(|session, stage| {
        let verdict = match stage {
            Stage::Connect => Verdict::accept().with_max_message_size(9_000),
            Stage::Helo { .. } => {
                let mut ext = session.configured_extensions().clone();
                ext.dsn = false;
                Verdict::accept().with_extensions(ext)
            }
            Stage::RcptTo { forward_path, .. } if forward_path.to_string() == "<b@b.test>" => {
                Verdict::accept_with(reply("250 2.1.5 Second says ok"))
            }
            _ => Verdict::accept(),
        };
        async move { verdict }
    });
    let mut c = client(Server::builder().policy(first.and_then(second)).build()).await;
    let ehlo = c.ehlo("client.test").await.unwrap();
    ehlo.assert_line("SIZE 5000");
    assert!(
        !ehlo.lines().any(|l| l == "PIPELINING" || l == "DSN"),
        "{ehlo}"
    );
    c.mail_from("<a@a.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<b@b.test>")
        .await
        .unwrap()
        .assert_contains("Second says ok");
    c.rcpt_to("<c@b.test>")
        .await
        .unwrap()
        .assert_contains("First says ok");
}

/// Refuses every connection.
struct RefuseAll;

impl Policy for RefuseAll {
    async fn accept_connection(&self, _: &mtakit::proto::SessionInfo) -> Verdict {
        Verdict::reject()
    }
}

#[tokio::test]
async fn either_is_a_policy_and_a_sink() {
    let memory = MemorySink::new();
    let open: Either<AcceptAll, RefuseAll> = Either::Left(AcceptAll);
    let closed: Either<AcceptAll, RefuseAll> = Either::Right(RefuseAll);

    let sink: Either<MemorySink, NullSink> = Either::Left(memory.clone());
    let server = Server::builder().policy(open).sink(sink).build();
    assert!(server.config().keep_content);
    let mut c = client(server).await;
    c.ehlo("client.test").await.unwrap();
    c.mail_from("<a@a.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<b@b.test>").await.unwrap().assert_code(250);
    c.data(b"Subject: kept\r\n\r\nx\r\n")
        .await
        .unwrap()
        .assert_code(250);
    assert_eq!(memory.len(), 1);

    let discard: Either<MemorySink, NullSink> = Either::Right(NullSink);
    let server = Server::builder().policy(closed).sink(discard).build();
    assert!(!server.config().keep_content);
    let (io, _task) = serve_duplex(server, 8192, "192.0.2.1:1000", "192.0.2.2:25");
    let refused = TestClient::new(io).await.unwrap();
    refused.greeting().assert_code(554);
}

#[tokio::test]
async fn an_optional_authenticator_offers_auth_only_when_present() {
    let none: Option<UserTable> = None;
    let server = Server::builder()
        .authenticator(none)
        .allow_insecure_auth(true)
        .build();
    assert!(server.config().auth_mechanisms.is_empty());
    let mut c = client(server).await;
    let ehlo = c.ehlo("client.test").await.unwrap();
    assert!(!ehlo.lines().any(|l| l.starts_with("AUTH")), "{ehlo}");

    let some = Some(UserTable::new().with_user("u", "p"));
    let server = Server::builder()
        .authenticator(some)
        .allow_insecure_auth(true)
        .build();
    let mut c = client(server).await;
    c.ehlo("client.test").await.unwrap();
    c.auth_plain("u", "wrong").await.unwrap().assert_code(535);
    c.auth_plain("u", "p").await.unwrap().assert_code(235);
}
