//! Helpers for the `mtakit serve` tests: the child process, a small SMTP
//! client, and python3 scripts as independent clients.
//!
//! Each test file compiles this module on its own and uses a different
//! subset of it, hence `dead_code` is allowed here.
#![allow(dead_code, unused_imports)]

mod daemon;
mod python;
mod smtp;

pub(crate) use daemon::{Daemon, TempDir, WAIT, files_in, mtakit, run_to_exit, wait_child};
pub(crate) use python::{have_python, python};
pub(crate) use smtp::{Smtp, base64, plain_token, send_one};
