//! Helpers shared by the modules beside this one.

use mtakit_proto::testing::Harness;
use mtakit_proto::{Pending, Reply, Verdict};

// ---------------------------------------------------------------------------
// Helpers

/// A session whose policy answers `Pending::Connect` with `verdict`.
pub(crate) fn on_connect(verdict: Verdict) -> Harness {
    Harness::new().with_policy(move |pending, _| match pending {
        Pending::Connect => verdict.clone(),
        _ => Verdict::accept(),
    })
}

/// A session whose policy answers every HELO/EHLO with `verdict`.
pub(crate) fn on_helo(verdict: Verdict) -> Harness {
    Harness::new().with_policy(move |pending, _| match pending {
        Pending::Helo { .. } => verdict.clone(),
        _ => Verdict::accept(),
    })
}

pub(crate) fn reply(code: u16, text: &'static str) -> Reply {
    Reply::new(code, None, text).unwrap()
}
