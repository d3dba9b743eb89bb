use std::fs::{self, File, OpenOptions};
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use mtakit_proto::Reply;

use crate::message::Message;
use crate::sink::{MessageSink, temporary_failure};

/// Delivers each message into a Maildir, durably.
///
/// The file is written to `tmp/`, fsynced, renamed into `new/`, and the
/// directory is fsynced, all before the client gets its `250`. If any step
/// fails, the client gets `451 4.3.0` and the partial file is removed, so a
/// message is either acknowledged and stored, or neither.
///
/// The file holds `Return-Path:` and `Delivered-To:` trace lines, then the
/// message bytes exactly as received.
///
/// ```no_run
/// let sink = mtakit::MaildirSink::create("/tmp/mail")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MaildirSink {
    root: PathBuf,
    host: String,
}

impl MaildirSink {
    /// Uses `root` as a Maildir, creating `tmp/`, `new/` and `cur/` if
    /// needed.
    ///
    /// # Errors
    ///
    /// If the directories cannot be created.
    pub fn create(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(root.join(sub))?;
        }
        let host = fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| {
                h.trim()
                    .chars()
                    .map(|c| if c == '/' || c == ':' { '_' } else { c })
                    .collect::<String>()
            })
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        Ok(Self { root, host })
    }

    /// The Maildir's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the message with this id is (or will be) delivered:
    /// `ROOT/new/ID.HOST`, until a mail reader moves it to `cur/`.
    pub fn delivered_path(&self, message_id: &str) -> PathBuf {
        self.root.join("new").join(self.file_name(message_id))
    }

    fn file_name(&self, message_id: &str) -> String {
        format!("{message_id}.{}", self.host)
    }

    fn store(&self, message: &Message) -> io::Result<PathBuf> {
        let name = self.file_name(message.id());
        let tmp = self.root.join("tmp").join(&name);
        let new = self.delivered_path(message.id());
        let result = (|| {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            let mut head = format!("Return-Path: {}\r\n", message.reverse_path());
            for path in message.forward_paths() {
                head.push_str(&format!("Delivered-To: {path}\r\n"));
            }
            file.write_all(head.as_bytes())?;
            file.write_all(message.data())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, &new)?;
            File::open(self.root.join("new"))?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map(|()| new)
    }
}

impl MessageSink for MaildirSink {
    fn deliver(&self, message: Message) -> impl Future<Output = Result<(), Reply>> + Send {
        let sink = self.clone();
        async move {
            let id = message.id().to_owned();
            match tokio::task::spawn_blocking(move || sink.store(&message)).await {
                Ok(Ok(path)) => {
                    tracing::debug!(%id, path = %path.display(), "stored in maildir");
                    Ok(())
                }
                Ok(Err(e)) => {
                    tracing::error!(%id, error = %e, "maildir delivery failed");
                    Err(temporary_failure())
                }
                Err(e) => {
                    tracing::error!(%id, error = %e, "maildir delivery task failed");
                    Err(temporary_failure())
                }
            }
        }
    }
}
