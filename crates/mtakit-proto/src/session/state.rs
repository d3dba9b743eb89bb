//! The session's internal state: where it is in the dialogue, with the
//! data each stage owns, and the one decision it may be waiting for.

use crate::address::{ForwardPath, ReversePath};
use crate::bdat::ChunkReceiver;
use crate::data::DataReceiver;
use crate::params::{MailParams, RcptParams};
use crate::reply::Reply;
use crate::sasl::Mechanism;

/// Where the session is in the SMTP dialogue (RFC 5321 §4.1.4), with
/// what that stage owns. Each stage's data lives in its variant, so a
/// DATA receiver without a transaction, or a SASL exchange during one,
/// cannot be represented.
#[derive(Debug)]
pub(super) enum State {
    /// Before the connection was accepted (the greeting is not sent).
    Connect,
    /// Greeted (or after STARTTLS): no HELO/EHLO yet.
    Greeted,
    /// After HELO/EHLO/LHLO, no transaction.
    Ready,
    /// After EHLO, outside a transaction: the next line is a SASL response.
    Sasl(SaslStep),
    /// After MAIL: a transaction is open. Its envelope is in the policy
    /// view ([`SessionInfo::envelope`](crate::SessionInfo::envelope)).
    Mail(Box<Tx>),
    /// STARTTLS was accepted: input is discarded until the handshake is
    /// done.
    TlsHandshake,
    /// The session is over.
    Closed,
}

/// What an open transaction owns besides its envelope.
#[derive(Debug)]
pub(super) struct Tx {
    /// The sender or a recipient is non-ASCII without SMTPUTF8 (accepted
    /// in recording mode, then reported as a finding).
    pub(super) utf8_without_smtputf8: bool,
    /// The message content being received.
    pub(super) content: Content,
    /// Set by [`Session::drop_content`](crate::Session::drop_content): the
    /// reply the message gets at its end.
    pub(super) refusal: Option<Reply>,
}

impl Tx {
    pub(super) fn new(utf8_without_smtputf8: bool) -> Self {
        Self {
            utf8_without_smtputf8,
            content: Content::Commands,
            refusal: None,
        }
    }
}

/// The content of a transaction, as it arrives.
#[derive(Debug)]
pub(super) enum Content {
    /// No content yet: command lines are read.
    Commands,
    /// After an accepted DATA: message content until `<CRLF>.<CRLF>`.
    Data(Box<DataReceiver>),
    /// After an accepted first BDAT: the chunks so far.
    Chunks {
        /// The content of the chunks.
        receiver: ChunkReceiver,
        /// `Some(last)` while a chunk's octets arrive; `None` between
        /// chunks, when command lines are read.
        reading: Option<bool>,
    },
}

/// Input dropped before command lines are read again. This is orthogonal
/// to [`State`]: a refused BDAT chunk is drained in any stage (with or
/// without a transaction, which must survive it), and an over-long line
/// too (abandoning a SASL exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skip {
    /// Nothing to drop.
    Nothing,
    /// A line over the limit, up to its LF; then `500 5.5.6`.
    Line,
    /// The octets of a refused BDAT chunk still to drop.
    Octets(u64),
}

/// Which SASL line is expected.
#[derive(Debug)]
pub(super) enum SaslStep {
    PlainResponse,
    LoginUsername,
    LoginPassword {
        username: String,
    },
    /// The response of a bearer-token mechanism.
    TokenResponse(Mechanism),
    /// The client's answer to the error challenge of a failed token AUTH.
    TokenFailure,
}

/// The decision the session waits for, with what it needs to apply it.
#[derive(Debug)]
pub(super) enum Awaiting {
    Connect,
    Helo {
        name: crate::Domain,
        greeting: crate::Greeting,
    },
    StartTls,
    Auth {
        mechanism: Mechanism,
        initial_response: Option<String>,
    },
    Authenticate {
        mechanism: Mechanism,
        username: String,
        authzid: Option<String>,
    },
    Mail {
        reverse_path: ReversePath,
        params: MailParams,
        /// Carried into the transaction's [`Tx`] if MAIL is accepted.
        utf8_without_smtputf8: bool,
    },
    Rcpt {
        forward_path: ForwardPath,
        params: RcptParams,
    },
    Data,
    Bdat {
        size: u64,
        last: bool,
    },
    Deliver {
        recipients: usize,
    },
    Vrfy,
}
