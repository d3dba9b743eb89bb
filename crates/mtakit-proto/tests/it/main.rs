//! The integration tests of `mtakit-proto`, in one test binary: the
//! session in memory against the RFCs, the security cases, the ports of
//! pymta's tests, findings, LMTP refusals and split invariance.

mod findings;
mod lmtp_refusals;
mod pymta_policy;
mod pymta_session;
mod pymta_validation;
mod session_extensions;
mod session_rfc;
mod session_security;
mod split_invariance;
mod support;
