//! CHUNKING/BINARYMIME (RFC 3030), LMTP (RFC 2033) and the bearer-token
//! AUTH mechanisms (XOAUTH2, OAUTHBEARER / RFC 7628), in memory.

mod bdat_lmtp;
mod helpers;
mod sasl_dsn;
