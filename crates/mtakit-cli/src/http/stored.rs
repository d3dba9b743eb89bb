//! A stored message: what the list shows of it, where its bytes are, and
//! what it costs in memory.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use mtakit::sink::MemoryEntry;

use super::headers::{LIST_TEXT_MAX, truncate};
use super::model::{Meta, Summary, rfc3339};

/// What a stored message costs besides its strings and data, roughly.
const ENTRY_OVERHEAD: usize = 512;

/// A stored message: what the list shows, cheap to clone behind an `Arc`.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) id: String,
    pub(crate) received_at: SystemTime,
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    /// Octets of the data as received.
    pub(crate) size: u64,
    /// Known for messages received by this process.
    pub(crate) meta: Option<Arc<Meta>>,
    pub(crate) content: Content,
    /// The decoded Subject from the head of the message, cut to
    /// [`LIST_TEXT_MAX`] characters.
    pub(crate) subject: Option<String>,
}

/// Where the bytes are.
#[derive(Debug)]
pub(crate) enum Content {
    Memory(Bytes),
    /// A Maildir file; the first `skip` octets are the trace lines mtakit
    /// wrote before the data. A file over `max` octets is not read.
    File {
        path: PathBuf,
        skip: usize,
        max: u64,
    },
}

/// A Maildir file, whole, if it is at most `max` octets.
fn read_file(path: &std::path::Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut data = Vec::new();
    std::fs::File::open(path)?
        .take(max.saturating_add(1))
        .read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("{} is over {max} octets", path.display()),
        ));
    }
    Ok(data)
}

impl Stored {
    /// The bytes exactly as received. Blocking for a Maildir file.
    pub(crate) fn raw(&self) -> io::Result<Bytes> {
        match &self.content {
            Content::Memory(bytes) => Ok(bytes.clone()),
            Content::File { path, skip, max } => {
                let mut data = read_file(path, *max)?;
                data.drain(..(*skip).min(data.len()));
                Ok(Bytes::from(data))
            }
        }
    }

    /// The message as delivered: the trace header fields mtakit added,
    /// then the bytes as received. For a Maildir, the whole file.
    /// Blocking for a Maildir file.
    pub(crate) fn delivered(&self) -> io::Result<Bytes> {
        match &self.content {
            Content::Memory(bytes) => {
                let trace = self.meta.as_ref().and_then(|m| m.received.as_deref());
                let mut out = Vec::with_capacity(bytes.len() + trace.map_or(0, str::len));
                out.extend_from_slice(trace.unwrap_or_default().as_bytes());
                out.extend_from_slice(bytes);
                Ok(Bytes::from(out))
            }
            Content::File { path, max, .. } => Ok(Bytes::from(read_file(path, *max)?)),
        }
    }

    /// The decoded Subject (cut to [`LIST_TEXT_MAX`] characters).
    pub(crate) fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// Conformance findings, as text.
    pub(crate) fn findings(&self) -> &[String] {
        self.meta.as_ref().map_or(&[], |m| &m.findings)
    }

    /// The list entry: every string cut to [`LIST_TEXT_MAX`] characters.
    pub(crate) fn summary(&self) -> Summary {
        Summary {
            id: self.id.clone(),
            from: truncate(&self.from, LIST_TEXT_MAX),
            to: self
                .to
                .iter()
                .map(|to| truncate(to, LIST_TEXT_MAX))
                .collect(),
            subject: self.subject().map(str::to_owned),
            size: self.size,
            received_at: rfc3339(self.received_at),
            findings: self.findings().len(),
        }
    }

    /// The octets this entry holds in memory, counted against the
    /// in-memory store's budget: the data, the strings, and an overhead.
    pub(crate) fn footprint(&self) -> usize {
        let data = match &self.content {
            Content::Memory(bytes) => bytes.len(),
            Content::File { path, .. } => path.as_os_str().len(),
        };
        let meta = self.meta.as_ref().map_or(0, |m| {
            m.findings.iter().map(String::len).sum::<usize>()
                + m.helo.as_ref().map_or(0, String::len)
                + m.peer.len()
        });
        ENTRY_OVERHEAD
            + data
            + self.id.len()
            + self.from.len()
            + self.to.iter().map(String::len).sum::<usize>()
            + self.subject.as_ref().map_or(0, String::len)
            + meta
    }
}

/// An entry of the in-memory store (a `MemorySink<Stored>`) costs its
/// [`Stored::footprint`].
impl MemoryEntry for Stored {
    fn id(&self) -> &str {
        &self.id
    }

    fn cost(&self) -> usize {
        self.footprint()
    }
}
