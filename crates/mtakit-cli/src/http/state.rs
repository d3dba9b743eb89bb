//! The state every handler of the dev server's HTTP API shares.

use std::sync::Arc;

use axum::extract::FromRef;
use mtakit::fault::FaultPlan;
use tokio::sync::watch;

use super::events::Hub;
use super::store::Store;
use crate::relay::Relay;

/// What the handlers share.
#[derive(Clone, Debug)]
pub(crate) struct App {
    pub(crate) store: Store,
    pub(crate) hub: Hub,
    pub(crate) plan: FaultPlan,
    /// `--relay`, for `POST /api/messages/{id}/release`.
    pub(crate) relay: Option<Arc<Relay>>,
    /// The name mtakit greets the relay with (`--hostname`).
    pub(crate) hostname: String,
    /// Becomes true at shutdown; ends SSE streams and waits.
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// The sessions handlers need only the hub.
impl FromRef<App> for Hub {
    fn from_ref(app: &App) -> Hub {
        app.hub.clone()
    }
}
