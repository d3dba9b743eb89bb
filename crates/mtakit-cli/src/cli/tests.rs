//! Tests of the command line: flags, defaults, help texts and checks.

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use mtakit::proto::LineEndingPolicy;

use std::path::PathBuf;

use super::*;

fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
    crate::test_args::try_serve_args(args)
}

#[test]
fn definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn defaults() {
    let args = serve(&[]).unwrap();
    assert_eq!(args.listen, "127.0.0.1:2525");
    assert_eq!(args.hostname, "localhost");
    assert_eq!(args.maildir, None);
    assert!(!args.discard);
    assert_eq!(args.relay, None);
    assert!(args.users.is_empty());
    assert!(!args.allow_insecure_auth);
    assert_eq!(args.max_message_size, None);
    assert_eq!(args.max_recipients, None);
    assert_eq!(args.max_connections, None);
    assert_eq!(args.max_connections_per_ip, None);
    assert_eq!(args.max_errors, None);
    assert_eq!(args.timeout, None);
    assert_eq!(args.http, "127.0.0.1:8025", "loopback only");
    assert!(!args.no_http && !args.quiet);
    assert_eq!(args.store_limit, 1000);
    assert_eq!(args.store_bytes, crate::http::STORE_BYTES);
    assert_eq!(args.max_waiters, crate::http::MAX_WAITERS);
    assert_eq!(
        (args.port_file, args.faults, args.events),
        (None, None, None)
    );
}

#[test]
fn http_flags() {
    let args = serve(&[
        "--http",
        "127.0.0.1:0",
        "--store-limit",
        "3",
        "--quiet",
        "--port-file",
        "p.json",
        "--faults",
        "f.toml",
        "--events",
        "-",
    ])
    .unwrap();
    assert_eq!(args.http, "127.0.0.1:0");
    assert_eq!(args.store_limit, 3);
    assert!(args.quiet);
    assert_eq!(args.events, Some(PathBuf::from("-")));
    assert!(serve(&["--no-http", "--http", "127.0.0.1:0"]).is_err());
    assert!(serve(&["--maildir", "m", "--store-limit", "3"]).is_err());
    assert!(serve(&["--store-limit", "0"]).is_err());
    let args = serve(&["--store-bytes", "1048576", "--max-waiters", "5"]).unwrap();
    assert_eq!((args.store_bytes, args.max_waiters), (1_048_576, 5));
    assert!(serve(&["--maildir", "m", "--store-bytes", "10"]).is_err());
    assert!(serve(&["--max-waiters", "0"]).is_err());
}

#[test]
fn every_flag() {
    let args = serve(&[
        "--listen",
        "0.0.0.0:0",
        "--hostname",
        "mx.example.com",
        "--maildir",
        "/tmp/mail",
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
        "--auth",
        "alice:secret",
        "--auth",
        "bob:pa:ss",
        "--allow-insecure-auth",
    ])
    .unwrap();
    assert_eq!(args.listen, "0.0.0.0:0");
    assert_eq!(args.hostname, "mx.example.com");
    assert_eq!(args.maildir, Some(PathBuf::from("/tmp/mail")));
    assert_eq!(args.max_message_size, Some(100));
    assert_eq!(args.max_recipients, Some(5));
    assert_eq!(args.max_connections, Some(7));
    assert_eq!(args.max_connections_per_ip, Some(2));
    assert_eq!(args.max_errors, Some(3));
    assert_eq!(args.timeout, Some(9));
    assert!(args.allow_insecure_auth);
    let users: Vec<(&str, &str)> = args
        .users
        .iter()
        .map(|u| (u.name.as_str(), u.password.as_str()))
        .collect();
    assert_eq!(users, [("alice", "secret"), ("bob", "pa:ss")]);
}

#[test]
fn new_flags_default_to_off() {
    let args = serve(&[]).unwrap();
    assert!(!args.lmtp && !args.require_tls && !args.tls_self_signed && !args.allow_nul);
    assert!(args.disable.is_empty() && args.proxy_protocol_from.is_empty());
    assert_eq!(args.tls_cert, None);
    assert_eq!(args.implicit_tls, None);
    assert_eq!(args.line_endings, None);
    assert!(!args.tls_configured());
    assert_eq!(args.check(), Ok(Vec::new()));
}

#[test]
fn tls_and_protocol_flags() {
    let args = serve(&[
        "--tls-self-signed",
        "--tls-dir",
        "/tmp/t",
        "--implicit-tls",
        "127.0.0.1:0",
        "--require-tls",
        "--lmtp",
        "--proxy-protocol-from",
        "127.0.0.1/32",
        "--proxy-protocol-from",
        "::1",
        "--disable",
        "DSN,starttls",
        "--disable",
        "Auth",
        "--line-endings",
        "record",
    ])
    .unwrap();
    assert!(args.tls_configured() && args.require_tls && args.lmtp);
    assert_eq!(args.implicit_tls.as_deref(), Some("127.0.0.1:0"));
    assert_eq!(args.proxy_protocol_from.len(), 2);
    assert!(args.proxy_protocol_from[0].contains("127.0.0.1".parse().unwrap()));
    assert!(!args.proxy_protocol_from[0].contains("127.0.0.2".parse().unwrap()));
    assert_eq!(
        args.disable,
        [Extension::Dsn, Extension::StartTls, Extension::Auth]
    );
    assert_eq!(args.line_endings, Some(LineEndings::Record));
}

#[test]
fn tls_flag_combinations() {
    assert!(serve(&["--tls-cert", "c", "--tls-key", "k"]).is_ok());
    for bad in [
        &["--tls-cert", "c"][..],
        &["--tls-key", "k"],
        &["--tls-dir", "d"],
        &["--implicit-tls", "127.0.0.1:0"],
        &["--require-tls"],
        &["--tls-self-signed", "--tls-cert", "c", "--tls-key", "k"],
    ] {
        assert!(serve(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn rfc_minimums_are_enforced() {
    for (flag, min) in [
        ("--max-command-line", 512),
        ("--max-command-line-extended", 512),
        ("--max-auth-line", 512),
        ("--max-text-line", 1000),
    ] {
        let below = (min - 1).to_string();
        let err = serve(&[flag, &below]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation, "{flag}");
        assert!(
            err.to_string().contains(&format!("at least {min}")),
            "{err}"
        );
        assert!(serve(&[flag, &min.to_string()]).is_ok(), "{flag}");
    }
    assert!(serve(&["--min-data-rate", "0"]).is_ok());
}

#[test]
fn check_warns_and_refuses() {
    let warnings = serve(&["--max-recipients", "5"]).unwrap().check().unwrap();
    assert!(warnings[0].contains("RFC 5321 §4.5.3.1.8"), "{warnings:?}");
    assert_eq!(
        serve(&["--max-recipients", "100"]).unwrap().check(),
        Ok(Vec::new())
    );
    let warnings = serve(&["--store-bytes", "1000"]).unwrap().check().unwrap();
    assert!(warnings[0].contains("not kept"), "{warnings:?}");
    let warnings = serve(&["--auth", "a:b"]).unwrap().check().unwrap();
    assert!(
        warnings[0].contains("AUTH will not be offered"),
        "{warnings:?}"
    );
    for quiet in [
        &["--auth", "a:b", "--tls-self-signed"][..],
        &["--auth", "a:b", "--allow-insecure-auth"],
    ] {
        assert_eq!(serve(quiet).unwrap().check(), Ok(Vec::new()), "{quiet:?}");
    }
    let warnings = serve(&[
        "--auth",
        "a:b",
        "--allow-insecure-auth",
        "--disable",
        "auth",
    ])
    .unwrap()
    .check()
    .unwrap();
    assert!(warnings[0].contains("--disable auth"), "{warnings:?}");
    let err = serve(&[
        "--max-command-line",
        "1024",
        "--max-command-line-extended",
        "600",
    ])
    .unwrap()
    .check()
    .unwrap_err();
    assert!(err.contains("below --max-command-line"), "{err}");
}

/// The `[default: …]` in the help text is the library's default.
#[test]
fn help_shows_the_library_defaults() {
    let d = mtakit::Limits::default();
    let expected = [
        ("max_message_size", d.max_message_size.to_string()),
        ("max_recipients", d.max_recipients.to_string()),
        ("max_command_line", d.command_line.to_string()),
        (
            "max_command_line_extended",
            d.command_line_extended.to_string(),
        ),
        ("max_auth_line", d.auth_line.to_string()),
        ("max_connections", d.max_connections.to_string()),
        ("max_errors", d.max_errors.to_string()),
        ("max_auth_failures", d.max_auth_failures.to_string()),
        ("command_timeout", d.command_timeout.as_secs().to_string()),
        (
            "data_block_timeout",
            d.data_block_timeout.as_secs().to_string(),
        ),
        (
            "data_termination_timeout",
            d.data_termination_timeout.as_secs().to_string(),
        ),
        ("min_data_rate", d.min_data_rate.to_string()),
    ];
    crate::test_args::assert_help_defaults(&expected);
    assert_eq!(d.text_line, None);
    assert_eq!(d.max_connections_per_ip, None);
    assert!(!d.allow_nul);
    assert_eq!(d.line_endings, LineEndingPolicy::Reject);
}

#[test]
fn malformed_auth_is_an_error() {
    for bad in ["alice", ":secret", "alice:", ""] {
        let err = serve(&["--auth", bad]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation, "{bad:?}");
    }
}

#[test]
fn zero_and_garbage_counts_are_errors() {
    for flag in [
        "--max-message-size",
        "--max-recipients",
        "--max-connections",
        "--max-connections-per-ip",
        "--max-errors",
        "--max-auth-failures",
        "--timeout",
        "--command-timeout",
        "--data-block-timeout",
        "--data-termination-timeout",
        "--shutdown-timeout",
    ] {
        assert!(serve(&[flag, "0"]).is_err(), "{flag} 0");
        assert!(serve(&[flag, "many"]).is_err(), "{flag} many");
        assert!(serve(&[flag, "-1"]).is_err(), "{flag} -1");
    }
}

#[test]
fn relay_pool_flags() {
    let args = serve(&[]).unwrap();
    assert_eq!(
        (args.relay_connections, args.relay_queue),
        (crate::http::RELAY_CONNECTIONS, crate::http::RELAY_QUEUE)
    );
    assert_eq!((args.relay_connections, args.relay_queue), (4, 1000));
    let args = serve(&["--relay-connections", "2", "--relay-queue", "10"]).unwrap();
    assert_eq!((args.relay_connections, args.relay_queue), (2, 10));
    assert!(serve(&["--relay-connections", "0"]).is_err());
    assert!(serve(&["--relay-queue", "0"]).is_err());
}

#[test]
fn maildir_and_discard_conflict() {
    let err = serve(&["--maildir", "x", "--discard"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
}

#[test]
fn unknown_flags_and_missing_subcommand_are_errors() {
    assert!(serve(&["--no-such-flag"]).is_err());
    assert!(Cli::try_parse_from(["mtakit"]).is_err());
}

#[test]
fn version() {
    let err = Cli::try_parse_from(["mtakit", "--version"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DisplayVersion);
    assert!(err.to_string().contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn password_is_not_debug_printed() {
    let args = serve(&["--auth", "alice:secret"]).unwrap();
    let shown = format!("{args:?}");
    assert!(shown.contains("alice"));
    assert!(!shown.contains("secret"));
}
