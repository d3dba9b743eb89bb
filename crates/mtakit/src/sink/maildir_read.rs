//! [`MaildirReader`]: reads back what [`MaildirSink`](super::MaildirSink)
//! wrote, bounded.
//!
//! A message file is found in `new/` (delivered, unseen) or `cur/` (seen
//! by a mail reader, its name then ending in `:2,FLAGS`). Its id is its
//! file name up to the `:`. The envelope comes from the record the sink
//! wrote at the top of the file ([`MaildirEnvelope`]), never from the
//! message content: the record states how many octets come before the
//! message, so `Delivered-To:` or `X-Mtakit-Envelope:` lines inside the
//! message stay part of the message.
//!
//! A file without a record was written by another delivery agent
//! (Dovecot, Postfix's `local`). Its envelope is what such an agent writes
//! at its top, and no more: a first `Return-Path:` line and the one
//! `Delivered-To:` line right after it ([`EnvelopeSource::Trace`]). The
//! whole file is then the message.
//!
//! Every read is bounded: a file over the reader's size limit
//! ([`MAILDIR_MAX_FILE`] by default) is refused with
//! [`MaildirReadError::TooLarge`], and the record is looked for in the
//! first [`MAX_RECORD`] octets only. A bad file gives an error, never a
//! panic; [`MaildirReader::messages`] reports each one as an `Err` item
//! and goes on with the others.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::envelope_record::{FIELD, MAX_RECORD, MaildirEnvelope};

/// The largest Maildir file a [`MaildirReader`] reads by default: 64 MiB.
/// That is six times the server's default largest message (10 MiB), plus
/// room for the trace lines.
pub const MAILDIR_MAX_FILE: u64 = 64 * 1024 * 1024;

/// How much of a file is read first, for the record (more only when the
/// record is longer).
const PROBE: usize = 64 * 1024;

/// Why a Maildir file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaildirReadError {
    /// The file could not be opened or read (gone, permissions, ...).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The file is larger than the reader's limit; nothing was read.
    #[error("{path} is {size} octets, over the limit of {limit}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The reader's limit ([`MaildirReader::with_max_file`]).
        limit: u64,
    },
    /// The file's record says the message starts past the end of the
    /// file: the file was cut short or tampered with.
    #[error("{path}: its envelope record points past the end of the file")]
    Truncated {
        /// The file.
        path: PathBuf,
    },
    /// The path names no message file (a hidden file, a directory).
    #[error("{path} is not a Maildir message file")]
    NotAMessage {
        /// The path.
        path: PathBuf,
    },
}

/// Where a message's envelope came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeSource {
    /// The record mtakit writes: complete, and beyond the content's reach.
    Record,
    /// A file without a record: the `Return-Path:` line and the one
    /// `Delivered-To:` line another delivery agent wrote at its top (either
    /// may be missing). Only the sender and recipient are known.
    Trace,
}

/// A message file of a Maildir, found by [`MaildirReader::list`] and not
/// read yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaildirEntry {
    id: String,
    path: PathBuf,
}

impl MaildirEntry {
    /// The entry for `path`, if its file name is one of a message (not
    /// hidden, valid UTF-8).
    pub fn of(path: impl Into<PathBuf>) -> Option<MaildirEntry> {
        let path = path.into();
        let id = id_of(&path)?;
        Some(MaildirEntry { id, path })
    }

    /// The id: the file name up to the `:2,` flags.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A message read from a Maildir file: its envelope, and the bytes exactly
/// as delivered (without the trace lines the sink wrote before them).
#[derive(Clone, Debug)]
pub struct MaildirMessage {
    entry: MaildirEntry,
    envelope: MaildirEnvelope,
    source: EnvelopeSource,
    size: u64,
    data: Vec<u8>,
    modified: SystemTime,
}

impl MaildirMessage {
    /// The id: the file name up to the `:2,` flags.
    pub fn id(&self) -> &str {
        &self.entry.id
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.entry.path
    }

    /// The envelope and session facts. Only `from`, `to` and `skip` are
    /// known when [`source`](Self::source) is [`EnvelopeSource::Trace`].
    pub fn envelope(&self) -> &MaildirEnvelope {
        &self.envelope
    }

    /// Whether the envelope came from mtakit's record.
    pub fn source(&self) -> EnvelopeSource {
        self.source
    }

    /// Octets before the message in the file (0 for a file without a
    /// record).
    pub fn skip(&self) -> usize {
        self.envelope.skip
    }

    /// Octets of the whole message, whether or not all were read.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The message as delivered, or its first octets after
    /// [`MaildirReader::read_head`].
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The message as delivered, owned.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// True when [`data`](Self::data) holds the whole message.
    pub fn is_complete(&self) -> bool {
        self.data.len() as u64 == self.size
    }

    /// When the file was last modified.
    pub fn modified(&self) -> SystemTime {
        self.modified
    }
}

/// The id of a Maildir file: its name up to the `:2,` info; `None` for a
/// hidden file or a name that is not UTF-8.
fn id_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('.') || name.is_empty() {
        return None;
    }
    Some(name.split(':').next().unwrap_or(name).to_owned())
}

/// True for an id that can only name a file inside the Maildir: not
/// empty, not hidden, no path separator, no `:` and no NUL.
pub fn is_plain_id(id: &str) -> bool {
    !id.is_empty() && !id.starts_with('.') && !id.contains(['/', '\\', ':', '\0'])
}

/// The sender and recipient another delivery agent wrote at the top of a
/// file: a first `Return-Path:` line and the `Delivered-To:` line right
/// after it, only that one.
fn trace_envelope(head: &[u8]) -> MaildirEnvelope {
    let mut lines = head.split(|&b| b == b'\n').take(2).map(|line| {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        line.split_once(':').map(|(name, value)| {
            let value = value.trim();
            let bare = value
                .strip_prefix('<')
                .and_then(|v| v.strip_suffix('>'))
                .unwrap_or(value);
            (name.to_ascii_lowercase(), bare.to_owned())
        })
    });
    let mut envelope = MaildirEnvelope::default();
    if let Some(Some((name, from))) = lines.next()
        && name == "return-path"
    {
        envelope.from = from;
        if let Some(Some((name, to))) = lines.next()
            && name == "delivered-to"
        {
            envelope.to.push(to);
        }
    }
    envelope
}

/// Reads the messages of a Maildir, bounded: each file at most
/// [`MAILDIR_MAX_FILE`] octets unless set otherwise.
///
/// ```no_run
/// use mtakit::sink::MaildirReader;
///
/// let reader = MaildirReader::new("/tmp/mail");
/// for message in reader.messages()? {
///     match message {
///         Ok(message) => println!("{} from <{}>", message.id(), message.envelope().from),
///         Err(bad) => eprintln!("skipped: {bad}"),
///     }
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MaildirReader {
    root: PathBuf,
    max_file: u64,
}

impl MaildirReader {
    /// Reads the Maildir at `root` (it is not created).
    pub fn new(root: impl Into<PathBuf>) -> MaildirReader {
        MaildirReader {
            root: root.into(),
            max_file: MAILDIR_MAX_FILE,
        }
    }

    /// Refuses files larger than `octets` ([`MAILDIR_MAX_FILE`] by default).
    #[must_use]
    pub fn with_max_file(mut self, octets: u64) -> MaildirReader {
        self.max_file = octets;
        self
    }

    /// The largest file read.
    pub fn max_file(&self) -> u64 {
        self.max_file
    }

    /// The Maildir's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The message files in `new/` and `cur/`, in no particular order.
    /// Hidden files and anything that is not a plain file are not
    /// messages and are left out.
    ///
    /// # Errors
    ///
    /// If `new/` or `cur/` cannot be listed.
    pub fn list(&self) -> io::Result<Vec<MaildirEntry>> {
        let mut entries = Vec::new();
        for sub in ["new", "cur"] {
            for entry in fs::read_dir(self.root.join(sub))? {
                let entry = entry?;
                if entry.file_type().is_ok_and(|t| t.is_file())
                    && let Some(found) = MaildirEntry::of(entry.path())
                {
                    entries.push(found);
                }
            }
        }
        Ok(entries)
    }

    /// Where the message with this id is right after delivery,
    /// `ROOT/new/ID`, if it is there; `None` for an id that is not
    /// [plain](is_plain_id), or a message moved to `cur/` since (then
    /// [`list`](Self::list) finds it).
    pub fn find_new(&self, id: &str) -> Option<MaildirEntry> {
        if !is_plain_id(id) {
            return None;
        }
        let path = self.root.join("new").join(id);
        path.is_file().then(|| MaildirEntry {
            id: id.to_owned(),
            path,
        })
    }

    /// Every message, read whole; a file that cannot be read is an `Err`
    /// item, and the others follow.
    ///
    /// # Errors
    ///
    /// If `new/` or `cur/` cannot be listed.
    pub fn messages(
        &self,
    ) -> io::Result<impl Iterator<Item = Result<MaildirMessage, MaildirReadError>> + '_> {
        Ok(self
            .list()?
            .into_iter()
            .map(|entry| self.read(entry.path())))
    }

    /// Reads the message in `path` whole.
    ///
    /// # Errors
    ///
    /// See [`MaildirReadError`].
    pub fn read(&self, path: &Path) -> Result<MaildirMessage, MaildirReadError> {
        self.read_up_to(path, None)
    }

    /// Reads the envelope and the first `octets` of the message in `path`
    /// (its header section, say); [`MaildirMessage::size`] still tells
    /// the whole size. Files over the size limit are read too: only the
    /// head is.
    ///
    /// # Errors
    ///
    /// See [`MaildirReadError`].
    pub fn read_head(
        &self,
        path: &Path,
        octets: usize,
    ) -> Result<MaildirMessage, MaildirReadError> {
        self.read_up_to(path, Some(octets))
    }

    fn read_up_to(
        &self,
        path: &Path,
        head: Option<usize>,
    ) -> Result<MaildirMessage, MaildirReadError> {
        let entry = MaildirEntry::of(path).ok_or_else(|| MaildirReadError::NotAMessage {
            path: path.to_owned(),
        })?;
        let io_error = |source| MaildirReadError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(io_error)?;
        let info = file.metadata().map_err(io_error)?;
        if !info.is_file() {
            return Err(MaildirReadError::NotAMessage {
                path: path.to_owned(),
            });
        }
        let len = info.len();
        if head.is_none() && len > self.max_file {
            return Err(MaildirReadError::TooLarge {
                path: path.to_owned(),
                size: len,
                limit: self.max_file,
            });
        }
        let mut buf = Vec::new();
        fill(&mut file, &mut buf, PROBE as u64).map_err(io_error)?;
        let mut record = MaildirEnvelope::parse(&buf);
        if record.is_none() && buf.len() == PROBE && record_starts(&buf) {
            // A record longer than the probe: read up to its limit.
            fill(&mut file, &mut buf, (MAX_RECORD + PROBE) as u64).map_err(io_error)?;
            record = MaildirEnvelope::parse(&buf);
        }
        let (envelope, source) = match record {
            Some(record) => (record, EnvelopeSource::Record),
            None => (trace_envelope(&buf), EnvelopeSource::Trace),
        };
        let skip = envelope.skip;
        if skip as u64 > len {
            return Err(MaildirReadError::Truncated {
                path: path.to_owned(),
            });
        }
        let want = match head {
            Some(octets) => (skip as u64).saturating_add(octets as u64),
            // One octet more than allowed shows a file that grew.
            None => self.max_file.saturating_add(1),
        };
        fill(&mut file, &mut buf, want).map_err(io_error)?;
        if head.is_none() && buf.len() as u64 > self.max_file {
            return Err(MaildirReadError::TooLarge {
                path: path.to_owned(),
                size: buf.len() as u64,
                limit: self.max_file,
            });
        }
        buf.truncate(usize::try_from(want).unwrap_or(usize::MAX));
        buf.drain(..skip.min(buf.len()));
        let size = match head {
            Some(_) => len - skip as u64,
            None => buf.len() as u64,
        };
        Ok(MaildirMessage {
            entry,
            envelope,
            source,
            size,
            data: buf,
            modified: info.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        })
    }
}

/// Whether the line after the first is a record's start: only then is
/// more than the probe read for it.
fn record_starts(head: &[u8]) -> bool {
    head.iter()
        .position(|&b| b == b'\n')
        .and_then(|end| head.get(end + 1..end + 1 + FIELD.len() + 1))
        .is_some_and(|start| {
            start[..FIELD.len()].eq_ignore_ascii_case(FIELD.as_bytes())
                && start[FIELD.len()] == b':'
        })
}

/// Reads from `file` until `buf` holds `total` octets or the file ends.
fn fill(file: &mut File, buf: &mut Vec<u8>, total: u64) -> io::Result<()> {
    let more = total.saturating_sub(buf.len() as u64);
    if more > 0 {
        file.take(more).read_to_end(buf)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "maildir_read_tests.rs"]
mod tests;
