//! Helpers of the extension tests.

use mtakit_proto::SessionConfig;
use mtakit_proto::testing::Harness;

pub(crate) fn in_transaction(config: SessionConfig, mail: &str) -> Harness {
    let mut h = Harness::with_config(config);
    h.greeting();
    assert_eq!(h.send("EHLO client.test").code().get(), 250);
    assert_eq!(
        h.send(&format!("MAIL FROM:<a@a.test>{mail}")).code().get(),
        250
    );
    assert_eq!(h.send("RCPT TO:<b@b.test>").code().get(), 250);
    h
}
