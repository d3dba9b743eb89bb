//! Golden session transcripts, each run twice: through the sans-IO core
//! alone (`mtakit_proto::testing::Harness`) and through the tokio server
//! (`Server::serve_connection` over an in-memory pipe). Both must produce
//! the octets in the file, so the driver can neither add, drop, reorder nor
//! re-word a reply that the core decided.
//!
//! The files are in `tests/golden/*.txt`:
//! - `# ...` is a comment;
//! - `@ lmtp`, `@ max-recipients N`, `@ max-message-size N` and
//!   `@ line-endings normalize|record` configure the server;
//! - `C: text` is a client line, sent with CRLF; `R: text` is sent as is,
//!   after decoding `\r`, `\n`, `\t`, `\0` and `\\`. Consecutive client
//!   lines are written in one go, as a pipelining client would;
//! - `S: text` is a reply line the server must send (CRLF implied), in
//!   order, after the client lines before it;
//! - `EOF` says the server must then close the connection.
//!
//! The server names each accepted message in its reply (`Ok: queued as
//! ID`), which the core leaves to its driver. In the files the id is
//! written `{id}`; the core run is given a sink that answers with that
//! text, and the server run accepts any one token in its place.
//!
//! With `MTAKIT_BLESS=1` the harness's output is written back to the
//! files instead (check the diff before committing it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mtakit::proto::testing::Harness;
use mtakit::proto::{ConnectionInfo, EnhancedCode, LineEndingPolicy, Reply, Verdict};
use mtakit::{MemorySink, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One step of a dialogue.
#[derive(Debug)]
enum Step {
    /// Octets the client writes.
    Send(Vec<u8>),
    /// Reply lines the server must send next, without CRLF.
    Expect(Vec<String>),
    /// The server closes the connection.
    Eof,
}

/// A parsed golden file.
#[derive(Debug, Default)]
struct Golden {
    directives: Vec<String>,
    steps: Vec<Step>,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            other => panic!("unknown escape \\{other:?} in {text:?}"),
        }
    }
    out
}

fn parse(text: &str) -> Golden {
    let mut golden = Golden::default();
    for line in text.lines() {
        let push_send = |golden: &mut Golden, bytes: Vec<u8>| match golden.steps.last_mut() {
            Some(Step::Send(pending)) => pending.extend(bytes),
            _ => golden.steps.push(Step::Send(bytes)),
        };
        if let Some(c) = line.strip_prefix("C: ") {
            push_send(&mut golden, format!("{c}\r\n").into_bytes());
        } else if let Some(r) = line.strip_prefix("R: ") {
            push_send(&mut golden, unescape(r));
        } else if let Some(s) = line.strip_prefix("S: ") {
            match golden.steps.last_mut() {
                Some(Step::Expect(lines)) => lines.push(s.to_owned()),
                _ => golden.steps.push(Step::Expect(vec![s.to_owned()])),
            }
        } else if line == "EOF" {
            golden.steps.push(Step::Eof);
        } else if let Some(d) = line.strip_prefix("@ ") {
            golden.directives.push(d.to_owned());
        } else if !line.starts_with('#') && !line.is_empty() {
            panic!("unrecognised golden line {line:?}");
        }
    }
    golden
}

/// The server a golden file describes.
fn server(golden: &Golden) -> Server<mtakit::AcceptAll, mtakit::NoAuth, MemorySink> {
    let mut limits = mtakit::proto::Limits::default();
    let mut lmtp = false;
    for d in &golden.directives {
        let (key, value) = d.split_once(' ').unwrap_or((d, ""));
        match key {
            "lmtp" => lmtp = true,
            "max-recipients" => limits.max_recipients = value.parse().unwrap(),
            "max-message-size" => limits.max_message_size = value.parse().unwrap(),
            "line-endings" => {
                limits.line_endings = match value {
                    "normalize" => LineEndingPolicy::Normalize,
                    "record" => LineEndingPolicy::Record,
                    _ => LineEndingPolicy::Reject,
                }
            }
            _ => panic!("unknown directive {d:?}"),
        }
    }
    Server::builder()
        .hostname("mx.golden.test")
        .limits(limits)
        .lmtp(lmtp)
        .sink(MemorySink::new())
        .build()
}

fn connection() -> ConnectionInfo {
    ConnectionInfo::new(
        "192.0.2.7:40000".parse().unwrap(),
        "192.0.2.25:25".parse().unwrap(),
    )
}

/// Splits wire octets into reply lines, without their CRLF.
fn lines(wire: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(wire).expect("replies are UTF-8");
    let body = text.strip_suffix("\r\n").expect("replies end with CRLF");
    body.split("\r\n").map(str::to_owned).collect()
}

/// Runs the dialogue through the sans-IO core; returns what it sent, as
/// steps (client steps copied from the file).
fn through_harness(golden: &Golden, config: mtakit::proto::SessionConfig) -> Vec<Step> {
    let queued = Reply::new(
        250,
        EnhancedCode::new(2, 0, 0),
        format!("Ok: queued as {ID}"),
    )
    .expect("a valid reply");
    let mut h = Harness::with_connection(config, connection())
        .with_sink(move |_| Verdict::accept_with(queued.clone()));
    let mut out = Vec::new();
    let mut wire = Vec::new();
    for reply in h.run() {
        reply.write_to(&mut wire);
    }
    let flush = |wire: &mut Vec<u8>, out: &mut Vec<Step>| {
        if !wire.is_empty() {
            out.push(Step::Expect(lines(wire)));
            wire.clear();
        }
    };
    flush(&mut wire, &mut out);
    for step in &golden.steps {
        if let Step::Send(bytes) = step {
            if h.is_closed() {
                break;
            }
            out.push(Step::Send(bytes.clone()));
            for reply in h.send_raw(bytes) {
                reply.write_to(&mut wire);
            }
            flush(&mut wire, &mut out);
        }
    }
    if h.is_closed() {
        out.push(Step::Eof);
    }
    out
}

/// How a queue id is written in the files.
const ID: &str = "{id}";

/// Whether a reply line the server sent matches one in a file, where
/// `{id}` stands for one token without spaces.
fn matches(got: &str, expected: &str) -> bool {
    match expected.split_once(ID) {
        None => got == expected,
        Some((before, after)) => got
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|id| !id.is_empty() && !id.contains(' ')),
    }
}

/// How many replies these reply lines hold (lines whose fourth octet is a
/// space, or that are just a code).
fn finals(lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| l.len() == 3 || l.as_bytes().get(3) == Some(&b' '))
        .count()
}

/// Runs the dialogue through `Server::serve_connection`; returns a
/// description of the first difference from the file, if any.
async fn through_server(golden: &Golden) -> Result<(), String> {
    let server = server(golden);
    let (mut client, server_side) = tokio::io::duplex(1 << 20);
    let task = tokio::spawn(server.serve_connection(server_side, connection()));
    let mut pending: Vec<u8> = Vec::new();
    for (index, step) in golden.steps.iter().enumerate() {
        match step {
            Step::Send(bytes) => client.write_all(bytes).await.map_err(|e| e.to_string())?,
            Step::Expect(expected) => {
                let want = finals(expected);
                let got = loop {
                    if let Some(end) = pending.windows(2).rposition(|w| w == b"\r\n") {
                        let have = lines(&pending[..end + 2]);
                        if finals(&have) >= want {
                            break have;
                        }
                    }
                    let mut buf = [0u8; 4096];
                    let n = client.read(&mut buf).await.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err(format!("step {index}: EOF, expected {expected:?}"));
                    }
                    pending.extend_from_slice(&buf[..n]);
                };
                pending.clear();
                let same = got.len() == expected.len()
                    && got.iter().zip(expected).all(|(g, e)| matches(g, e));
                if !same {
                    return Err(format!("step {index}: got {got:?}, expected {expected:?}"));
                }
            }
            Step::Eof => {
                let mut rest = Vec::new();
                client
                    .read_to_end(&mut rest)
                    .await
                    .map_err(|e| e.to_string())?;
                if !rest.is_empty() {
                    return Err(format!(
                        "expected EOF, got {:?}",
                        String::from_utf8_lossy(&rest)
                    ));
                }
            }
        }
    }
    drop(client);
    task.await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("the connection ended with an error: {e}"))?;
    Ok(())
}

/// The file with its reply lines replaced by `core`'s: comments,
/// directives and client lines are kept as written.
fn render(original: &str, core: &[Step]) -> String {
    // The replies before the first client write, then after each write.
    let mut replies: Vec<Vec<String>> = vec![Vec::new()];
    for step in core {
        match step {
            Step::Send(_) => replies.push(Vec::new()),
            Step::Expect(lines) => replies.last_mut().unwrap().extend(lines.iter().cloned()),
            Step::Eof => {}
        }
    }
    let mut replies = replies.into_iter();
    let mut text = String::new();
    let emit = |text: &mut String, lines: Option<Vec<String>>| {
        for l in lines.unwrap_or_default() {
            writeln!(text, "S: {l}").unwrap();
        }
    };
    let mut in_client = false;
    let mut greeted = false;
    for line in original.lines() {
        let client = line.starts_with("C: ") || line.starts_with("R: ");
        let neutral = line.starts_with('#') || line.is_empty();
        if client && !greeted {
            greeted = true;
            emit(&mut text, replies.next());
        } else if !client && in_client && !neutral {
            emit(&mut text, replies.next());
        }
        if line.starts_with("S: ") || line == "EOF" {
            in_client = false;
            continue;
        }
        writeln!(text, "{line}").unwrap();
        if client {
            in_client = true;
        } else if !neutral {
            in_client = false;
        }
    }
    if in_client {
        emit(&mut text, replies.next());
    }
    if matches!(core.last(), Some(Step::Eof)) {
        writeln!(text, "EOF").unwrap();
    }
    text
}

fn same(a: &[Step], b: &[Step]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Step::Send(x), Step::Send(y)) => x == y,
            (Step::Expect(x), Step::Expect(y)) => x == y,
            (Step::Eof, Step::Eof) => true,
            _ => false,
        })
}

fn golden_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(start_paused = true)]
async fn every_golden_transcript_holds_in_the_core_and_in_the_server() {
    let files = golden_files();
    assert!(files.len() >= 6, "golden files missing: {files:?}");
    let bless = std::env::var_os("MTAKIT_BLESS").is_some();
    let mut failures = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let original = std::fs::read_to_string(&path).unwrap();
        let golden = parse(&original);
        let config = server(&golden).config().clone();
        let core = through_harness(&golden, config);
        if bless {
            std::fs::write(&path, render(&original, &core)).unwrap();
            continue;
        }
        if !same(&core, &golden.steps) {
            failures.push(format!(
                "{name}: the core's dialogue differs from the file:\n{}",
                render(&original, &core)
            ));
        }
        let served = tokio::time::timeout(Duration::from_secs(30), through_server(&golden)).await;
        match served {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{name}: through the server: {e}")),
            Err(_) => failures.push(format!("{name}: the server did not answer")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_golden_file_that_expects_another_reply_is_caught_by_both_runs() {
    // The runner itself must be able to fail: a one-octet change to an
    // expected reply is caught by the core run and by the server run.
    let text = "C: NOOP\nS: 250 2.0.0 Okay\nC: QUIT\nS: 221 2.0.0 Bye\nEOF\n";
    let golden = parse(&format!("S: 220 x\n{text}"));
    let config = server(&golden).config().clone();
    let core = through_harness(&golden, config);
    assert!(!same(&core, &golden.steps));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let served = runtime.block_on(through_server(&golden));
    assert!(served.is_err(), "{served:?}");
}
