//! The sans-IO SMTP server protocol engine behind `mtakit`.
//!
//! This crate has no sockets, no clock and no async runtime. Bytes go in,
//! and replies, pending decisions and deliveries come out:
//!
//! ```text
//!   client bytes ──► Session::receive ──► Session::poll_event ──► Event::Reply(Reply) ──► client
//!                                                  │
//!                                                  ├─► Event::Decide(Pending) ──► your policy
//!                                                  │        ▲                         │
//!                                                  │        └──── Session::decide ◄───┘
//!                                                  ├─► Event::Deliver(Transaction) ──► your sink
//!                                                  ├─► Event::StartTls / Event::Close
//! ```
//!
//! The tokio server in the `mtakit` crate is a thin driver around
//! [`Session`]. Because the whole protocol is a value, it can be tested and
//! fuzzed in memory, deterministically.
//!
//! # Modules
//!
//! | module | what it holds |
//! |---|---|
//! | [`reply`] | [`Reply`], [`ReplyCode`], [`EnhancedCode`] and their wire form |
//! | [`command`] | [`Command`] and its parser |
//! | [`address`] | RFC 5321 paths: [`ReversePath`], [`ForwardPath`], [`Mailbox`], [`Domain`] |
//! | [`params`] | typed ESMTP parameters: [`MailParams`], [`RcptParams`] |
//! | [`proxy`] | the PROXY protocol v1/v2 header parser |
//! | [`data`] | dot-stuffing and the statistics of DATA content |
//! | [`findings`] | conformance findings recorded on each message |
//! | [`sasl`] | AUTH PLAIN and LOGIN |
//! | [`limits`] | [`Limits`], every bound with its RFC default |
//! | [`session`] | the [`Session`] state machine, its events and decisions |
//! | [`testing`] | an in-memory driver for tests and fuzzing |
//!
//! # RFC coverage
//!
//! | RFC | what | status |
//! |---|---|---|
//! | 5321 | SMTP: commands, paths, replies, state machine, limits (§4.5.3) | done |
//! | 1870 | SIZE: advertised, `SIZE=` checked at MAIL, enforced while streaming | done |
//! | 2920 | PIPELINING: replies in order, whole batches in one packet | done |
//! | 2034, 3463 | ENHANCEDSTATUSCODES on every reply after EHLO | done |
//! | 6152 | 8BITMIME: `BODY=7BIT` / `BODY=8BITMIME`, 8-bit content byte-clean | done |
//! | 6531 | SMTPUTF8: UTF-8 addresses when `SMTPUTF8` is given | done |
//! | 4954, 4616 | AUTH PLAIN and LOGIN, initial response or `334`, `*` cancel | done |
//! | 7628 | AUTH OAUTHBEARER, and XOAUTH2: the bearer token goes to the authenticator | done |
//! | 3207 | STARTTLS: session side (discard pipelined plaintext, reset) | done; the TLS driver is planned |
//! | 3030 | CHUNKING, BINARYMIME: BDAT chunks counted exactly, size enforced while streaming | done |
//! | 3461 | DSN: RET, ENVID, NOTIFY and ORCPT typed, validated and on the envelope | done |
//! | 2033 | LMTP: LHLO, one reply per recipient after the message | done |
//!
//! # Stability
//!
//! Reply wording and default limits may change between minor versions;
//! codes and enhanced codes follow the RFCs.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
#[doc(hidden)] // public for the fuzz targets only; not part of the API
pub mod bdat;
pub mod command;
pub mod data;
pub mod ehlo;
pub mod findings;
pub mod limits;
pub mod params;
pub mod proxy;
pub mod reply;
pub mod reply_reader;
pub mod sasl;
pub mod session;
pub mod testing;

pub use address::{AddressLiteral, Domain, ForwardPath, Mailbox, PathError, ReversePath};
pub use command::{Command, CommandError};
pub use data::DataStats;
#[doc(hidden)]
pub use data::{DataOutcome, DataReceiver};
pub use ehlo::EhloInfo;
pub use findings::Finding;
pub use limits::{Limits, LineEndingPolicy};
pub use params::{Body, MailParams, Notify, Orcpt, ParamError, RcptParams, Ret};
pub use reply::{EnhancedCode, Reply, ReplyClass, ReplyCode, ReplyError};
pub use reply_reader::{ReplyReadError, ReplyReader};
pub use sasl::{Credentials, Mechanism};
pub use session::{
    ApiMisuse, AuthIdentity, ConnectionInfo, Envelope, Event, Extensions, Greeting,
    MAX_PENDING_INPUT, Pending, PolicyError, Recipient, Session, SessionConfig, SessionInfo,
    StageKind, TimeoutKind, TlsInfo, Transaction, Verdict,
};
