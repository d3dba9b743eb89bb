//! A real Postfix `lmtp` client delivering into `mtakit serve --lmtp`
//! (interop D1). Postfix pipelines QUIT after the end of DATA; when mtakit
//! refused a message with a single reply, Postfix read the `221` as the
//! second recipient's result and logged `status=sent` for mail that was
//! never stored. Every refused recipient must be bounced or deferred.
//!
//! The test runs a throw-away Postfix instance (its own config, queue and
//! log under a temporary directory, no listener of its own) as root. It
//! needs Debian's `postfix` package; `.ci/run` installs it. Elsewhere,
//! without root or Postfix, it is skipped (under `CI` it fails instead).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{Daemon, TempDir};

const POSTFIX: &str = "/usr/sbin/postfix";
const SENDMAIL: &str = "/usr/sbin/sendmail";

/// True when this test can run here; panics under CI when it cannot.
fn postfix_available() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let installed = Path::new(POSTFIX).exists() && Path::new(SENDMAIL).exists();
    if root && installed {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the Postfix LMTP test needs root and the postfix package under CI \
         (root: {root}, postfix installed: {installed})"
    );
    eprintln!("skipping: needs root and Debian's postfix package");
    false
}

/// A Postfix instance in `dir`, stopped when dropped.
struct Postfix {
    config: PathBuf,
    log: PathBuf,
}

impl Postfix {
    fn start(dir: &Path, lmtp_port: u16) -> Postfix {
        let config = dir.join("etc");
        let queue = dir.join("spool");
        let data = dir.join("data");
        for d in [&config, &queue, &data] {
            fs::create_dir_all(d).unwrap();
        }
        let status = Command::new("chown")
            .arg("postfix")
            .arg(&data)
            .status()
            .unwrap();
        assert!(status.success(), "chown postfix {}", data.display());
        fs::copy("/etc/postfix/master.cf", config.join("master.cf")).unwrap();
        let log = dir.join("maillog");
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {queue}\n\
             data_directory = {data}\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             myhostname = postfix.test\n\
             mydomain = postfix.test\n\
             myorigin = postfix.test\n\
             mydestination =\n\
             relay_domains =\n\
             inet_interfaces = loopback-only\n\
             inet_protocols = ipv4\n\
             master_service_disable = inet\n\
             default_transport = lmtp:inet:127.0.0.1:{lmtp_port}\n\
             maillog_file = {log}\n\
             maillog_file_prefixes = {dir}\n\
             alias_maps =\n\
             alias_database =\n\
             local_recipient_maps =\n\
             smtputf8_enable = no\n\
             biff = no\n\
             notify_classes =\n",
            queue = queue.display(),
            data = data.display(),
            log = log.display(),
            dir = dir.display(),
        );
        fs::write(config.join("main.cf"), main_cf).unwrap();
        let postfix = Postfix { config, log };
        let out = postfix.command(POSTFIX, &["start"]).output().unwrap();
        assert!(
            out.status.success(),
            "postfix start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        postfix
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        if program == POSTFIX {
            command.arg("-c").arg(&self.config);
        } else {
            command.arg("-C").arg(&self.config);
        }
        command.args(args);
        command
    }

    /// Submits `message` for `recipients` with the null sender (so that no
    /// bounce comes back).
    fn submit(&self, recipients: &[&str], message: &str) {
        let mut args = vec!["-f", "<>"];
        args.extend_from_slice(recipients);
        let mut child = self
            .command(SENDMAIL, &args)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(message.as_bytes()).unwrap();
        }
        assert!(child.wait().unwrap().success(), "sendmail");
    }

    /// The log line with the delivery status of `recipient`, waiting for it
    /// (at most a minute).
    fn status_of(&self, recipient: &str) -> String {
        let needle = format!("to=<{recipient}>");
        let start = Instant::now();
        loop {
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(line) = log
                .lines()
                .find(|l| l.contains(&needle) && l.contains("status="))
            {
                return line.to_owned();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no status for {recipient} in:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = self.command(POSTFIX, &["stop"]).output();
    }
}

fn status(line: &str) -> &str {
    line.split("status=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or("")
}

#[test]
fn postfix_never_logs_a_refused_recipient_as_sent() {
    if !postfix_available() {
        return;
    }
    let dir = TempDir::new("postfix-lmtp");
    fs::create_dir_all(&dir.0).unwrap();
    let maildir = dir.0.join("Maildir");
    let daemon = Daemon::start(&[
        "--lmtp",
        "--disable",
        "size",
        "--max-message-size",
        "3000",
        "--maildir",
        maildir.to_str().unwrap(),
    ]);
    let postfix = Postfix::start(&dir.0, daemon.addr.port());

    // A message that fits: both recipients delivered, as a control.
    postfix.submit(
        &["ok1@example.com", "ok2@example.com"],
        "Subject: small\n\nhello\n",
    );
    for rcpt in ["ok1@example.com", "ok2@example.com"] {
        let line = postfix.status_of(rcpt);
        assert_eq!(status(&line), "sent", "{line}");
        assert!(line.contains("250 2.0.0 Ok: queued as "), "{line}");
    }

    // Too big, with SIZE not announced: refused at the end of DATA, once
    // per recipient, so both bounce and neither reads the 221 as its own.
    let big = format!(
        "Subject: big\n\n{}",
        format!("{}\n", "x".repeat(70)).repeat(60)
    );
    postfix.submit(&["big1@example.com", "big2@example.com"], &big);
    for rcpt in ["big1@example.com", "big2@example.com"] {
        let line = postfix.status_of(rcpt);
        assert!(
            matches!(status(&line), "bounced" | "deferred"),
            "{rcpt} must not be delivered: {line}"
        );
        assert!(!line.contains("closing connection"), "{line}");
    }
    let stored = fs::read_dir(maildir.join("new")).unwrap().count();
    assert_eq!(stored, 1, "only the small message is stored");
}
