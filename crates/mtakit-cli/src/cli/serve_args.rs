//! The flags of `mtakit serve`, and the checks across them.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use mtakit::proxy::Cidr;

use super::values::{
    Extension, LineEndings, User, command_line_length, parse_cidr, parse_user, positive,
    text_line_length,
};

/// The flags of `mtakit serve`.
///
/// Limits that are not given keep the library defaults (`mtakit::Limits`),
/// which follow RFC 5321 §4.5.3 and Postfix; the help text shows them.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("tls").args(["tls_cert", "tls_self_signed"])))]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2525")]
    pub(crate) listen: String,

    /// Name used in the greeting and in the EHLO reply.
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    pub(crate) hostname: String,

    /// Deliver each accepted message into this Maildir (created if needed).
    #[arg(long, value_name = "DIR", conflicts_with = "discard")]
    pub(crate) maildir: Option<PathBuf>,

    /// Accept every message and drop it, as Postfix's smtp-sink does.
    #[arg(long)]
    pub(crate) discard: bool,

    /// Forward every accepted message to this server as well (plain SMTP,
    /// smtp://HOST[:PORT], port 25 by default), and offer "release" in the
    /// UI and `POST /api/messages/{id}/release`.
    #[arg(long, value_name = "URL", conflicts_with = "discard")]
    pub(crate) relay: Option<crate::relay::Relay>,

    /// With --relay: connections to the relay at once, forwarding and
    /// releases together (default 4). More messages wait in the relay
    /// queue; a release waits for a free connection.
    #[arg(long, value_name = "N", default_value_t = crate::http::RELAY_CONNECTIONS,
          value_parser = positive)]
    pub(crate) relay_connections: usize,

    /// With --relay: messages waiting for a relay connection (default
    /// 1000); only ids wait, the content stays in the store. Past it a
    /// message is kept but not relayed (a warning names it; release it
    /// later).
    #[arg(long, value_name = "N", default_value_t = crate::http::RELAY_QUEUE,
          value_parser = positive)]
    pub(crate) relay_queue: usize,

    /// Worker threads for the server: 1 runs everything on one thread
    /// (fewest wake-ups; like smtp-sink's single event loop), 0 uses one
    /// per CPU core.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) threads: usize,

    /// Keep at most this many messages in memory, dropping the oldest
    /// (without --maildir or --discard).
    #[arg(long, value_name = "N", default_value = "1000", value_parser = positive,
          conflicts_with_all = ["maildir", "discard"])]
    pub(crate) store_limit: usize,

    /// Keep at most this many octets of messages in memory (their data
    /// plus a small overhead each), dropping the oldest (without --maildir
    /// or --discard); 268435456 is 256 MiB.
    #[arg(long, value_name = "BYTES", default_value_t = crate::http::STORE_BYTES, value_parser = positive,
          conflicts_with_all = ["maildir", "discard"])]
    pub(crate) store_bytes: usize,

    /// How many GET /api/wait requests may wait at a time; past it the API
    /// answers 503.
    #[arg(long, value_name = "N", default_value_t = crate::http::MAX_WAITERS,
          value_parser = positive, help_heading = "HTTP")]
    pub(crate) max_waiters: usize,

    /// Do not print messages on stdout.
    #[arg(long)]
    pub(crate) quiet: bool,

    /// Address of the web UI and the HTTP API; port 0 picks a free port.
    /// Keep it on loopback: the API has no authentication.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8025",
        help_heading = "HTTP"
    )]
    pub(crate) http: String,

    /// Serve no web UI and no HTTP API.
    #[arg(long, conflicts_with = "http", help_heading = "HTTP")]
    pub(crate) no_http: bool,

    /// Concurrent HTTP connections; further clients wait until one closes.
    /// Lowered at start-up, with a warning, when the open-files limit
    /// cannot hold it beside --max-connections [default: 128].
    #[arg(long, value_name = "N", value_parser = positive, help_heading = "HTTP")]
    pub(crate) http_max_connections: Option<usize>,

    /// Seconds an HTTP client may take to send a request head, and may
    /// keep an idle connection open [default: 10].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "HTTP")]
    pub(crate) http_header_timeout: Option<u64>,

    /// Seconds an HTTP request may take, body included; /api/events and
    /// /api/wait are exempt [default: 30].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "HTTP")]
    pub(crate) http_request_timeout: Option<u64>,

    /// Bytes of session transcripts kept in total for /api/sessions; the
    /// oldest sessions go first [default: 32 MiB].
    #[arg(long, value_name = "BYTES", value_parser = positive, help_heading = "HTTP")]
    pub(crate) sessions_max_bytes: Option<usize>,

    /// Bytes each session's transcript holds; past it the middle of the
    /// session is dropped and counted [default: 256 KiB].
    #[arg(long, value_name = "BYTES", value_parser = positive, help_heading = "HTTP")]
    pub(crate) transcript_bytes: Option<usize>,

    /// Once every listener is bound, write their ports to this file as
    /// JSON: {"smtp": PORT, "http": PORT|null, "implicit_tls": PORT|null}.
    #[arg(long, value_name = "FILE", help_heading = "HTTP")]
    pub(crate) port_file: Option<PathBuf>,

    /// Fault rules to start with, as TOML `[[rules]]` tables (the keys of
    /// the rules of /api/faults).
    #[arg(long, value_name = "FILE", help_heading = "HTTP")]
    pub(crate) faults: Option<PathBuf>,

    /// Write one JSON line per message and per ended session to this file,
    /// or to stdout for `-` (messages are then not printed).
    #[arg(long, value_name = "FILE", help_heading = "HTTP")]
    pub(crate) events: Option<PathBuf>,

    /// Speak LMTP (RFC 2033) instead of SMTP: LHLO instead of HELO/EHLO,
    /// and one reply per recipient after the message.
    #[arg(long, help_heading = "Protocol")]
    pub(crate) lmtp: bool,

    /// Switch extensions off, to test a client's fallback paths: a
    /// comma-separated list, repeatable, any case. A switched-off extension
    /// is not advertised and its command or parameter is refused.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        ignore_case = true,
        help_heading = "Protocol"
    )]
    pub(crate) disable: Vec<Extension>,

    /// Accept a PROXY protocol header (v1 or v2) from this network, such
    /// as 10.0.0.0/8 or ::1/128 (repeatable). Connections from there must
    /// start with one; its source address becomes the client's address.
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr, help_heading = "Protocol")]
    pub(crate) proxy_protocol_from: Vec<Cidr>,

    /// How bare CR and bare LF inside DATA are treated. Whatever the
    /// choice, only `<CRLF>.<CRLF>` ends DATA.
    #[arg(long, value_name = "POLICY", help_heading = "Protocol")]
    pub(crate) line_endings: Option<LineEndings>,

    /// Accept NUL octets inside DATA; without it such a message gets 554.
    #[arg(long, help_heading = "Protocol")]
    pub(crate) allow_nul: bool,

    /// PEM certificate chain for STARTTLS and --implicit-tls; needs
    /// --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key", help_heading = "TLS")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert", help_heading = "TLS")]
    pub(crate) tls_key: Option<PathBuf>,

    /// Generate a throw-away CA and a certificate for --hostname, localhost,
    /// 127.0.0.1 and ::1. ca.pem, cert.pem and key.pem are written into a
    /// fresh directory (or --tls-dir), and the path of ca.pem is printed on
    /// stderr for clients to trust.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"], help_heading = "TLS")]
    pub(crate) tls_self_signed: bool,

    /// Where --tls-self-signed writes its files [default: a new directory
    /// under the system temp dir].
    #[arg(
        long,
        value_name = "DIR",
        requires = "tls_self_signed",
        help_heading = "TLS"
    )]
    pub(crate) tls_dir: Option<PathBuf>,

    /// Also listen here for implicit TLS (RFC 8314, "port 465"): the TLS
    /// handshake comes first. Needs a certificate.
    #[arg(long, value_name = "ADDR", requires = "tls", help_heading = "TLS")]
    pub(crate) implicit_tls: Option<String>,

    /// Refuse MAIL with 530 until the client started TLS. Needs a
    /// certificate.
    #[arg(long, requires = "tls", help_heading = "TLS")]
    pub(crate) require_tls: bool,

    /// Accept AUTH PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER for this user
    /// (repeatable); for the OAuth mechanisms the bearer token is checked
    /// as the password. AUTH is offered over TLS, or over plaintext with
    /// --allow-insecure-auth.
    #[arg(long = "auth", value_name = "USER:PASS", value_parser = parse_user, help_heading = "AUTH")]
    pub(crate) users: Vec<User>,

    /// Offer AUTH over plaintext connections too (RFC 4954 §4 says not to).
    #[arg(long, help_heading = "AUTH")]
    pub(crate) allow_insecure_auth: bool,

    /// Refuse MAIL with 530 5.7.0 until the client has authenticated, so
    /// that a client that skips or botches AUTH fails its tests. Needs
    /// --auth.
    #[arg(long, requires = "users", help_heading = "AUTH")]
    pub(crate) require_auth: bool,

    /// Largest message accepted, advertised in SIZE; larger ones get 552
    /// [default: 10485760].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    pub(crate) max_message_size: Option<u64>,

    /// Message content all sessions together may hold in memory while it
    /// arrives; a message that would overrun it is drained and refused
    /// with 452 4.3.1 [default: 536870912] (512 MiB).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    pub(crate) max_content_in_flight: Option<u64>,

    /// Recipients per transaction; more get 452. RFC 5321 §4.5.3.1.8
    /// requires at least 100; smaller values only warn [default: 1000].
    #[arg(long, value_name = "N", value_parser = positive, help_heading = "Limits")]
    pub(crate) max_recipients: Option<usize>,

    /// Longest command line in octets, counting the CRLF; longer lines get
    /// 500. At least 512 (RFC 5321 §4.5.3.1.4) [default: 512].
    #[arg(long, value_name = "N", value_parser = command_line_length, help_heading = "Limits")]
    pub(crate) max_command_line: Option<usize>,

    /// Longest MAIL or RCPT line with ESMTP parameters (RFC 1869); at least
    /// --max-command-line, which raises it when needed [default: 2048].
    #[arg(long, value_name = "N", value_parser = command_line_length, help_heading = "Limits")]
    pub(crate) max_command_line_extended: Option<usize>,

    /// Longest AUTH command or SASL response line; at least 512, and RFC
    /// 4954 §4 asks for 12288 [default: 12288].
    #[arg(long, value_name = "N", value_parser = command_line_length, help_heading = "Limits")]
    pub(crate) max_auth_line: Option<usize>,

    /// Longest text line inside DATA, counting the CRLF; a message with a
    /// longer line gets 500. At least 1000 (RFC 5321 §4.5.3.1.6) [default:
    /// no cap].
    #[arg(long, value_name = "N", value_parser = text_line_length, help_heading = "Limits")]
    pub(crate) max_text_line: Option<usize>,

    /// Concurrent sessions; more get 421 at connect [default: 1000].
    #[arg(long, value_name = "N", value_parser = positive, help_heading = "Limits")]
    pub(crate) max_connections: Option<usize>,

    /// Concurrent sessions from one IP address [default: no limit].
    #[arg(long, value_name = "N", value_parser = positive, help_heading = "Limits")]
    pub(crate) max_connections_per_ip: Option<usize>,

    /// Bad commands before the server answers 421 and closes [default: 20].
    #[arg(long, value_name = "N", value_parser = positive, help_heading = "Limits")]
    pub(crate) max_errors: Option<usize>,

    /// Failed AUTH attempts before the server answers 421 and closes
    /// [default: 3].
    #[arg(long, value_name = "N", value_parser = positive, help_heading = "Limits")]
    pub(crate) max_auth_failures: Option<usize>,

    /// Sets both --command-timeout and --data-block-timeout; those flags
    /// win over it when given too.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Timeouts")]
    pub(crate) timeout: Option<u64>,

    /// Seconds to wait for each command line; then the client gets 421
    /// and the connection closes (RFC 5321 §4.5.3.2.7) [default: 300].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Timeouts")]
    pub(crate) command_timeout: Option<u64>,

    /// Seconds to wait for the next chunk of DATA or BDAT (RFC 5321
    /// §4.5.3.2.5) [default: 180].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Timeouts")]
    pub(crate) data_block_timeout: Option<u64>,

    /// Seconds the server may spend on a message after its end (policy and
    /// storage; RFC 5321 §4.5.3.2.6) [default: 600].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Timeouts")]
    pub(crate) data_termination_timeout: Option<u64>,

    /// Slowest average rate at which message content may arrive; a client
    /// trickling slower gets 421. 0 only restarts the data block timeout on
    /// every read [default: 500].
    #[arg(long, value_name = "OCTETS_PER_SEC", help_heading = "Timeouts")]
    pub(crate) min_data_rate: Option<u64>,

    /// After Ctrl-C or SIGTERM, seconds to let transactions in flight
    /// finish before the remaining sessions are closed [default: 30].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Timeouts")]
    pub(crate) shutdown_timeout: Option<u64>,
}

impl ServeArgs {
    /// Checks what clap cannot: returns the warnings to print, or the
    /// message of a usage error.
    pub(crate) fn check(&self) -> Result<Vec<String>, String> {
        if let (Some(line), Some(extended)) =
            (self.max_command_line, self.max_command_line_extended)
            && extended < line
        {
            return Err(format!(
                "--max-command-line-extended {extended} is below --max-command-line {line}"
            ));
        }
        let mut warnings = Vec::new();
        let largest = self
            .max_message_size
            .unwrap_or(mtakit::Limits::default().max_message_size);
        if self.maildir.is_none() && !self.discard && (self.store_bytes as u64) < largest {
            warnings.push(format!(
                "--store-bytes {} is below the largest message ({largest} octets): \
                 messages larger than it are accepted but not kept",
                self.store_bytes
            ));
        }
        if let Some(n) = self.max_recipients.filter(|n| *n < 100) {
            warnings.push(format!(
                "--max-recipients {n} violates RFC 5321 §4.5.3.1.8, which requires servers \
                 to accept at least 100 recipients"
            ));
        }
        if let Some(n) = self.max_auth_line.filter(|n| *n < 12288) {
            warnings.push(format!(
                "--max-auth-line {n} is below the 12288 octets RFC 4954 §4 asks for; \
                 long OAuth tokens will be refused"
            ));
        }
        if !self.users.is_empty() {
            if self.disable.contains(&Extension::Auth) {
                warnings.push(
                    "--auth is given with --disable auth: AUTH will not be offered".to_owned(),
                );
            } else if !self.tls_configured() && !self.allow_insecure_auth {
                warnings.push(
                    "--auth is given without TLS or --allow-insecure-auth: AUTH is only \
                     offered over TLS, so AUTH will not be offered; add --tls-self-signed \
                     (or --tls-cert and --tls-key), or --allow-insecure-auth"
                        .to_owned(),
                );
            }
        }
        Ok(warnings)
    }

    /// True when a certificate is given or generated.
    pub(crate) fn tls_configured(&self) -> bool {
        self.tls_cert.is_some() || self.tls_self_signed
    }
}
