//! Deterministic fault plans: make the server fail on purpose, in exactly
//! the way a test needs, to exercise a client's error handling.
//!
//! A [`FaultRule`] names a [`Stage`], an optional regular expression on the
//! command's argument, and an [`Action`]: a reply (`550 5.1.1 No such
//! user`), a delay, a disconnect, a disconnect right after the normal reply
//! (for DATA: after the `354`), or a slow drip of the reply bytes. `after`
//! skips the first matches, `times` limits how often the rule fires, and
//! `probability` makes it random, with a seed for repeatable runs. A
//! rule's [`Scope`] says whose matches it counts: everyone's (the
//! default), each client address's, or each connection's.
//!
//! A [`FaultPlan`] is a [`MakePolicy`](crate::MakePolicy): give it to
//! [`Builder::policy`](crate::Builder::policy) alone, or put it in front of
//! your own policy with [`FaultPlan::wrap`]. Each connection gets its own
//! [`FaultedConnection`] policy and [`DripIo`] stream, which share the
//! state of a drip and nothing else; the rules and their counters are the
//! plan's, and can be replaced while the server runs.
//!
//! ```
//! use mtakit::fault::{FaultPlan, FaultRule, Scope, Stage};
//!
//! // The first RCPT to bob fails temporarily twice, then succeeds.
//! let plan = FaultPlan::new().with_rule(
//!     FaultRule::new(Stage::Rcpt)
//!         .matching("^<bob@")?
//!         .reply("451 4.3.0 Try again later")?
//!         .times(2),
//! );
//! // In LMTP, carol's copy of every message is refused after the data,
//! // and the other recipients get theirs; twice for each client address.
//! plan.add(
//!     FaultRule::new(Stage::Message)
//!         .rcpt_matching("^<carol@")?
//!         .reply("452 4.2.2 Mailbox full")?
//!         .times(2)
//!         .scope(Scope::Peer),
//! );
//! # Ok::<(), mtakit::fault::FaultError>(())
//! ```
//!
//! # As data
//!
//! With the `serde` feature, [`FaultRule`] implements `Serialize` and
//! `Deserialize` as a flat table of keys, the form that
//! `mtakit serve --faults FILE` and its `/api/faults` read:
//!
//! ```toml
//! [[rules]]
//! stage = "rcpt"            # connect, helo, auth, mail, rcpt, data, message, starttls
//! match = "^<bob@"          # optional: a regular expression on the argument
//! reply = "550 5.1.1 No such user"
//! after = 1                 # optional: skip the first matches
//! times = 2                 # optional: fire at most this often
//! probability = 0.5         # optional: fire at random
//! scope = "peer"            # optional: global (the default), peer or session
//! ```
//!
//! A rule has exactly one action: `reply`, `delay_ms`, `disconnect = true`,
//! `disconnect_after_reply = true` or `drip_ms` (pauses at most
//! [`MAX_PAUSE_MS`]). `rcpt`, a pattern on the recipients, is for the
//! `message` stage only. Unknown keys are refused, and a rule that cannot
//! be built fails with its [`FaultError`]'s text. [`Stage`] and [`Scope`]
//! are their lower-case names.
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use mtakit::fault::FaultRule;
//!
//! let rule: FaultRule = serde_json::from_str(
//!     r#"{"stage": "rcpt", "match": "^<bob@", "reply": "451 4.3.0 Try again later", "times": 2}"#,
//! )?;
//! assert_eq!(rule.limit(), Some(2));
//! # }
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # Cost
//!
//! Patterns are compiled by the `regex` crate, whose matching time is
//! linear in the input, and are refused when they compile to more than
//! [`MAX_PATTERN_SIZE`] or nest deeper than [`MAX_PATTERN_NESTING`]. The
//! `message` stage matches the whole content: that runs on tokio's
//! blocking pool, at most [`MAX_CONCURRENT_MESSAGE_MATCHES`] at a time,
//! without any lock held, so a costly rule never stalls other sessions.
//! Per-client state (the counters of [`Scope::Peer`] and
//! [`Scope::Session`] rules) is capped at [`MAX_SCOPED_COUNTERS`].

mod counts;
mod drip;
mod error;
mod pattern;
mod plan;
mod policy;
mod rule;
#[cfg(test)]
mod tests;
#[cfg(feature = "serde")]
mod wire;

pub use counts::MAX_SCOPED_COUNTERS;
pub use drip::DripIo;
pub use error::FaultError;
pub use pattern::{DFA_CACHE_SIZE, MAX_PATTERN_NESTING, MAX_PATTERN_SIZE};
pub use plan::{FaultPlan, MAX_CONCURRENT_MESSAGE_MATCHES};
pub use policy::{Faulted, FaultedConnection};
pub use rule::{Action, FaultRule, Scope, Stage};
/// The longest `delay_ms` or `drip_ms` of a deserialized rule (feature
/// `serde`): one hour, in milliseconds. A longer pause is refused with
/// [`FaultError::Pause`].
pub const MAX_PAUSE_MS: u64 = 3_600_000;
