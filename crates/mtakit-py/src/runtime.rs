//! The one tokio runtime that every server of the process runs on.
//!
//! It is built on first use. A forked child (multiprocessing's `fork`
//! start method) inherits the parent's runtime without its threads, so when
//! the process id changes a new runtime is built; the parent's is leaked,
//! as it cannot be shut down from the child.

use std::sync::Mutex;

use tokio::runtime::{Builder, Handle, Runtime};

/// The I/O threads: the servers are tasks, and the work per command is
/// small, so two threads serve any test suite.
const WORKER_THREADS: usize = 2;

/// The runtime and the process it was built in.
static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// A handle to the process's runtime, building it if needed.
pub(crate) fn handle() -> std::io::Result<Handle> {
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    if let Some((owner, runtime)) = *slot
        && owner == pid
    {
        return Ok(runtime.handle().clone());
    }
    let runtime = Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("mtakit-io")
        .enable_all()
        .build()?;
    // Lives as long as the process: servers are tasks on it.
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    *slot = Some((pid, runtime));
    Ok(runtime.handle().clone())
}
