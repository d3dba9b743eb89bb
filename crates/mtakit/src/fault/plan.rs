//! [`FaultPlan`]: the shared, replaceable list of rules, and how a stage's
//! argument is checked against it.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mtakit_proto::SessionInfo;
use tokio::sync::Semaphore;

use super::counts::Counts;
use super::rule::{Action, FaultRule, Scope, Stage};
use crate::message::Message;

/// How many `message`-stage matches run at once, on tokio's blocking
/// pool: 2. Each holds a copy of the message while it runs; the others
/// wait (within the data termination timeout, past which the message gets
/// `451`).
pub const MAX_CONCURRENT_MESSAGE_MATCHES: usize = 2;

/// The seed of a plan that was never given one.
const DEFAULT_SEED: u64 = 0x2545_f491_4f6c_dd1d;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One list of rules with its counters. A check works on the list that
/// was current when it started; a change of rules makes a new one.
#[derive(Debug)]
struct Rules {
    rules: Vec<FaultRule>,
    /// Held only to count, never while a pattern is matched.
    counts: Mutex<Counts>,
}

/// A set of fault rules; see the [module docs](super). Cloning shares the
/// rules and their counters.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    current: Mutex<Arc<Rules>>,
    /// The stages that have rules, so that a stage without any costs a
    /// load, not a lock and the formatting of its argument.
    stages: AtomicU32,
    /// Whether a rule has [`Scope::Session`].
    per_session: AtomicBool,
    /// Permits for `message`-stage matches.
    matching: Arc<Semaphore>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::new()
    }
}

impl FaultPlan {
    /// A plan with no rules (accepts everything).
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                current: Mutex::new(Arc::new(Rules {
                    rules: Vec::new(),
                    counts: Mutex::new(Counts::new(0, DEFAULT_SEED)),
                })),
                stages: AtomicU32::new(0),
                per_session: AtomicBool::new(false),
                matching: Arc::new(Semaphore::new(MAX_CONCURRENT_MESSAGE_MATCHES)),
            }),
        }
    }

    /// The current rules.
    fn snapshot(&self) -> Arc<Rules> {
        lock(&self.shared.current).clone()
    }

    /// Makes a new rule list from the current one, and republishes which
    /// stages and scopes have rules.
    fn update(&self, change: impl FnOnce(&mut Vec<FaultRule>, &mut Counts)) {
        let mut current = lock(&self.shared.current);
        let mut rules = current.rules.clone();
        let mut counts = lock(&current.counts).clone();
        change(&mut rules, &mut counts);
        let stages = rules.iter().fold(0, |bits, r| bits | r.stage().bit());
        let per_session = rules.iter().any(|r| r.scope_ref() == Scope::Session);
        *current = Arc::new(Rules {
            rules,
            counts: Mutex::new(counts),
        });
        self.shared.stages.store(stages, Ordering::Release);
        self.shared
            .per_session
            .store(per_session, Ordering::Release);
    }

    /// Adds a rule.
    pub fn with_rule(self, rule: FaultRule) -> Self {
        self.add(rule);
        self
    }

    /// Seeds the random source of `probability` rules, for repeatable
    /// runs, and resets the counters. Each rule draws its own sequence
    /// from the seed, and with [`Scope::Peer`] or [`Scope::Session`] each
    /// client starts that sequence afresh.
    pub fn with_seed(self, seed: u64) -> Self {
        self.update(|rules, counts| *counts = Counts::new(rules.len(), seed.max(1)));
        self
    }

    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) {
        self.update(|rules, counts| {
            rules.push(rule);
            counts.push_rule();
        });
    }

    /// Replaces every rule, and resets the counters.
    pub fn set_rules(&self, rules: Vec<FaultRule>) {
        self.update(|current, counts| {
            *counts = Counts::new(rules.len(), counts.seed());
            *current = rules;
        });
    }

    /// The rules, in order.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.snapshot().rules.clone()
    }

    /// How many times each rule fired so far (for all clients), in rule
    /// order.
    pub fn fired(&self) -> Vec<u64> {
        lock(&self.snapshot().counts).fired()
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.set_rules(Vec::new());
    }

    /// Whether `stage` has rules.
    fn has(&self, stage: Stage) -> bool {
        self.shared.stages.load(Ordering::Acquire) & stage.bit() != 0
    }

    /// A new connection: its per-session counters start afresh.
    pub(crate) fn session_started(&self, session: &SessionInfo) {
        if self.shared.per_session.load(Ordering::Acquire) {
            lock(&self.snapshot().counts).session_started(session);
        }
    }

    /// The first rule for `stage` that fires for the argument, counting
    /// matches. The argument is only made when `stage` has rules.
    pub(crate) fn check<A: AsRef<str>>(
        &self,
        stage: Stage,
        argument: impl FnOnce() -> A,
        session: &SessionInfo,
    ) -> Option<Action> {
        if !self.has(stage) {
            return None;
        }
        let argument = argument();
        let argument = argument.as_ref().as_bytes();
        let current = self.snapshot();
        for (index, rule) in current.rules.iter().enumerate() {
            if rule.stage() != stage || !rule.matches(argument) {
                continue;
            }
            if lock(&current.counts).fire(index, rule, session) {
                return Some(rule.action_ref().clone());
            }
        }
        None
    }

    /// The `message`-stage action for each recipient of `message` (with
    /// `per_recipient`, for LMTP) or for the whole message (one entry):
    /// `None` where no rule fires. The content is matched on the blocking
    /// pool; see [`MAX_CONCURRENT_MESSAGE_MATCHES`].
    pub(crate) async fn check_message(
        &self,
        message: &Message,
        session: &SessionInfo,
        per_recipient: bool,
    ) -> Vec<Option<Action>> {
        let units = if per_recipient {
            message.recipients().len()
        } else {
            1
        };
        let mut out: Vec<Option<Action>> = vec![None; units];
        if !self.has(Stage::Message) {
            return out;
        }
        let current = self.snapshot();
        let indices: Vec<usize> = (current.rules.iter().enumerate())
            .filter(|(_, r)| r.stage() == Stage::Message)
            .map(|(i, _)| i)
            .collect();
        let content = if indices
            .iter()
            .any(|&i| current.rules[i].pattern_text().is_some())
        {
            self.match_content(&current, &indices, message.data()).await
        } else {
            vec![true; indices.len()]
        };
        let rcpts: Vec<String> = message.forward_paths().map(ToString::to_string).collect();
        let mut counts = lock(&current.counts);
        for (&index, _) in indices.iter().zip(&content).filter(|(_, m)| **m) {
            let rule = &current.rules[index];
            let action = rule.action_ref();
            match rule.rcpt_pattern() {
                None => {
                    if out.iter().any(Option::is_none) && counts.fire(index, rule, session) {
                        for slot in out.iter_mut().filter(|s| s.is_none()) {
                            *slot = Some(action.clone());
                        }
                    }
                }
                Some(pattern) if per_recipient => {
                    for (slot, rcpt) in out.iter_mut().zip(&rcpts) {
                        if slot.is_none()
                            && pattern.is_match(rcpt.as_bytes())
                            && counts.fire(index, rule, session)
                        {
                            *slot = Some(action.clone());
                        }
                    }
                }
                Some(pattern) => {
                    if out[0].is_none()
                        && rcpts.iter().any(|r| pattern.is_match(r.as_bytes()))
                        && counts.fire(index, rule, session)
                    {
                        out[0] = Some(action.clone());
                    }
                }
            }
            if out.iter().all(Option::is_some) {
                break;
            }
        }
        out
    }

    /// Whether each rule at `indices` matches `data`, worked out on the
    /// blocking pool (with a copy of `data`), so that the I/O thread goes
    /// on serving other sessions.
    async fn match_content(
        &self,
        current: &Arc<Rules>,
        indices: &[usize],
        data: &[u8],
    ) -> Vec<bool> {
        let Ok(permit) = self.shared.matching.clone().acquire_owned().await else {
            return vec![false; indices.len()];
        };
        let (current, wanted, data) = (current.clone(), indices.to_vec(), data.to_vec());
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            #[cfg(test)]
            tests::record_match_thread();
            wanted
                .iter()
                .map(|&i| current.rules[i].matches(&data))
                .collect::<Vec<bool>>()
        });
        task.await.unwrap_or_else(|e| {
            tracing::error!("matching fault rules failed: {e}");
            vec![false; indices.len()]
        })
    }

    /// Holds every `message`-stage permit, so that matches wait.
    #[cfg(test)]
    pub(crate) async fn hold_matching(&self) -> tokio::sync::OwnedSemaphorePermit {
        let permits = u32::try_from(MAX_CONCURRENT_MESSAGE_MATCHES).expect("small");
        self.shared
            .matching
            .clone()
            .acquire_many_owned(permits)
            .await
            .expect("never closed")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;
    use std::thread::ThreadId;

    use super::*;

    static MATCH_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

    /// Notes which thread matched message content last.
    pub(crate) fn record_match_thread() {
        *lock(&MATCH_THREAD) = Some(std::thread::current().id());
    }

    /// The thread that matched message content last.
    pub(crate) fn match_thread() -> Option<ThreadId> {
        *lock(&MATCH_THREAD)
    }

    fn info(peer: &str) -> mtakit_proto::Session {
        mtakit_proto::Session::new(
            Arc::new(mtakit_proto::SessionConfig::new("localhost")),
            mtakit_proto::ConnectionInfo::new(peer.parse().unwrap(), ([127, 0, 0, 1], 25).into()),
        )
    }

    fn never() -> &'static str {
        panic!("the argument of a stage without rules was made")
    }

    #[test]
    fn a_stage_without_rules_does_not_make_its_argument() {
        let s = info("127.0.0.1:4000");
        let plan = FaultPlan::new().with_rule(FaultRule::new(Stage::Rcpt).disconnect());
        assert_eq!(plan.check(Stage::Mail, never, s.info()), None);
        assert_eq!(plan.check(Stage::Message, never, s.info()), None);
        assert_eq!(
            plan.check(Stage::Rcpt, || "<b@example.com>", s.info()),
            Some(Action::Disconnect)
        );
    }

    #[test]
    fn the_stage_mask_follows_every_change_of_rules() {
        let s = info("127.0.0.1:4000");
        let plan = FaultPlan::new();
        assert_eq!(plan.check(Stage::Mail, never, s.info()), None);
        plan.add(FaultRule::new(Stage::Mail).disconnect());
        assert_eq!(
            plan.check(Stage::Mail, || "", s.info()),
            Some(Action::Disconnect)
        );
        plan.set_rules(vec![FaultRule::new(Stage::Data).disconnect()]);
        assert_eq!(plan.check(Stage::Mail, never, s.info()), None);
        assert_eq!(
            plan.check(Stage::Data, || "", s.info()),
            Some(Action::Disconnect)
        );
        plan.clear();
        assert_eq!(plan.check(Stage::Data, never, s.info()), None);
    }

    #[test]
    fn adding_a_rule_keeps_the_counts_of_the_others() {
        let s = info("127.0.0.1:4000");
        let plan = FaultPlan::new().with_rule(FaultRule::new(Stage::Mail).disconnect().times(1));
        assert_eq!(
            plan.check(Stage::Mail, || "", s.info()),
            Some(Action::Disconnect)
        );
        plan.add(FaultRule::new(Stage::Rcpt).disconnect());
        assert_eq!(
            plan.check(Stage::Mail, || "", s.info()),
            None,
            "still used up"
        );
        assert_eq!(plan.fired(), [1, 0]);
    }
}
