//! What a verdict carries besides accept or reject (a message size, EHLO
//! extensions, LMTP per-recipient verdicts), and the verdicts the session
//! cannot use, which it reports as [`PolicyError`]s.

use mtakit_proto::testing::Harness;
use mtakit_proto::{Mechanism, Pending, PolicyError, StageKind, Verdict};

use super::helpers::{ehlo, reply};
use crate::support::{codes, config, greeted, st};

#[test]
fn a_wrong_class_reply_gives_451_and_is_reported() {
    let bad = reply(550, Some((5, 7, 1)), "accepted?");
    let given = bad.clone();
    let mut h = ehlo(config()).with_policy(move |p, _| match p {
        Pending::RcptTo { .. } => Verdict::accept_with(given.clone()),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_eq!(
        h.send("RCPT TO:<b@b.test>").to_string(),
        "451 4.3.0 Internal policy error\r\n"
    );
    assert_eq!(
        h.policy_errors(),
        [PolicyError::WrongClass {
            stage: StageKind::RcptTo,
            reply: bad,
            accept: true,
        }]
    );
    assert_eq!(h.policy_errors()[0].stage(), StageKind::RcptTo);
    assert!(h.policy_errors()[0].to_string().contains("RCPT"));
}

#[test]
fn the_connect_verdict_sets_the_message_size() {
    let mut h = Harness::new().with_policy(|p, _| match p {
        Pending::Connect => Verdict::accept().with_max_message_size(100),
        _ => Verdict::accept(),
    });
    assert_eq!(h.greeting().code().get(), 220);
    assert_eq!(h.session().info().max_message_size(), 100);
    assert!(h.send("EHLO c").lines().any(|l| l == "SIZE 100"));
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test> SIZE=101")), "552 5.3.4");
    assert!(h.policy_errors().is_empty());
}

#[test]
fn each_ehlo_verdict_sets_the_extensions_of_that_greeting_only() {
    let mut h = greeted(config()).with_policy(|p, info| match p {
        Pending::Helo { name, .. } if name.to_string() == "quiet.test" => {
            let mut ext = info.configured_extensions().clone();
            ext.pipelining = false;
            ext.size = false;
            Verdict::accept().with_extensions(ext)
        }
        _ => Verdict::accept(),
    });
    let quiet = h.send("EHLO quiet.test");
    assert!(
        !quiet
            .lines()
            .any(|l| l == "PIPELINING" || l.starts_with("SIZE"))
    );
    // SIZE is off: the parameter is unknown.
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test> SIZE=10")), "555 5.5.4");
    let loud = h.send("EHLO loud.test");
    assert!(loud.lines().any(|l| l == "PIPELINING"), "{loud}");
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test> SIZE=10")), "250 2.1.0");
}

#[test]
fn stage_data_at_another_stage_is_reported_and_the_verdict_applied() {
    let mut h = ehlo(config()).with_policy(|p, info| match p {
        Pending::MailFrom { .. } => Verdict::accept()
            .with_max_message_size(10)
            .with_extensions(info.configured_extensions().clone()),
        _ => Verdict::accept(),
    });
    assert_eq!(st(&h.send("MAIL FROM:<a@a.test>")), "250 2.1.0");
    assert_ne!(h.session().info().max_message_size(), 10);
    let ignored: Vec<_> = (h.policy_errors().iter())
        .map(|e| match e {
            PolicyError::Ignored { stage, what } => (*stage, *what),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ignored,
        [
            (StageKind::MailFrom, "max_message_size"),
            (StageKind::MailFrom, "extensions")
        ]
    );
}

#[test]
fn an_accepting_reply_at_auth_is_not_sent_and_is_reported() {
    let mut c = config();
    c.auth_mechanisms = vec![Mechanism::Plain];
    c.allow_insecure_auth = true;
    let mut h = ehlo(c).with_policy(|p, _| match p {
        Pending::Auth { .. } => Verdict::accept_with(reply(250, None, "sure")),
        _ => Verdict::accept(),
    });
    assert_eq!(h.send("AUTH PLAIN").code().get(), 334);
    assert_eq!(
        h.policy_errors(),
        [PolicyError::Ignored {
            stage: StageKind::Auth,
            what: "reply",
        }]
    );
}

fn lmtp_with(verdicts: Vec<Verdict>) -> Harness {
    let mut c = config();
    c.lmtp = true;
    let mut h = greeted(c).with_sink(move |_| Verdict::each(verdicts.clone()));
    assert_eq!(h.send("LHLO c").code().get(), 250);
    for line in [
        "MAIL FROM:<a@a.test>",
        "RCPT TO:<b@b.test>",
        "RCPT TO:<c@c.test>",
    ] {
        assert_eq!(h.send(line).code().get(), 250);
    }
    assert_eq!(h.send("DATA").code().get(), 354);
    h
}

#[test]
fn an_lmtp_delivery_takes_one_verdict_per_recipient() {
    let full = reply(452, Some((4, 2, 2)), "Mailbox full");
    let mut h = lmtp_with(vec![Verdict::accept(), Verdict::reject_with(full)]);
    assert_eq!(codes(&h.send_raw(b"Hi\r\n.\r\n")), [250, 452]);
    assert!(h.policy_errors().is_empty());
}

#[test]
fn an_lmtp_verdict_list_of_another_length_gives_451_to_all() {
    let mut h = lmtp_with(vec![Verdict::accept()]);
    assert_eq!(codes(&h.send_raw(b"Hi\r\n.\r\n")), [451, 451]);
    assert_eq!(
        h.policy_errors(),
        [PolicyError::WrongCount {
            stage: StageKind::Deliver,
            expected: 2,
            got: 1
        }]
    );
}

#[test]
fn a_wrong_class_verdict_applies_none_of_its_stage_data() {
    let mut h = Harness::new().with_policy(|p, _| match p {
        Pending::Connect => Verdict::accept().with_max_message_size(100),
        Pending::Helo { .. } => {
            Verdict::accept_with(reply(550, None, "no")).with_max_message_size(50)
        }
        _ => Verdict::accept(),
    });
    h.greeting();
    assert_eq!(h.send("EHLO c").code().get(), 451);
    assert_eq!(h.session().info().max_message_size(), 100);
    assert!(matches!(
        h.policy_errors(),
        [PolicyError::WrongClass {
            stage: StageKind::Ehlo,
            ..
        }]
    ));
}
