//! Handing `async def` hooks straight to their event loop.
//!
//! A connection's task queues the hook call on the loop's [`LoopFeeder`]
//! without taking the GIL, and wakes the loop through a socket pair that
//! the loop watches (`loop.add_reader`). The loop's thread then calls the
//! hook and runs the coroutine as a task: one hop, instead of two through
//! the hook thread.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

/// A unit of work for a loop's thread.
pub(crate) type LoopJob = Box<dyn for<'py> FnOnce(Python<'py>) + Send>;

/// The queue of one event loop, and how to wake it.
pub(crate) struct LoopFeeder {
    queue: Mutex<VecDeque<LoopJob>>,
    /// Set while a wake-up octet is unread: one is enough.
    woken: AtomicBool,
    wake: UnixStream,
}

impl std::fmt::Debug for LoopFeeder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopFeeder")
            .field("woken", &self.woken)
            .finish_non_exhaustive()
    }
}

impl LoopFeeder {
    /// Queues `job` for the loop's thread and wakes the loop if needed.
    /// Needs no GIL.
    pub(crate) fn push(&self, job: LoopJob) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(job);
        if !self.woken.swap(true, Ordering::AcqRel) {
            // A full socket buffer means a wake-up is pending anyway.
            let _ = (&self.wake).write(&[1]);
        }
    }

    /// Makes a feeder for `event_loop` and registers its reader on the
    /// loop (from the loop's own thread, through `call_soon_threadsafe`).
    pub(crate) fn attach(event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Self>> {
        let (wake, watch) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        watch.set_nonblocking(true)?;
        let feeder = Arc::new(Self {
            queue: Mutex::new(VecDeque::new()),
            woken: AtomicBool::new(false),
            wake,
        });
        let fd = watch.as_raw_fd();
        let drain = Drain {
            feeder: Arc::clone(&feeder),
            watch,
        };
        let add_reader = event_loop.getattr("add_reader")?;
        event_loop.call_method1("call_soon_threadsafe", (add_reader, fd, drain))?;
        Ok(feeder)
    }
}

/// The loop's reader callback: reads the wake-up octets, then runs every
/// queued job.
#[pyclass(frozen)]
struct Drain {
    feeder: Arc<LoopFeeder>,
    watch: UnixStream,
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) {
        let mut buf = [0u8; 64];
        loop {
            match (&self.watch).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        // Cleared before the queue is read: a job pushed from now on wakes
        // the loop again.
        self.feeder.woken.store(false, Ordering::Release);
        loop {
            let job = self
                .feeder
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            match job {
                Some(job) => job(py),
                None => break,
            }
        }
    }
}
