//! [`Stage`]: the point of a session at which a [`Policy`](crate::Policy)
//! decides, with what it decides on.

use mtakit_proto::{Domain, ForwardPath, MailParams, Mechanism, RcptParams, ReversePath};

use crate::message::Message;

/// What [`Policy::decide`](crate::Policy::decide) is asked about: one
/// variant per stage of a session, with the stage's arguments.
///
/// The accepting verdict of some stages may carry stage data (see
/// [`Verdict`](crate::Verdict#stage-data)): [`Connect`](Self::Connect)
/// and [`Helo`](Self::Helo) a message size, an extended `Helo` the
/// extensions to offer, [`MessageEach`](Self::MessageEach) one verdict per
/// recipient.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Stage<'a> {
    /// A client connected, before the greeting. Reject gives `554` and
    /// closes.
    Connect,
    /// HELO, or EHLO and LHLO (`extended`), with this name.
    Helo {
        /// The name the client gave.
        name: &'a Domain,
        /// True for EHLO and LHLO.
        extended: bool,
    },
    /// STARTTLS, before the `220`.
    StartTls,
    /// AUTH with this mechanism, before credentials are exchanged.
    Auth {
        /// The mechanism asked for.
        mechanism: Mechanism,
    },
    /// MAIL FROM, after syntax and SIZE checks.
    MailFrom {
        /// The sender.
        reverse_path: &'a ReversePath,
        /// Its parameters.
        params: &'a MailParams,
    },
    /// Each RCPT TO, after syntax and the recipient limit.
    RcptTo {
        /// The recipient.
        forward_path: &'a ForwardPath,
        /// Its parameters.
        params: &'a RcptParams,
    },
    /// DATA (or the first BDAT), before the `354`.
    Data,
    /// The whole message, after the end of data and before delivery.
    Message {
        /// The message.
        message: &'a Message,
    },
    /// The whole message in LMTP mode, where each recipient gets its own
    /// reply (RFC 2033 §4.2). Answer with
    /// [`Verdict::each`](crate::Verdict::each), one verdict per recipient
    /// in envelope order, or with one verdict for all.
    MessageEach {
        /// The message.
        message: &'a Message,
    },
    /// VRFY with this argument.
    Vrfy {
        /// The string to verify.
        argument: &'a str,
    },
}

impl Stage<'_> {
    /// The stage's name, as in logs: `connect`, `HELO`, `RCPT`, `message`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Helo {
                extended: false, ..
            } => "HELO",
            Self::Helo { .. } => "EHLO",
            Self::StartTls => "STARTTLS",
            Self::Auth { .. } => "AUTH",
            Self::MailFrom { .. } => "MAIL",
            Self::RcptTo { .. } => "RCPT",
            Self::Data => "DATA",
            Self::Message { .. } => "message",
            Self::MessageEach { .. } => "LMTP message",
            Self::Vrfy { .. } => "VRFY",
        }
    }
}
