//! Listing a Maildir for the HTTP API, on the library's
//! [`MaildirReader`]: it owns the format (ids are the file names up to
//! the `:2,` flags; the envelope comes from the record `MaildirSink`
//! writes, or for a file another agent wrote, from its first trace
//! lines), and bounds each read. This module adds what the API needs on
//! top: the envelope facts as [`Meta`], the Subject, and caching.
//!
//! Cost: a file is read once (its head), then cached by path; Maildir
//! files do not change, a reader renames them. The listing is cached by
//! the mtimes of `new/` and `cur/` (trusted only once they are a little
//! in the past, so a change within the clock's granularity is not
//! missed), and rebuilt in one linear pass otherwise. Opening one message
//! by id reads no directory: the id is the file name in `new/`, or found
//! in the index of the last listing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use mtakit::sink::{
    EnvelopeSource, MAILDIR_MAX_FILE, MAX_RECORD, MaildirEntry, MaildirEnvelope, MaildirReadError,
    MaildirReader, is_plain_id,
};

use super::headers::subject_of;
use super::model::{AuthJson, MailParamsJson, Meta, TlsJson};
use super::stored::{Content, Stored};

/// How much of a message is read for its Subject.
const HEAD: usize = 64 * 1024;
/// Envelope facts kept for messages received by this process.
const META_LIMIT: usize = 10_000;
/// The largest Maildir file served for a server that accepts messages
/// of up to `max_message_size` octets: the library's
/// [`MAILDIR_MAX_FILE`] (64 MiB), or the largest message plus room for
/// the trace lines and the envelope record, whichever is larger.
pub(crate) fn max_file_for(max_message_size: u64) -> u64 {
    MAILDIR_MAX_FILE.max(max_message_size.saturating_add(2 * MAX_RECORD as u64))
}

/// A directory mtime this recent may hide a change made in the same
/// clock tick, so the listing is not trusted from it.
const RACY: Duration = Duration::from_secs(2);

/// A Maildir and what is known about its files.
#[derive(Debug)]
pub(crate) struct Maildir {
    reader: MaildirReader,
    /// Boxed: the store's backends stay small.
    state: Box<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// By path: the file as read.
    files: HashMap<PathBuf, Arc<Stored>>,
    /// By id: where the file was at the last listing or load.
    index: HashMap<String, PathBuf>,
    /// The last listing, newest first, and the directory mtimes it saw.
    listing: Option<(DirTimes, Vec<Arc<Stored>>)>,
    /// By id: facts about the messages this process received.
    meta: HashMap<String, Arc<Meta>>,
    meta_order: VecDeque<String>,
    /// Work done, for tests: files read, directory listings made.
    loads: usize,
    listings: usize,
}

/// The mtimes of `new/` and `cur/`.
type DirTimes = (SystemTime, SystemTime);

/// The id of a Maildir file: its name up to the `:2,` info.
fn id_of(path: &Path) -> Option<String> {
    MaildirEntry::of(path).map(|entry| entry.id().to_owned())
}

/// A read error as the API's store errors.
fn io_error(e: MaildirReadError) -> io::Error {
    match e {
        MaildirReadError::Io { source, .. } => source,
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}

/// The facts of a record, as the API shows them.
fn meta_of(record: &MaildirEnvelope) -> Meta {
    let tls = match (&record.tls_version, &record.tls_cipher) {
        (Some(version), Some(cipher)) => Some(TlsJson {
            version: version.clone(),
            cipher: cipher.clone(),
            sni: record.tls_sni.clone(),
        }),
        _ => None,
    };
    let auth = match (&record.auth_mechanism, &record.auth_user) {
        (Some(mechanism), Some(username)) => Some(AuthJson {
            mechanism: mechanism.clone(),
            username: username.clone(),
        }),
        _ => None,
    };
    Meta {
        mail_params: MailParamsJson {
            size: record.size,
            body: record.body.clone(),
            smtputf8: record.smtputf8,
        },
        helo: record.helo.clone(),
        peer: record.peer.clone().unwrap_or_default(),
        tls,
        auth,
        findings: record.findings.clone(),
        received_at: record.received_at,
        ..Meta::default()
    }
}

impl Maildir {
    #[cfg(test)]
    pub(crate) fn new(root: PathBuf) -> Maildir {
        Maildir::with_max_file(root, MAILDIR_MAX_FILE)
    }

    /// Serves no file over `max_file` octets (it is still listed).
    pub(crate) fn with_max_file(root: PathBuf, max_file: u64) -> Maildir {
        Maildir {
            reader: MaildirReader::new(root).with_max_file(max_file),
            state: Box::default(),
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

    /// Reads one file's head and caches the result.
    pub(crate) fn load(&self, path: &Path) -> io::Result<Arc<Stored>> {
        let read = self.reader.read_head(path, HEAD).map_err(io_error)?;
        let id = read.id().to_owned();
        let envelope = read.envelope();
        let meta = match read.source() {
            EnvelopeSource::Record => Some(Arc::new(meta_of(envelope))),
            _ => self.lock().meta.get(&id).cloned(),
        };
        let stored = Arc::new(Stored {
            id: id.clone(),
            received_at: meta
                .as_ref()
                .and_then(|m| m.received_at)
                .unwrap_or(read.modified()),
            from: envelope.from.clone(),
            to: envelope.to.clone(),
            size: read.size(),
            meta,
            content: Content::File {
                path: path.to_owned(),
                skip: read.skip(),
                max: self.reader.max_file(),
            },
            subject: subject_of(read.data()),
        });
        let mut state = self.lock();
        state.loads += 1;
        state.files.insert(path.to_owned(), stored.clone());
        state.index.insert(id, path.to_owned());
        Ok(stored)
    }

    /// The cached file at `path`, or read now.
    fn cached_or_load(&self, path: &Path) -> io::Result<Arc<Stored>> {
        if let Some(stored) = self.lock().files.get(path) {
            return Ok(stored.clone());
        }
        self.load(path)
    }

    fn dir_times(&self) -> io::Result<DirTimes> {
        let time = |sub: &str| -> io::Result<SystemTime> {
            Ok(fs::metadata(self.reader.root().join(sub))?
                .modified()
                .unwrap_or(SystemTime::UNIX_EPOCH))
        };
        Ok((time("new")?, time("cur")?))
    }

    /// Every message in `new/` and `cur/`, newest first.
    pub(crate) fn scan(&self) -> io::Result<Vec<Arc<Stored>>> {
        let times = self.dir_times()?;
        let settled = |t: SystemTime| t.elapsed().is_ok_and(|age| age > RACY);
        if settled(times.0) && settled(times.1) {
            let state = self.lock();
            if let Some((seen, listing)) = &state.listing
                && *seen == times
            {
                return Ok(listing.clone());
            }
        }
        let paths: Vec<PathBuf> = self
            .reader
            .list()?
            .into_iter()
            .map(|entry| entry.path().to_owned())
            .collect();
        let mut out = Vec::with_capacity(paths.len());
        for path in &paths {
            match self.cached_or_load(path) {
                Ok(stored) => out.push(stored),
                // Moved or deleted meanwhile: not listed.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    tracing::debug!(path = %path.display(), "gone before it was read");
                }
                // Unreadable, too large, or a damaged record: not listed, said.
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "Maildir file skipped")
                }
            }
        }
        out.sort_by(|a, b| {
            b.received_at
                .cmp(&a.received_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        let seen: HashSet<&PathBuf> = paths.iter().collect();
        let mut state = self.lock();
        state.listings += 1;
        state.files.retain(|path, _| seen.contains(path));
        state.index = out
            .iter()
            .filter_map(|s| match &s.content {
                Content::File { path, .. } => Some((s.id.clone(), path.clone())),
                Content::Memory(_) => None,
            })
            .collect();
        state.listing = Some((times, out.clone()));
        Ok(out)
    }

    /// The message with this id, without listing the directories when it
    /// is in `new/` or where the last listing saw it.
    pub(crate) fn get(&self, id: &str) -> io::Result<Option<Arc<Stored>>> {
        if !is_plain_id(id) {
            return Ok(None);
        }
        let known = self.lock().index.get(id).cloned();
        let fresh = self.reader.find_new(id).map(|e| e.path().to_owned());
        for path in known.into_iter().chain(fresh) {
            if path.is_file() {
                return self.cached_or_load(&path).map(Some);
            }
        }
        // Moved since (to cur/, with flags): one listing finds it.
        Ok(self.scan()?.into_iter().find(|s| s.id == id))
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
        state.index.remove(&stored.id);
        state.meta.remove(&stored.id);
        state.listing = None;
        Ok(removed)
    }
}

#[cfg(test)]
#[path = "maildir_tests.rs"]
mod tests;
