//! Helpers of the ports of pymta's session tests.

use std::sync::{Arc, Mutex};

use mtakit_proto::testing::Harness;
use mtakit_proto::{Pending, Reply, SessionInfo};

use crate::support::auth_config;
use crate::support::pymta::{code, dummy_authenticator};
// ---------------------------------------------------------------------------
// Helpers

pub(crate) fn lines(reply: &Reply) -> Vec<&str> {
    reply.lines().collect()
}

/// What pymta's `Message` carried besides the envelope: the session view
/// at the moment DATA was accepted (peer, HELO name, authenticated user).
pub(crate) type Seen = Arc<Mutex<Vec<SessionInfo>>>;

/// DummyAuthenticator plus a record of the session view at each DATA.
pub(crate) fn recording() -> (Harness, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let h = Harness::with_config(auth_config()).with_policy(move |pending, info| {
        if matches!(pending, Pending::Data) {
            log.lock().unwrap().push(info.clone());
        }
        dummy_authenticator(pending, info)
    });
    (h, seen)
}

/// DATA, then the content (already dot-stuffed, ending in CRLF), then `.`.
pub(crate) fn send_message(h: &mut Harness, content: &str) -> Reply {
    assert_eq!(code(&h.send("DATA")), 354);
    let mut replies = h.send_raw(format!("{content}.\r\n").as_bytes());
    assert_eq!(replies.len(), 1, "{replies:?}");
    replies.remove(0)
}

pub(crate) fn rcpts(h: &Harness, i: usize) -> Vec<String> {
    h.delivered()[i]
        .envelope
        .recipients
        .iter()
        .map(|r| r.path.to_string())
        .collect()
}

pub(crate) fn username(info: &SessionInfo) -> Option<&str> {
    info.auth().map(|a| a.username.as_str())
}
