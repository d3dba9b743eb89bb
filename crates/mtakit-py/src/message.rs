//! `Message` and the small value classes it carries: what a test asserts
//! on, built from the Rust message only when Python asks for it.

use std::net::SocketAddr;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

/// An envelope path without its angle brackets: `<a@example.com>` is
/// `a@example.com` and the null reverse-path `<>` is `""`.
pub(crate) fn plain(path: &impl ToString) -> String {
    let text = path.to_string();
    match text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
        Some(inner) => inner.to_owned(),
        None => text,
    }
}

/// MAIL FROM parameters as a dict, by keyword: `SIZE`, `BODY`,
/// `SMTPUTF8` (value `None`), `AUTH`, `RET`, `ENVID`.
pub(crate) fn mail_params_dict<'py>(
    py: Python<'py>,
    params: &mtakit::proto::MailParams,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    if let Some(size) = params.size {
        dict.set_item("SIZE", size.to_string())?;
    }
    if let Some(body) = params.body {
        dict.set_item("BODY", body.as_str())?;
    }
    if params.smtputf8 {
        dict.set_item("SMTPUTF8", py.None())?;
    }
    if let Some(auth) = &params.auth {
        dict.set_item("AUTH", auth)?;
    }
    if let Some(ret) = params.ret {
        dict.set_item("RET", ret.as_str())?;
    }
    if let Some(envid) = &params.envid {
        dict.set_item("ENVID", envid)?;
    }
    Ok(dict)
}

/// A network address: `host` and `port`.
#[pyclass(frozen, module = "mtakit", eq)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    /// The IP address, as text.
    #[pyo3(get)]
    host: String,
    /// The port.
    #[pyo3(get)]
    port: u16,
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Self {
        Self {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }
}

impl Address {
    /// The IP address, as text.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

#[pymethods]
impl Address {
    fn __repr__(&self) -> String {
        format!("Address(host={:?}, port={})", self.host, self.port)
    }

    /// `(host, port)`, as `socket` takes it.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyTuple::new(
            py,
            [
                self.host.clone().into_pyobject(py)?.into_any(),
                self.port.into_pyobject(py)?.into_any(),
            ],
        )?
        .try_iter()
        .map(Bound::into_any)
    }
}

/// The TLS of the session a message came in on.
#[pyclass(frozen, module = "mtakit")]
#[derive(Clone, Debug)]
pub(crate) struct TlsInfo {
    /// The protocol version, e.g. `TLSv1.3`.
    #[pyo3(get)]
    version: String,
    /// The cipher suite.
    #[pyo3(get)]
    cipher: String,
    /// The server name the client asked for (SNI), if any.
    #[pyo3(get)]
    sni: Option<String>,
}

impl From<&mtakit::proto::TlsInfo> for TlsInfo {
    fn from(tls: &mtakit::proto::TlsInfo) -> Self {
        Self {
            version: tls.version.clone(),
            cipher: tls.cipher.clone(),
            sni: tls.sni.clone(),
        }
    }
}

#[pymethods]
impl TlsInfo {
    fn __repr__(&self) -> String {
        format!(
            "TlsInfo(version={:?}, cipher={:?})",
            self.version, self.cipher
        )
    }
}

/// Who authenticated, and how.
#[pyclass(frozen, module = "mtakit")]
#[derive(Clone, Debug)]
pub(crate) struct AuthInfo {
    /// The user name that was accepted.
    #[pyo3(get)]
    username: String,
    /// The SASL mechanism, e.g. `PLAIN`.
    #[pyo3(get)]
    mechanism: String,
}

impl From<&mtakit::proto::AuthIdentity> for AuthInfo {
    fn from(auth: &mtakit::proto::AuthIdentity) -> Self {
        Self {
            username: auth.username.clone(),
            mechanism: auth.mechanism.to_string(),
        }
    }
}

#[pymethods]
impl AuthInfo {
    fn __repr__(&self) -> String {
        format!(
            "AuthInfo(username={:?}, mechanism={:?})",
            self.username, self.mechanism
        )
    }
}

/// A message the server accepted: its envelope, the session it came in
/// on, and its content exactly as received.
#[pyclass(frozen, module = "mtakit")]
pub(crate) struct Message {
    inner: mtakit::Message,
    email: PyOnceLock<Py<PyAny>>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl From<mtakit::Message> for Message {
    fn from(inner: mtakit::Message) -> Self {
        Self {
            inner,
            email: PyOnceLock::new(),
        }
    }
}

#[pymethods]
impl Message {
    /// The id the server gave the message (in its `250` reply, as
    /// `queued as ID`).
    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    /// The envelope sender, without angle brackets; `""` for the null
    /// sender `<>`.
    #[getter]
    fn mail_from(&self) -> String {
        plain(self.inner.reverse_path())
    }

    /// The envelope recipients, in order, without angle brackets.
    #[getter]
    fn rcpt_to(&self) -> Vec<String> {
        self.inner.forward_paths().map(plain).collect()
    }

    /// The content, exactly as received (dot-stuffing undone).
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.data())
    }

    /// The decoded `Subject` (RFC 2047 encoded words decoded), or `None`.
    #[getter]
    fn subject(&self) -> Option<&str> {
        self.inner.subject()
    }

    /// The content parsed by the standard library: an
    /// `email.message.EmailMessage` (parsed on first use, then kept).
    #[getter]
    fn email<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let email = self.email.get_or_try_init(py, || -> PyResult<_> {
            let policy = py.import("email.policy")?.getattr("default")?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("policy", policy)?;
            let parsed = py.import("email")?.call_method(
                "message_from_bytes",
                (self.data(py),),
                Some(&kwargs),
            )?;
            Ok(parsed.unbind())
        })?;
        Ok(email.bind(py).clone())
    }

    /// Every header field in order, as `(name, value)` with the value
    /// decoded (RFC 2047), as the standard library's parser gives it.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self.email(py)?.call_method0("items")?;
        let list = PyList::empty(py);
        for item in items.try_iter()? {
            let (name, value): (String, Bound<'py, PyAny>) = item?.extract()?;
            list.append((name, value.str()?))?;
        }
        Ok(list)
    }

    /// The client's address.
    #[getter]
    fn peer(&self) -> Address {
        self.inner.peer().into()
    }

    /// The name the client gave in HELO, EHLO or LHLO.
    #[getter]
    fn helo(&self) -> Option<String> {
        self.inner.helo().map(ToString::to_string)
    }

    /// The TLS in use when the message was sent, or `None`.
    #[getter]
    fn tls(&self) -> Option<TlsInfo> {
        self.inner.tls().map(TlsInfo::from)
    }

    /// Who authenticated, or `None`.
    #[getter]
    fn auth(&self) -> Option<AuthInfo> {
        self.inner.auth().map(AuthInfo::from)
    }

    /// The MAIL FROM parameters, by keyword: `SIZE`, `BODY`, `SMTPUTF8`
    /// (value `None`), `AUTH`, `RET`, `ENVID`.
    #[getter]
    fn mail_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        mail_params_dict(py, self.inner.mail_params())
    }

    /// What the server noticed about the content without refusing it (bare
    /// LF or CR, long lines, ...), one sentence each.
    #[getter]
    fn findings(&self) -> Vec<String> {
        self.inner
            .findings()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn __repr__(&self) -> String {
        let subject = match self.subject() {
            Some(s) => format!("{s:?}"),
            None => "None".to_owned(),
        };
        format!(
            "<Message {} from {:?} to {:?} subject {subject}, {} octets>",
            self.inner.id(),
            self.mail_from(),
            self.rcpt_to(),
            self.inner.data().len()
        )
    }
}
