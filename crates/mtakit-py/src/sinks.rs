//! The Rust sinks, for Python: `mtakit.MemorySink` and
//! `mtakit.MaildirSink`, and how a server's `deliverer=` is read.

use std::path::PathBuf;

use mtakit::{Either, MaildirSink, MemorySink};
use pyo3::exceptions::{PyOSError, PyTimeoutError};
use pyo3::prelude::*;

use crate::executor::Runner;
use crate::hooks::PyDeliverer;
use crate::message::Message;
use crate::wait::{self, seconds};

/// What a server made from Python delivers to: a Python deliverer, a
/// Maildir, or memory.
pub(crate) type AnySink = Either<PyDeliverer, Either<MaildirSink, MemorySink>>;

/// Keeps accepted messages in memory, at most 10,000 and 256 MiB (the
/// oldest go first).
#[pyclass(frozen, module = "mtakit", name = "MemorySink")]
#[derive(Clone, Debug)]
pub(crate) struct PyMemorySink {
    pub(crate) inner: MemorySink,
}

#[pymethods]
impl PyMemorySink {
    #[new]
    fn new() -> Self {
        Self {
            inner: MemorySink::new(),
        }
    }

    /// Every message kept, oldest first.
    fn messages(&self) -> Vec<Message> {
        self.inner
            .messages()
            .into_iter()
            .map(Message::from)
            .collect()
    }

    /// Waits, with the GIL released, until at least `n` messages are kept,
    /// and returns them; raises `TimeoutError` after `timeout` seconds.
    #[pyo3(signature = (n = 1, timeout = 10.0))]
    fn wait_for_messages(&self, py: Python<'_>, n: usize, timeout: f64) -> PyResult<Vec<Message>> {
        match wait::sliced(py, seconds(timeout)?, |slice| self.inner.wait_for(n, slice))? {
            Ok(messages) => Ok(messages.into_iter().map(Message::from).collect()),
            Err(got) => Err(PyTimeoutError::new_err(format!(
                "expected at least {n} message(s) within {timeout} s, but {} arrived",
                got.len()
            ))),
        }
    }

    /// Forgets every message.
    fn clear(&self) {
        let _ = self.inner.clear();
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// Writes each accepted message into a Maildir (`new/`), with an envelope
/// record that message content cannot forge; acknowledged only once it is
/// on disk.
#[pyclass(frozen, module = "mtakit", name = "MaildirSink")]
#[derive(Clone, Debug)]
pub(crate) struct PyMaildirSink {
    inner: MaildirSink,
    path: PathBuf,
}

#[pymethods]
impl PyMaildirSink {
    /// Uses the Maildir at `path`, creating it (and `tmp/`, `new/`,
    /// `cur/`) if needed.
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        let inner = MaildirSink::create(&path).map_err(|e| {
            PyOSError::new_err(format!("cannot use the Maildir {}: {e}", path.display()))
        })?;
        Ok(Self { inner, path })
    }

    /// The Maildir's directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    fn __repr__(&self) -> String {
        format!("MaildirSink({:?})", self.path.display().to_string())
    }
}

/// Reads a server's `deliverer=`: a `MemorySink`, a `MaildirSink`, or an
/// object with a `deliver(message)` method. `None` keeps messages in a new
/// `MemorySink`.
pub(crate) fn any_sink(deliverer: Option<&Bound<'_, PyAny>>, runner: &Runner) -> PyResult<AnySink> {
    let Some(deliverer) = deliverer else {
        return Ok(Either::Right(Either::Right(MemorySink::new())));
    };
    if let Ok(memory) = deliverer.cast::<PyMemorySink>() {
        return Ok(Either::Right(Either::Right(memory.get().inner.clone())));
    }
    if let Ok(maildir) = deliverer.cast::<PyMaildirSink>() {
        return Ok(Either::Right(Either::Left(maildir.get().inner.clone())));
    }
    Ok(Either::Left(PyDeliverer::new(deliverer, runner.clone())?))
}
