//! What every connection of a server shares: the configuration, the
//! hooks, the budgets, and the count of open connections with the slot
//! each connection holds until it ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mtakit_proto::SessionConfig;
use tokio_rustls::rustls::ServerConfig;

use crate::budget::ContentBudget;
use crate::observe::ObserverHandle;
use crate::proxy::Cidr;

/// What every connection of a server shares.
#[derive(Debug)]
pub(crate) struct Shared<P, A, S> {
    pub(crate) config: Arc<SessionConfig>,
    /// Makes each connection's policy.
    pub(crate) policy: Arc<P>,
    pub(crate) authenticator: A,
    pub(crate) sink: S,
    pub(crate) tls: Option<Arc<ServerConfig>>,
    pub(crate) proxy_from: Vec<Cidr>,
    pub(crate) observer: Option<ObserverHandle>,
    /// Message content held by all sessions together.
    pub(crate) content_budget: Arc<ContentBudget>,
    /// The byte budget of each session's transcript.
    pub(crate) transcript_bytes: usize,
    pub(crate) shutdown_timeout: Duration,
    /// Open connections, in total (over every listener) and per IP.
    pub(crate) connections: Mutex<Connections>,
}

#[derive(Debug, Default)]
pub(crate) struct Connections {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl<P, A, S> Shared<P, A, S> {
    /// Counts a new connection, unless it is over a limit.
    pub(crate) fn claim(&self, ip: IpAddr) -> Result<(), Refusal> {
        let limits = &self.config.limits;
        let mut c = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if c.total >= limits.max_connections {
            return Err(Refusal::Total);
        }
        let count = c.per_ip.get(&ip).copied().unwrap_or(0);
        if limits
            .max_connections_per_ip
            .is_some_and(|max| count >= max)
        {
            return Err(Refusal::PerIp);
        }
        c.total += 1;
        c.per_ip.insert(ip, count + 1);
        Ok(())
    }
}

/// Why a connection was refused.
pub(crate) enum Refusal {
    Total,
    PerIp,
}

/// Releases a connection's slots when it ends, however it ends.
pub(crate) struct ConnectionGuard<'a, P, A, S> {
    pub(crate) shared: &'a Shared<P, A, S>,
    pub(crate) ip: IpAddr,
}

impl<P, A, S> Drop for ConnectionGuard<'_, P, A, S> {
    fn drop(&mut self) {
        let mut c = self
            .shared
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        c.total = c.total.saturating_sub(1);
        if let Some(count) = c.per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}
