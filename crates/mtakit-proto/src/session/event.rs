//! What a session hands to its driver: [`Event`]s, [`Pending`] decisions,
//! and what the driver hands back: a [`Verdict`].

use std::fmt;

use crate::address::{Domain, ForwardPath, ReversePath};
use crate::data::DataStats;
use crate::params::{MailParams, RcptParams};
use crate::reply::Reply;
use crate::sasl::{Credentials, Mechanism};
use crate::session::info::Envelope;
use crate::session::policy_error::PolicyError;

/// Output of [`Session::poll_event`](crate::Session::poll_event).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Send this reply.
    Reply(Reply),
    /// The session waits for the application: resolve it with
    /// [`Session::decide`](crate::Session::decide).
    Decide(Pending),
    /// Flush the replies so far, then run the TLS handshake and report it
    /// with [`Session::tls_established`](crate::Session::tls_established).
    /// Plaintext received after STARTTLS has already been discarded.
    StartTls,
    /// A complete message: store it, then report the outcome with
    /// [`Session::decide`](crate::Session::decide): accept only once it is
    /// stored durably; reject (e.g. `451 4.3.0`) if it could not be.
    Deliver(Transaction),
    /// Flush the replies so far and close the connection.
    Close,
    /// A command line the client sent, for transcripts (only with
    /// [`SessionConfig::record_commands`](crate::SessionConfig::record_commands)).
    /// UTF-8 is shown as text; control characters and invalid octets are
    /// shown as `?`, long lines are cut, and
    /// AUTH secrets are replaced by `***`.
    Command(String),
    /// A verdict could not be used as given (a bug in the policy): it was
    /// corrected, e.g. to `451 4.3.0`, or part of it ignored. Log it.
    PolicyError(PolicyError),
}

impl Event {
    /// The reply, for [`Event::Reply`].
    pub fn as_reply(&self) -> Option<&Reply> {
        match self {
            Self::Reply(reply) => Some(reply),
            _ => None,
        }
    }
}

/// A decision the application must make before the session goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pending {
    /// A client connected. Accept gives the `220` greeting; reject gives
    /// `554` and closes.
    Connect,
    /// HELO, EHLO or LHLO with this name.
    Helo {
        /// The name the client gave.
        name: Domain,
        /// True for EHLO and LHLO.
        extended: bool,
    },
    /// STARTTLS.
    StartTls,
    /// AUTH with this mechanism, before any credentials are exchanged.
    Auth {
        /// The mechanism asked for.
        mechanism: Mechanism,
    },
    /// Check these credentials (the authenticator's job).
    Authenticate {
        /// What the client presented.
        credentials: Credentials,
    },
    /// MAIL FROM.
    MailFrom {
        /// The sender.
        reverse_path: ReversePath,
        /// Its parameters.
        params: MailParams,
    },
    /// RCPT TO.
    RcptTo {
        /// The recipient.
        forward_path: ForwardPath,
        /// Its parameters.
        params: RcptParams,
    },
    /// DATA, before the `354`, or the first BDAT of a transaction.
    Data,
    /// VRFY with this argument. Accept gives `252 2.5.2`.
    Vrfy {
        /// The string to verify.
        argument: String,
    },
}

/// A complete message at the end of DATA, with its envelope.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transaction {
    /// The envelope.
    pub envelope: Envelope,
    /// The content exactly as received, dot-stuffing removed, CRLF kept.
    pub data: Vec<u8>,
    /// What the DATA receiver saw (bare CR/LF, NUL, 8-bit, line length).
    pub stats: DataStats,
    /// What the client did against the rules in this transaction; empty
    /// for a conforming client.
    pub findings: Vec<crate::findings::Finding>,
}

/// Which RFC 5321 §4.5.3.2 timeout applies now. The session never reads a
/// clock: the driver maps this to a duration from
/// [`Limits`](crate::Limits) and calls
/// [`Session::timed_out`](crate::Session::timed_out) when it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Waiting for a command (also for the first one after the greeting).
    Command,
    /// Waiting for the next chunk of DATA.
    DataBlock,
    /// The server's own work after the end of data (policy and sink).
    DataTermination,
}

/// The caller used the session API in a way it does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiMisuse {
    /// `decide` was called with no decision pending.
    NoPendingDecision,
    /// `tls_established` was called without a STARTTLS in progress.
    NoTlsHandshake,
    /// `decide_each` was given a number of verdicts other than the number
    /// of recipients, or was used outside an LMTP delivery.
    WrongVerdictCount,
}

impl fmt::Display for ApiMisuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoPendingDecision => "no decision is pending",
            Self::NoTlsHandshake => "no TLS handshake is in progress",
            Self::WrongVerdictCount => "one verdict per recipient is needed for an LMTP delivery",
        })
    }
}

impl std::error::Error for ApiMisuse {}

/// An [`Event`] as queued inside the session: the large payloads boxed,
/// so that an idle session's queue costs little memory.
#[derive(Debug)]
pub(crate) enum Queued {
    Reply(Reply),
    Decide(Box<Pending>),
    Deliver(Box<Transaction>),
    StartTls,
    Close,
    Command(String),
    PolicyError(Box<PolicyError>),
}

impl Queued {
    pub(crate) fn from_event(event: Event) -> Self {
        match event {
            Event::Reply(r) => Self::Reply(r),
            Event::Decide(p) => Self::Decide(Box::new(p)),
            Event::Deliver(t) => Self::Deliver(Box::new(t)),
            Event::StartTls => Self::StartTls,
            Event::Close => Self::Close,
            Event::Command(c) => Self::Command(c),
            Event::PolicyError(e) => Self::PolicyError(Box::new(e)),
        }
    }

    pub(crate) fn into_event(self) -> Event {
        match self {
            Self::Reply(r) => Event::Reply(r),
            Self::Decide(p) => Event::Decide(*p),
            Self::Deliver(t) => Event::Deliver(*t),
            Self::StartTls => Event::StartTls,
            Self::Close => Event::Close,
            Self::Command(c) => Event::Command(c),
            Self::PolicyError(e) => Event::PolicyError(*e),
        }
    }
}
