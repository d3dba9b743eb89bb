//! Listing a Maildir for the HTTP API: `new/` and `cur/` are scanned on
//! each request (files are read again only when they changed), ids are the
//! file names up to the `:2,` flags, and the `Return-Path:` and
//! `Delivered-To:` trace lines that mtakit wrote before the data are the
//! envelope, not part of the message.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use super::headers::subject_of;
use super::model::{Meta, unbracket};
use super::stored::{Content, Stored};

/// How much of a file is read to find the trace lines and the Subject.
const HEAD: u64 = 64 * 1024;
/// Envelope facts kept for messages received by this process.
const META_LIMIT: usize = 10_000;

/// A Maildir and what is known about its files.
#[derive(Debug)]
pub(crate) struct Maildir {
    root: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// By path: the file's length and mtime when read, and the result.
    files: HashMap<PathBuf, (u64, SystemTime, Arc<Stored>)>,
    /// By id: facts about the messages this process received.
    meta: HashMap<String, Arc<Meta>>,
    meta_order: VecDeque<String>,
}

/// The id of a Maildir file: its name up to the `:2,` info.
fn id_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('.') {
        return None;
    }
    Some(name.split(':').next().unwrap_or(name).to_owned())
}

impl Maildir {
    pub(crate) fn new(root: PathBuf) -> Maildir {
        Maildir {
            root,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the envelope facts of a message this process wrote to `path`.
    pub(crate) fn remember(&self, path: &Path, meta: Arc<Meta>) {
        let Some(id) = id_of(path) else { return };
        let mut state = self.lock();
        if state.meta.insert(id.clone(), meta).is_none() {
            state.meta_order.push_back(id);
        }
        while state.meta_order.len() > META_LIMIT {
            if let Some(old) = state.meta_order.pop_front() {
                state.meta.remove(&old);
            }
        }
    }

    /// Reads one file and caches the result.
    pub(crate) fn load(&self, path: &Path) -> io::Result<Arc<Stored>> {
        let id = id_of(path).ok_or_else(|| io::Error::other("not a message file"))?;
        let info = fs::metadata(path)?;
        let mtime = info.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let mut head = Vec::new();
        File::open(path)?.take(HEAD).read_to_end(&mut head)?;
        let meta = self.lock().meta.get(&id).cloned();
        let trace = Trace::parse(&head, meta.as_ref().map(|m| m.recipients));
        let skip = trace.skip.min(head.len());
        let stored = Arc::new(Stored {
            id,
            received_at: meta.as_ref().and_then(|m| m.received_at).unwrap_or(mtime),
            from: trace.from,
            to: trace.to,
            size: info.len().saturating_sub(skip as u64),
            meta,
            content: Content::File {
                path: path.to_owned(),
                skip,
            },
            subject: subject_of(&head[skip..]),
        });
        self.lock()
            .files
            .insert(path.to_owned(), (info.len(), mtime, stored.clone()));
        Ok(stored)
    }

    /// Every message in `new/` and `cur/`, newest first.
    pub(crate) fn scan(&self) -> io::Result<Vec<Arc<Stored>>> {
        let mut paths = Vec::new();
        for sub in ["new", "cur"] {
            for entry in fs::read_dir(self.root.join(sub))? {
                let path = entry?.path();
                if id_of(&path).is_some() {
                    paths.push(path);
                }
            }
        }
        let mut out = Vec::with_capacity(paths.len());
        for path in &paths {
            let Ok(info) = fs::metadata(path) else {
                continue; // moved or deleted meanwhile
            };
            if !info.is_file() {
                continue;
            }
            let mtime = info.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let cached = {
                let state = self.lock();
                state.files.get(path).and_then(|(len, time, stored)| {
                    let fresh = *len == info.len()
                        && *time == mtime
                        && (stored.meta.is_some() || !state.meta.contains_key(&stored.id));
                    fresh.then(|| stored.clone())
                })
            };
            match cached {
                Some(stored) => out.push(stored),
                None => match self.load(path) {
                    Ok(stored) => out.push(stored),
                    Err(e) => tracing::debug!(path = %path.display(), error = %e, "skipped"),
                },
            }
        }
        self.lock().files.retain(|path, _| paths.contains(path));
        out.sort_by(|a, b| {
            b.received_at
                .cmp(&a.received_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    /// Deletes a message's file; false when it was already gone.
    pub(crate) fn remove(&self, stored: &Stored) -> io::Result<bool> {
        let Content::File { path, .. } = &stored.content else {
            return Ok(false);
        };
        let removed = match fs::remove_file(path) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        };
        let mut state = self.lock();
        state.files.remove(path);
        state.meta.remove(&stored.id);
        Ok(removed)
    }
}

/// The trace lines at the start of a Maildir file.
#[derive(Debug, Default, PartialEq)]
struct Trace {
    /// Octets of trace lines before the message.
    skip: usize,
    from: String,
    to: Vec<String>,
}

impl Trace {
    /// Reads one `Return-Path:` line and the `Delivered-To:` lines after
    /// it, as `MaildirSink` writes them: one per recipient, so when the
    /// count is known a `Delivered-To:` header of the message itself stays.
    fn parse(head: &[u8], recipients: Option<usize>) -> Trace {
        let mut trace = Trace::default();
        let mut at = 0;
        let mut first = true;
        while let Some(len) = head[at..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&head[at..at + len]);
            let line = line.trim_end_matches('\r');
            let Some((name, value)) = line.split_once(':') else {
                break;
            };
            let value = unbracket(value.trim());
            if first && name.eq_ignore_ascii_case("Return-Path") {
                trace.from = value;
            } else if !first
                && name.eq_ignore_ascii_case("Delivered-To")
                && recipients.is_none_or(|n| trace.to.len() < n)
            {
                trace.to.push(value);
            } else {
                break;
            }
            first = false;
            at += len + 1;
        }
        trace.skip = at;
        trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_lines_are_the_envelope() {
        let file = b"Return-Path: <a@example.com>\r\nDelivered-To: <b@example.com>\r\n\
                     Delivered-To: <c@example.com>\r\nSubject: hi\r\n\r\nbody\r\n";
        let trace = Trace::parse(file, None);
        assert_eq!(trace.from, "a@example.com");
        assert_eq!(trace.to, ["b@example.com", "c@example.com"]);
        assert!(file[trace.skip..].starts_with(b"Subject: hi\r\n"));
    }

    #[test]
    fn a_file_without_trace_lines_is_all_message() {
        let trace = Trace::parse(b"Subject: hi\r\n\r\nbody\r\n", None);
        assert_eq!(trace, Trace::default());
        let trace = Trace::parse(b"Delivered-To: x\r\nReturn-Path: <y>\r\n\r\n", None);
        assert_eq!(trace.skip, 0);
    }

    #[test]
    fn a_known_recipient_count_keeps_the_message_own_trace() {
        let file = b"Return-Path: <a@x>\r\nDelivered-To: <b@x>\r\nDelivered-To: old@x\r\n\r\n";
        let trace = Trace::parse(file, Some(1));
        assert_eq!(trace.to, ["b@x"]);
        assert!(file[trace.skip..].starts_with(b"Delivered-To: old@x"));
        assert_eq!(Trace::parse(file, None).to.len(), 2);
    }

    #[test]
    fn null_sender() {
        let trace = Trace::parse(b"Return-Path: <>\r\nDelivered-To: <b@x>\r\n\r\n", None);
        assert_eq!(trace.from, "");
        assert_eq!(trace.to, ["b@x"]);
    }

    #[test]
    fn ids_drop_the_maildir_info() {
        assert_eq!(
            id_of(Path::new("cur/123.abc.host:2,S")).as_deref(),
            Some("123.abc.host")
        );
        assert_eq!(id_of(Path::new("new/.hidden")), None);
    }
}
