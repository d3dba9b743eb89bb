//! Helpers for the `mtakit serve` tests: the child process and a small
//! SMTP client.

mod daemon;
mod smtp;

pub(crate) use daemon::{Daemon, TempDir, WAIT, files_in, mtakit, run_to_exit, wait_child};
pub(crate) use smtp::{Smtp, base64, plain_token};
