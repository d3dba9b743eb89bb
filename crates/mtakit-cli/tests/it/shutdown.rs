//! SIGTERM while 50 clients are mid-transaction (issue 4, "Nothing
//! lost"): every message acknowledged with 250 is in the Maildir, and
//! nothing else is.
//!
//! Each message carries a unique token in its Subject, so the stored files
//! can be matched with the clients' replies.

use std::collections::BTreeSet;

use crate::support::{Daemon, Smtp, TempDir, files_in};

/// Clients in all.
const CLIENTS: usize = 50;
/// Clients 0..DONE_BEFORE finish their message before the signal.
const DONE_BEFORE: usize = 20;
/// Clients DONE_BEFORE..FINISH_AFTER are mid-DATA at the signal and finish
/// within the drain window; the rest give up mid-DATA and disconnect.
const FINISH_AFTER: usize = 45;

fn token(i: usize) -> String {
    format!("shutdown-token-{i:02}")
}

/// Connects and gets client `i` into DATA with the first part of its
/// message sent.
fn start_transaction(daemon: &Daemon, i: usize) -> Smtp {
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd(&format!("EHLO client{i}.example")).0, 250);
    assert_eq!(smtp.cmd(&format!("MAIL FROM:<c{i}@example.com>")).0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<sink@example.com>").0, 250);
    assert_eq!(smtp.cmd("DATA").0, 354);
    smtp.send(format!("Subject: {}\r\n\r\nfirst part\r\n", token(i)).as_bytes());
    smtp
}

/// Sends the rest of client `i`'s message and returns the final reply
/// code, or `None` when the connection was closed without one.
fn finish(smtp: &mut Smtp, i: usize) -> Option<u16> {
    let rest = format!("second part of {}\r\n.\r\n", token(i));
    smtp.send_lenient(rest.as_bytes())?;
    smtp.reply_lenient().map(|(code, _)| code)
}

/// The tokens of the messages in `dir`, each file read once.
fn stored_tokens(dir: &std::path::Path) -> Vec<String> {
    files_in(dir)
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let subject = text
                .lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap_or_else(|| panic!("no Subject in {}:\n{text}", path.display()));
            assert!(
                text.contains(&format!("second part of {subject}\r\n")),
                "a stored message is complete: {text}"
            );
            subject.to_owned()
        })
        .collect()
}

#[test]
fn sigterm_with_50_clients_mid_transaction_loses_nothing() {
    let dir = TempDir::new("shutdown");
    let mut daemon = Daemon::start(&["--maildir", dir.0.to_str().unwrap()]);
    let mut clients: Vec<Smtp> = (0..CLIENTS)
        .map(|i| start_transaction(&daemon, i))
        .collect();

    let mut acknowledged = BTreeSet::new();
    let mut replies = Vec::new();
    for (i, smtp) in clients.iter_mut().enumerate().take(DONE_BEFORE) {
        let code = finish(smtp, i);
        assert_eq!(code, Some(250), "client {i} before the signal");
        acknowledged.insert(token(i));
    }

    daemon.signal("TERM");
    daemon.wait_stderr("received SIGTERM");

    // The rest of the clients now finish (or abandon) their messages
    // within the drain window.
    for (i, mut smtp) in clients.into_iter().enumerate().skip(DONE_BEFORE) {
        if i < FINISH_AFTER {
            let code = finish(&mut smtp, i);
            replies.push((i, code));
            if code == Some(250) {
                acknowledged.insert(token(i));
            }
        } else {
            // Half a message, then the connection drops.
            drop(smtp);
        }
    }

    let status = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", daemon.stderr());

    let stored = stored_tokens(&dir.0.join("new"));
    let stored_set: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), stored_set.len(), "each message stored once");
    assert_eq!(
        stored_set, acknowledged,
        "stored messages are exactly the acknowledged ones; replies after the signal: {replies:?}"
    );
    let leftovers = files_in(&dir.0.join("tmp"));
    assert!(leftovers.is_empty(), "nothing left in tmp/: {leftovers:?}");
    for i in FINISH_AFTER..CLIENTS {
        assert!(
            !stored_set.contains(&token(i)),
            "abandoned message {i} stored"
        );
    }
    // Transactions in flight at the signal are allowed to finish.
    for (i, code) in &replies {
        assert_eq!(*code, Some(250), "client {i} mid-DATA at the signal");
    }
}
