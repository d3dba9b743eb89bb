//! `mtakit serve` protocol flags: `--lmtp`, `--proxy-protocol-from`,
//! `--disable`, `--line-endings`, OAuth mechanisms for `--auth`, and the
//! limit flags with their usage errors and RFC warnings.

use crate::support::{Daemon, Smtp, base64, have_python, python, run_to_exit};

const END: &str = "------------ END MESSAGE ------------";

#[test]
fn lmtp_speaks_lhlo_and_replies_per_recipient() {
    let daemon = Daemon::start(&["--lmtp"]);
    let mut lmtp = Smtp::connect(daemon.addr);
    let (code, lines) = lmtp.cmd("EHLO client.example");
    assert!((500..600).contains(&code), "EHLO refused: {code} {lines:?}");
    assert!((500..600).contains(&lmtp.cmd("HELO client.example").0));
    assert_eq!(lmtp.cmd("LHLO client.example").0, 250);
    assert_eq!(lmtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(lmtp.cmd("RCPT TO:<b@example.com>").0, 250);
    assert_eq!(lmtp.cmd("RCPT TO:<c@example.com>").0, 250);
    assert_eq!(lmtp.cmd("DATA").0, 354);
    lmtp.send(b"Subject: lmtp\r\n\r\ntwo recipients\r\n");
    // One reply per accepted recipient (RFC 2033 §4.2).
    let (first, lines) = lmtp.cmd(".");
    assert_eq!(first, 250, "{lines:?}");
    let (second, lines) = lmtp.reply();
    assert_eq!(second, 250, "{lines:?}");
    assert_eq!(lmtp.cmd("QUIT").0, 221);
    let out = daemon.wait_stdout(END);
    assert!(out.contains("Rcpt-To: <c@example.com>\n"), "{out}");

    if have_python("lmtp (smtplib.LMTP part)") {
        let script = "import smtplib, sys\n\
                      s = smtplib.LMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example')\n\
                      s.sendmail('py@example.com', ['to@example.com'], 'Subject: py lmtp\\r\\n\\r\\nvia LMTP\\r\\n')\n\
                      s.quit()\n";
        python(script, &[&daemon.addr.port().to_string()]);
        daemon.wait_stdout("via LMTP");
    }
}

#[test]
fn proxy_protocol_sets_the_peer() {
    let daemon = Daemon::start(&["--proxy-protocol-from", "127.0.0.1/32"]);
    let header = format!(
        "PROXY TCP4 203.0.113.7 127.0.0.1 40000 {}\r\n",
        daemon.addr.port()
    );
    let mut smtp = Smtp::connect_after(daemon.addr, header.as_bytes());
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction("a@example.com", &["b@example.com"], "proxied\r\n");
    assert_eq!(reply.0, 250, "{reply:?}");
    let out = daemon.wait_stdout(END);
    assert!(out.contains("\nPeer: 203.0.113.7:40000\n"), "{out}");
}

#[test]
fn proxy_protocol_is_not_trusted_from_elsewhere() {
    // 127.0.0.1 is outside the trusted network: no header is expected,
    // and the client's own address is used.
    let daemon = Daemon::start(&["--proxy-protocol-from", "10.0.0.0/8"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction("a@example.com", &["b@example.com"], "direct\r\n");
    assert_eq!(reply.0, 250, "{reply:?}");
    let out = daemon.wait_stdout(END);
    let local = smtp.writer.local_addr().unwrap();
    assert!(out.contains(&format!("\nPeer: {local}\n")), "{out}");
}

#[test]
fn disabled_extensions_are_not_offered_or_accepted() {
    let daemon = Daemon::start(&["--disable", "CHUNKING,pipelining"]);
    let mut smtp = Smtp::connect(daemon.addr);
    let (code, lines) = smtp.cmd("EHLO client.example");
    assert_eq!(code, 250);
    for gone in ["CHUNKING", "PIPELINING", "BINARYMIME"] {
        assert!(!lines.iter().any(|l| l == gone), "{gone}: {lines:?}");
    }
    for kept in ["8BITMIME", "DSN", "ENHANCEDSTATUSCODES"] {
        assert!(lines.iter().any(|l| l == kept), "{kept}: {lines:?}");
    }
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<b@example.com>").0, 250);
    // The chunk follows the command, as a client would send it; it is
    // skipped, never read as commands.
    smtp.send(b"BDAT 5 LAST\r\nhello");
    let (code, lines) = smtp.reply();
    assert_eq!(code, 502, "{lines:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);
    assert!(!daemon.stdout().contains("hello"));
}

#[test]
fn disable_size_and_enhanced_status_codes() {
    let daemon = Daemon::start(&["--disable", "size", "--disable", "EnhancedStatusCodes"]);
    let mut smtp = Smtp::connect(daemon.addr);
    let (_, lines) = smtp.cmd("EHLO client.example");
    assert!(!lines.iter().any(|l| l.starts_with("SIZE")), "{lines:?}");
    assert!(
        !lines.iter().any(|l| l == "ENHANCEDSTATUSCODES"),
        "{lines:?}"
    );
    let (code, lines) = smtp.cmd("MAIL FROM:<a@example.com> SIZE=10");
    assert!((500..600).contains(&code), "{code} {lines:?}");
    let (code, lines) = smtp.cmd("MAIL FROM:<a@example.com>");
    assert_eq!(code, 250);
    assert!(!lines[0].starts_with("2.1.0"), "{lines:?}");
}

#[test]
fn line_endings_record_accepts_bare_lf() {
    let daemon = Daemon::start(&["--line-endings", "record"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction(
        "a@example.com",
        &["b@example.com"],
        "Subject: bare\r\n\r\none\ntwo\r\n",
    );
    assert_eq!(reply.0, 250, "{reply:?}");
    let out = daemon.wait_stdout(END);
    assert!(
        out.contains("\nFinding: 1 bare LF in the content\n"),
        "{out}"
    );
    assert!(out.contains("\n| one\n| two\n"), "{out}");
}

#[test]
fn line_endings_reject_is_the_default() {
    let daemon = Daemon::start(&[]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction("a@example.com", &["b@example.com"], "one\ntwo\r\n");
    assert_eq!(reply.0, 550, "{reply:?}");
}

#[test]
fn oauth_tokens_are_checked_as_the_password() {
    let daemon = Daemon::start(&["--auth", "alice:tok3n", "--allow-insecure-auth"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let xoauth2 =
        |token: &str| base64(format!("user=alice\x01auth=Bearer {token}\x01\x01").as_bytes());
    let (code, lines) = smtp.cmd(&format!("AUTH XOAUTH2 {}", xoauth2("wrong")));
    // RFC 7628: a failure first gets a 334 error challenge, answered empty.
    if code == 334 {
        assert_eq!(smtp.cmd("").0, 535, "{lines:?}");
    } else {
        assert_eq!(code, 535, "{lines:?}");
    }
    let (code, lines) = smtp.cmd(&format!("AUTH XOAUTH2 {}", xoauth2("tok3n")));
    assert_eq!(code, 235, "{lines:?}");
}

#[test]
fn limit_flags_take_effect() {
    let daemon = Daemon::start(&["--max-text-line", "1000", "--max-auth-failures", "1"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let long = format!("{}\r\n", "x".repeat(1200));
    let (code, lines) = smtp.transaction("a@example.com", &["b@example.com"], &long);
    assert_eq!(code, 500, "{lines:?}");

    let daemon = Daemon::start(&[
        "--max-command-line",
        "600",
        "--auth",
        "alice:secret",
        "--allow-insecure-auth",
        "--max-auth-failures",
        "1",
    ]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let (code, _) = smtp.cmd(&format!("NOOP {}", "y".repeat(600)));
    assert_eq!(code, 500, "over 600 octets");
    assert_eq!(smtp.cmd(&format!("NOOP {}", "y".repeat(580))).0, 250);
    let token = base64(b"\0alice\0wrong");
    assert_eq!(smtp.cmd(&format!("AUTH PLAIN {token}")).0, 535);
    let (code, lines) = smtp.reply();
    assert_eq!(code, 421, "one failure is the limit: {lines:?}");
}

#[test]
fn small_max_recipients_warns() {
    let daemon = Daemon::start(&["--max-recipients", "2"]);
    let stderr = daemon.stderr();
    assert!(stderr.contains("RFC 5321 §4.5.3.1.8"), "{stderr}");
    let quiet = Daemon::start(&["--max-recipients", "100"]);
    assert!(!quiet.stderr().contains("warning"), "{}", quiet.stderr());
}

#[test]
fn flag_values_that_break_the_rfc_are_usage_errors() {
    let (status, text) = run_to_exit(&["serve", "--max-command-line", "100"]);
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("at least 512"), "{text}");
    assert!(text.contains("RFC 5321 §4.5.3.1.4"), "{text}");

    let (status, text) = run_to_exit(&["serve", "--max-text-line", "999"]);
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("RFC 5321 §4.5.3.1.6"), "{text}");

    let (status, text) = run_to_exit(&["serve", "--disable", "chunking,nosuch"]);
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("8bitmime"), "lists the valid names: {text}");

    let (status, text) = run_to_exit(&["serve", "--proxy-protocol-from", "10.0.0.0/33"]);
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("CIDR"), "{text}");

    let (status, text) = run_to_exit(&["serve", "--line-endings", "lenient"]);
    assert_eq!(status.code(), Some(2), "{text}");

    let (status, text) = run_to_exit(&[
        "serve",
        "--max-command-line",
        "1024",
        "--max-command-line-extended",
        "600",
    ]);
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("below --max-command-line"), "{text}");

    for flag in [
        "--max-auth-failures",
        "--command-timeout",
        "--data-block-timeout",
        "--data-termination-timeout",
        "--shutdown-timeout",
    ] {
        let (status, text) = run_to_exit(&["serve", flag, "0"]);
        assert_eq!(status.code(), Some(2), "{flag}: {text}");
    }
}

/// `--require-auth`: MAIL before a successful AUTH gets `530 5.7.0`, also
/// after a failed AUTH (redteam §14, interop D3).
#[test]
fn require_auth_refuses_mail_until_auth_succeeds() {
    let daemon = Daemon::start(&[
        "--auth",
        "alice:secret",
        "--allow-insecure-auth",
        "--require-auth",
    ]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let (code, lines) = smtp.cmd("MAIL FROM:<a@example.com>");
    assert_eq!(code, 530, "{lines:?}");
    assert!(lines[0].starts_with("5.7.0"), "{lines:?}");
    let wrong = base64(b"\0alice\0wrong");
    assert_eq!(smtp.cmd(&format!("AUTH PLAIN {wrong}")).0, 535);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 530);
    let right = base64(b"\0alice\0secret");
    assert_eq!(smtp.cmd(&format!("AUTH PLAIN {right}")).0, 235);
    assert_eq!(smtp.cmd("MAIL FROM:<a@example.com>").0, 250);
}

#[test]
fn require_auth_needs_auth() {
    let (status, stderr) = run_to_exit(&["serve", "--require-auth"]);
    assert!(!status.success());
    assert!(stderr.contains("--auth"), "{stderr}");
}

/// `--max-content-in-flight`: a message whose content does not fit in the
/// server-wide budget is drained and refused with `452 4.3.1`; a smaller
/// one still goes through.
#[test]
fn content_in_flight_budget_flag() {
    let daemon = Daemon::start(&["--max-content-in-flight", "100000"]);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let big = format!("Subject: big\r\n\r\n{}", "y".repeat(998) + "\r\n").repeat(200);
    let (code, lines) = smtp.transaction("a@example.com", &["b@example.com"], &big);
    assert_eq!(code, 452, "{lines:?}");
    assert!(lines[0].starts_with("4.3.1"), "{lines:?}");
    let (code, lines) = smtp.transaction(
        "a@example.com",
        &["b@example.com"],
        "Subject: small\r\n\r\nok\r\n",
    );
    assert_eq!(code, 250, "{lines:?}");
}
