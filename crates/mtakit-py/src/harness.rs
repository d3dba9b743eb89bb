//! `mtakit._mtakit._Harness`: one SMTP session in memory, no sockets and
//! no threads, whose decisions call Python on the calling thread.
//!
//! It drives mtakit-proto's sans-IO [`Session`] directly: bytes go in with
//! `feed`, the replies they caused come back, and every decision on the
//! way calls the same hooks as `mtakit.Server` (`policy.accept_*`,
//! `authenticator.authenticate`, `deliverer.deliver`), synchronously, so a
//! test can step through a dialogue line by line. pymta's
//! `CommandParserHelper` is built on it (`python/pymta-compat`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use mtakit::proto::{ConnectionInfo, Event, Extensions, Pending, Session, SessionConfig, Verdict};
use mtakit::{AuthResult, Reply};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::hooks::{auth_result, hook_failed, mechanisms};
use crate::message::{Message, mail_params_dict, plain};
use crate::options::disable;
use crate::policy::rcpt_params_dict;
use crate::reply::PyReply;
use crate::session::PySession;
use crate::verdict::verdict_from;

/// One SMTP session in memory. Use it through a wrapper such as pymta's
/// `CommandParserHelper`; see the module docs.
#[pyclass(module = "mtakit._mtakit", name = "_Harness")]
#[derive(Debug)]
pub(crate) struct NativeHarness {
    /// The sans-IO session this drives.
    session: Session,
    /// The object with the `accept_*` hooks; `None` accepts everything.
    policy: Option<Py<PyAny>>,
    /// The object with `authenticate`; `None` means no AUTH.
    authenticator: Option<Py<PyAny>>,
    /// The object with `deliver`; `None` keeps nothing.
    deliverer: Option<Py<PyAny>>,
    /// The connection's `session.data` dict.
    data: Py<PyDict>,
    /// Every reply so far, in order.
    replies: Vec<Reply>,
    /// Verdicts the session had to correct (a bug in a hook), as text.
    policy_errors: Vec<String>,
    /// True once the session closed the connection.
    closed: bool,
}

/// Reads `peer=(host, port)`.
fn peer_address(peer: (String, u16)) -> PyResult<SocketAddr> {
    let ip: IpAddr = peer.0.parse().map_err(|_| {
        PyValueError::new_err(format!("peer host must be an IP address, not '{}'", peer.0))
    })?;
    Ok(SocketAddr::new(ip, peer.1))
}

/// A hook's awaitable result cannot be awaited here.
fn reject_awaitable(value: &Bound<'_, PyAny>, hook: &str) -> PyResult<()> {
    if value.hasattr("__await__")? {
        // Closed, so that Python does not warn of a coroutine never awaited.
        if value.hasattr("close")? {
            value.call_method0("close")?;
        }
        return Err(PyTypeError::new_err(format!(
            "{hook} returned an awaitable: the in-memory harness calls hooks synchronously, \
             so they must be plain def methods"
        )));
    }
    Ok(())
}

#[pymethods]
impl NativeHarness {
    /// A session from `peer` to a server called `hostname`. `disable`
    /// names EHLO extensions to switch off (as `TestServer(disable=)`);
    /// AUTH is offered without TLS when there is an `authenticator`.
    #[new]
    #[pyo3(signature = (
        *,
        policy = None,
        authenticator = None,
        deliverer = None,
        hostname = "localhost".to_owned(),
        peer = ("127.0.0.1".to_owned(), 4567),
        disable = Vec::new(),
        max_message_size = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        policy: Option<Py<PyAny>>,
        authenticator: Option<Bound<'_, PyAny>>,
        deliverer: Option<Py<PyAny>>,
        hostname: String,
        peer: (String, u16),
        disable: Vec<String>,
        max_message_size: Option<u64>,
    ) -> PyResult<Self> {
        let peer = peer_address(peer)?;
        let mut config = SessionConfig::new(hostname);
        let mut extensions = Extensions::default();
        self::disable(&mut extensions, &disable)?;
        config.extensions = extensions;
        if let Some(size) = max_message_size {
            if size == 0 {
                return Err(PyValueError::new_err("max_message_size must be positive"));
            }
            config.limits.max_message_size = size;
        }
        if let Some(auth) = &authenticator {
            config.auth_mechanisms = mechanisms(auth)?;
            config.allow_insecure_auth = true;
        }
        let local: SocketAddr = ([127, 0, 0, 1], 25).into();
        let session = Session::new(Arc::new(config), ConnectionInfo::new(peer, local));
        Ok(Self {
            session,
            policy,
            authenticator: authenticator.map(Bound::unbind),
            deliverer,
            data: PyDict::new(py).unbind(),
            replies: Vec::new(),
            policy_errors: Vec::new(),
            closed: false,
        })
    }

    /// Runs the session until it waits for input and returns the replies
    /// made: on the first call, the greeting (or the refusal).
    fn start(&mut self, py: Python<'_>) -> PyResult<Vec<PyReply>> {
        self.run(py)
    }

    /// Hands the session bytes from the client and returns the replies
    /// they caused. A hook that raises gives the client `451 4.3.0`, and
    /// its exception is raised here once the session has caught up.
    fn feed(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<Vec<PyReply>> {
        if self.closed {
            return Ok(Vec::new());
        }
        self.session.receive(data);
        self.run(py)
    }

    /// True once the session closed the connection.
    #[getter]
    fn closed(&self) -> bool {
        self.closed
    }

    /// Every reply so far, in order.
    #[getter]
    fn replies(&self) -> Vec<PyReply> {
        let wrap = |r: &Reply| PyReply { inner: r.clone() };
        self.replies.iter().map(wrap).collect()
    }

    /// The verdicts the session could not use as given, described.
    #[getter]
    fn policy_errors(&self) -> Vec<String> {
        self.policy_errors.clone()
    }

    /// A snapshot of the session, as the hooks see it.
    #[getter]
    fn session(&self, py: Python<'_>) -> PySession {
        PySession::new(self.session.info(), self.data.clone_ref(py))
    }
}

impl NativeHarness {
    /// Polls the session until it needs input; the first hook error is
    /// raised after that, so the session is never left mid-decision.
    fn run(&mut self, py: Python<'_>) -> PyResult<Vec<PyReply>> {
        let mut out = Vec::new();
        let mut failure: Option<PyErr> = None;
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Reply(reply) => {
                    self.replies.push(reply.clone());
                    out.push(PyReply { inner: reply });
                }
                Event::Decide(pending) => {
                    let verdict = self.decide(py, &pending).unwrap_or_else(|e| {
                        failure.get_or_insert(e);
                        Verdict::reject_with(hook_failed())
                    });
                    self.session
                        .decide(verdict)
                        .map_err(|e| PyValueError::new_err(e.to_string()))?;
                }
                Event::Deliver(transaction) => {
                    let message = mtakit::Message::new(self.session.info(), transaction);
                    let verdict = self.deliver(py, message).unwrap_or_else(|e| {
                        failure.get_or_insert(e);
                        Verdict::reject_with(hook_failed())
                    });
                    self.session
                        .decide(verdict)
                        .map_err(|e| PyValueError::new_err(e.to_string()))?;
                }
                Event::Close => self.closed = true,
                Event::PolicyError(error) => self.policy_errors.push(error.to_string()),
                // No TLS here (the config offers none), and no transcript.
                _ => {}
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(out),
        }
    }

    /// True if the policy has `method`.
    fn policy_has(&self, py: Python<'_>, method: &str) -> PyResult<bool> {
        match &self.policy {
            Some(policy) => policy.bind(py).hasattr(method),
            None => Ok(false),
        }
    }

    /// Calls `method` on the policy with the session and `args`, if the
    /// policy has it; the result read as a verdict.
    fn hook<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        args: impl FnOnce(PySession) -> PyResult<Vec<Bound<'py, PyAny>>>,
    ) -> PyResult<Verdict> {
        let Some(policy) = self.policy.as_ref().map(|p| p.bind(py)) else {
            return Ok(Verdict::accept());
        };
        if !self.policy_has(py, method)? {
            return Ok(Verdict::accept());
        }
        let session = PySession::new(self.session.info(), self.data.clone_ref(py));
        let args = pyo3::types::PyTuple::new(py, args(session)?)?;
        let value = policy.call_method1(method, args)?;
        reject_awaitable(&value, method)?;
        verdict_from(&value)
    }

    /// Answers one decision.
    fn decide<'py>(&self, py: Python<'py>, pending: &Pending) -> PyResult<Verdict> {
        let object = |s: PySession| Ok(vec![Bound::new(py, s)?.into_any()]);
        match pending {
            Pending::Connect => self.hook(py, "accept_connection", object),
            Pending::StartTls => self.hook(py, "accept_starttls", object),
            Pending::Data => self.hook(py, "accept_data", object),
            Pending::Helo { name, extended } => {
                let ehlo = *extended && self.policy_has(py, "accept_ehlo")?;
                let method = if ehlo { "accept_ehlo" } else { "accept_helo" };
                self.hook(py, method, |s| {
                    Ok(vec![
                        Bound::new(py, s)?.into_any(),
                        name.to_string().into_pyobject(py)?.into_any(),
                    ])
                })
            }
            Pending::Auth { mechanism } => self.hook(py, "accept_auth", |s| {
                Ok(vec![
                    Bound::new(py, s)?.into_any(),
                    mechanism.name().into_pyobject(py)?.into_any(),
                ])
            }),
            Pending::MailFrom {
                reverse_path,
                params,
            } => self.hook(py, "accept_mail_from", |s| {
                Ok(vec![
                    Bound::new(py, s)?.into_any(),
                    plain(reverse_path).into_pyobject(py)?.into_any(),
                    mail_params_dict(py, params)?.into_any(),
                ])
            }),
            Pending::RcptTo {
                forward_path,
                params,
            } => self.hook(py, "accept_rcpt_to", |s| {
                Ok(vec![
                    Bound::new(py, s)?.into_any(),
                    plain(forward_path).into_pyobject(py)?.into_any(),
                    rcpt_params_dict(py, params)?.into_any(),
                ])
            }),
            Pending::Authenticate { credentials } => {
                let Some(auth) = self.authenticator.as_ref().map(|a| a.bind(py)) else {
                    return Ok(Verdict::reject());
                };
                let session = PySession::new(self.session.info(), PyDict::new(py).unbind());
                let value = auth.call_method1(
                    "authenticate",
                    (
                        session,
                        credentials.mechanism().name(),
                        credentials.username(),
                        credentials.password(),
                    ),
                )?;
                reject_awaitable(&value, "authenticate")?;
                Ok(match auth_result(&value)? {
                    AuthResult::Success => Verdict::accept(),
                    AuthResult::Error(reply) => Verdict::reject_with(reply),
                    _ => Verdict::reject(),
                })
            }
            // VRFY has no Python hook: `252`, as mtakit.Server answers.
            _ => Ok(Verdict::accept()),
        }
    }

    /// The end of data: `accept_message`, then the deliverer. A deliverer
    /// that raises refuses the message with `451 4.3.0`.
    fn deliver(&self, py: Python<'_>, message: mtakit::Message) -> PyResult<Verdict> {
        let for_hook = Message::from(message.clone());
        let verdict = self.hook(py, "accept_message", |s| {
            Ok(vec![
                Bound::new(py, s)?.into_any(),
                Bound::new(py, for_hook)?.into_any(),
            ])
        })?;
        if !verdict.is_accept() {
            return Ok(verdict);
        }
        if let Some(deliverer) = &self.deliverer {
            let value = deliverer
                .bind(py)
                .call_method1("deliver", (Message::from(message),))?;
            reject_awaitable(&value, "deliver")?;
        }
        Ok(verdict)
    }
}
