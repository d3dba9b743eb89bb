//! The web UI in a real browser: Debian's chromium, driven by playwright-core
//! from `tests/browser/ui.mjs`.
//!
//! This test starts `mtakit serve` on free ports and runs the Node script
//! with the UI's URL and the SMTP address. The script opens the UI, sends
//! mail over SMTP, and checks that it appears without a reload, that the
//! HTML body renders in a sandboxed iframe whose script does not run, that
//! the attachment is listed, and the sessions view; it saves screenshots
//! under `CARGO_TARGET_TMPDIR/browser-screenshots` (or `MTAKIT_SCREENSHOTS`).
//!
//! Needs `/usr/bin/chromium` (or `CHROMIUM`), `node`, and `npm ci` run in
//! `tests/browser`. Without them the test is skipped with a note, except
//! under `CI=true`, where it fails. Every wait is bounded.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long `mtakit serve` may take to print its addresses.
const START: Duration = Duration::from_secs(15);
/// How long the whole browser script may take.
const SCRIPT: Duration = Duration::from_secs(180);

#[test]
fn web_ui_in_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return skip(&format!(
            "{} not found (apt-get install chromium chromium-driver)",
            chromium.display()
        ));
    }
    let node_ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node_ok {
        return skip("node not found");
    }
    if !dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return skip(&format!(
            "playwright-core not installed (run `npm ci` in {})",
            dir.display()
        ));
    }

    let server = Server::start();
    let shots = std::env::var_os("MTAKIT_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots"));
    let _ = std::fs::remove_dir_all(&shots);

    let started = Instant::now();
    let mut child = Command::new("node")
        .arg("ui.mjs")
        .current_dir(&dir)
        .env("MTAKIT_URL", &server.url)
        .env("MTAKIT_SMTP", server.smtp.to_string())
        .env("MTAKIT_SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let out = collect(child.stdout.take().expect("piped stdout"), None);
    let err = collect(child.stderr.take().expect("piped stderr"), None);
    let status = wait_or_kill(&mut child, SCRIPT);
    // Give the readers a moment to drain the pipes.
    thread::sleep(Duration::from_millis(100));
    let out = out.lock().unwrap().clone();
    let err = err.lock().unwrap().clone();
    println!("{out}");
    eprintln!("{err}");
    println!(
        "browser script took {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
    let status = status.unwrap_or_else(|| {
        panic!(
            "the browser script ran over {SCRIPT:?}\n{out}\n{err}\nserver stderr:\n{}",
            server.stderr()
        )
    });
    assert!(
        status.success(),
        "the browser script failed ({status})\nstdout:\n{out}\nstderr:\n{err}\nserver stderr:\n{}",
        server.stderr()
    );
    assert!(out.contains("browser test passed"), "{out}");
    for name in ["1-message-list", "2-message-html", "5-sessions"] {
        let file = shots.join(format!("{name}.png"));
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", file.display());
    }
}

/// Skips with a note on a developer's machine; fails under `CI=true`.
fn skip(why: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!ci, "browser test cannot run in CI: {why}");
    eprintln!("note: skipping the browser test: {why}");
}

/// `mtakit serve` on free SMTP and HTTP ports; killed on drop.
struct Server {
    child: Child,
    smtp: SocketAddr,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mtakit"))
            .args(["serve", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            // Keep bare LFs and record them, so the UI shows a finding.
            .args(["--line-endings", "record"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the mtakit binary");
        let (tx, rx) = mpsc::channel();
        let stderr = collect(child.stderr.take().expect("piped stderr"), Some(tx));
        let mut server = Server {
            child,
            smtp: "0.0.0.0:0".parse().unwrap(),
            url: String::new(),
            stderr,
        };
        let deadline = Instant::now() + START;
        let mut smtp = None;
        let mut url = None;
        while smtp.is_none() || url.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                panic!(
                    "no `listening on` and `http://` lines within {START:?}; stderr:\n{}",
                    server.stderr()
                );
            };
            if smtp.is_none() {
                smtp = line
                    .split("listening on ")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|addr| addr.parse::<SocketAddr>().ok());
            }
            if url.is_none() {
                url = line
                    .split("http://")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(|addr| addr.trim_end_matches('/'))
                    .filter(|addr| addr.parse::<SocketAddr>().is_ok())
                    .map(|addr| format!("http://{addr}"));
            }
        }
        server.smtp = smtp.unwrap();
        server.url = url.unwrap();
        assert_ne!(server.smtp.port(), 0, "the real SMTP port is printed");
        server
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads `from` line by line on a thread into a shared string, sending each
/// line to `lines` as well when given.
fn collect(
    from: impl Read + Send + 'static,
    lines: Option<mpsc::Sender<String>>,
) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let shared = text.clone();
    thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            if let Some(tx) = &lines {
                let _ = tx.send(line.clone());
            }
            shared.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    text
}

/// Waits for `child` up to `limit`; kills it and returns `None` past that.
fn wait_or_kill(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}
