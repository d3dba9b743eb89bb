//! The in-memory cases of `reference/security.md`: SMUG, NUL, HDR, TLS
//! (session side) and AUTH.

mod helpers;
mod nul_hdr;
mod smuggling;
mod tls_auth;
