//! The HTTP listener's bounds, seen from outside: half-sent requests
//! cannot take the descriptors SMTP and the Maildir need.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{Daemon, Smtp, TempDir, files_in};

/// Open descriptors of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(Iterator::count)
        .unwrap_or(0)
}

/// Polls until the descriptor count has not changed for 300 ms (bounded
/// by five seconds), and returns it.
fn settled_fds(pid: u32) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = open_fds(pid);
    let mut since = Instant::now();
    while Instant::now() < deadline && since.elapsed() < Duration::from_millis(300) {
        std::thread::sleep(Duration::from_millis(20));
        let now = open_fds(pid);
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
    last
}

#[test]
#[cfg(target_os = "linux")]
fn half_sent_requests_leave_smtp_and_the_maildir_working() {
    const LIMIT: u64 = 128;
    const HTTP_CAP: usize = 16;
    let dir = TempDir::new("http-limits");
    let maildir = dir.0.join("mail");
    let daemon = Daemon::start_with_open_files(
        LIMIT,
        &[
            "--maildir",
            maildir.to_str().unwrap(),
            "--http-max-connections",
            &HTTP_CAP.to_string(),
        ],
    );
    // 1000 SMTP sessions do not fit in 128 descriptors: the caps shrink.
    daemon.wait_stderr("the caps were lowered to fit");
    let before = settled_fds(daemon.pid());

    // More half-sent requests than the server has descriptors (those past
    // the cap wait in the listen backlog of 128).
    let mut hogs = Vec::new();
    for _ in 0..LIMIT + 12 {
        let mut hog = TcpStream::connect(daemon.http()).expect("connect");
        hog.write_all(b"GET /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .unwrap();
        hogs.push(hog);
    }
    let during = settled_fds(daemon.pid());
    assert!(
        during <= before + HTTP_CAP,
        "HTTP holds at most {HTTP_CAP} descriptors: {before} before, {during} during"
    );

    // A new SMTP client gets its greeting, and the Maildir stores.
    let mut smtp = Smtp::connect(daemon.addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction(
        "a@example.com",
        &["b@example.com"],
        "Subject: under siege\r\n\r\nstill delivered\r\n",
    );
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);
    assert_eq!(files_in(&maildir.join("new")).len(), 1);
    drop(hogs);
}
