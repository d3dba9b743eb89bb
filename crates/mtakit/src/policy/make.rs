//! [`MakePolicy`]: what the server is given as its policy; it makes the
//! policy of each connection, and may wrap the connection's stream.

use std::sync::Arc;

use mtakit_proto::ConnectionInfo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::Policy;

/// Makes the [`Policy`] of each connection, and the stream the connection
/// is served over: tower's `MakeService`, or hyper's service per
/// connection, for mtakit.
///
/// Every [`Policy`] is a `MakePolicy` that all connections share (through
/// an [`Arc`]) and that leaves the stream as it is; that is what
/// [`Builder::policy`](crate::Builder::policy) usually gets. Implement it
/// (on a type that is not a `Policy`) for state that belongs to one
/// connection and must not be keyed by address in a shared map, or for an
/// effect on the stream itself (shaping, counting). The fault tooling's
/// `fault::FaultPlan` (feature `faults`) is one: its per-connection
/// policy tells its stream when to drip.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use mtakit::proto::{ConnectionInfo, SessionInfo};
/// use mtakit::{MakePolicy, Policy, Server, Stage, Verdict};
/// use tokio::io::{AsyncRead, AsyncWrite};
///
/// /// Numbers the connections; each one's policy knows its number.
/// #[derive(Default)]
/// struct Numbered(AtomicU64);
///
/// struct Nth(u64);
///
/// impl Policy for Nth {
///     async fn decide(&self, _: &SessionInfo, stage: Stage<'_>) -> Verdict {
///         // Every third client is refused.
///         Verdict::from(!matches!(stage, Stage::Connect) || self.0 % 3 != 2)
///     }
/// }
///
/// impl MakePolicy for Numbered {
///     type Policy = Nth;
///     type Io<IO: AsyncRead + AsyncWrite + Unpin + Send> = IO;
///
///     fn connect<IO: AsyncRead + AsyncWrite + Unpin + Send>(
///         this: &Arc<Self>,
///         io: IO,
///         _: &ConnectionInfo,
///     ) -> (IO, Nth) {
///         (io, Nth(this.0.fetch_add(1, Ordering::Relaxed)))
///     }
/// }
///
/// let server = Server::builder().policy(Numbered::default()).build();
/// ```
pub trait MakePolicy: Send + Sync + 'static {
    /// The policy of one connection.
    type Policy: Policy;

    /// The stream one connection is served over, made from the accepted
    /// one.
    type Io<IO: AsyncRead + AsyncWrite + Unpin + Send>: AsyncRead + AsyncWrite + Unpin + Send;

    /// Makes the policy and the stream of a new connection, before the
    /// PROXY header, TLS and the greeting. `this` is the server's own
    /// instance, to share.
    fn connect<IO: AsyncRead + AsyncWrite + Unpin + Send>(
        this: &Arc<Self>,
        io: IO,
        info: &ConnectionInfo,
    ) -> (Self::Io<IO>, Self::Policy);
}

/// A policy is shared by all connections and leaves the stream alone.
impl<P: Policy> MakePolicy for P {
    type Policy = Arc<P>;
    type Io<IO: AsyncRead + AsyncWrite + Unpin + Send> = IO;

    fn connect<IO: AsyncRead + AsyncWrite + Unpin + Send>(
        this: &Arc<Self>,
        io: IO,
        _: &ConnectionInfo,
    ) -> (IO, Arc<P>) {
        (io, Arc::clone(this))
    }
}
