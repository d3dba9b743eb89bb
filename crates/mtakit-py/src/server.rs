//! `mtakit.Server`'s native half: a server built from Python objects, and
//! the handle of each address it listens on.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mtakit::proto::Extensions;
use mtakit::{Either, Server, UserTable};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::config::{PyLimits, PyTls};
use crate::executor::Runner;
use crate::hooks::PyAuthenticator;
use crate::options;
use crate::policy::PyPolicy;
use crate::runtime;
use crate::serving::{self, AnyAuth, Running};
use crate::sinks::{AnySink, any_sink};
use crate::wait::seconds;

/// How long `close()` lets sessions finish before they get `421`.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The native server. Use `mtakit.Server`.
#[pyclass(frozen, name = "_Server", module = "mtakit._mtakit")]
#[derive(Debug)]
pub(crate) struct NativeServer {
    server: Server<PyPolicy, AnyAuth, AnySink>,
    implicit_tls: bool,
    runner: Runner,
}

/// Reads `authenticator=`: an object with `authenticate`, or a dict of
/// user names and passwords.
fn any_auth(authenticator: Option<&Bound<'_, PyAny>>, runner: &Runner) -> PyResult<AnyAuth> {
    let Some(authenticator) = authenticator else {
        return Ok(None);
    };
    if let Ok(users) = authenticator.cast::<PyDict>() {
        let users: HashMap<String, String> = users.extract().map_err(|_| {
            PyTypeError::new_err("a user table maps user names (str) to passwords (str)")
        })?;
        let mut table = UserTable::new();
        for (name, password) in users {
            table.insert(name, password);
        }
        return Ok(Some(Either::Left(table)));
    }
    Ok(Some(Either::Right(PyAuthenticator::new(
        authenticator,
        runner.clone(),
    )?)))
}

#[pymethods]
impl NativeServer {
    #[new]
    #[pyo3(signature = (
        *,
        hostname = "localhost".to_owned(),
        policy = None,
        deliverer = None,
        authenticator = None,
        tls = None,
        limits = None,
        require_auth = false,
        require_tls = false,
        allow_insecure_auth = false,
        disable = Vec::new(),
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        hostname: String,
        policy: Option<Bound<'_, PyAny>>,
        deliverer: Option<Bound<'_, PyAny>>,
        authenticator: Option<Bound<'_, PyAny>>,
        tls: Option<Bound<'_, PyTls>>,
        limits: Option<Bound<'_, PyLimits>>,
        require_auth: bool,
        require_tls: bool,
        allow_insecure_auth: bool,
        disable: Vec<String>,
    ) -> PyResult<Self> {
        let tls = tls.map(|t| t.get().clone());
        let limits = limits.map(|l| l.get().clone());
        let runner = Runner::default();
        let policy = match policy {
            Some(policy) => PyPolicy::new(&policy, runner.clone())?,
            None => PyPolicy::accept_all(py, runner.clone())?,
        };
        let authenticator = any_auth(authenticator.as_ref(), &runner)?;
        let sink = any_sink(deliverer.as_ref(), &runner)?;
        let mut extensions = Extensions::default();
        options::disable(&mut extensions, &disable)?;
        let mut builder = Server::builder()
            .extensions(extensions)
            .hostname(hostname)
            .require_auth(require_auth)
            .require_tls(require_tls)
            .allow_insecure_auth(allow_insecure_auth)
            .shutdown_timeout(SHUTDOWN_TIMEOUT);
        if let Some(limits) = limits {
            builder = builder.limits(limits.inner);
        }
        let implicit_tls = tls.as_ref().is_some_and(|t| t.implicit);
        if let Some(tls) = tls {
            builder = builder.tls(tls.config);
        }
        let server = builder
            .policy(policy)
            .authenticator(authenticator)
            .sink(sink)
            .build();
        Ok(Self {
            server,
            implicit_tls,
            runner,
        })
    }

    /// Listens on `host`:`port` (`0` picks a free port) and serves in the
    /// background; `async def` hooks run on `event_loop` if given.
    #[pyo3(signature = (host, port, event_loop = None))]
    fn start(
        &self,
        host: &str,
        port: u16,
        event_loop: Option<Bound<'_, PyAny>>,
    ) -> PyResult<NativeListening> {
        let runtime = runtime::handle()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the runtime: {e}")))?;
        let listener = std::net::TcpListener::bind((host, port))
            .map_err(|e| PyOSError::new_err(format!("cannot listen on {host}:{port}: {e}")))?;
        let addr = listener.local_addr()?;
        self.runner.event_loop.set(event_loop.as_ref())?;
        let running = serving::spawn(
            &runtime,
            self.server.clone(),
            listener,
            self.implicit_tls,
            SHUTDOWN_TIMEOUT,
        )?;
        Ok(NativeListening { addr, running })
    }
}

/// A server listening on one address. Use it through `mtakit.Server`.
#[pyclass(frozen, name = "_Listening", module = "mtakit._mtakit")]
#[derive(Debug)]
pub(crate) struct NativeListening {
    addr: SocketAddr,
    running: Running,
}

#[pymethods]
impl NativeListening {
    /// The address listened on.
    #[getter]
    fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port listened on.
    #[getter]
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stops accepting, lets sessions finish for up to 10 s, then closes
    /// them with `421`; waits for that with the GIL released.
    fn close(&self, py: Python<'_>) {
        self.running.close(py);
    }

    /// Waits, with the GIL released, until the server stops or `timeout`
    /// seconds pass (`None`: no limit); returns whether it stopped.
    /// Ctrl-C raises `KeyboardInterrupt` here.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let deadline = timeout
            .map(seconds)
            .transpose()?
            .map(|t| Instant::now() + t);
        loop {
            if self.running.finished() {
                return Ok(true);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            py.detach(|| std::thread::sleep(Duration::from_millis(50)));
            py.check_signals()?;
        }
    }

    /// True once the server stopped.
    #[getter]
    fn closed(&self) -> bool {
        self.running.finished()
    }
}
