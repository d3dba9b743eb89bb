//! The command line: `mtakit serve` and its flags.
//!
//! The flag names are a contract (see DESIGN.md, "The `mtakit` command"):
//! tests and users depend on them.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A development SMTP server: receive mail from the code you are testing and
/// print it, store it in a Maildir, or drop it.
#[derive(Debug, Parser)]
#[command(name = "mtakit", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run an SMTP server until Ctrl-C or SIGTERM.
    ///
    /// Each accepted message is printed on stdout, unless --maildir or
    /// --discard is given. Once the listener is bound, one line with
    /// `listening on IP:PORT` is printed on stderr.
    Serve(ServeArgs),
}

/// The flags of `mtakit serve`.
#[derive(Debug, Args)]
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

    /// Largest message accepted, advertised in SIZE [default: 10485760].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_message_size: Option<u64>,

    /// Recipients per transaction [default: 1000].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub(crate) max_recipients: Option<usize>,

    /// Concurrent sessions; more get 421 at connect [default: 1000].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub(crate) max_connections: Option<usize>,

    /// Concurrent sessions from one IP address [default: no limit].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub(crate) max_connections_per_ip: Option<usize>,

    /// Bad commands before the server answers 421 and closes [default: 20].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub(crate) max_errors: Option<usize>,

    /// Seconds to wait for the next command or the next chunk of DATA; then
    /// the client gets 421 and the connection closes [default: 300 for
    /// commands, 180 inside DATA].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout: Option<u64>,

    /// Accept AUTH PLAIN and LOGIN with this user name and password
    /// (repeatable).
    #[arg(long = "auth", value_name = "USER:PASS", value_parser = parse_user)]
    pub(crate) users: Vec<User>,

    /// Offer AUTH over plaintext connections. Without it, and without TLS,
    /// AUTH is not offered.
    #[arg(long)]
    pub(crate) allow_insecure_auth: bool,
}

/// One `--auth USER:PASS` value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) password: String,
}

impl fmt::Debug for User {
    /// Never shows the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Parses `USER:PASS`; the password may itself contain colons.
fn parse_user(value: &str) -> Result<User, String> {
    match value.split_once(':') {
        Some((name, password)) if !name.is_empty() && !password.is_empty() => Ok(User {
            name: name.to_owned(),
            password: password.to_owned(),
        }),
        _ => Err("expected USER:PASS, with a non-empty user name and password".to_owned()),
    }
}

/// Parses a count of at least 1.
fn positive(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    use super::*;

    fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let argv = ["mtakit", "serve"].iter().chain(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Serve(args) => args,
        })
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
        assert!(args.users.is_empty());
        assert!(!args.allow_insecure_auth);
        assert_eq!(args.max_message_size, None);
        assert_eq!(args.max_recipients, None);
        assert_eq!(args.max_connections, None);
        assert_eq!(args.max_connections_per_ip, None);
        assert_eq!(args.max_errors, None);
        assert_eq!(args.timeout, None);
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
            "--timeout",
        ] {
            assert!(serve(&[flag, "0"]).is_err(), "{flag} 0");
            assert!(serve(&[flag, "many"]).is_err(), "{flag} many");
            assert!(serve(&[flag, "-1"]).is_err(), "{flag} -1");
        }
    }

    #[test]
    fn maildir_and_discard_conflict() {
        let err = serve(&["--maildir", "x", "--discard"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn unknown_flags_and_missing_subcommand_are_errors() {
        assert!(serve(&["--lmtp"]).is_err());
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
}
