//! `mtakit.Reply`: an SMTP reply a hook gives, and how a hook's reply
//! argument is read (a `Reply`, a string such as `"550 5.7.1 No"`, or
//! pymta's `(code, text_or_lines)`).

use mtakit::proto::EnhancedCode;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

/// An SMTP reply: a code, an optional enhanced status code, and one or
/// more lines of text.
///
/// `Reply(550, "5.7.1", "Relaying denied")`, `Reply(250, None, ["first
/// line", "second line"])`, or `Reply.parse("451 4.7.1 Try later")`.
#[pyclass(frozen, module = "mtakit", name = "Reply", eq)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PyReply {
    pub(crate) inner: mtakit::Reply,
}

/// Reads `"x.y.z"`.
fn enhanced(text: &str) -> PyResult<EnhancedCode> {
    EnhancedCode::parse(text)
        .ok_or_else(|| PyValueError::new_err(format!("not an enhanced status code: '{text}'")))
}

/// Builds a reply, raising `ValueError` for a bad code or text.
fn build(
    code: u16,
    enhanced_code: Option<EnhancedCode>,
    lines: Vec<String>,
) -> PyResult<mtakit::Reply> {
    let reply = if lines.len() == 1 {
        mtakit::Reply::new(
            code,
            enhanced_code,
            lines.into_iter().next().unwrap_or_default(),
        )
    } else {
        mtakit::Reply::multiline(code, enhanced_code, lines)
    };
    reply.map_err(|e| PyValueError::new_err(format!("bad reply: {e}")))
}

/// The text argument: a string, or a list of lines.
fn lines_of(text: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = text.cast::<PyString>() {
        return Ok(vec![s.to_str()?.to_owned()]);
    }
    text.extract::<Vec<String>>()
        .map_err(|_| PyTypeError::new_err("reply text must be a str or a list of str"))
}

#[pymethods]
impl PyReply {
    #[new]
    #[pyo3(signature = (code, enhanced_code = None, text = None))]
    fn new(
        code: u16,
        enhanced_code: Option<&str>,
        text: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let enhanced_code = enhanced_code.map(enhanced).transpose()?;
        let lines = match text {
            Some(text) => lines_of(text)?,
            None => vec![String::new()],
        };
        Ok(Self {
            inner: build(code, enhanced_code, lines)?,
        })
    }

    /// Reads a reply written as on the wire without CRLF: `"550 5.7.1
    /// Relaying denied"`; the enhanced code is optional.
    #[staticmethod]
    fn parse(text: &str) -> PyResult<Self> {
        text.parse::<mtakit::Reply>()
            .map(|inner| Self { inner })
            .map_err(|e| PyValueError::new_err(format!("not an SMTP reply ({e}): '{text}'")))
    }

    /// The three-digit code.
    #[getter]
    fn code(&self) -> u16 {
        self.inner.code().get()
    }

    /// The enhanced status code, such as `"5.7.1"`, or `None`.
    #[getter]
    fn enhanced_code(&self) -> Option<String> {
        self.inner.enhanced().map(|e| e.to_string())
    }

    /// The lines of text.
    #[getter]
    fn lines(&self) -> Vec<String> {
        self.inner.lines().map(str::to_owned).collect()
    }

    /// True for 2xx and 3xx.
    #[getter]
    fn is_positive(&self) -> bool {
        self.inner.code().is_positive()
    }

    fn __str__(&self) -> String {
        self.inner.to_string().trim_end_matches("\r\n").to_owned()
    }

    fn __repr__(&self) -> String {
        format!("Reply.parse({:?})", self.__str__())
    }
}

/// Reads a hook's reply argument: a `Reply`, a string, or
/// `(code, text_or_lines)` where the text may start with an enhanced code.
pub(crate) fn reply_from(value: &Bound<'_, PyAny>) -> PyResult<mtakit::Reply> {
    if let Ok(reply) = value.cast::<PyReply>() {
        return Ok(reply.get().inner.clone());
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(PyReply::parse(text.to_str()?)?.inner);
    }
    if let Ok(pair) = value.cast::<PyTuple>()
        && pair.len() == 2
    {
        let code: u16 = pair.get_item(0)?.extract()?;
        let mut lines = lines_of(&pair.get_item(1)?)?;
        // pymta writes the enhanced code, if any, at the start of the text.
        let mut enhanced_code = None;
        if let Some(first) = lines.first_mut()
            && let Some((head, rest)) = first.split_once(' ')
            && let Some(e) = EnhancedCode::parse(head)
        {
            enhanced_code = Some(e);
            *first = rest.to_owned();
        }
        return build(code, enhanced_code, lines);
    }
    Err(PyTypeError::new_err(format!(
        "a reply must be a mtakit.Reply, a str such as '550 5.7.1 No', or (code, text), not {}",
        value.get_type().name()?
    )))
}
