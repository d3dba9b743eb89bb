//! `mtakit.Session`: what a hook knows about the session it decides in.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::message::{Address, AuthInfo, TlsInfo, plain};

/// A snapshot of a session, handed to every hook: the client, its HELO
/// name, TLS and AUTH, the envelope so far, and `data`, a dict that lives
/// as long as the connection for the hooks' own state.
#[pyclass(frozen, module = "mtakit", name = "Session")]
#[derive(Debug)]
pub(crate) struct PySession {
    /// The client's address.
    #[pyo3(get)]
    peer: Address,
    /// The server's address.
    #[pyo3(get)]
    local: Address,
    /// The HELO, EHLO or LHLO name, once given.
    #[pyo3(get)]
    helo: Option<String>,
    /// True after EHLO or LHLO.
    #[pyo3(get)]
    esmtp: bool,
    /// The TLS in use, if any.
    #[pyo3(get)]
    tls: Option<TlsInfo>,
    /// Who authenticated, if anyone.
    #[pyo3(get)]
    auth: Option<AuthInfo>,
    /// The sender of the transaction in progress (`""` for `<>`), or
    /// `None` before MAIL.
    #[pyo3(get)]
    mail_from: Option<String>,
    /// The recipients accepted so far in the transaction in progress.
    #[pyo3(get)]
    rcpt_to: Vec<String>,
    /// How many messages this connection has sent so far.
    #[pyo3(get)]
    transactions: u64,
    /// The connection's own dict, for the hooks' state.
    #[pyo3(get)]
    data: Py<PyDict>,
}

impl PySession {
    /// A snapshot of `info`, with the connection's `data` dict.
    pub(crate) fn new(info: &mtakit::proto::SessionInfo, data: Py<PyDict>) -> Self {
        let envelope = info.envelope();
        Self {
            peer: info.peer().into(),
            local: info.local().into(),
            helo: info.helo().map(ToString::to_string),
            esmtp: info.is_esmtp(),
            tls: info.tls().map(TlsInfo::from),
            auth: info.auth().map(AuthInfo::from),
            mail_from: envelope.map(|e| plain(&e.reverse_path)),
            rcpt_to: envelope
                .map(|e| e.recipients.iter().map(|r| plain(&r.path)).collect())
                .unwrap_or_default(),
            transactions: info.transactions(),
            data,
        }
    }
}

#[pymethods]
impl PySession {
    fn __repr__(&self) -> String {
        format!(
            "<Session from {}:{} helo={:?} mail_from={:?} rcpt_to={:?}>",
            self.peer.host(),
            self.peer.port(),
            self.helo,
            self.mail_from,
            self.rcpt_to
        )
    }
}
