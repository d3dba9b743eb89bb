//! The `mtakit` command of the wheel: the same Rust code as the `mtakit`
//! binary (`mtakit serve`, `mtakit load`), so that `pip install mtakit`
//! gives Python users the development mail server.

use std::ffi::OsString;
use std::process::ExitCode;

use pyo3::prelude::*;

/// Runs the `mtakit` command with `argv` (the first item is the program
/// name), with the GIL released, and returns its exit status: 0 on
/// success, 1 on failure. Ctrl-C and SIGTERM reach the command's own
/// handlers, which stop `mtakit serve` gracefully.
#[pyfunction]
pub(crate) fn run_cli(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    let code = py.detach(move || mtakit_cli::run(argv));
    u8::from(code != ExitCode::SUCCESS)
}
