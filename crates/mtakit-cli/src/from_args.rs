//! `mtakit serve`'s flags turned into a [`ServeConfig`]: the limits and
//! extensions they override, the HTTP bounds, and the typed settings.

use std::sync::Arc;
use std::time::Duration;

use mtakit::proto::{Extensions, Limits};

use crate::cli::{Extension, ServeArgs};
use crate::config::{HttpConfig, RelayConfig, ServeConfig, StoreKind, TlsSource};
use crate::http::{HttpLimits, SESSIONS_MAX_BYTES};

impl ServeConfig {
    /// The configuration the flags describe.
    pub(crate) fn from_args(args: &ServeArgs) -> ServeConfig {
        let http = (!args.no_http).then(|| HttpConfig {
            addr: args.http.clone(),
            limits: http_limits(args),
        });
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ if args.tls_self_signed => TlsSource::SelfSigned {
                dir: args.tls_dir.clone(),
            },
            _ => TlsSource::None,
        };
        let store = match &args.maildir {
            Some(dir) => StoreKind::Maildir(dir.clone()),
            None if args.discard => StoreKind::Discard,
            None => StoreKind::Memory {
                limit: args.store_limit,
                bytes: args.store_bytes,
            },
        };
        let events_on_stdout = args.events.as_deref() == Some(std::path::Path::new("-"));
        let print = matches!(store, StoreKind::Memory { .. }) && !args.quiet && !events_on_stdout;
        let relay = args.relay.clone().map(|relay| RelayConfig {
            relay: Arc::new(relay.with_connections(args.relay_connections)),
            connections: args.relay_connections,
            queue: args.relay_queue,
        });
        ServeConfig {
            listen: args.listen.clone(),
            implicit_tls: args.implicit_tls.clone(),
            http,
            port_file: args.port_file.clone(),
            hostname: args.hostname.clone(),
            limits: limits(args),
            extensions: extensions(args),
            lmtp: args.lmtp,
            require_tls: args.require_tls,
            require_auth: args.require_auth,
            allow_insecure_auth: args.allow_insecure_auth,
            proxy_from: args.proxy_protocol_from.clone(),
            users: args
                .users
                .iter()
                .map(|u| (u.name.clone(), u.password.clone()))
                .collect(),
            tls,
            store,
            print,
            events: args.events.clone(),
            faults: args.faults.clone(),
            relay,
            max_waiters: args.max_waiters,
            sessions_max_bytes: args.sessions_max_bytes.unwrap_or(SESSIONS_MAX_BYTES),
            transcript_bytes: args.transcript_bytes,
            max_content_in_flight: args
                .max_content_in_flight
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            threads: args.threads,
            shutdown_timeout: args.shutdown_timeout.map(Duration::from_secs),
        }
    }
}

/// The HTTP listener's bounds: the defaults, with what the flags override.
fn http_limits(args: &ServeArgs) -> HttpLimits {
    let mut http = HttpLimits::default();
    if let Some(n) = args.http_max_connections {
        http.max_connections = n;
    }
    if let Some(secs) = args.http_header_timeout {
        http.header_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.http_request_timeout {
        http.request_timeout = Duration::from_secs(secs);
    }
    http
}

/// The library defaults, with what the flags override. `--timeout` sets
/// the command and data block timeouts; the specific flags win over it.
pub(crate) fn limits(args: &ServeArgs) -> Limits {
    let mut limits = Limits::default();
    if let Some(size) = args.max_message_size {
        limits.max_message_size = size;
    }
    if let Some(n) = args.max_recipients {
        limits.max_recipients = n;
    }
    if let Some(n) = args.max_command_line {
        limits.command_line = n;
        // A MAIL or RCPT line with parameters may be at least as long.
        limits.command_line_extended = limits.command_line_extended.max(n);
    }
    if let Some(n) = args.max_command_line_extended {
        limits.command_line_extended = n;
    }
    if let Some(n) = args.max_auth_line {
        limits.auth_line = n;
    }
    if let Some(n) = args.max_text_line {
        limits.text_line = Some(n);
    }
    if let Some(n) = args.max_connections {
        limits.max_connections = n;
    }
    if let Some(n) = args.max_connections_per_ip {
        limits.max_connections_per_ip = Some(n);
    }
    if let Some(n) = args.max_errors {
        limits.max_errors = n;
    }
    if let Some(n) = args.max_auth_failures {
        limits.max_auth_failures = n;
    }
    if let Some(secs) = args.timeout {
        limits.command_timeout = Duration::from_secs(secs);
        limits.data_block_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.command_timeout {
        limits.command_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.data_block_timeout {
        limits.data_block_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = args.data_termination_timeout {
        limits.data_termination_timeout = Duration::from_secs(secs);
    }
    if let Some(rate) = args.min_data_rate {
        limits.min_data_rate = rate;
    }
    if let Some(policy) = args.line_endings {
        limits.line_endings = policy.into();
    }
    limits.allow_nul = args.allow_nul;
    limits
}

/// Every extension on, except those named by `--disable`.
pub(crate) fn extensions(args: &ServeArgs) -> Extensions {
    let mut on = Extensions::default();
    for extension in &args.disable {
        let flag = match extension {
            Extension::Pipelining => &mut on.pipelining,
            Extension::Size => &mut on.size,
            Extension::EightBitMime => &mut on.eight_bit_mime,
            Extension::SmtpUtf8 => &mut on.smtputf8,
            Extension::EnhancedStatusCodes => &mut on.enhanced_status_codes,
            Extension::Chunking => &mut on.chunking,
            Extension::BinaryMime => &mut on.binarymime,
            Extension::Dsn => &mut on.dsn,
            Extension::StartTls => &mut on.starttls,
            Extension::Auth => &mut on.auth,
        };
        *flag = false;
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_args::serve_args;

    #[test]
    fn no_flags_give_the_defaults() {
        let config = ServeConfig::from_args(&serve_args(&[]));
        assert_eq!(config.listen, "127.0.0.1:2525");
        assert_eq!(config.http.unwrap().limits, HttpLimits::default());
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.tls, TlsSource::None);
        assert!(matches!(
            config.store,
            StoreKind::Memory { limit: 1000, .. }
        ));
        assert!(config.print);
        assert_eq!(config.sessions_max_bytes, SESSIONS_MAX_BYTES);
        assert!(config.relay.is_none() && config.users.is_empty());
    }

    #[test]
    fn flags_become_typed_settings() {
        let config = ServeConfig::from_args(&serve_args(&[
            "--no-http",
            "--maildir",
            "/tmp/md",
            "--tls-self-signed",
            "--tls-dir",
            "/tmp/tls",
            "--auth",
            "alice:secret",
            "--http-max-connections",
            "5",
            "--sessions-max-bytes",
            "1000",
            "--max-content-in-flight",
            "4096",
            "--shutdown-timeout",
            "7",
        ]));
        assert!(config.http.is_none());
        assert_eq!(config.store, StoreKind::Maildir("/tmp/md".into()));
        assert!(!config.print, "a Maildir is not printed");
        assert_eq!(
            config.tls,
            TlsSource::SelfSigned {
                dir: Some("/tmp/tls".into())
            }
        );
        assert_eq!(config.users, [("alice".to_owned(), "secret".to_owned())]);
        assert_eq!(config.sessions_max_bytes, 1000);
        assert_eq!(config.max_content_in_flight, Some(4096));
        assert_eq!(config.shutdown_timeout, Some(Duration::from_secs(7)));
        let config = ServeConfig::from_args(&serve_args(&["--http-max-connections", "5"]));
        assert_eq!(config.http.unwrap().limits.max_connections, 5);
        assert!(!ServeConfig::from_args(&serve_args(&["--events", "-"])).print);
        assert!(!ServeConfig::from_args(&serve_args(&["--quiet"])).print);
    }

    fn args(flags: &[&str]) -> ServeArgs {
        serve_args(flags)
    }

    #[test]
    fn flags_become_limits() {
        let limits = limits(&args(&[
            "--max-message-size",
            "100",
            "--max-recipients",
            "5",
            "--max-connections",
            "7",
            "--max-connections-per-ip",
            "2",
            "--max-errors",
            "3",
            "--timeout",
            "9",
        ]));
        assert_eq!(limits.max_message_size, 100);
        assert_eq!(limits.max_recipients, 5);
        assert_eq!(limits.max_connections, 7);
        assert_eq!(limits.max_connections_per_ip, Some(2));
        assert_eq!(limits.max_errors, 3);
        assert_eq!(limits.command_timeout, Duration::from_secs(9));
        assert_eq!(limits.data_block_timeout, Duration::from_secs(9));
    }

    #[test]
    fn no_flags_keep_the_library_defaults() {
        assert_eq!(limits(&args(&[])), Limits::default());
    }

    #[test]
    fn every_limit_flag() {
        let limits = limits(&args(&[
            "--max-command-line",
            "1024",
            "--max-command-line-extended",
            "4096",
            "--max-auth-line",
            "20000",
            "--max-text-line",
            "1000",
            "--max-auth-failures",
            "4",
            "--command-timeout",
            "11",
            "--data-block-timeout",
            "12",
            "--data-termination-timeout",
            "13",
            "--min-data-rate",
            "0",
            "--line-endings",
            "normalize",
            "--allow-nul",
        ]));
        let expected = Limits {
            command_line: 1024,
            command_line_extended: 4096,
            auth_line: 20000,
            text_line: Some(1000),
            max_auth_failures: 4,
            command_timeout: Duration::from_secs(11),
            data_block_timeout: Duration::from_secs(12),
            data_termination_timeout: Duration::from_secs(13),
            min_data_rate: 0,
            line_endings: mtakit::proto::LineEndingPolicy::Normalize,
            allow_nul: true,
            ..Limits::default()
        };
        assert_eq!(limits, expected);
    }

    #[test]
    fn specific_timeouts_win_over_timeout_in_any_order() {
        for flags in [
            ["--timeout", "9", "--command-timeout", "4"],
            ["--command-timeout", "4", "--timeout", "9"],
        ] {
            let got = limits(&args(&flags));
            assert_eq!(got.command_timeout, Duration::from_secs(4));
            assert_eq!(got.data_block_timeout, Duration::from_secs(9));
        }
        let got = limits(&args(&["--data-block-timeout", "2", "--timeout", "9"]));
        assert_eq!(got.command_timeout, Duration::from_secs(9));
        assert_eq!(got.data_block_timeout, Duration::from_secs(2));
    }

    #[test]
    fn a_long_command_line_raises_the_extended_one() {
        let long = limits(&args(&["--max-command-line", "4000"]));
        assert_eq!(long.command_line, 4000);
        assert_eq!(long.command_line_extended, 4000);
        let short = limits(&args(&["--max-command-line", "1000"]));
        assert_eq!(short.command_line_extended, 2048);
    }

    #[test]
    fn disable_switches_extensions_off() {
        assert_eq!(extensions(&args(&[])), Extensions::default());
        let on = extensions(&args(&[
            "--disable",
            "Chunking,PIPELINING",
            "--disable",
            "8bitmime",
        ]));
        assert!(!on.chunking && !on.pipelining && !on.eight_bit_mime);
        assert!(on.size && on.dsn && on.binarymime && on.starttls && on.auth);
        let off = extensions(&args(&[
            "--disable",
            "pipelining,size,8bitmime,smtputf8,enhancedstatuscodes,chunking,binarymime,dsn,starttls,auth",
        ]));
        assert!(
            !(off.pipelining
                || off.size
                || off.eight_bit_mime
                || off.smtputf8
                || off.enhanced_status_codes
                || off.chunking
                || off.binarymime
                || off.dsn
                || off.starttls
                || off.auth)
        );
    }
}
