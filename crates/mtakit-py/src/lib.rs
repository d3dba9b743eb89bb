//! The native half of the `mtakit` Python package (`mtakit._mtakit`).
//!
//! It registers the classes that Python sees and nothing else; the
//! Pythonic layer (`mtakit.testing.TestServer`, the pytest plugin) is in
//! `python/mtakit/`. Every server of the process runs on one tokio runtime
//! (`runtime.rs`), and no Python code runs on its I/O threads.

mod cli;
mod config;
mod executor;
mod fault;
mod feeder;
mod harness;
mod hooks;
mod message;
mod options;
mod policy;
mod reply;
mod runtime;
mod server;
mod serving;
mod session;
mod sinks;
mod testing;
mod transcript;
mod verdict;
mod wait;

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
    m.add_class::<server::NativeServer>()?;
    m.add_class::<harness::NativeHarness>()?;
    m.add_class::<server::NativeListening>()?;
    m.add_class::<sinks::PyMemorySink>()?;
    m.add_class::<sinks::PyMaildirSink>()?;
    m.add_class::<config::PyLimits>()?;
    m.add_class::<config::PyTls>()?;
    m.add_class::<fault::PyFault>()?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    Ok(())
}
