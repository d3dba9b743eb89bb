//! Running a server on the process's runtime: shared by the test server
//! and `mtakit.Server`.

use mtakit::{Authenticator, Either, MakePolicy, MessageSink, Server, UserTable};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::hooks::PyAuthenticator;

/// The authenticator of a server made from Python: none, a user table,
/// or a Python object.
pub(crate) type AnyAuth = Option<Either<UserTable, PyAuthenticator>>;

/// Serves `listener` (plaintext, or TLS from the first byte) on
/// `runtime` until `stopped` fires or its sender is dropped.
pub(crate) fn spawn<P: MakePolicy, A: Authenticator, S: MessageSink>(
    runtime: &Handle,
    server: Server<P, A, S>,
    listener: std::net::TcpListener,
    implicit_tls: bool,
    stopped: oneshot::Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    listener.set_nonblocking(true)?;
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    Ok(runtime.spawn(async move {
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
    }))
}
