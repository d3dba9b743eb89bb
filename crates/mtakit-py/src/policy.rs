//! A policy written in Python: `mtakit.Policy`'s `accept_*` hooks, sync or
//! async, asked through mtakit's one dispatch point.
//!
//! Each connection gets its own [`ConnectionPolicy`] (through
//! [`MakePolicy`]), which holds the connection's `session.data` dict. A
//! hook the Python class does not override is answered in Rust without
//! taking the GIL, so a policy that checks only recipients costs nothing at
//! the other stages.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use mtakit::proto::{ConnectionInfo, MailParams, RcptParams, SessionInfo};
use mtakit::{MakePolicy, Policy, Stage, Verdict};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::executor::{Convert, Runner, is_async_method};
use crate::hooks::hook_failed;
use crate::message::{Message, mail_params_dict, plain};
use crate::session::PySession;
use crate::verdict::verdict_from;

/// The hooks, in the order of [`Call::index`].
pub(crate) const HOOKS: [&str; 9] = [
    "accept_connection",
    "accept_helo",
    "accept_starttls",
    "accept_auth",
    "accept_mail_from",
    "accept_rcpt_to",
    "accept_data",
    "accept_message",
    "accept_ehlo",
];

/// A stage's arguments, owned, to cross to the hook thread.
#[derive(Debug)]
enum Call {
    Connect,
    Helo(String),
    /// EHLO or LHLO, for `accept_ehlo` (pymta's split of the two).
    Ehlo(String),
    StartTls,
    Auth(&'static str),
    MailFrom(String, MailParams),
    RcptTo(String, RcptParams),
    Data,
    Message(Box<mtakit::Message>),
}

impl Call {
    /// The arguments of `stage`, or `None` for a stage with no Python hook
    /// (VRFY).
    fn of(stage: Stage<'_>) -> Option<Self> {
        Some(match stage {
            Stage::Connect => Self::Connect,
            Stage::Helo { name, extended } if extended => Self::Ehlo(name.to_string()),
            Stage::Helo { name, .. } => Self::Helo(name.to_string()),
            Stage::StartTls => Self::StartTls,
            Stage::Auth { mechanism } => Self::Auth(mechanism.name()),
            Stage::MailFrom {
                reverse_path,
                params,
            } => Self::MailFrom(plain(reverse_path), params.clone()),
            Stage::RcptTo {
                forward_path,
                params,
            } => Self::RcptTo(plain(forward_path), params.clone()),
            Stage::Data => Self::Data,
            Stage::Message { message } | Stage::MessageEach { message } => {
                Self::Message(Box::new(message.clone()))
            }
            _ => return None,
        })
    }

    /// The index of the hook in [`HOOKS`].
    fn index(&self) -> usize {
        match self {
            Self::Connect => 0,
            Self::Helo(_) => 1,
            Self::StartTls => 2,
            Self::Auth(_) => 3,
            Self::MailFrom(..) => 4,
            Self::RcptTo(..) => 5,
            Self::Data => 6,
            Self::Message(_) => 7,
            Self::Ehlo(_) => 8,
        }
    }

    /// EHLO goes to `accept_helo` unless `accept_ehlo` is overridden.
    fn route(self, overridden: &[bool; HOOKS.len()]) -> Self {
        match self {
            Self::Ehlo(name) if !overridden[8] => Self::Helo(name),
            call => call,
        }
    }

    /// Calls the hook on `object` with the session and these arguments.
    fn invoke(self, py: Python<'_>, object: &Py<PyAny>, session: PySession) -> PyResult<Py<PyAny>> {
        let object = object.bind(py);
        let name = HOOKS[self.index()];
        let result = match self {
            Self::Connect | Self::StartTls | Self::Data => object.call_method1(name, (session,)),
            Self::Helo(helo) | Self::Ehlo(helo) => object.call_method1(name, (session, helo)),
            Self::Auth(mechanism) => object.call_method1(name, (session, mechanism)),
            Self::MailFrom(sender, params) => {
                object.call_method1(name, (session, sender, mail_params_dict(py, &params)?))
            }
            Self::RcptTo(recipient, params) => {
                object.call_method1(name, (session, recipient, rcpt_params_dict(py, &params)?))
            }
            Self::Message(message) => object.call_method1(name, (session, Message::from(*message))),
        };
        result.map(Bound::unbind)
    }
}

/// The RCPT TO parameters, by keyword: `NOTIFY`, `ORCPT`.
pub(crate) fn rcpt_params_dict<'py>(
    py: Python<'py>,
    params: &RcptParams,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    if let Some(notify) = &params.notify {
        dict.set_item("NOTIFY", notify.to_string())?;
    }
    if let Some(orcpt) = &params.orcpt {
        dict.set_item("ORCPT", orcpt.to_string())?;
    }
    Ok(dict)
}

/// What every connection's policy shares.
#[derive(Debug)]
struct Shared {
    object: Arc<Py<PyAny>>,
    /// Which of [`HOOKS`] the object overrides.
    overridden: [bool; HOOKS.len()],
    /// Which of [`HOOKS`] are `async def`.
    is_async: [bool; HOOKS.len()],
    runner: Runner,
}

/// A Python policy, as the server's [`MakePolicy`].
#[derive(Clone, Debug)]
pub(crate) struct PyPolicy {
    shared: Arc<Shared>,
}

impl PyPolicy {
    /// Wraps `object`: an instance of `mtakit.Policy` (only the hooks it
    /// overrides are called), or any object with `accept_*` methods.
    pub(crate) fn new(object: &Bound<'_, PyAny>, runner: Runner) -> PyResult<Self> {
        let py = object.py();
        let base = py.import("mtakit.hooks")?.getattr("Policy")?;
        let class = object.get_type();
        let mut overridden = [false; HOOKS.len()];
        for (flag, name) in overridden.iter_mut().zip(HOOKS) {
            *flag = match (class.getattr(name), base.getattr(name)) {
                (Ok(own), Ok(default)) => !own.is(&default),
                (Ok(_), Err(_)) => true,
                (Err(_), _) => object.hasattr(name)?,
            };
        }
        let mut is_async = [false; HOOKS.len()];
        for (flag, name) in is_async.iter_mut().zip(HOOKS) {
            *flag = is_async_method(object, name)?;
        }
        Ok(Self {
            shared: Arc::new(Shared {
                object: Arc::new(object.clone().unbind()),
                overridden,
                is_async,
                runner,
            }),
        })
    }

    /// The policy that accepts everything: `mtakit.Policy()` itself, whose
    /// hooks are never called.
    pub(crate) fn accept_all(py: Python<'_>, runner: Runner) -> PyResult<Self> {
        let base = py.import("mtakit.hooks")?.getattr("Policy")?.call0()?;
        Self::new(&base, runner)
    }
}

impl MakePolicy for PyPolicy {
    type Policy = ConnectionPolicy;
    type Io<IO: AsyncRead + AsyncWrite + Unpin + Send> = IO;

    fn connect<IO: AsyncRead + AsyncWrite + Unpin + Send>(
        this: &Arc<Self>,
        io: IO,
        _: &ConnectionInfo,
    ) -> (IO, ConnectionPolicy) {
        let policy = ConnectionPolicy {
            shared: Arc::clone(&this.shared),
            data: Arc::new(OnceLock::new()),
        };
        (io, policy)
    }
}

/// The policy of one connection: the shared hooks, and the connection's
/// `session.data` dict, made on first use (on the hook thread).
#[derive(Debug)]
pub(crate) struct ConnectionPolicy {
    shared: Arc<Shared>,
    data: Arc<OnceLock<Py<PyDict>>>,
}

impl Policy for ConnectionPolicy {
    fn decide(
        &self,
        session: &SessionInfo,
        stage: Stage<'_>,
    ) -> impl Future<Output = Verdict> + Send {
        let overridden = &self.shared.overridden;
        let call = Call::of(stage)
            .map(|c| c.route(overridden))
            .filter(|c| overridden[c.index()]);
        let shared = Arc::clone(&self.shared);
        let data = Arc::clone(&self.data);
        let info = call.as_ref().map(|_| session.clone());
        async move {
            let (Some(call), Some(info)) = (call, info) else {
                return Verdict::accept();
            };
            let hook = HOOKS[call.index()];
            let is_async = shared.is_async[call.index()];
            let object = Arc::clone(&shared.object);
            let invoke = move |py: Python<'_>| {
                let data = data.get_or_init(|| PyDict::new(py).unbind()).clone_ref(py);
                call.invoke(py, &object, PySession::new(&info, data))
            };
            let convert: Convert<Verdict> = Arc::new(|_, value| verdict_from(value));
            shared
                .runner
                .call(hook, is_async, invoke, convert)
                .await
                .unwrap_or_else(|| Verdict::reject_with(hook_failed()))
        }
    }
}
