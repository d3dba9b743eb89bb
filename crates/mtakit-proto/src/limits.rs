//! Every limit the protocol enforces, with defaults taken from RFC 5321
//! §4.5.3 and Postfix's `smtpd` defaults.

use std::time::Duration;

/// How a bare CR or a bare LF inside message content is treated.
///
/// Whatever the policy, only `<CRLF>.<CRLF>` ends DATA: a bare CR or LF is
/// never a line end (RFC 5321 §2.3.8, the 2023 SMTP smuggling fixes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LineEndingPolicy {
    /// Refuse the message with `550 5.5.2` after its end; nothing is stored.
    #[default]
    Reject,
    /// Turn every bare CR and bare LF into CRLF, then accept.
    Normalize,
    /// Accept the bytes unchanged and record a finding on the message.
    /// This is the conformance mode for testing mail senders: a UTF-8
    /// envelope address without SMTPUTF8 is also accepted and recorded
    /// rather than refused with `553 5.6.7`.
    Record,
}

/// The limits of one session. All sizes are in octets.
///
/// ```
/// use std::time::Duration;
/// use mtakit_proto::Limits;
///
/// let limits = Limits {
///     max_message_size: 1024 * 1024,
///     command_timeout: Duration::from_secs(30),
///     ..Limits::default()
/// };
/// assert_eq!(limits.max_recipients, 1000);
/// ```
///
/// The struct is deliberately not `#[non_exhaustive]`, so that struct
/// update syntax works; new limits come with a minor version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line, counting the CRLF (RFC 5321 §4.5.3.1.4: 512).
    /// Longer lines get `500 5.5.6` and the session continues.
    pub command_line: usize,
    /// Longest MAIL or RCPT line that carries ESMTP parameters (RFC 1869
    /// allows extensions to raise the 512-octet limit). Default 2048, as
    /// Postfix's `line_length_limit`.
    pub command_line_extended: usize,
    /// Longest SASL continuation line (RFC 4954 §4: 12288).
    pub auth_line: usize,
    /// Longest text line inside DATA, counting the CRLF; `None` means no
    /// cap beyond the message size. RFC 5321 §4.5.3.1.6 requires at least
    /// 1000. A message with a longer line is refused with `500 5.5.6`
    /// after its end.
    pub text_line: Option<usize>,
    /// Largest message, advertised in `SIZE` (RFC 1870). Larger content is
    /// drained, not stored, and refused with `552 5.3.4`. Default 10 MiB.
    pub max_message_size: u64,
    /// Recipients per transaction; beyond it RCPT gets `452 4.5.3`.
    /// RFC 5321 §4.5.3.1.8 requires at least 100. Default 1000.
    pub max_recipients: usize,
    /// Bad commands (syntax or sequence errors) before `421 4.7.0` and a
    /// close. Default 20, as Postfix's `smtpd_hard_error_limit`.
    pub max_errors: usize,
    /// Failed AUTH attempts before `421 4.7.0` and a close. Default 3.
    pub max_auth_failures: usize,
    /// How bare CR and bare LF inside DATA are treated.
    pub line_endings: LineEndingPolicy,
    /// Accept NUL octets inside DATA. Default `false`: the message is
    /// refused with `554 5.6.0` after its end (Sendmail's smuggling fix).
    pub allow_nul: bool,
    /// Wait for the next command (RFC 5321 §4.5.3.2.7: at least 5
    /// minutes). It is a deadline for the whole command line, not for each
    /// read, so a client sending a byte at a time cannot hold the session
    /// longer. It is also the connection (greeting) timeout of §4.5.3.2.1:
    /// it bounds the policy's `accept_connection` before the `220` and the
    /// wait for the first command after it; and it bounds the writing of
    /// replies, the TLS handshake, a PROXY header and each policy hook.
    pub command_timeout: Duration,
    /// Wait for the next chunk of DATA or BDAT (RFC 5321 §4.5.3.2.5:
    /// 3 minutes).
    pub data_block_timeout: Duration,
    /// The slowest average rate, in octets per second, at which message
    /// content may arrive: each read earns `octets / min_data_rate`
    /// seconds, never more than one data block timeout ahead, so a client
    /// trickling a byte at a time is cut off with `421 4.4.2`. Default 500,
    /// as Postfix's `smtpd_min_data_rate`; 0 restarts the data block
    /// timeout on every read instead.
    pub min_data_rate: u64,
    /// Budget for the server's own work after the end of data: policy and
    /// sink. RFC 5321 §4.5.3.2.6 gives the client 10 minutes.
    pub data_termination_timeout: Duration,
    /// Concurrent connections the server accepts; beyond it a client gets
    /// `421 4.3.2` at connect. Default 1000.
    pub max_connections: usize,
    /// Concurrent connections from one IP address; `None` is no cap.
    pub max_connections_per_ip: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            command_line: 512,
            command_line_extended: 2048,
            auth_line: 12288,
            text_line: None,
            max_message_size: 10 * 1024 * 1024,
            max_recipients: 1000,
            max_errors: 20,
            max_auth_failures: 3,
            line_endings: LineEndingPolicy::Reject,
            allow_nul: false,
            command_timeout: Duration::from_secs(300),
            data_block_timeout: Duration::from_secs(180),
            min_data_rate: 500,
            data_termination_timeout: Duration::from_secs(600),
            max_connections: 1000,
            max_connections_per_ip: None,
        }
    }
}
