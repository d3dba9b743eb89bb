//! [`PolicyError`]: a verdict the session could not use as given, reported
//! as an [`Event::PolicyError`](crate::Event::PolicyError).

use std::fmt;

use crate::reply::Reply;

/// The stage a verdict answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StageKind {
    /// [`Pending::Connect`](crate::Pending::Connect).
    Connect,
    /// [`Pending::Helo`](crate::Pending::Helo) for HELO.
    Helo,
    /// [`Pending::Helo`](crate::Pending::Helo) for EHLO or LHLO.
    Ehlo,
    /// [`Pending::StartTls`](crate::Pending::StartTls).
    StartTls,
    /// [`Pending::Auth`](crate::Pending::Auth).
    Auth,
    /// [`Pending::Authenticate`](crate::Pending::Authenticate).
    Authenticate,
    /// [`Pending::MailFrom`](crate::Pending::MailFrom).
    MailFrom,
    /// [`Pending::RcptTo`](crate::Pending::RcptTo).
    RcptTo,
    /// [`Pending::Data`](crate::Pending::Data) for DATA.
    Data,
    /// [`Pending::Data`](crate::Pending::Data) for the first BDAT.
    Bdat,
    /// [`Pending::Vrfy`](crate::Pending::Vrfy).
    Vrfy,
    /// [`Event::Deliver`](crate::Event::Deliver).
    Deliver,
}

impl StageKind {
    /// The stage's name, as in logs: `RCPT`, `connect`, `delivery`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Helo => "HELO",
            Self::Ehlo => "EHLO",
            Self::StartTls => "STARTTLS",
            Self::Auth => "AUTH",
            Self::Authenticate => "AUTH credentials",
            Self::MailFrom => "MAIL",
            Self::RcptTo => "RCPT",
            Self::Data => "DATA",
            Self::Bdat => "BDAT",
            Self::Vrfy => "VRFY",
            Self::Deliver => "delivery",
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A verdict the session could not use as given: a bug in the policy (or
/// sink), reported so that it shows up in logs rather than only as a
/// client's puzzling `451`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The reply's class does not fit the verdict: an accepting reply that
    /// is not the stage's (2xx, or 3xx for DATA), or a rejecting one that
    /// is not 4xx or 5xx. The client got `451 4.3.0` and the command was
    /// rejected.
    WrongClass {
        /// The stage.
        stage: StageKind,
        /// The reply the verdict carried.
        reply: Reply,
        /// True when the verdict accepted.
        accept: bool,
    },
    /// The verdict carried something that this stage does not use: an
    /// accepting reply for AUTH or BDAT, stage data (a message size,
    /// extensions, per-recipient verdicts) elsewhere than its stage. The
    /// rest of the verdict was applied.
    Ignored {
        /// The stage.
        stage: StageKind,
        /// What was ignored: `"reply"`, `"max_message_size"`,
        /// `"extensions"` or `"each"`.
        what: &'static str,
    },
    /// An LMTP delivery's [`Verdict::each`](crate::Verdict::each) has
    /// another number of verdicts than recipients: every recipient got
    /// `451 4.3.0`.
    WrongCount {
        /// The stage.
        stage: StageKind,
        /// The number of recipients.
        expected: usize,
        /// The number of verdicts.
        got: usize,
    },
}

impl PolicyError {
    /// The stage the verdict answered.
    pub fn stage(&self) -> StageKind {
        match self {
            Self::WrongClass { stage, .. }
            | Self::Ignored { stage, .. }
            | Self::WrongCount { stage, .. } => *stage,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongClass {
                stage,
                reply,
                accept,
            } => {
                let verdict = if *accept { "accepting" } else { "rejecting" };
                write!(
                    f,
                    "{verdict} verdict at {stage} with reply {}: wrong class, answered 451 4.3.0",
                    reply.to_string().trim_end()
                )
            }
            Self::Ignored { stage, what } => {
                write!(f, "verdict at {stage}: {what} is not used at this stage")
            }
            Self::WrongCount {
                stage,
                expected,
                got,
            } => write!(
                f,
                "verdict at {stage}: {got} verdicts for {expected} recipients, answered 451 4.3.0"
            ),
        }
    }
}

impl std::error::Error for PolicyError {}
