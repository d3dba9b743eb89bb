//! Deterministic fault plans: make the server fail on purpose, in exactly
//! the way a test needs, to exercise a client's error handling.
//!
//! A [`FaultRule`] names a [`Stage`], an optional regular expression on the
//! command's argument, and an [`Action`]: a reply (`550 5.1.1 No such
//! user`), a delay, a disconnect, a disconnect right after the normal reply
//! (for DATA: after the `354`), or a slow drip of the reply bytes. `after`
//! skips the first matches, `times` limits how often the rule fires, and
//! `probability` makes it random, with a seed for repeatable runs.
//!
//! A [`FaultPlan`] is a [`Policy`]: use it alone, or put it in front of
//! your own policy with [`FaultPlan::wrap`]. Its rules can be replaced while
//! the server runs.
//!
//! ```
//! use mtakit::fault::{FaultPlan, FaultRule, Stage};
//!
//! // The first RCPT to bob fails temporarily twice, then succeeds.
//! let plan = FaultPlan::new().with_rule(
//!     FaultRule::new(Stage::Rcpt)
//!         .matching("^<bob@")?
//!         .reply("451 4.3.0 Try again later")?
//!         .times(2),
//! );
//! # let _ = plan;
//! # Ok::<(), mtakit::fault::FaultError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mtakit_proto::{
    Domain, Extensions, ForwardPath, MailParams, Mechanism, RcptParams, Reply, ReplyCode,
    ReversePath, SessionInfo, Verdict,
};

use crate::message::Message;
use crate::policy::{AcceptAll, Policy};

/// Where a rule applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// A new connection; the argument is the client's IP address.
    Connect,
    /// HELO, EHLO or LHLO; the argument is the name.
    Helo,
    /// AUTH; the argument is the mechanism.
    Auth,
    /// MAIL FROM; the argument is the reverse-path, e.g. `<a@example.com>`.
    Mail,
    /// RCPT TO; the argument is the forward-path.
    Rcpt,
    /// DATA (or the first BDAT); the argument is empty.
    Data,
    /// The complete message; the argument is the message text.
    Message,
    /// STARTTLS; the argument is empty.
    StartTls,
}

impl Stage {
    /// The lower-case name used in files and the HTTP API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Helo => "helo",
            Self::Auth => "auth",
            Self::Mail => "mail",
            Self::Rcpt => "rcpt",
            Self::Data => "data",
            Self::Message => "message",
            Self::StartTls => "starttls",
        }
    }

    /// This stage's bit in [`Shared::stages`].
    fn bit(self) -> u32 {
        1 << self as u32
    }

    /// Looks a stage up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Connect,
            Self::Helo,
            Self::Auth,
            Self::Mail,
            Self::Rcpt,
            Self::Data,
            Self::Message,
            Self::StartTls,
        ]
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// What a rule does when it fires.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Answer with this reply: 2xx/3xx accepts with it, 4xx/5xx rejects.
    Reply(Reply),
    /// Wait this long, then go on as if the rule had not fired.
    Delay(Duration),
    /// Close the connection at once, without a reply.
    Disconnect,
    /// Send the normal reply, then close (for DATA: the `354`, then close).
    DisconnectAfterReply,
    /// Send the reply one octet at a time, this long apart.
    Drip(Duration),
}

/// A rule could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultError {
    /// The regular expression does not compile.
    Regex(String),
    /// The reply is not `CODE [x.y.z] text` with a valid code.
    Reply(String),
    /// An unknown stage name.
    Stage(String),
    /// A probability outside 0..=1.
    Probability,
    /// A rule needs exactly one action.
    Action,
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Regex(e) => write!(f, "bad regular expression: {e}"),
            Self::Reply(e) => write!(f, "bad reply: {e}"),
            Self::Stage(s) => write!(
                f,
                "unknown stage {s:?} (connect, helo, auth, mail, rcpt, data, message, starttls)"
            ),
            Self::Probability => f.write_str("probability must be between 0 and 1"),
            Self::Action => {
                f.write_str("a rule needs exactly one of reply, delay_ms, disconnect or drip_ms")
            }
        }
    }
}

impl std::error::Error for FaultError {}

/// Parses `"550 5.1.1 No such user"` (the enhanced code is optional; a
/// `\n` in the text makes a multi-line reply).
///
/// # Errors
///
/// [`FaultError::Reply`] when it is not a valid reply.
pub fn parse_reply(text: &str) -> Result<Reply, FaultError> {
    let bad = |why: &str| FaultError::Reply(format!("{why}: {text:?}"));
    let (code, rest) = text.split_once(' ').unwrap_or((text, ""));
    let code: u16 = code.parse().map_err(|_| bad("no 3-digit code"))?;
    if ReplyCode::new(code).is_none() {
        return Err(bad("code outside 200..=599"));
    }
    let (enhanced, text) = match rest.split_once(' ') {
        Some((first, tail)) => match mtakit_proto::EnhancedCode::parse(first) {
            Some(e) => (Some(e), tail),
            None => (None, rest),
        },
        None => match mtakit_proto::EnhancedCode::parse(rest) {
            Some(e) => (Some(e), ""),
            None => (None, rest),
        },
    };
    Reply::multiline(code, enhanced, text.split('\n')).map_err(|e| bad(&e.to_string()))
}

/// One fault rule. Build with [`FaultRule::new`] and the chained setters.
#[derive(Clone, Debug)]
pub struct FaultRule {
    stage: Stage,
    pattern: Option<(String, regex_lite::Regex)>,
    action: Action,
    after: u64,
    times: Option<u64>,
    probability: Option<f64>,
}

impl PartialEq for FaultRule {
    fn eq(&self, other: &Self) -> bool {
        self.stage == other.stage
            && self.pattern_text() == other.pattern_text()
            && self.action == other.action
            && self.after == other.after
            && self.times == other.times
            && self.probability == other.probability
    }
}

impl FaultRule {
    /// A rule for `stage` that matches every argument and, until an action
    /// is set, delays by nothing.
    pub fn new(stage: Stage) -> Self {
        Self {
            stage,
            pattern: None,
            action: Action::Delay(Duration::ZERO),
            after: 0,
            times: None,
            probability: None,
        }
    }

    /// Fires only when the argument matches this regular expression.
    ///
    /// # Errors
    ///
    /// [`FaultError::Regex`] when it does not compile.
    pub fn matching(mut self, pattern: &str) -> Result<Self, FaultError> {
        let regex =
            regex_lite::Regex::new(pattern).map_err(|e| FaultError::Regex(e.to_string()))?;
        self.pattern = Some((pattern.to_owned(), regex));
        Ok(self)
    }

    /// Answers with this reply, e.g. `"550 5.1.1 No such user"`.
    ///
    /// # Errors
    ///
    /// [`FaultError::Reply`] when it is not a valid reply.
    pub fn reply(mut self, reply: &str) -> Result<Self, FaultError> {
        self.action = Action::Reply(parse_reply(reply)?);
        Ok(self)
    }

    /// Sets the action.
    pub fn action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Waits this long before the reply.
    pub fn delay(self, delay: Duration) -> Self {
        self.action(Action::Delay(delay))
    }

    /// Closes the connection without a reply.
    pub fn disconnect(self) -> Self {
        self.action(Action::Disconnect)
    }

    /// Skips the first `n` matches.
    pub fn after(mut self, n: u64) -> Self {
        self.after = n;
        self
    }

    /// Fires at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Fires with this probability (0 to 1) on each eligible match.
    ///
    /// # Errors
    ///
    /// [`FaultError::Probability`] outside 0..=1.
    pub fn probability(mut self, p: f64) -> Result<Self, FaultError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(FaultError::Probability);
        }
        self.probability = Some(p);
        Ok(self)
    }

    /// The stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The regular expression, if any.
    pub fn pattern_text(&self) -> Option<&str> {
        self.pattern.as_ref().map(|(t, _)| t.as_str())
    }

    /// The action.
    pub fn action_ref(&self) -> &Action {
        &self.action
    }

    /// Matches skipped before the rule fires.
    pub fn skipped(&self) -> u64 {
        self.after
    }

    /// How often the rule may fire.
    pub fn limit(&self) -> Option<u64> {
        self.times
    }

    /// The probability, if random.
    pub fn chance(&self) -> Option<f64> {
        self.probability
    }
}

#[derive(Debug)]
struct RuleState {
    rule: FaultRule,
    matched: u64,
    fired: u64,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<RuleState>,
    rng: u64,
}

impl Inner {
    /// The [`Stage::bit`]s of the stages that have rules.
    fn stages(&self) -> u32 {
        self.rules
            .iter()
            .fold(0, |bits, s| bits | s.rule.stage.bit())
    }
}

/// A set of fault rules; see the [module docs](self). Cloning shares the
/// rules and their counters.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    /// The stages that have rules, so that a stage without any costs a
    /// load, not a lock and the formatting of its argument.
    stages: AtomicU32,
    /// Drip paces for the next reply to each peer.
    drip: Mutex<HashMap<SocketAddr, Duration>>,
    /// True while `drip` may be non-empty: every flush asks for a pace.
    dripping: AtomicBool,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::new()
    }
}

impl FaultPlan {
    /// A plan with no rules (accepts everything), seeded with 1.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    rules: Vec::new(),
                    rng: 0x2545_f491_4f6c_dd1d,
                }),
                stages: AtomicU32::new(0),
                drip: Mutex::default(),
                dripping: AtomicBool::new(false),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the rules under the lock, and republishes their stages.
    fn update(&self, change: impl FnOnce(&mut Vec<RuleState>)) {
        let mut inner = self.lock();
        change(&mut inner.rules);
        self.shared.stages.store(inner.stages(), Ordering::Release);
    }

    fn drips(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Duration>> {
        self.shared
            .drip
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a rule.
    pub fn with_rule(self, rule: FaultRule) -> Self {
        self.add(rule);
        self
    }

    /// Seeds the random source of `probability` rules, for repeatable runs.
    pub fn with_seed(self, seed: u64) -> Self {
        self.lock().rng = seed.max(1);
        self
    }

    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) {
        self.update(|rules| {
            rules.push(RuleState {
                rule,
                matched: 0,
                fired: 0,
            });
        });
    }

    /// Replaces every rule, and resets the counters.
    pub fn set_rules(&self, rules: Vec<FaultRule>) {
        self.update(|current| {
            *current = rules
                .into_iter()
                .map(|rule| RuleState {
                    rule,
                    matched: 0,
                    fired: 0,
                })
                .collect();
        });
    }

    /// The rules, in order.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().rules.iter().map(|s| s.rule.clone()).collect()
    }

    /// How many times each rule fired so far, in rule order.
    pub fn fired(&self) -> Vec<u64> {
        self.lock().rules.iter().map(|s| s.fired).collect()
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.update(Vec::clear);
    }

    /// Puts this plan in front of `policy`: a firing rule decides, and
    /// otherwise `policy` does.
    pub fn wrap<P: Policy>(self, policy: P) -> Faulted<P> {
        Faulted { plan: self, policy }
    }

    /// The first rule for `stage` that fires for the argument, counting
    /// matches. The argument is only made when `stage` has rules.
    fn check<A: AsRef<str>>(&self, stage: Stage, argument: impl FnOnce() -> A) -> Option<Action> {
        if self.shared.stages.load(Ordering::Acquire) & stage.bit() == 0 {
            return None;
        }
        let argument = argument();
        let argument = argument.as_ref();
        let mut inner = self.lock();
        let Inner { rules, rng } = &mut *inner;
        for state in rules.iter_mut() {
            let rule = &state.rule;
            if rule.stage != stage
                || rule
                    .pattern
                    .as_ref()
                    .is_some_and(|(_, re)| !re.is_match(argument))
            {
                continue;
            }
            state.matched += 1;
            if state.matched <= rule.after || rule.times.is_some_and(|t| state.fired >= t) {
                continue;
            }
            if let Some(p) = rule.probability {
                *rng ^= *rng << 13;
                *rng ^= *rng >> 7;
                *rng ^= *rng << 17;
                if (*rng >> 11) as f64 / (1u64 << 53) as f64 >= p {
                    continue;
                }
            }
            state.fired += 1;
            return Some(rule.action.clone());
        }
        None
    }

    /// Runs the rules for one stage: `Some(verdict)` when a rule decides.
    async fn apply<A: AsRef<str>>(
        &self,
        stage: Stage,
        argument: impl FnOnce() -> A,
        session: &SessionInfo,
    ) -> Option<Verdict> {
        match self.check(stage, argument)? {
            Action::Reply(reply) => Some(if reply.code().is_positive() {
                Verdict::accept_with(reply)
            } else {
                Verdict::reject_with(reply)
            }),
            Action::Delay(delay) => {
                tokio::time::sleep(delay).await;
                None
            }
            Action::Disconnect => Some(Verdict::disconnect()),
            Action::DisconnectAfterReply => Some(Verdict::accept().and_close()),
            Action::Drip(pace) => {
                self.drips().insert(session.peer(), pace);
                self.shared.dripping.store(true, Ordering::Release);
                None
            }
        }
    }

    fn take_drip(&self, session: &SessionInfo) -> Option<Duration> {
        if !self.shared.dripping.load(Ordering::Acquire) {
            return None;
        }
        let mut drips = self.drips();
        let pace = drips.remove(&session.peer());
        self.shared
            .dripping
            .store(!drips.is_empty(), Ordering::Release);
        pace
    }
}

/// A [`FaultPlan`] in front of a policy; from [`FaultPlan::wrap`].
#[derive(Clone, Debug)]
pub struct Faulted<P> {
    plan: FaultPlan,
    policy: P,
}

impl<P> Faulted<P> {
    /// The plan, to change its rules while the server runs.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }
}

async fn or_else<F: Future<Output = Verdict>>(fault: Option<Verdict>, then: F) -> Verdict {
    match fault {
        Some(verdict) => verdict,
        None => then.await,
    }
}

impl<P: Policy> Policy for Faulted<P> {
    async fn accept_connection(&self, session: &SessionInfo) -> Verdict {
        let ip = || session.peer().ip().to_string();
        let fault = self.plan.apply(Stage::Connect, ip, session).await;
        or_else(fault, self.policy.accept_connection(session)).await
    }

    fn max_message_size(&self, session: &SessionInfo) -> Option<u64> {
        self.policy.max_message_size(session)
    }

    async fn accept_helo(&self, session: &SessionInfo, name: &Domain, extended: bool) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Helo, || name.to_string(), session)
            .await;
        or_else(fault, self.policy.accept_helo(session, name, extended)).await
    }

    fn ehlo_extensions(&self, session: &SessionInfo, name: &Domain, extensions: &mut Extensions) {
        self.policy.ehlo_extensions(session, name, extensions);
    }

    async fn accept_starttls(&self, session: &SessionInfo) -> Verdict {
        let fault = self.plan.apply(Stage::StartTls, || "", session).await;
        or_else(fault, self.policy.accept_starttls(session)).await
    }

    async fn accept_auth(&self, session: &SessionInfo, mechanism: Mechanism) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Auth, || mechanism.name(), session)
            .await;
        or_else(fault, self.policy.accept_auth(session, mechanism)).await
    }

    async fn accept_mail_from(
        &self,
        session: &SessionInfo,
        reverse_path: &ReversePath,
        params: &MailParams,
    ) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Mail, || reverse_path.to_string(), session)
            .await;
        or_else(
            fault,
            self.policy.accept_mail_from(session, reverse_path, params),
        )
        .await
    }

    async fn accept_rcpt_to(
        &self,
        session: &SessionInfo,
        forward_path: &ForwardPath,
        params: &RcptParams,
    ) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Rcpt, || forward_path.to_string(), session)
            .await;
        or_else(
            fault,
            self.policy.accept_rcpt_to(session, forward_path, params),
        )
        .await
    }

    async fn accept_data(&self, session: &SessionInfo) -> Verdict {
        let fault = self.plan.apply(Stage::Data, || "", session).await;
        or_else(fault, self.policy.accept_data(session)).await
    }

    async fn accept_message(&self, session: &SessionInfo, message: &Message) -> Verdict {
        let fault = self
            .plan
            .apply(Stage::Message, || message.text(), session)
            .await;
        or_else(fault, self.policy.accept_message(session, message)).await
    }

    async fn accept_vrfy(&self, session: &SessionInfo, argument: &str) -> Verdict {
        self.policy.accept_vrfy(session, argument).await
    }

    fn reply_pace(&self, session: &SessionInfo) -> Option<Duration> {
        self.plan
            .take_drip(session)
            .or_else(|| self.policy.reply_pace(session))
    }
}

impl FaultPlan {
    fn as_policy(&self) -> Faulted<AcceptAll> {
        self.clone().wrap(AcceptAll)
    }
}

/// A plan on its own accepts whatever no rule refuses.
impl Policy for FaultPlan {
    async fn accept_connection(&self, session: &SessionInfo) -> Verdict {
        self.as_policy().accept_connection(session).await
    }

    async fn accept_helo(&self, session: &SessionInfo, name: &Domain, extended: bool) -> Verdict {
        self.as_policy().accept_helo(session, name, extended).await
    }

    async fn accept_starttls(&self, session: &SessionInfo) -> Verdict {
        self.as_policy().accept_starttls(session).await
    }

    async fn accept_auth(&self, session: &SessionInfo, mechanism: Mechanism) -> Verdict {
        self.as_policy().accept_auth(session, mechanism).await
    }

    async fn accept_mail_from(
        &self,
        session: &SessionInfo,
        reverse_path: &ReversePath,
        params: &MailParams,
    ) -> Verdict {
        self.as_policy()
            .accept_mail_from(session, reverse_path, params)
            .await
    }

    async fn accept_rcpt_to(
        &self,
        session: &SessionInfo,
        forward_path: &ForwardPath,
        params: &RcptParams,
    ) -> Verdict {
        self.as_policy()
            .accept_rcpt_to(session, forward_path, params)
            .await
    }

    async fn accept_data(&self, session: &SessionInfo) -> Verdict {
        self.as_policy().accept_data(session).await
    }

    async fn accept_message(&self, session: &SessionInfo, message: &Message) -> Verdict {
        self.as_policy().accept_message(session, message).await
    }

    fn reply_pace(&self, session: &SessionInfo) -> Option<Duration> {
        self.take_drip(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> &'static str {
        panic!("the argument of a stage without rules was made")
    }

    #[test]
    fn a_stage_without_rules_does_not_make_its_argument() {
        let plan = FaultPlan::new().with_rule(FaultRule::new(Stage::Rcpt).disconnect());
        assert_eq!(plan.check(Stage::Mail, never), None);
        assert_eq!(plan.check(Stage::Message, never), None);
        assert_eq!(
            plan.check(Stage::Rcpt, || "<b@example.com>"),
            Some(Action::Disconnect)
        );
    }

    #[test]
    fn the_stage_mask_follows_every_change_of_rules() {
        let plan = FaultPlan::new();
        assert_eq!(plan.check(Stage::Mail, never), None);
        plan.add(FaultRule::new(Stage::Mail).disconnect());
        assert_eq!(plan.check(Stage::Mail, || ""), Some(Action::Disconnect));
        plan.set_rules(vec![FaultRule::new(Stage::Data).disconnect()]);
        assert_eq!(plan.check(Stage::Mail, never), None);
        assert_eq!(plan.check(Stage::Data, || ""), Some(Action::Disconnect));
        plan.clear();
        assert_eq!(plan.check(Stage::Data, never), None);
    }

    #[test]
    fn a_drip_is_taken_once_for_its_peer_only() {
        let plan = FaultPlan::new();
        let peer: SocketAddr = ([127, 0, 0, 1], 4000).into();
        let other: SocketAddr = ([127, 0, 0, 1], 4001).into();
        let info = |peer| {
            mtakit_proto::Session::new(
                Arc::new(mtakit_proto::SessionConfig::new("localhost")),
                mtakit_proto::ConnectionInfo::new(peer, ([127, 0, 0, 1], 25).into()),
            )
        };
        let (me, them) = (info(peer), info(other));
        assert_eq!(plan.take_drip(me.info()), None);
        plan.drips().insert(peer, Duration::from_millis(7));
        plan.shared.dripping.store(true, Ordering::Release);
        assert_eq!(plan.take_drip(them.info()), None);
        assert_eq!(plan.take_drip(me.info()), Some(Duration::from_millis(7)));
        assert_eq!(plan.take_drip(me.info()), None);
        assert!(!plan.shared.dripping.load(Ordering::Acquire));
    }
}
