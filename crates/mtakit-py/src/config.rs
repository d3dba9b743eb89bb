//! `mtakit.Limits` and `mtakit.TLS`: a server's limits and its TLS.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mtakit::proto::Limits;
use mtakit::tls::ServerConfig;
use mtakit::tls::{TestPki, server_config_from_pem};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::options::line_endings;

/// The limits of each session; every argument left out keeps mtakit's
/// default (the RFCs' and Postfix's).
///
/// `Limits(max_message_size=10_485_760, max_recipients=1000,
/// command_timeout=300, max_errors=20, line_endings="reject")`: sizes in
/// octets, times in seconds.
#[pyclass(frozen, module = "mtakit", name = "Limits")]
#[derive(Clone, Debug)]
pub(crate) struct PyLimits {
    pub(crate) inner: Limits,
}

fn positive_seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            PyValueError::new_err(format!("{name} must be a positive number of seconds"))
        })
}

fn positive<T: Default + PartialEq>(name: &str, value: T) -> PyResult<T> {
    if value == T::default() {
        return Err(PyValueError::new_err(format!("{name} must be positive")));
    }
    Ok(value)
}

#[pymethods]
impl PyLimits {
    #[new]
    #[pyo3(signature = (
        *,
        max_message_size = None,
        max_recipients = None,
        max_errors = None,
        max_connections = None,
        max_connections_per_ip = None,
        command_timeout = None,
        data_timeout = None,
        line_endings = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        max_message_size: Option<u64>,
        max_recipients: Option<usize>,
        max_errors: Option<usize>,
        max_connections: Option<usize>,
        max_connections_per_ip: Option<usize>,
        command_timeout: Option<f64>,
        data_timeout: Option<f64>,
        line_endings: Option<&str>,
    ) -> PyResult<Self> {
        let mut inner = Limits::default();
        if let Some(v) = max_message_size {
            inner.max_message_size = positive("max_message_size", v)?;
        }
        if let Some(v) = max_recipients {
            inner.max_recipients = positive("max_recipients", v)?;
        }
        if let Some(v) = max_errors {
            inner.max_errors = positive("max_errors", v)?;
        }
        if let Some(v) = max_connections {
            inner.max_connections = positive("max_connections", v)?;
        }
        if let Some(v) = max_connections_per_ip {
            inner.max_connections_per_ip = Some(positive("max_connections_per_ip", v)?);
        }
        if let Some(v) = command_timeout {
            inner.command_timeout = positive_seconds("command_timeout", v)?;
        }
        if let Some(v) = data_timeout {
            inner.data_block_timeout = positive_seconds("data_timeout", v)?;
        }
        if let Some(v) = line_endings {
            inner.line_endings = self::line_endings(v)?;
        }
        Ok(Self { inner })
    }

    /// The largest message, in octets.
    #[getter]
    fn max_message_size(&self) -> u64 {
        self.inner.max_message_size
    }

    /// Recipients per transaction.
    #[getter]
    fn max_recipients(&self) -> usize {
        self.inner.max_recipients
    }

    /// How long a command may take to arrive, in seconds.
    #[getter]
    fn command_timeout(&self) -> f64 {
        self.inner.command_timeout.as_secs_f64()
    }

    fn __repr__(&self) -> String {
        format!(
            "Limits(max_message_size={}, max_recipients={}, command_timeout={})",
            self.inner.max_message_size,
            self.inner.max_recipients,
            self.inner.command_timeout.as_secs_f64()
        )
    }
}

/// A server's TLS: a certificate and key, offered with STARTTLS or, with
/// `implicit=True`, from the first byte (RFC 8314).
#[pyclass(frozen, module = "mtakit", name = "TLS")]
#[derive(Clone, Debug)]
pub(crate) struct PyTls {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) implicit: bool,
    ca_pem: Option<String>,
}

#[pymethods]
impl PyTls {
    /// A fresh test CA and a certificate it signed for `names` (by
    /// default `localhost`, `127.0.0.1` and `::1`); give clients `ca_pem`
    /// as their trust root. For tests and development only.
    #[staticmethod]
    #[pyo3(signature = (names = None, *, implicit = false))]
    fn self_signed(py: Python<'_>, names: Option<Vec<String>>, implicit: bool) -> PyResult<Self> {
        let names = names.unwrap_or_else(|| {
            ["localhost", "127.0.0.1", "::1"]
                .map(str::to_owned)
                .to_vec()
        });
        let pki = py.detach(move || {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            TestPki::try_new(&names)
        });
        let pki =
            pki.map_err(|e| PyRuntimeError::new_err(format!("cannot make a test CA: {e}")))?;
        Ok(Self {
            config: pki.server_config(),
            implicit,
            ca_pem: Some(pki.ca_pem().to_owned()),
        })
    }

    /// The certificate chain and private key in the PEM files at `cert`
    /// and `key`.
    #[staticmethod]
    #[pyo3(signature = (cert, key, *, implicit = false))]
    fn from_pem(cert: PathBuf, key: PathBuf, implicit: bool) -> PyResult<Self> {
        let config = server_config_from_pem(&cert, &key).map_err(|e| {
            PyOSError::new_err(format!(
                "cannot use {} and {}: {e}",
                cert.display(),
                key.display()
            ))
        })?;
        Ok(Self {
            config,
            implicit,
            ca_pem: None,
        })
    }

    /// The test CA's certificate (PEM), for `self_signed`; else `None`.
    #[getter]
    fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// True if TLS starts with the first byte rather than with STARTTLS.
    #[getter]
    fn implicit(&self) -> bool {
        self.implicit
    }
}
