//! End-to-end tests of `mtakit load`: the real binary loads a real
//! `mtakit serve --discard` on a free loopback port.
//!
//! Every wait is bounded, and a child still running at its deadline is
//! killed.

use std::io::Read;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use crate::support::{Daemon, mtakit, wait_child};

/// The longest a load run may take here.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `mtakit load ARGS` to its end; returns its status, stdout and
/// stderr.
fn load(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = mtakit()
        .arg("load")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the mtakit binary");
    let Some(status) = wait_child(&mut child, LIMIT) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("mtakit load {args:?} still running after {LIMIT:?}");
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, stdout, stderr)
}

/// The figure after `label` in the report, such as `msg/s` in
/// `throughput:  1234.5 msg/s, ...`.
fn figure_before(report: &str, unit: &str) -> f64 {
    let at = report
        .find(unit)
        .unwrap_or_else(|| panic!("no {unit:?} in:\n{report}"));
    report[..at]
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before {unit:?} in:\n{report}"))
}

/// The latency columns of a row of the report: p50, p99, p99.9, max, samples.
fn latency_row(report: &str, name: &str) -> Vec<f64> {
    let line = report
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name:?} row in:\n{report}"));
    line[name.len()..]
        .split_whitespace()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("bad {v:?} in {line:?}"))
        })
        .collect()
}

#[test]
fn load_reports_throughput_and_latency_against_serve() {
    let daemon = Daemon::start(&["--discard"]);
    let addr = daemon.addr.to_string();
    let (status, out, err) = load(&[&addr, "--messages", "200", "--connections", "4"]);
    assert!(status.success(), "{status}\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("200 sent, 0 errors"), "{out}");
    assert!(figure_before(&out, "msg/s") > 0.0, "{out}");
    assert!(figure_before(&out, "MiB/s") > 0.0, "{out}");
    assert!(out.contains("sessions:    200 (0 pipelined)"), "{out}");
    for row in ["transaction", "first reply"] {
        let values = latency_row(&out, row);
        let [p50, p99, p999, max, samples] = values[..] else {
            panic!("{row}: {values:?}");
        };
        assert!(
            p50 > 0.0 && p50 <= p99 && p99 <= p999 && p999 <= max,
            "{out}"
        );
        assert_eq!(samples, 200.0, "{out}");
    }
}

#[test]
fn load_pipelines_over_reused_connections() {
    let daemon = Daemon::start(&["--discard"]);
    let addr = daemon.addr.to_string();
    let (status, out, err) = load(&[
        &addr,
        "--messages",
        "300",
        "--connections",
        "3",
        "--reuse",
        "--pipelining",
        "--recipients",
        "2",
        "--size",
        "10000",
    ]);
    assert!(status.success(), "{status}\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("300 sent, 0 errors"), "{out}");
    assert!(out.contains("sessions:    3 (3 pipelined)"), "{out}");
}

#[test]
fn load_counts_refusals_and_fails_when_nothing_gets_through() {
    // The server takes at most 100 recipients per message.
    let daemon = Daemon::start(&["--discard", "--max-recipients", "100"]);
    let addr = daemon.addr.to_string();
    let (status, out, _) = load(&[
        &addr,
        "--messages",
        "2",
        "--connections",
        "1",
        "--recipients",
        "101",
    ]);
    assert!(!status.success(), "{out}");
    assert!(out.contains("0 sent, 2 errors"), "{out}");
    assert!(out.contains("RCPT: 452"), "{out}");
}

#[test]
fn load_rejects_bad_arguments() {
    let (status, _, err) = load(&["127.0.0.1:1", "--connections", "0"]);
    assert_eq!(status.code(), Some(2), "{err}");
    let (status, _, err) = load(&["127.0.0.1:1", "--ca", "ca.pem"]);
    assert_eq!(status.code(), Some(2), "{err}");
}
