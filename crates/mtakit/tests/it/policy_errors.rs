//! A verdict of the wrong class (an accept with a 5xx reply) still gives
//! the client `451 4.3.0`, and the server says why in a warning.

use std::sync::{Arc, Mutex};

use mtakit::proto::{ForwardPath, RcptParams, SessionInfo};
use mtakit::test_util::{ReplyExt, TestClient};
use mtakit::{Policy, Server, Verdict};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::support::{reply, serve_duplex};

/// Keeps the text of every warning.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl Subscriber for Warnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == Level::WARN {
            let mut text = String::new();
            event.record(&mut Text(&mut text));
            self.0.lock().unwrap().push(text);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Accepts every recipient, with a reply of the wrong class.
struct Confused;

impl Policy for Confused {
    async fn accept_rcpt_to(&self, _: &SessionInfo, _: &ForwardPath, _: &RcptParams) -> Verdict {
        Verdict::accept_with(reply(550, "5.0.0", "accepted?"))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_wrong_class_verdict_gives_451_and_a_warning() {
    let warnings = Warnings::default();
    let _guard = tracing::subscriber::set_default(warnings.clone());
    let server = Server::builder().policy(Confused).build();
    let (io, task) = serve_duplex(server, 4096, "192.0.2.1:1000", "192.0.2.2:25");
    let mut c = TestClient::new(io).await.unwrap();
    c.ehlo("client.test").await.unwrap();
    c.mail_from("<a@a.test>").await.unwrap().assert_code(250);
    c.rcpt_to("<b@b.test>")
        .await
        .unwrap()
        .assert_code(451)
        .assert_enhanced("4.3.0");
    c.quit().await.unwrap();
    task.await.unwrap().unwrap();
    let warnings = warnings.0.lock().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = &warnings[0];
    assert!(warning.contains("policy error"), "{warning}");
    assert!(
        warning.contains("RCPT") && warning.contains("550 5.0.0 accepted?"),
        "{warning}"
    );
    assert!(warning.contains("192.0.2.1:1000"), "{warning}");
}
