//! `mtakit.Verdict`, and how a hook's return value becomes a verdict.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString, PyTuple};

use crate::reply::{PyReply, reply_from};

/// A hook's decision: accept or reject, with the default reply or a
/// custom one, and optionally closing the connection.
///
/// `Verdict.accept()`, `Verdict.reject(Reply(550, "5.7.1", "No"))`,
/// `Verdict.disconnect("421 4.7.0 Go away")`.
#[pyclass(frozen, module = "mtakit", name = "Verdict")]
#[derive(Clone, Debug)]
pub(crate) struct PyVerdict {
    pub(crate) inner: mtakit::Verdict,
}

impl PyVerdict {
    /// `inner`, closing the connection after its reply if `close`.
    fn closing(inner: mtakit::Verdict, close: bool) -> Self {
        let inner = if close { inner.and_close() } else { inner };
        Self { inner }
    }
}

fn optional_reply(reply: Option<&Bound<'_, PyAny>>) -> PyResult<Option<mtakit::Reply>> {
    reply.map(reply_from).transpose()
}

#[pymethods]
impl PyVerdict {
    /// Accepts, with the stage's default reply or this one; `close=True`
    /// closes the connection after the reply.
    #[staticmethod]
    #[pyo3(signature = (reply = None, *, close = false))]
    fn accept(reply: Option<&Bound<'_, PyAny>>, close: bool) -> PyResult<Self> {
        let inner = match optional_reply(reply)? {
            Some(r) => mtakit::Verdict::accept_with(r),
            None => mtakit::Verdict::accept(),
        };
        Ok(Self::closing(inner, close))
    }

    /// Rejects, with the stage's default reply or this one; `close=True`
    /// closes the connection after the reply.
    #[staticmethod]
    #[pyo3(signature = (reply = None, *, close = false))]
    fn reject(reply: Option<&Bound<'_, PyAny>>, close: bool) -> PyResult<Self> {
        let inner = match optional_reply(reply)? {
            Some(r) => mtakit::Verdict::reject_with(r),
            None => mtakit::Verdict::reject(),
        };
        Ok(Self::closing(inner, close))
    }

    /// Rejects and closes the connection after the reply (`421 4.7.0` by
    /// default).
    #[staticmethod]
    #[pyo3(signature = (reply = None))]
    fn disconnect(reply: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let inner = match optional_reply(reply)? {
            Some(r) => mtakit::Verdict::reject_with(r).and_close(),
            None => mtakit::Verdict::disconnect(),
        };
        Ok(Self { inner })
    }

    /// True if the verdict accepts.
    #[getter]
    fn accepted(&self) -> bool {
        self.inner.is_accept()
    }

    /// The custom reply, or `None` for the stage's default.
    #[getter]
    fn reply(&self) -> Option<PyReply> {
        self.inner.reply().map(|r| PyReply { inner: r.clone() })
    }

    /// True if the connection closes after the reply.
    #[getter]
    fn closes(&self) -> bool {
        self.inner.closes()
    }

    fn __repr__(&self) -> String {
        let kind = if self.inner.is_accept() {
            "accept"
        } else {
            "reject"
        };
        let close = if self.inner.closes() { ", closes" } else { "" };
        match self.inner.reply() {
            Some(r) => format!("<Verdict {kind} {:?}{close}>", r.to_string().trim_end()),
            None => format!("<Verdict {kind}{close}>"),
        }
    }
}

/// A verdict from a reply alone: 2xx and 3xx accept, 4xx and 5xx reject.
fn by_class(reply: mtakit::Reply) -> mtakit::Verdict {
    if reply.code().is_positive() {
        mtakit::Verdict::accept_with(reply)
    } else {
        mtakit::Verdict::reject_with(reply)
    }
}

/// Reads what a hook returned:
/// - `None` or `True` accept, `False` rejects, with the default reply;
/// - a `Verdict`;
/// - a `Reply` or a reply string, which accepts on 2xx and 3xx and
///   rejects on 4xx and 5xx;
/// - pymta's `(bool, reply)`, where the reply may be `None`, a string or
///   `(code, text_or_lines)`.
pub(crate) fn verdict_from(value: &Bound<'_, PyAny>) -> PyResult<mtakit::Verdict> {
    if value.is_none() {
        return Ok(mtakit::Verdict::accept());
    }
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(mtakit::Verdict::from(flag.is_true()));
    }
    if let Ok(verdict) = value.cast::<PyVerdict>() {
        return Ok(verdict.get().inner.clone());
    }
    if value.cast::<PyReply>().is_ok() || value.cast::<PyString>().is_ok() {
        return Ok(by_class(reply_from(value)?));
    }
    if let Ok(pair) = value.cast::<PyTuple>()
        && pair.len() == 2
        && let Ok(flag) = pair.get_item(0)?.cast::<PyBool>()
    {
        let accept = flag.is_true();
        let reply = pair.get_item(1)?;
        return Ok(match (accept, reply.is_none()) {
            (true, true) => mtakit::Verdict::accept(),
            (false, true) => mtakit::Verdict::reject(),
            (true, false) => mtakit::Verdict::accept_with(reply_from(&reply)?),
            (false, false) => mtakit::Verdict::reject_with(reply_from(&reply)?),
        });
    }
    Err(PyTypeError::new_err(format!(
        "a hook must return None, a bool, a mtakit.Verdict, a mtakit.Reply, a reply string \
         or (bool, reply), not {}",
        value.get_type().name()?
    )))
}
