//! The test harness itself: the blocking `TestServer` in plain `#[test]`s,
//! `wait_for_messages` failing with a helpful panic, and interop with
//! Python's smtplib against the blocking server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mtakit::auth_fn;
use mtakit::proto::{Reply, ReplyReader};
use mtakit::test_util::{ReplyExt, TestServer};

use crate::support::bounded;

/// Socket reads and writes in this file give up after this.
const IO_WAIT: Duration = Duration::from_secs(10);

/// A blocking client for plain `#[test]`s, reading replies with the
/// library's bounded `ReplyReader`.
struct Blocking {
    stream: TcpStream,
    replies: ReplyReader,
}

impl Blocking {
    fn connect(server: &TestServer) -> Self {
        let stream = TcpStream::connect(server.addr()).expect("connect");
        stream.set_read_timeout(Some(IO_WAIT)).expect("timeout");
        stream.set_write_timeout(Some(IO_WAIT)).expect("timeout");
        let mut client = Self {
            stream,
            replies: ReplyReader::new(),
        };
        client.reply().assert_code(220);
        client
    }

    /// Reads one whole reply.
    fn reply(&mut self) -> Reply {
        loop {
            if let Some(reply) = self.replies.next_reply().expect("a well-formed reply") {
                return reply;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read a reply");
            assert!(n > 0, "connection closed while waiting for a reply");
            self.replies.feed(&chunk[..n]);
        }
    }

    fn command(&mut self, line: &str) -> Reply {
        self.stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write");
        self.reply()
    }
}

fn send_one(server: &TestServer, subject: &str) {
    let mut c = Blocking::connect(server);
    c.command("EHLO client.test").assert_code(250);
    c.command("MAIL FROM:<a@a.test>").assert_code(250);
    c.command("RCPT TO:<b@b.test>").assert_code(250);
    c.command("DATA").assert_code(354);
    c.command(&format!("Subject: {subject}\r\n\r\nbody\r\n."))
        .assert_code(250);
    c.command("QUIT").assert_code(221);
}

#[test]
fn blocking_server_works_in_a_plain_test() {
    let server = TestServer::start();
    send_one(&server, "blocking");
    let messages = server.wait_for_messages(1);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].header("Subject"), Some("blocking"));
    assert_eq!(server.messages().len(), 1);
    assert_eq!(messages[0].peer().ip().to_string(), "127.0.0.1");
    server.shutdown();
}

#[test]
#[should_panic(expected = "expected at least 1 message")]
fn wait_for_messages_panics_when_nothing_arrives() {
    let server = TestServer::builder()
        .wait_timeout(Duration::from_millis(50))
        .start();
    let _ = server.wait_for_messages(1);
}

#[test]
fn wait_for_messages_panic_lists_what_did_arrive() {
    let server = TestServer::builder()
        .wait_timeout(Duration::from_millis(100))
        .start();
    send_one(&server, "the only one");
    let started = Instant::now();
    let panic = catch_unwind(AssertUnwindSafe(|| server.wait_for_messages(2)))
        .expect_err("waiting for 2 of 1 must panic");
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .expect("a text panic");
    assert!(text.contains("expected at least 2 message"), "{text}");
    assert!(text.contains("but 1 arrived"), "{text}");
    assert!(text.contains("the only one"), "{text}");
    assert!(text.contains("<a@a.test>"), "{text}");
}

#[tokio::test]
#[should_panic(expected = "expected at least 1 message")]
async fn wait_for_messages_async_panics_when_nothing_arrives() {
    bounded(async {
        let server = TestServer::builder()
            .wait_timeout(Duration::from_millis(50))
            .start_async()
            .await;
        let _ = server.wait_for_messages_async(1).await;
    })
    .await;
}

/// The location of the panic hook's last report on this thread, for the
/// tests below (other threads' panics go to the default hook).
fn panic_location_of(f: impl FnOnce()) -> String {
    use std::cell::RefCell;
    use std::sync::Once;

    thread_local! {
        static SEEN: RefCell<Option<String>> = const { RefCell::new(None) };
    }
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let recorded = SEEN.with(|seen| {
                let mut seen = seen.borrow_mut();
                // Only where a test asked (the slot holds an empty string).
                if seen.as_deref() == Some("") {
                    *seen = info.location().map(ToString::to_string);
                    true
                } else {
                    false
                }
            });
            if !recorded {
                previous(info);
            }
        }));
    });
    SEEN.with(|seen| *seen.borrow_mut() = Some(String::new()));
    let result = catch_unwind(AssertUnwindSafe(f));
    let location = SEEN.with(|seen| seen.borrow_mut().take());
    assert!(result.is_err(), "no panic");
    location.expect("the hook saw the panic")
}

#[test]
fn wait_for_messages_panic_points_at_the_caller() {
    let server = TestServer::builder()
        .wait_timeout(Duration::from_millis(20))
        .start();
    let mut line = 0;
    let location = panic_location_of(|| {
        line = line!() + 1;
        let _ = server.wait_for_messages(1);
    });
    assert!(
        location.starts_with(&format!("{}:{line}:", file!())),
        "{location}"
    );
}

#[tokio::test]
async fn wait_for_messages_async_panic_names_the_caller() {
    let server = TestServer::builder()
        .wait_timeout(Duration::from_millis(20))
        .start_async()
        .await;
    let line = line!() + 2;
    let task = tokio::spawn(async move {
        let _ = server.wait_for_messages_async(1).await;
    });
    let panic = tokio::time::timeout(IO_WAIT, task)
        .await
        .expect("the wait ends")
        .expect_err("the wait panics")
        .into_panic();
    let text = panic.downcast_ref::<String>().expect("a formatted panic");
    assert!(text.contains(&format!("(at {}:{line}:", file!())), "{text}");
}

/// Runs a Python script with the server's port as its argument; `None`
/// when python3 is not installed.
fn python(script: &str, port: u16) -> Option<std::process::Output> {
    let child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run python3: {e}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("wait for python3").is_some() {
            return Some(child.wait_with_output().expect("python3 output"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("python3 output");
            panic!(
                "python3 did not finish in 30 s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const SMTPLIB_SCRIPT: &str = r#"
import smtplib, sys
from email.message import EmailMessage

port = int(sys.argv[1])
msg = EmailMessage()
msg["From"] = "py@a.test"
msg["To"] = "one@b.test, two@b.test"
msg["Subject"] = "From smtplib"
msg.set_content("Hello from Python.\n.leading dot\nGrüße\n")
with smtplib.SMTP("127.0.0.1", port, local_hostname="python.test", timeout=10) as s:
    s.ehlo("python.test")
    assert s.has_extn("pipelining"), s.esmtp_features
    assert s.has_extn("auth"), s.esmtp_features
    try:
        s.login("wrong", "nope")
        raise SystemExit("bad credentials were accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
    s.login("py", "py")
    refused = s.send_message(msg)
    assert refused == {}, refused
    refused = s.sendmail("py@a.test", ["three@b.test"], b"Subject: raw\r\n\r\nraw bytes\r\n")
    assert refused == {}, refused
print("sent")
"#;

#[test]
fn python_smtplib_interop() {
    let server = TestServer::builder()
        .authenticator(auth_fn(|c| c.username() == c.password()))
        .start();
    let Some(out) = python(SMTPLIB_SCRIPT, server.addr().port()) else {
        println!("note: python3 is not installed; smtplib interop skipped");
        return;
    };
    assert!(
        out.status.success(),
        "smtplib script failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let messages = server.wait_for_messages(2);
    assert_eq!(messages.len(), 2);

    let first = &messages[0];
    assert_eq!(first.reverse_path().to_string(), "<py@a.test>");
    let to: Vec<String> = first.forward_paths().map(|p| p.to_string()).collect();
    assert_eq!(to, ["<one@b.test>", "<two@b.test>"]);
    assert_eq!(first.header("Subject"), Some("From smtplib"));
    assert_eq!(
        first.helo().map(|h| h.to_string()).as_deref(),
        Some("python.test")
    );
    assert_eq!(first.auth().map(|a| a.username.as_str()), Some("py"));
    let text = first.text();
    // smtplib dot-stuffs; the server removes it.
    assert!(text.contains("\r\n.leading dot\r\n"), "{text}");
    assert!(!text.contains("..leading"), "{text}");

    let second = &messages[1];
    assert_eq!(second.data(), b"Subject: raw\r\n\r\nraw bytes\r\n");
    let to: Vec<String> = second.forward_paths().map(|p| p.to_string()).collect();
    assert_eq!(to, ["<three@b.test>"]);
}
