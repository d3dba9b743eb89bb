//! `mtakit serve` with TLS: `--tls-self-signed`, `--tls-cert`/`--tls-key`,
//! `--implicit-tls` and `--require-tls`, checked with python3's smtplib
//! and ssl modules, which verify the certificate chain against the printed
//! test CA for real.

use std::path::PathBuf;

use crate::support::{Daemon, Smtp, TempDir, have_python, python, run_to_exit};

const END: &str = "------------ END MESSAGE ------------";

/// The CA path from the `mtakit: test CA certificate: PATH` line.
fn ca_path(daemon: &Daemon) -> PathBuf {
    let stderr = daemon.wait_stderr("test CA certificate: ");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("mtakit: test CA certificate: "))
        .unwrap_or_else(|| panic!("no CA line in:\n{stderr}"));
    let path = PathBuf::from(line.trim());
    assert!(path.is_file(), "{}", path.display());
    assert!(path.ends_with("ca.pem"), "{}", path.display());
    path
}

/// The port of the `listening (implicit TLS) on IP:PORT` line.
fn implicit_tls_port(daemon: &Daemon) -> u16 {
    let stderr = daemon.wait_stderr("listening (implicit TLS) on ");
    let addr: std::net::SocketAddr = stderr
        .lines()
        .find_map(|l| l.split("listening (implicit TLS) on ").nth(1))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no implicit TLS address in:\n{stderr}"));
    assert_ne!(addr.port(), 0, "the real port is printed");
    assert_ne!(addr.port(), daemon.addr.port());
    addr.port()
}

/// STARTTLS, verified against the CA, then AUTH PLAIN and one message.
const STARTTLS: &str = "\
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', timeout=10)
s.starttls(context=ctx)
print(s.sock.version())
if len(sys.argv) > 3:
    s.login(sys.argv[3], sys.argv[4])
s.sendmail('py@example.com', ['to@example.com'], 'Subject: over tls\\r\\n\\r\\nsent after STARTTLS\\r\\n')
s.quit()
";

/// Implicit TLS (SMTP_SSL), verified against the CA, and one message.
const IMPLICIT: &str = "\
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', context=ctx, timeout=10)
s.sendmail('py@example.com', ['to@example.com'], 'Subject: implicit\\r\\n\\r\\nsent over implicit TLS\\r\\n')
s.quit()
";

#[test]
fn self_signed_starttls_with_auth() {
    if !have_python("self_signed_starttls_with_auth") {
        return;
    }
    let daemon = Daemon::start(&["--tls-self-signed", "--auth", "alice:secret"]);
    let ca = ca_path(&daemon);
    assert!(
        !daemon.stderr().contains("warning"),
        "TLS makes AUTH possible, so no warning:\n{}",
        daemon.stderr()
    );
    // Over plaintext, STARTTLS is offered and AUTH is not.
    let mut smtp = Smtp::connect(daemon.addr);
    let (_, lines) = smtp.cmd("EHLO client.example");
    assert!(lines.iter().any(|l| l == "STARTTLS"), "{lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("AUTH")), "{lines:?}");

    let port = daemon.addr.port().to_string();
    let out = python(STARTTLS, &[&port, ca.to_str().unwrap(), "alice", "secret"]);
    assert!(out.starts_with("TLSv1."), "{out}");
    let printed = daemon.wait_stdout(END);
    assert!(printed.contains("\nAuth: alice\n"), "{printed}");
    assert!(printed.contains("\nTls: TLSv1."), "{printed}");
    assert!(printed.contains("sent after STARTTLS\n"), "{printed}");
    let _ = std::fs::remove_dir_all(ca.parent().unwrap());
}

#[test]
fn cert_and_key_files_written_by_tls_dir() {
    if !have_python("cert_and_key_files_written_by_tls_dir") {
        return;
    }
    let dir = TempDir::new("tls-dir");
    let path = dir.0.to_str().unwrap();
    let first = Daemon::start(&["--tls-self-signed", "--tls-dir", path]);
    assert_eq!(ca_path(&first), dir.0.join("ca.pem"));
    drop(first);

    let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    let daemon = Daemon::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let port = daemon.addr.port().to_string();
    let ca = dir.0.join("ca.pem");
    python(STARTTLS, &[&port, ca.to_str().unwrap()]);
    let printed = daemon.wait_stdout(END);
    assert!(printed.contains("\nTls: TLSv1."), "{printed}");
}

#[test]
fn implicit_tls_listener() {
    if !have_python("implicit_tls_listener") {
        return;
    }
    let mut daemon = Daemon::start(&["--tls-self-signed", "--implicit-tls", "127.0.0.1:0"]);
    let ca = ca_path(&daemon);
    let port = implicit_tls_port(&daemon).to_string();
    python(IMPLICIT, &[&port, ca.to_str().unwrap()]);
    let printed = daemon.wait_stdout(END);
    assert!(printed.contains("\nTls: TLSv1."), "{printed}");
    assert!(printed.contains("sent over implicit TLS\n"), "{printed}");

    // One signal stops both listeners.
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit().code(), Some(0), "{}", daemon.stderr());
    let _ = std::fs::remove_dir_all(ca.parent().unwrap());
}

#[test]
fn require_tls_refuses_mail_in_plaintext() {
    let daemon = Daemon::start(&["--tls-self-signed", "--require-tls"]);
    let ca = ca_path(&daemon);
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let (code, lines) = smtp.cmd("MAIL FROM:<a@example.com>");
    assert_eq!(code, 530, "{lines:?}");
    assert!(lines[0].starts_with("5.7.0"), "{lines:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);
    if have_python("require_tls_refuses_mail_in_plaintext (TLS part)") {
        let port = daemon.addr.port().to_string();
        python(STARTTLS, &[&port, ca.to_str().unwrap()]);
        daemon.wait_stdout("sent after STARTTLS");
    }
    let _ = std::fs::remove_dir_all(ca.parent().unwrap());
}

#[test]
fn tls_flag_errors() {
    for args in [
        &["serve", "--implicit-tls", "127.0.0.1:0"][..],
        &["serve", "--require-tls"],
        &["serve", "--tls-cert", "c.pem"],
        &["serve", "--tls-key", "k.pem"],
        &["serve", "--tls-dir", "/tmp/x"],
        &[
            "serve",
            "--tls-self-signed",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
        ],
    ] {
        let (status, text) = run_to_exit(args);
        assert_eq!(status.code(), Some(2), "{args:?}: {text}");
    }
    let (status, text) = run_to_exit(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("cannot load the TLS certificate"), "{text}");
    assert!(!text.contains("listening on"), "{text}");
}

/// A client that sends an IP address as SNI (GnuTLS clients such as msmtp
/// do) is harmless; rustls's warning about it no longer reaches the log
/// once per connection (interop D7). `openssl s_client` sends it.
#[test]
fn an_ip_address_as_sni_is_not_logged_as_a_warning() {
    let Ok(status) = std::process::Command::new("openssl")
        .arg("version")
        .status()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is needed for this test under CI"
        );
        eprintln!("skipping: no openssl");
        return;
    };
    assert!(status.success());
    let daemon = Daemon::start(&["--tls-self-signed", "--implicit-tls", "127.0.0.1:0"]);
    let port = implicit_tls_port(&daemon);
    let mut client = std::process::Command::new("openssl")
        .args(["s_client", "-quiet", "-crlf", "-servername", "127.0.0.1"])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_client");
    {
        use std::io::Write;
        let mut stdin = client.stdin.take().unwrap();
        stdin.write_all(b"QUIT\n").unwrap();
    }
    let out = client.wait_with_output().expect("s_client output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("220 ") && text.contains("221 "), "{text}");
    let stderr = daemon.stderr();
    assert!(!stderr.contains("SNI"), "{stderr}");
    assert!(!stderr.contains("WARN"), "{stderr}");
}
