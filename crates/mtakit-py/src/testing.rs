//! The native test server behind `mtakit.testing.TestServer`: a real SMTP
//! server on the process's runtime that keeps every accepted message in
//! Rust. Python objects are made only when the test asks for messages, so
//! mail arriving never takes the GIL.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use mtakit::fault::{FaultPlan, FaultRule};
use mtakit::tls::TestPki;
use mtakit::{Either, MemorySink, Server, UserTable};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;

use crate::executor::{Errors, Runner};
use crate::fault::PyFault;
use crate::hooks::PyAuthenticator;
use crate::message::Message;
use crate::options::{TestOptions, TlsMode};
use crate::policy::PyPolicy;
use crate::runtime;
use crate::serving::{self, AnyAuth, Running};
use crate::transcript::{Collector, Transcript};
use crate::wait::{self, seconds};

/// How long `close()` lets sessions finish before they get `421`.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The native test server. Use `mtakit.testing.TestServer`.
#[pyclass(frozen, name = "_TestServer", module = "mtakit._mtakit")]
#[derive(Debug)]
pub(crate) struct NativeTestServer {
    addr: SocketAddr,
    sink: MemorySink,
    transcripts: Collector,
    ca_pem: Option<String>,
    errors: Errors,
    running: Running,
}

impl NativeTestServer {
    fn start(
        options: TestOptions,
        faults: Vec<FaultRule>,
        policy: PyPolicy,
        authenticator: Option<PyAuthenticator>,
        errors: Errors,
    ) -> PyResult<Self> {
        let runtime = runtime::handle()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the runtime: {e}")))?;
        let listener =
            std::net::TcpListener::bind((options.host.as_str(), options.port)).map_err(|e| {
                PyOSError::new_err(format!(
                    "cannot listen on {}:{}: {e}",
                    options.host, options.port
                ))
            })?;
        let addr = listener.local_addr()?;
        let sink = MemorySink::with_limits(options.max_messages, usize::MAX);
        let transcripts = Collector::default();
        let mut builder = Server::builder()
            .hostname(options.hostname.clone())
            .limits(options.limits.clone())
            .extensions(options.extensions.clone())
            // The test server listens on loopback: AUTH needs no TLS.
            .allow_insecure_auth(true)
            .require_auth(options.require_auth)
            .shutdown_timeout(SHUTDOWN_TIMEOUT)
            .observer(transcripts.clone())
            .sink(sink.clone());
        let mut ca_pem = None;
        if let Some(mode) = options.tls {
            let pki = TestPki::try_new(&["localhost", "127.0.0.1", "::1"])
                .map_err(|e| PyRuntimeError::new_err(format!("cannot make a test CA: {e}")))?;
            builder = builder.tls(pki.server_config());
            ca_pem = Some(pki.ca_pem().to_owned());
            let _ = mode;
        }
        let implicit = options.tls == Some(TlsMode::Implicit);
        let authenticator: AnyAuth = match (options.users, authenticator) {
            (Some(users), _) => Some(Either::Left(user_table(users))),
            (None, Some(authenticator)) => Some(Either::Right(authenticator)),
            (None, None) => None,
        };
        let builder = builder.authenticator(authenticator);
        // Without faults the policy is not wrapped at all.
        let running = if faults.is_empty() {
            let server = builder.policy(policy).build();
            serving::spawn(&runtime, server, listener, implicit, SHUTDOWN_TIMEOUT)?
        } else {
            let plan = faults
                .into_iter()
                .fold(FaultPlan::new(), FaultPlan::with_rule);
            let server = builder.policy(plan.wrap(policy)).build();
            serving::spawn(&runtime, server, listener, implicit, SHUTDOWN_TIMEOUT)?
        };
        Ok(Self {
            addr,
            sink,
            transcripts,
            ca_pem,
            errors,
            running,
        })
    }
}

fn user_table(users: HashMap<String, String>) -> UserTable {
    let mut table = UserTable::new();
    for (name, password) in users {
        table.insert(name, password);
    }
    table
}

/// Describes what did arrive when a wait ran out.
fn shortfall(n: usize, timeout: f64, got: &[mtakit::Message]) -> String {
    let mut text = format!(
        "expected at least {n} message(s) within {timeout} s, but {} arrived",
        got.len()
    );
    for (i, m) in got.iter().enumerate() {
        let to: Vec<String> = m.forward_paths().map(crate::message::plain).collect();
        text.push_str(&format!(
            "\n  #{i}: from {:?} to {:?} subject {:?} ({} bytes)",
            crate::message::plain(m.reverse_path()),
            to.join(", "),
            m.subject().unwrap_or_default(),
            m.data().len()
        ));
    }
    text
}

#[pymethods]
impl NativeTestServer {
    #[new]
    #[pyo3(signature = (
        *,
        host = "127.0.0.1".to_owned(),
        port = 0,
        hostname = "localhost".to_owned(),
        tls = None,
        users = None,
        policy = None,
        authenticator = None,
        faults = Vec::new(),
        require_auth = false,
        max_message_size = None,
        max_recipients = None,
        disable = Vec::new(),
        line_endings = None,
        max_messages = 10_000,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        host: String,
        port: u16,
        hostname: String,
        tls: Option<&str>,
        users: Option<HashMap<String, String>>,
        policy: Option<Bound<'_, PyAny>>,
        authenticator: Option<Bound<'_, PyAny>>,
        faults: Vec<Bound<'_, PyFault>>,
        require_auth: bool,
        max_message_size: Option<u64>,
        max_recipients: Option<usize>,
        disable: Vec<String>,
        line_endings: Option<&str>,
        max_messages: usize,
    ) -> PyResult<Self> {
        if users.is_some() && authenticator.is_some() {
            return Err(PyValueError::new_err(
                "give users={...} or authenticator=, not both",
            ));
        }
        let faults: Vec<FaultRule> = faults.iter().map(|f| f.get().rule.clone()).collect();
        let errors = Errors::default();
        let runner = Runner {
            errors: errors.clone(),
            ..Runner::default()
        };
        let authenticator = authenticator
            .map(|a| PyAuthenticator::new(&a, runner.clone()))
            .transpose()?;
        let has_authenticator = authenticator.is_some();
        let policy = match policy {
            Some(policy) => PyPolicy::new(&policy, runner.clone())?,
            None => PyPolicy::accept_all(py, runner.clone())?,
        };
        let options = TestOptions::new(
            host,
            port,
            hostname,
            tls,
            users,
            has_authenticator,
            require_auth,
            max_message_size,
            max_recipients,
            disable,
            line_endings,
            max_messages,
        )?;
        // Making the test CA takes a few milliseconds of key generation.
        py.detach(|| Self::start(options, faults, policy, authenticator, errors))
    }

    /// The address the server listens on.
    #[getter]
    fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port the server listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The test CA's certificate (PEM), when the server offers TLS.
    #[getter]
    fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Every message accepted so far, oldest first.
    fn messages(&self) -> Vec<Message> {
        self.sink
            .messages()
            .into_iter()
            .map(Message::from)
            .collect()
    }

    /// How many messages are kept.
    fn message_count(&self) -> usize {
        self.sink.len()
    }

    /// Waits, with the GIL released, until at least `n` messages arrived,
    /// and returns them all. Raises `TimeoutError` after `timeout` seconds,
    /// naming what did arrive; Ctrl-C interrupts it.
    fn wait_for_messages(&self, py: Python<'_>, n: usize, timeout: f64) -> PyResult<Vec<Message>> {
        match wait::sliced(py, seconds(timeout)?, |slice| self.sink.wait_for(n, slice))? {
            Ok(messages) => Ok(messages.into_iter().map(Message::from).collect()),
            Err(got) => Err(PyTimeoutError::new_err(shortfall(n, timeout, &got))),
        }
    }

    /// Waits, with the GIL released, until at least `n` sessions have
    /// finished, and returns their transcripts. Raises `TimeoutError` after
    /// `timeout` seconds; Ctrl-C interrupts it.
    fn wait_for_transcripts(
        &self,
        py: Python<'_>,
        n: usize,
        timeout: f64,
    ) -> PyResult<Vec<Transcript>> {
        let arrived = |slice| {
            if self.transcripts.wait_for(n, slice) {
                Ok(())
            } else {
                Err(())
            }
        };
        match wait::sliced(py, seconds(timeout)?, arrived)? {
            Ok(()) => Ok(self.transcripts()),
            Err(()) => Err(PyTimeoutError::new_err(format!(
                "expected at least {n} finished session(s) within {timeout} s, but {} finished",
                self.transcripts.snapshot().len()
            ))),
        }
    }

    /// The first exception a hook raised since the last call, if any (the
    /// others were logged and are forgotten).
    fn take_hook_error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.errors
            .take_first()
            .map(|e| e.into_value(py).into_any())
    }

    /// Forgets every message and transcript.
    fn clear(&self) {
        drop(self.sink.take());
        self.transcripts.clear();
    }

    /// The finished sessions, oldest first (at most the latest 1,000).
    fn transcripts(&self) -> Vec<Transcript> {
        self.transcripts
            .snapshot()
            .into_iter()
            .map(Transcript::from)
            .collect()
    }

    /// Stops the server: it stops accepting, lets sessions finish for up
    /// to 5 s, then closes them with `421`. Waits for that with the GIL
    /// released. Calling it again does nothing.
    fn close(&self, py: Python<'_>) {
        self.running.close(py);
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.running.closing()
    }
}
