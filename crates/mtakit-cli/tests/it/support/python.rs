//! Running python3 snippets (smtplib, ssl) as clients that share no code
//! with mtakit. Tests skip with a note when python3 is missing.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;

use super::{WAIT, wait_child};

/// True when python3 runs; otherwise prints a note for the skipped test.
pub(crate) fn have_python(test: &str) -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        println!("note: python3 is not installed; skipping {test}");
    }
    found
}

/// Runs `python3 -c SCRIPT ARGS` to its end (bounded by [`WAIT`]) and
/// returns its stdout; panics with its stderr when it fails.
pub(crate) fn python(script: &str, args: &[&str]) -> String {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let read = |mut from: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = from.read_to_string(&mut text);
            text
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let status = wait_child(&mut child, WAIT).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("python3 did not finish within {WAIT:?}")
    });
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.success(),
        "python3 failed: {status}\n{err}\nstdout:\n{out}"
    );
    out
}
