//! Running `mtakit serve` as a child process: waiting for its `listening
//! on` line, collecting its output, stopping it, and temporary directories.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long any single wait may take before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(15);
/// How often output and exit status are polled.
const POLL: Duration = Duration::from_millis(20);

/// A running `mtakit serve`; killed on drop unless it already exited.
pub(crate) struct Daemon {
    child: Child,
    /// The address it listens on.
    pub(crate) addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Daemon {
    /// Starts `mtakit serve --listen 127.0.0.1:0 ARGS` and waits for its
    /// `listening on` line. Unless ARGS say otherwise, the HTTP API gets a
    /// free port too (`--http 127.0.0.1:0`), so daemons can run side by
    /// side.
    pub(crate) fn start(args: &[&str]) -> Daemon {
        Daemon::start_command(mtakit(), args)
    }

    /// Like [`Daemon::start`], with the open-files limit (soft and hard)
    /// set to `limit` by the shell's `ulimit -n` before `exec`.
    pub(crate) fn start_with_open_files(limit: u64, args: &[&str]) -> Daemon {
        let mut sh = Command::new("sh");
        sh.args([
            "-c",
            &format!("ulimit -n {limit} && exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_mtakit"),
        ]);
        Daemon::start_command(sh, args)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn start_command(mut command: Command, args: &[&str]) -> Daemon {
        let own_http = args.iter().any(|a| *a == "--http" || *a == "--no-http");
        let http: &[&str] = if own_http {
            &[]
        } else {
            &["--http", "127.0.0.1:0"]
        };
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(http)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the mtakit binary");
        let stdout = collect(child.stdout.take().expect("piped stdout"), None);
        let (tx, rx) = mpsc::channel();
        let stderr = collect(child.stderr.take().expect("piped stderr"), Some(tx));
        let mut daemon = Daemon {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            stdout,
            stderr,
        };
        let line = rx.recv_timeout(WAIT).unwrap_or_else(|_| {
            panic!(
                "no `listening on` line within {WAIT:?}; stderr:\n{}",
                daemon.stderr()
            )
        });
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("cannot parse the address in {line:?}"));
        assert_ne!(addr.port(), 0, "the real port is printed");
        daemon.addr = addr;
        daemon
    }

    /// The address of the HTTP API, from its `http://IP:PORT` line.
    pub(crate) fn http(&self) -> SocketAddr {
        let stderr = self.stderr();
        stderr
            .lines()
            .find_map(|line| line.split("http://").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no http://IP:PORT line in stderr:\n{stderr}"))
    }

    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stdout contains `needle`, and returns all of stdout.
    pub(crate) fn wait_stdout(&self, needle: &str) -> String {
        wait_for_text(&self.stdout, needle, || self.stderr())
    }

    /// Waits until stderr contains `needle`, and returns all of stderr.
    pub(crate) fn wait_stderr(&self, needle: &str) -> String {
        wait_for_text(&self.stderr, needle, || self.stdout())
    }

    /// Waits for the process to exit.
    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        wait_child(&mut self.child, WAIT)
            .unwrap_or_else(|| panic!("still running after {WAIT:?}; stderr:\n{}", self.stderr()))
    }

    /// Sends a signal (`TERM`, `INT`) with the `kill` command.
    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `text` until it contains `needle`; on timeout, panics showing it
/// and `other` (the other stream).
fn wait_for_text(text: &Mutex<String>, needle: &str, other: impl Fn() -> String) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = text.lock().unwrap().clone();
        if now.contains(needle) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} not seen within {WAIT:?}:\n{now}\nother stream:\n{}",
            other()
        );
        thread::sleep(POLL);
    }
}

pub(crate) fn mtakit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mtakit"))
}

/// Polls `child` until it exits or `limit` passes.
pub(crate) fn wait_child(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL);
    }
}

/// Reads `from` line by line on a thread into a shared string; the first
/// line with `listening on` also goes to `listening`.
fn collect(
    from: impl Read + Send + 'static,
    listening: Option<mpsc::Sender<String>>,
) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let shared = text.clone();
    thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut listening = listening;
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.contains("listening on ")
                && let Some(tx) = listening.take()
            {
                let _ = tx.send(line.clone());
            }
            shared.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    text
}

/// Runs `mtakit ARGS` to its end (bounded) and returns its status and
/// stderr.
pub(crate) fn run_to_exit(args: &[&str]) -> (ExitStatus, String) {
    let mut child = mtakit()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the mtakit binary");
    let mut stderr = child.stderr.take().unwrap();
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = wait_child(&mut child, WAIT).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("mtakit {args:?} still running after {WAIT:?}")
    });
    (status, reader.join().unwrap())
}

/// A fresh directory path under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "mtakit-cli-{tag}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        TempDir(std::env::temp_dir().join(name))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect()
}
