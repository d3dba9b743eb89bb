//! Running a server on the process's runtime: shared by the test server
//! and `mtakit.Server`.

use std::sync::Mutex;
use std::time::Duration;

use mtakit::{Authenticator, Either, MakePolicy, MessageSink, Server, UserTable};
use pyo3::prelude::*;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::hooks::PyAuthenticator;

/// The authenticator of a server made from Python: none, a user table,
/// or a Python object.
pub(crate) type AnyAuth = Option<Either<UserTable, PyAuthenticator>>;

/// A server running on the process's runtime: how to stop it, and its
/// task. Dropping it only asks the server to stop.
#[derive(Debug)]
pub(crate) struct Running {
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    runtime: Handle,
    /// How long sessions may take to finish once asked to stop.
    grace: Duration,
}

impl Running {
    /// Asks the server to stop; returns its task if it was running.
    fn signal(&self) -> Option<JoinHandle<()>> {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = stop.send(());
        }
        self.task.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Stops the server and waits, with the GIL released, until its
    /// sessions have finished (or the grace period and a second passed).
    pub(crate) fn close(&self, py: Python<'_>) {
        if let Some(task) = self.signal() {
            let runtime = self.runtime.clone();
            let limit = self.grace + Duration::from_secs(1);
            py.detach(move || {
                let _ = runtime.block_on(async { tokio::time::timeout(limit, task).await });
            });
        }
    }

    /// True once `close()` was called.
    pub(crate) fn closing(&self) -> bool {
        self.stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    /// True once the server's task has ended.
    pub(crate) fn finished(&self) -> bool {
        self.task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only asks: joining here could wait for a hook that needs the GIL
        // this thread may hold.
        drop(self.signal());
    }
}

/// Serves `listener` (plaintext, or TLS from the first byte) on
/// `runtime` until it is closed; sessions get `grace` to finish.
pub(crate) fn spawn<P: MakePolicy, A: Authenticator, S: MessageSink>(
    runtime: &Handle,
    server: Server<P, A, S>,
    listener: std::net::TcpListener,
    implicit_tls: bool,
    grace: Duration,
) -> std::io::Result<Running> {
    let (stop, stopped) = oneshot::channel::<()>();
    listener.set_nonblocking(true)?;
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    let task = runtime.spawn(async move {
        let stopped = async {
            let _ = stopped.await;
        };
        let outcome = if implicit_tls {
            server.serve_implicit_tls(listener, stopped).await
        } else {
            server.serve(listener, stopped).await
        };
        if let Err(error) = outcome {
            tracing::warn!(%error, "server stopped with an error");
        }
    });
    Ok(Running {
        stop: Mutex::new(Some(stop)),
        task: Mutex::new(Some(task)),
        runtime: runtime.clone(),
        grace,
    })
}
