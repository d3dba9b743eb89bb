//! [`Counts`]: how often each rule matched and fired, and its random
//! state, kept once per rule or per client, with a cap on the per-client
//! entries.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use mtakit_proto::SessionInfo;

use super::rule::{FaultRule, Scope};

/// The most per-client counter entries a plan keeps, over all its
/// [`Scope::Peer`] and [`Scope::Session`] rules: 10,000 (a few hundred
/// KiB). Past it the oldest entry is forgotten, and its client starts
/// counting afresh.
pub const MAX_SCOPED_COUNTERS: usize = 10_000;

/// Whose counters: a client address or one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Peer(IpAddr),
    Session(SocketAddr, SocketAddr),
}

/// One rule's counters for one scope.
#[derive(Clone, Copy, Debug)]
struct Counter {
    matched: u64,
    fired: u64,
    /// xorshift64 state for `probability`; never 0.
    rng: u64,
}

impl Counter {
    fn new(seed: u64) -> Self {
        Self {
            matched: 0,
            fired: 0,
            rng: seed,
        }
    }

    /// Counts one match of `rule`; true if the rule fires for it.
    fn step(&mut self, rule: &FaultRule) -> bool {
        self.matched += 1;
        if self.matched <= rule.skipped() || rule.limit().is_some_and(|t| self.fired >= t) {
            return false;
        }
        if let Some(p) = rule.chance() {
            let rng = &mut self.rng;
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            if (*rng >> 11) as f64 / (1u64 << 53) as f64 >= p {
                return false;
            }
        }
        self.fired += 1;
        true
    }
}

/// The random seed of the rule at `index` under the plan's `seed`
/// (splitmix64), so that each rule draws its own sequence.
fn rule_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed.wrapping_add((index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)).max(1)
}

/// The counters of every rule of one rule list.
#[derive(Clone, Debug)]
pub(crate) struct Counts {
    seed: u64,
    /// Per rule: the [`Scope::Global`] counter.
    global: Vec<Counter>,
    /// Per rule: how often it fired, in every scope.
    fired: Vec<u64>,
    /// The per-client counters, by rule index and client.
    scoped: HashMap<(usize, Key), Counter>,
    /// The keys of `scoped`, oldest first.
    order: VecDeque<(usize, Key)>,
    cap: usize,
}

impl Counts {
    /// Fresh counters for `rules` rules.
    pub(crate) fn new(rules: usize, seed: u64) -> Self {
        let mut counts = Self {
            seed,
            global: Vec::with_capacity(rules),
            fired: Vec::with_capacity(rules),
            scoped: HashMap::new(),
            order: VecDeque::new(),
            cap: MAX_SCOPED_COUNTERS,
        };
        for _ in 0..rules {
            counts.push_rule();
        }
        counts
    }

    /// Makes room for one more rule, at the end.
    pub(crate) fn push_rule(&mut self) {
        let index = self.global.len();
        self.global.push(Counter::new(rule_seed(self.seed, index)));
        self.fired.push(0);
    }

    /// The plan's seed.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// How often each rule fired, in rule order.
    pub(crate) fn fired(&self) -> Vec<u64> {
        self.fired.clone()
    }

    /// How many per-client entries are kept.
    #[cfg(test)]
    pub(crate) fn scoped_len(&self) -> usize {
        self.scoped.len()
    }

    /// Counts one match of `rule` (at `index`) by `session`; true if it
    /// fires.
    pub(crate) fn fire(&mut self, index: usize, rule: &FaultRule, session: &SessionInfo) -> bool {
        let key = match rule.scope_ref() {
            Scope::Peer => Key::Peer(session.peer().ip()),
            Scope::Session => Key::Session(session.peer(), session.local()),
            _ => {
                let fires = self.global[index].step(rule);
                self.fired[index] += u64::from(fires);
                return fires;
            }
        };
        let seed = rule_seed(self.seed, index);
        let fires = match self.scoped.get_mut(&(index, key)) {
            Some(counter) => counter.step(rule),
            None => {
                while self.scoped.len() >= self.cap {
                    let Some(old) = self.order.pop_front() else {
                        break;
                    };
                    self.scoped.remove(&old);
                }
                let mut counter = Counter::new(seed);
                let fires = counter.step(rule);
                self.scoped.insert((index, key), counter);
                self.order.push_back((index, key));
                fires
            }
        };
        self.fired[index] += u64::from(fires);
        fires
    }

    /// A new connection: its [`Scope::Session`] counters start afresh
    /// (the same addresses may have been used by an earlier connection).
    pub(crate) fn session_started(&mut self, session: &SessionInfo) {
        let key = Key::Session(session.peer(), session.local());
        for index in 0..self.global.len() {
            if let Some(counter) = self.scoped.get_mut(&(index, key)) {
                *counter = Counter::new(rule_seed(self.seed, index));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mtakit_proto::{ConnectionInfo, Session, SessionConfig};

    use super::*;
    use crate::fault::Stage;

    fn session(peer: &str) -> Session {
        Session::new(
            Arc::new(SessionConfig::new("localhost")),
            ConnectionInfo::new(peer.parse().unwrap(), ([127, 0, 0, 1], 25).into()),
        )
    }

    fn fires(counts: &mut Counts, rule: &FaultRule, s: &Session, n: usize) -> Vec<bool> {
        (0..n).map(|_| counts.fire(0, rule, s.info())).collect()
    }

    #[test]
    fn each_scope_counts_for_its_own_clients() {
        let a1 = session("192.0.2.1:1000");
        let a2 = session("192.0.2.1:1001");
        let b = session("192.0.2.2:1000");
        let rule = |scope| FaultRule::new(Stage::Rcpt).times(1).scope(scope);

        let global = rule(Scope::Global);
        let mut counts = Counts::new(1, 1);
        assert_eq!(fires(&mut counts, &global, &a1, 1), [true]);
        assert_eq!(fires(&mut counts, &global, &b, 1), [false], "used up");

        let peer = rule(Scope::Peer);
        let mut counts = Counts::new(1, 1);
        assert_eq!(fires(&mut counts, &peer, &a1, 2), [true, false]);
        assert_eq!(fires(&mut counts, &peer, &a2, 1), [false], "same address");
        assert_eq!(fires(&mut counts, &peer, &b, 1), [true], "its own count");

        let per_session = rule(Scope::Session);
        let mut counts = Counts::new(1, 1);
        assert_eq!(fires(&mut counts, &per_session, &a1, 2), [true, false]);
        assert_eq!(fires(&mut counts, &per_session, &a2, 1), [true]);
        // A new connection from the same port starts afresh.
        counts.session_started(a1.info());
        assert_eq!(fires(&mut counts, &per_session, &a1, 1), [true]);
        assert_eq!(counts.fired(), [3]);
    }

    #[test]
    fn each_client_draws_the_same_random_sequence() {
        let rule = FaultRule::new(Stage::Rcpt)
            .probability(0.5)
            .unwrap()
            .scope(Scope::Peer);
        let mut counts = Counts::new(1, 42);
        let a = fires(&mut counts, &rule, &session("192.0.2.1:1"), 32);
        // Another client in between does not shift the sequence.
        let b = fires(&mut counts, &rule, &session("192.0.2.2:1"), 32);
        assert_eq!(a, b);
        assert!(a.iter().any(|f| *f) && a.iter().any(|f| !*f), "{a:?}");
    }

    #[test]
    fn per_client_entries_are_capped() {
        let rule = FaultRule::new(Stage::Rcpt).times(1).scope(Scope::Session);
        let mut counts = Counts::new(1, 1);
        counts.cap = 8;
        let first = session("192.0.2.1:1");
        assert_eq!(fires(&mut counts, &rule, &first, 1), [true]);
        for port in 2..100 {
            let s = session(&format!("192.0.2.1:{port}"));
            counts.fire(0, &rule, s.info());
            assert!(counts.scoped_len() <= 8);
        }
        // The oldest entry was forgotten: its client counts afresh.
        assert_eq!(fires(&mut counts, &rule, &first, 1), [true]);
    }
}
