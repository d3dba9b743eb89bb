//! The server-wide budget of message content in flight.
//!
//! While a message arrives, its content is held in memory by the session
//! until the end of the data, when the sink stores it. Without a budget,
//! 1,000 connections each sending an unfinished 10 MiB message could hold
//! 10 GB. Every connection therefore reserves what its session holds from
//! one shared [`ContentBudget`]. When a reservation would overrun the
//! budget, that message's content is dropped on the spot, the rest of it is
//! drained, and its end gets `452 4.3.1` (the client retries later); the
//! other sessions are untouched. A reservation is kept until the sink has
//! answered, since the content lives on in the delivery until then.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mtakit_proto::{Reply, Session};

/// The default budget of message content in flight over all sessions:
/// 512 MiB.
pub const DEFAULT_CONTENT_IN_FLIGHT: usize = 512 * 1024 * 1024;

/// Octets of message content held in memory by all sessions of a server.
#[derive(Debug)]
pub(crate) struct ContentBudget {
    used: AtomicUsize,
    limit: usize,
}

impl ContentBudget {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Octets reserved now, over every session.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Reserves `n` more octets, unless that would overrun the limit.
    fn try_grow(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// One connection's reservation in a [`ContentBudget`]; released on drop.
#[derive(Debug)]
pub(crate) struct Reservation {
    budget: Arc<ContentBudget>,
    held: usize,
}

/// `452 4.3.1`: the reply to a message whose content did not fit.
fn out_of_memory() -> Reply {
    Reply::insufficient_storage()
}

impl Reservation {
    pub(crate) fn new(budget: Arc<ContentBudget>) -> Self {
        Self { budget, held: 0 }
    }

    /// Brings the reservation in line with what `session` holds now. If
    /// the budget cannot cover it, the session drops the message's content
    /// (its end will get `452 4.3.1`) and the reservation falls to zero.
    pub(crate) fn track(&mut self, session: &mut Session) {
        let now = session.content_held();
        if now > self.held {
            if self.budget.try_grow(now - self.held) {
                self.held = now;
            } else {
                tracing::warn!(
                    peer = %session.info().peer(),
                    held = now,
                    in_flight = self.budget.used(),
                    "content budget spent: message refused with 452"
                );
                session.drop_content(out_of_memory());
                self.release_to(session.content_held());
            }
        } else if now < self.held {
            self.release_to(now);
        }
    }

    /// Releases everything past `held`.
    pub(crate) fn release_to(&mut self, held: usize) {
        if held < self.held {
            self.budget.release(self.held - held);
            self.held = held;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release_to(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_never_overrun() {
        let budget = ContentBudget::new(100);
        assert!(budget.try_grow(60));
        assert!(!budget.try_grow(41));
        assert!(budget.try_grow(40));
        assert_eq!(budget.used(), 100);
        budget.release(100);
        assert_eq!(budget.used(), 0);
        assert!(!budget.try_grow(usize::MAX));
    }
}
