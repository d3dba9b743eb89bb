//! The read-only view of a session that policy hooks receive.

use std::net::SocketAddr;

use crate::address::{Domain, ForwardPath, ReversePath};
use crate::params::{MailParams, RcptParams};
use crate::sasl::Mechanism;
use crate::session::config::{Extensions, TlsInfo};

/// How the client greeted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Greeting {
    /// `HELO`: plain SMTP, no extensions.
    Helo,
    /// `EHLO`: extended SMTP.
    Ehlo,
    /// `LHLO`: LMTP (RFC 2033), with the SMTP extensions.
    Lhlo,
}

/// Who authenticated with AUTH.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthIdentity {
    /// The mechanism used.
    pub mechanism: Mechanism,
    /// The authentication identity (user name).
    pub username: String,
    /// The authorisation identity, if one was asked for.
    pub authzid: Option<String>,
}

/// One accepted recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recipient {
    /// The forward-path.
    pub path: ForwardPath,
    /// Its RCPT parameters.
    pub params: RcptParams,
}

/// The envelope of the mail transaction in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// The MAIL FROM reverse-path.
    pub reverse_path: ReversePath,
    /// The MAIL parameters.
    pub mail_params: MailParams,
    /// The accepted recipients, in order (duplicates kept).
    pub recipients: Vec<Recipient>,
}

/// A read-only view of a session: who is connected, what they said so far.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) helo: Option<(Greeting, Domain)>,
    pub(crate) tls: Option<TlsInfo>,
    pub(crate) auth: Option<AuthIdentity>,
    pub(crate) envelope: Option<Envelope>,
    pub(crate) max_message_size: u64,
    pub(crate) configured_extensions: Extensions,
    pub(crate) transactions: u64,
    pub(crate) early_talker: bool,
}

impl SessionInfo {
    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The local address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The HELO/EHLO name, once the client greeted.
    pub fn helo(&self) -> Option<&Domain> {
        self.helo.as_ref().map(|(_, d)| d)
    }

    /// Whether the client used HELO or EHLO.
    pub fn greeting(&self) -> Option<Greeting> {
        self.helo.as_ref().map(|(g, _)| *g)
    }

    /// True after EHLO or LHLO.
    pub fn is_esmtp(&self) -> bool {
        matches!(self.greeting(), Some(Greeting::Ehlo | Greeting::Lhlo))
    }

    /// TLS facts, when TLS is active.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// The authenticated identity, after a successful AUTH.
    pub fn auth(&self) -> Option<&AuthIdentity> {
        self.auth.as_ref()
    }

    /// The transaction in progress, after MAIL.
    pub fn envelope(&self) -> Option<&Envelope> {
        self.envelope.as_ref()
    }

    /// The largest message accepted on this connection.
    pub fn max_message_size(&self) -> u64 {
        self.max_message_size
    }

    /// The extensions the server is configured with
    /// ([`SessionConfig::extensions`](crate::SessionConfig::extensions)):
    /// what each EHLO offers unless its verdict carries
    /// [`Verdict::with_extensions`](crate::Verdict::with_extensions), and
    /// the set to start from when editing them.
    pub fn configured_extensions(&self) -> &Extensions {
        &self.configured_extensions
    }

    /// Messages accepted so far on this connection.
    pub fn transactions(&self) -> u64 {
        self.transactions
    }

    /// True when the client sent data before the greeting.
    pub fn early_talker(&self) -> bool {
        self.early_talker
    }
}
