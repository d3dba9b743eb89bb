//! The Python objects behind the server's seams: an authenticator and a
//! deliverer written in Python, each called on the hook thread.

use std::future::Future;
use std::sync::Arc;

use mtakit::proto::{Credentials, EnhancedCode, Mechanism, SessionInfo};
use mtakit::{AuthResult, Authenticator, MessageSink};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use crate::executor::{Convert, Runner, is_async_method};
use crate::message::Message;
use crate::reply::reply_from;
use crate::session::PySession;

/// The reply when a hook raised: `451 4.3.0`.
pub(crate) fn hook_failed() -> mtakit::Reply {
    mtakit::Reply::new(
        451,
        EnhancedCode::new(4, 3, 0),
        "Internal error in a server hook; try again later",
    )
    .unwrap_or_else(|_| mtakit::Reply::new(451, None, "Try again later").expect("a plain reply"))
}

/// Reads the `mechanisms` attribute: names such as `"PLAIN"`.
pub(crate) fn mechanisms(object: &Bound<'_, PyAny>) -> PyResult<Vec<Mechanism>> {
    let names: Vec<String> = match object.getattr("mechanisms") {
        Ok(value) => value.extract()?,
        Err(_) => return Ok(vec![Mechanism::Plain, Mechanism::Login]),
    };
    names
        .iter()
        .map(|name| {
            Mechanism::from_name(name).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "unknown SASL mechanism '{name}': expected PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER"
                ))
            })
        })
        .collect()
}

/// An authenticator written in Python: `authenticate(session, mechanism,
/// username, password)`, sync or async.
#[derive(Clone, Debug)]
pub(crate) struct PyAuthenticator {
    object: Arc<Py<PyAny>>,
    mechanisms: Vec<Mechanism>,
    is_async: bool,
    runner: Runner,
}

impl PyAuthenticator {
    /// Wraps `object`, reading its `mechanisms`.
    pub(crate) fn new(object: &Bound<'_, PyAny>, runner: Runner) -> PyResult<Self> {
        if !object.hasattr("authenticate")? {
            return Err(PyTypeError::new_err(
                "an authenticator needs an authenticate(session, mechanism, username, password) method",
            ));
        }
        Ok(Self {
            object: Arc::new(object.clone().unbind()),
            mechanisms: mechanisms(object)?,
            is_async: is_async_method(object, "authenticate")?,
            runner,
        })
    }
}

/// Reads what `authenticate` returned: a bool, or a reply (2xx accepts,
/// any other is sent as it is).
pub(crate) fn auth_result(value: &Bound<'_, PyAny>) -> PyResult<AuthResult> {
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(AuthResult::from(flag.is_true()));
    }
    if value.is_none() {
        return Ok(AuthResult::Failure);
    }
    let reply = reply_from(value)?;
    Ok(if reply.code().get() / 100 == 2 {
        AuthResult::Success
    } else {
        AuthResult::Error(reply)
    })
}

impl Authenticator for PyAuthenticator {
    fn mechanisms(&self) -> Vec<Mechanism> {
        self.mechanisms.clone()
    }

    fn authenticate(
        &self,
        credentials: &Credentials,
        session: &SessionInfo,
    ) -> impl Future<Output = AuthResult> + Send {
        let object = self.object.clone();
        let runner = self.runner.clone();
        let is_async = self.is_async;
        let credentials = credentials.clone();
        let info = session.clone();
        let convert: Convert<AuthResult> = Arc::new(|_, value| auth_result(value));
        async move {
            let call = move |py: Python<'_>| {
                let session = PySession::new(&info, PyDict::new(py).unbind());
                object
                    .bind(py)
                    .call_method1(
                        "authenticate",
                        (
                            session,
                            credentials.mechanism().name(),
                            credentials.username(),
                            credentials.password(),
                        ),
                    )
                    .map(Bound::unbind)
            };
            runner
                .call("authenticate", is_async, call, convert)
                .await
                .unwrap_or_else(|| AuthResult::Error(hook_failed()))
        }
    }
}

/// A deliverer written in Python: `deliver(message)`, sync or async;
/// raising refuses the message with `451 4.3.0`.
#[derive(Clone, Debug)]
pub(crate) struct PyDeliverer {
    object: Arc<Py<PyAny>>,
    is_async: bool,
    runner: Runner,
}

impl PyDeliverer {
    /// Wraps `object`.
    pub(crate) fn new(object: &Bound<'_, PyAny>, runner: Runner) -> PyResult<Self> {
        if !object.hasattr("deliver")? {
            return Err(PyTypeError::new_err(
                "a deliverer needs a deliver(message) method",
            ));
        }
        Ok(Self {
            object: Arc::new(object.clone().unbind()),
            is_async: is_async_method(object, "deliver")?,
            runner,
        })
    }
}

impl MessageSink for PyDeliverer {
    fn deliver(
        &self,
        message: mtakit::Message,
    ) -> impl Future<Output = Result<(), mtakit::Reply>> + Send {
        let object = self.object.clone();
        let runner = self.runner.clone();
        let is_async = self.is_async;
        let convert: Convert<()> = Arc::new(|_, _| Ok(()));
        async move {
            let call = move |py: Python<'_>| {
                object
                    .bind(py)
                    .call_method1("deliver", (Message::from(message),))
                    .map(Bound::unbind)
            };
            runner
                .call("deliver", is_async, call, convert)
                .await
                .ok_or_else(hook_failed)
        }
    }
}
