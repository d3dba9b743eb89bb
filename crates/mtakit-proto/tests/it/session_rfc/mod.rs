//! RFC 5321 / ESMTP behaviour of the session, in memory.

mod auth;
mod control;
mod greeting;
mod helpers;
mod verdicts;
