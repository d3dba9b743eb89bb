//! The native half of the `mtakit` Python package (`mtakit._mtakit`).
//!
//! It registers the classes that Python sees and nothing else; the
//! Pythonic layer (`mtakit.testing.TestServer`, the pytest plugin) is in
//! `python/mtakit/`. Every server of the process runs on one tokio runtime
//! (`runtime.rs`), and no Python code runs on its I/O threads.

mod cli;
mod executor;
mod hooks;
mod message;
mod options;
mod policy;
mod reply;
mod runtime;
mod serving;
mod session;
mod testing;
mod transcript;
mod verdict;

use pyo3::prelude::*;

/// The `mtakit._mtakit` extension module.
#[pymodule]
fn _mtakit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<message::Message>()?;
    m.add_class::<message::Address>()?;
    m.add_class::<message::TlsInfo>()?;
    m.add_class::<message::AuthInfo>()?;
    m.add_class::<transcript::Transcript>()?;
    m.add_class::<reply::PyReply>()?;
    m.add_class::<session::PySession>()?;
    m.add_class::<verdict::PyVerdict>()?;
    m.add_class::<testing::NativeTestServer>()?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    Ok(())
}
