//! The dev server assembled from its configuration: the SMTP server and
//! the parts of the HTTP app, made the same way for `mtakit serve` and for
//! the in-process tests of the HTTP API.

use mtakit::Server;
use mtakit::fault::FaultPlan;
use mtakit::proto::Limits;
use tokio::sync::watch;

use crate::config::ServeConfig;
use crate::error::ServeError;
use crate::http::{App, Hub, HubThread, Store, StoreSink};
use crate::parts::{Auth, make_auth, make_sink, make_tls};
use crate::setup::{make_plan, make_store, open_events};

/// The SMTP server of `mtakit serve`.
pub(crate) type DevServer = Server<FaultPlan, Auth, StoreSink>;

/// What [`assemble`] makes.
pub(crate) struct Assembled {
    /// The SMTP server, not yet listening.
    pub(crate) server: DevServer,
    /// The message store the server fills and the HTTP API reads.
    pub(crate) store: Store,
    /// Sessions and live events.
    pub(crate) hub: Hub,
    /// The thread that writes `--events`; finish it after the runtime.
    pub(crate) hub_thread: HubThread,
    /// The fault rules, shared with `PUT /api/faults`.
    pub(crate) plan: FaultPlan,
}

impl Assembled {
    /// The HTTP app over these parts; it stops when `shutdown` turns true.
    pub(crate) fn app(&self, config: &ServeConfig, shutdown: watch::Receiver<bool>) -> App {
        App {
            store: self.store.clone(),
            hub: self.hub.clone(),
            plan: self.plan.clone(),
            relay: config.relay.as_ref().map(|r| r.relay.clone()),
            hostname: config.hostname.clone(),
            shutdown,
        }
    }
}

/// Makes the server and the app's parts from `config`, with these
/// `limits` (`serve` shares the file descriptors between SMTP and HTTP
/// first).
pub(crate) fn assemble(config: &ServeConfig, limits: Limits) -> Result<Assembled, ServeError> {
    let sink = make_sink(config)?;
    let store = make_store(config);
    let plan = make_plan(config)?;
    let events = open_events(config)?;
    let tls = make_tls(config)?;
    let (hub, hub_thread) =
        Hub::start(events, config.sessions_max_bytes).map_err(ServeError::Runtime)?;
    let mut builder = Server::builder()
        .hostname(config.hostname.clone())
        .limits(limits)
        .extensions(config.extensions.clone())
        .allow_insecure_auth(config.allow_insecure_auth)
        .require_tls(config.require_tls)
        .require_auth(config.require_auth)
        .lmtp(config.lmtp)
        .proxy_protocol_from(config.proxy_from.iter().copied())
        .policy(plan.clone());
    if config.http.is_some() || config.events.is_some() {
        builder = builder.observer(hub.clone());
    }
    if let Some(bytes) = config.transcript_bytes {
        builder = builder.transcript_bytes(bytes);
    }
    if let Some(bytes) = config.max_content_in_flight {
        builder = builder.max_content_in_flight(bytes);
    }
    if let Some(timeout) = config.shutdown_timeout {
        builder = builder.shutdown_timeout(timeout);
    }
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let mut sink = StoreSink::new(sink, store.clone(), hub.clone(), config.hostname.clone());
    if let Some(r) = &config.relay {
        sink = sink.relay_to(
            r.relay.clone(),
            config.hostname.clone(),
            r.connections,
            r.queue,
        );
    }
    let server = builder.authenticator(make_auth(config)).sink(sink).build();
    Ok(Assembled {
        server,
        store,
        hub,
        hub_thread,
        plan,
    })
}
