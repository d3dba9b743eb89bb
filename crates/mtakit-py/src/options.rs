//! The keyword arguments of a test server, checked and turned into the
//! server's settings. Every bad value raises `ValueError` naming it.

use std::collections::HashMap;

use mtakit::proto::{Extensions, Limits, LineEndingPolicy};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// How the server offers TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// STARTTLS is offered on a plaintext connection.
    StartTls,
    /// TLS from the first byte (RFC 8314).
    Implicit,
}

impl TlsMode {
    pub(crate) fn parse(text: &str) -> PyResult<Self> {
        match text {
            "starttls" => Ok(Self::StartTls),
            "implicit" => Ok(Self::Implicit),
            other => Err(PyValueError::new_err(format!(
                "tls must be 'starttls' or 'implicit', not '{other}'"
            ))),
        }
    }
}

/// The extensions `disable=[...]` may name, as written in EHLO.
pub(crate) const DISABLEABLE: &[&str] = &[
    "pipelining",
    "size",
    "8bitmime",
    "smtputf8",
    "enhancedstatuscodes",
    "chunking",
    "binarymime",
    "dsn",
    "starttls",
    "auth",
    "help",
];

/// Turns off the extensions named in `disable` (case-insensitive).
pub(crate) fn disable(extensions: &mut Extensions, names: &[String]) -> PyResult<()> {
    for name in names {
        let flag = match name.to_ascii_lowercase().as_str() {
            "pipelining" => &mut extensions.pipelining,
            "size" => &mut extensions.size,
            "8bitmime" => &mut extensions.eight_bit_mime,
            "smtputf8" => &mut extensions.smtputf8,
            "enhancedstatuscodes" => &mut extensions.enhanced_status_codes,
            "chunking" => &mut extensions.chunking,
            "binarymime" => &mut extensions.binarymime,
            "dsn" => &mut extensions.dsn,
            "starttls" => &mut extensions.starttls,
            "auth" => &mut extensions.auth,
            "help" => &mut extensions.help,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "cannot disable '{name}': expected one of {}",
                    DISABLEABLE.join(", ")
                )));
            }
        };
        *flag = false;
    }
    Ok(())
}

/// Parses `line_endings=`.
pub(crate) fn line_endings(text: &str) -> PyResult<LineEndingPolicy> {
    match text {
        "reject" => Ok(LineEndingPolicy::Reject),
        "normalize" => Ok(LineEndingPolicy::Normalize),
        "record" => Ok(LineEndingPolicy::Record),
        other => Err(PyValueError::new_err(format!(
            "line_endings must be 'reject', 'normalize' or 'record', not '{other}'"
        ))),
    }
}

/// Everything a test server is configured with.
#[derive(Debug)]
pub(crate) struct TestOptions {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) hostname: String,
    pub(crate) tls: Option<TlsMode>,
    pub(crate) users: Option<HashMap<String, String>>,
    pub(crate) require_auth: bool,
    pub(crate) limits: Limits,
    pub(crate) extensions: Extensions,
    pub(crate) max_messages: usize,
}

impl TestOptions {
    /// Checks the keyword arguments.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        host: String,
        port: u16,
        hostname: String,
        tls: Option<&str>,
        users: Option<HashMap<String, String>>,
        has_authenticator: bool,
        require_auth: bool,
        max_message_size: Option<u64>,
        max_recipients: Option<usize>,
        disabled: Vec<String>,
        line_endings_policy: Option<&str>,
        max_messages: usize,
    ) -> PyResult<Self> {
        let tls = tls.map(TlsMode::parse).transpose()?;
        let mut limits = Limits::default();
        if let Some(size) = max_message_size {
            if size == 0 {
                return Err(PyValueError::new_err("max_message_size must be positive"));
            }
            limits.max_message_size = size;
        }
        if let Some(n) = max_recipients {
            if n == 0 {
                return Err(PyValueError::new_err("max_recipients must be positive"));
            }
            limits.max_recipients = n;
        }
        if let Some(policy) = line_endings_policy {
            limits.line_endings = line_endings(policy)?;
        }
        if require_auth && users.is_none() && !has_authenticator {
            return Err(PyValueError::new_err(
                "require_auth=True needs users={...} (or an authenticator)",
            ));
        }
        if max_messages == 0 {
            return Err(PyValueError::new_err("max_messages must be positive"));
        }
        let mut extensions = Extensions::default();
        disable(&mut extensions, &disabled)?;
        Ok(Self {
            host,
            port,
            hostname,
            tls,
            users,
            require_auth,
            limits,
            extensions,
            max_messages,
        })
    }
}
