//! The parts of a fault rule: [`Stage`], [`Scope`], [`Action`] and the
//! [`FaultRule`] itself.

use std::time::Duration;

use mtakit_proto::Reply;

use super::error::{FaultError, parse_reply};
use super::pattern::Pattern;

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

    /// This stage's bit in a set of stages.
    pub(crate) fn bit(self) -> u32 {
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

/// Whose matches a rule counts: its `after` and `times` counters and its
/// `probability` draws are kept once, per client address, or per
/// connection.
///
/// With [`Peer`](Self::Peer) or [`Session`](Self::Session), one client
/// cannot use up or shift another test's faults, and each client sees the
/// same random sequence for a given seed. Their state is capped at
/// [`MAX_SCOPED_COUNTERS`](super::MAX_SCOPED_COUNTERS) entries; past it
/// the oldest entry is forgotten (its client starts counting afresh).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// One count for everyone (the default).
    #[default]
    Global,
    /// One count per client IP address.
    Peer,
    /// One count per connection.
    Session,
}

impl Scope {
    /// The lower-case name used in files and the HTTP API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Peer => "peer",
            Self::Session => "session",
        }
    }

    /// Looks a scope up by [`name`](Self::name).
    ///
    /// # Errors
    ///
    /// [`FaultError::Scope`] for an unknown name.
    pub fn from_name(name: &str) -> Result<Self, FaultError> {
        [Self::Global, Self::Peer, Self::Session]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| FaultError::Scope(name.to_owned()))
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

/// One fault rule. Build with [`FaultRule::new`] and the chained setters.
#[derive(Clone, Debug)]
pub struct FaultRule {
    stage: Stage,
    pattern: Option<Pattern>,
    rcpt: Option<Pattern>,
    scope: Scope,
    action: Action,
    after: u64,
    times: Option<u64>,
    probability: Option<f64>,
}

impl PartialEq for FaultRule {
    fn eq(&self, other: &Self) -> bool {
        self.stage == other.stage
            && self.pattern_text() == other.pattern_text()
            && self.rcpt_text() == other.rcpt_text()
            && self.scope == other.scope
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
            rcpt: None,
            scope: Scope::Global,
            action: Action::Delay(Duration::ZERO),
            after: 0,
            times: None,
            probability: None,
        }
    }

    /// Fires only when the argument matches this regular expression
    /// (see the [module docs](super) for the syntax and its limits).
    ///
    /// # Errors
    ///
    /// [`FaultError::Regex`] when it does not compile, or compiles to
    /// more than [`MAX_PATTERN_SIZE`](super::MAX_PATTERN_SIZE).
    pub fn matching(mut self, pattern: &str) -> Result<Self, FaultError> {
        self.pattern = Some(Pattern::new(pattern)?);
        Ok(self)
    }

    /// At the `message` stage: applies to the recipients whose
    /// forward-path (e.g. `<bob@example.com>`) matches this regular
    /// expression. In LMTP each recipient gets its own reply after the
    /// data, so the rule's action is that recipient's answer, and each
    /// matching recipient counts as one match for `after`, `times` and
    /// `probability`. In SMTP, with one reply per message, the rule
    /// applies when any recipient matches.
    ///
    /// # Errors
    ///
    /// [`FaultError::RcptStage`] on another stage, and the errors of
    /// [`matching`](Self::matching).
    pub fn rcpt_matching(mut self, pattern: &str) -> Result<Self, FaultError> {
        if self.stage != Stage::Message {
            return Err(FaultError::RcptStage);
        }
        self.rcpt = Some(Pattern::new(pattern)?);
        Ok(self)
    }

    /// Whose matches the rule counts, for `after`, `times` and
    /// `probability`; [`Scope::Global`] by default.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
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
        self.pattern.as_ref().map(Pattern::text)
    }

    /// The recipient regular expression, if any.
    pub fn rcpt_text(&self) -> Option<&str> {
        self.rcpt.as_ref().map(Pattern::text)
    }

    /// Whose matches the rule counts.
    pub fn scope_ref(&self) -> Scope {
        self.scope
    }

    /// Whether the argument matches the rule's pattern (true without one).
    pub(crate) fn matches(&self, argument: &[u8]) -> bool {
        self.pattern.as_ref().is_none_or(|p| p.is_match(argument))
    }

    /// The recipient pattern.
    pub(crate) fn rcpt_pattern(&self) -> Option<&Pattern> {
        self.rcpt.as_ref()
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
