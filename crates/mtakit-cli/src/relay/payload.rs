//! [`Payload`]: the content the relay sends, read in chunks when it is
//! sent: shared bytes of the in-memory store, or a Maildir file past its
//! trace lines. Nothing is copied whole.

use std::io::{self, SeekFrom};
use std::path::PathBuf;

use axum::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// How much is read and encoded at a time.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Where the content to relay is.
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    /// In memory (shared with the store, not copied).
    Memory(Bytes),
    /// A file whose first `skip` octets are not content.
    File {
        /// The file.
        path: PathBuf,
        /// Octets of trace lines before the content.
        skip: u64,
    },
}

/// Reads a [`Payload`] chunk by chunk.
pub(crate) enum Reader {
    Memory(Bytes),
    File(tokio::fs::File),
}

impl Payload {
    /// Opens the content for reading from its start.
    pub(crate) async fn open(&self) -> io::Result<Reader> {
        match self {
            Payload::Memory(bytes) => Ok(Reader::Memory(bytes.clone())),
            Payload::File { path, skip } => {
                let mut file = tokio::fs::File::open(path).await?;
                file.seek(SeekFrom::Start(*skip)).await?;
                Ok(Reader::File(file))
            }
        }
    }

    /// True when every octet is 7-bit; reads a file once, in chunks.
    pub(crate) async fn is_ascii(&self) -> io::Result<bool> {
        let mut reader = self.open().await?;
        let mut buf = vec![0; CHUNK];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Ok(true);
            }
            if !buf[..n].is_ascii() {
                return Ok(false);
            }
        }
    }
}

impl Reader {
    /// Fills `buf` with the next octets; 0 at the end.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::Memory(bytes) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes.split_to(n));
                Ok(n)
            }
            Reader::File(file) => file.read(buf).await,
        }
    }
}
