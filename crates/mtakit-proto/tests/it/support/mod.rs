//! Helpers shared by the integration tests of `mtakit-proto`: session
//! configs, harnesses past the greeting, reply summaries, AUTH helpers and
//! split writes. The helpers of the pymta ports are in [`pymta`].
//!
//! Each file in `tests/` is its own test binary and includes this module
//! with `mod support;`.

// Each test binary uses only some of these helpers; the rest would be
// reported as dead code in that binary.
#![allow(dead_code)]

use mtakit_proto::sasl::encode_base64;
use mtakit_proto::testing::Harness;
use mtakit_proto::{Mechanism, Pending, Reply, SessionConfig, SessionInfo, Verdict};

/// The default config for the host `localhost`.
pub(crate) fn config() -> SessionConfig {
    SessionConfig::new("localhost")
}

/// `config` with the largest message set to `octets`.
pub(crate) fn max_size(mut config: SessionConfig, octets: u64) -> SessionConfig {
    config.limits.max_message_size = octets;
    config
}

/// [`config`] with AUTH PLAIN and LOGIN offered over plaintext (no TLS
/// here).
pub(crate) fn auth_config() -> SessionConfig {
    let mut config = config();
    config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    config.allow_insecure_auth = true;
    config
}

/// A harness past a `220` greeting.
pub(crate) fn greeted(config: SessionConfig) -> Harness {
    let mut h = Harness::with_config(config);
    assert_eq!(h.greeting().code().get(), 220);
    h
}

/// A harness past a `220` greeting and a `250` to `EHLO client.test`.
pub(crate) fn ehlo(config: SessionConfig) -> Harness {
    let mut h = greeted(config);
    assert_eq!(h.send("EHLO client.test").code().get(), 250);
    h
}

/// The lines of the reply to `EHLO client.test`.
pub(crate) fn ehlo_lines(h: &mut Harness) -> Vec<String> {
    h.send("EHLO client.test")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `"250 2.1.0"`, or `"250"` without an enhanced code.
pub(crate) fn st(reply: &Reply) -> String {
    match reply.enhanced() {
        Some(e) => format!("{} {e}", reply.code().get()),
        None => reply.code().get().to_string(),
    }
}

/// [`st`] of each reply, in order.
pub(crate) fn sts(replies: &[Reply]) -> Vec<String> {
    replies.iter().map(st).collect()
}

/// The reply codes, in order.
pub(crate) fn codes(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.code().get()).collect()
}

/// The base64 AUTH PLAIN response for `user` and `pass`, no authzid.
pub(crate) fn plain(user: &str, pass: &str) -> String {
    encode_base64(format!("\0{user}\0{pass}").as_bytes())
}

/// A policy that accepts the password `password` for anyone, rejects any
/// other, and accepts everything else.
pub(crate) fn check_password(pending: &Pending, _: &SessionInfo) -> Verdict {
    match pending {
        Pending::Authenticate { credentials } => (credentials.password() == "password").into(),
        _ => Verdict::accept(),
    }
}

/// Sends `bytes` in pieces that end at each of `cuts`; returns every reply.
pub(crate) fn send_cut(h: &mut Harness, bytes: &[u8], cuts: &[usize]) -> Vec<Reply> {
    let mut replies = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        if cut > from {
            replies.extend(h.send_raw(&bytes[from..cut]));
            from = cut;
        }
    }
    replies
}

/// Helpers of the ports of pymta's test suite (`pymta_*.rs`).
pub(crate) mod pymta {
    use mtakit_proto::sasl::encode_base64;
    use mtakit_proto::testing::Harness;
    use mtakit_proto::{Pending, Reply, SessionConfig, SessionInfo, Verdict};

    /// `s` in base64.
    pub(crate) fn b64(s: &str) -> String {
        encode_base64(s.as_bytes())
    }

    /// The reply code as a number.
    pub(crate) fn code(reply: &Reply) -> u16 {
        reply.code().get()
    }

    /// The first digit of the reply code: 2, 3, 4 or 5.
    pub(crate) fn first_digit(reply: &Reply) -> u16 {
        reply.code().get() / 100
    }

    /// pymta's `DummyAuthenticator`: accepts when username == password.
    pub(crate) fn dummy_authenticator(pending: &Pending, _: &SessionInfo) -> Verdict {
        match pending {
            Pending::Authenticate { credentials } => {
                Verdict::from(credentials.username() == credentials.password())
            }
            _ => Verdict::accept(),
        }
    }

    /// A session with `config` and pymta's [`dummy_authenticator`].
    pub(crate) fn with_authenticator(config: SessionConfig) -> Harness {
        Harness::with_config(config).with_policy(dummy_authenticator)
    }

    /// `HELO foo.example.com`, answered with `250`.
    pub(crate) fn helo(h: &mut Harness) {
        assert_eq!(code(&h.send("HELO foo.example.com")), 250);
    }

    /// `EHLO fnord`, answered with `250`; returns the reply.
    pub(crate) fn ehlo(h: &mut Harness) -> Reply {
        let reply = h.send("EHLO fnord");
        assert_eq!(code(&reply), 250);
        reply
    }

    /// MAIL and RCPT, each answered with `250`.
    pub(crate) fn mail_and_rcpt(h: &mut Harness) {
        assert_eq!(code(&h.send("MAIL FROM:<foo@example.com>")), 250);
        assert_eq!(code(&h.send("RCPT TO:<bar@example.com>")), 250);
    }
}
