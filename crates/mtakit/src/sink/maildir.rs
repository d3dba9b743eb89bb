use std::fs::{self, File, OpenOptions};
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mtakit_proto::Reply;

use crate::message::Message;
use crate::sink::{MAX_RECORD, MaildirEnvelope, MaildirReader, MessageSink, temporary_failure};

/// Files in `tmp/` older than this are removed when the sink is created:
/// deliveries cut short by a crash, as the Maildir convention says.
pub const STALE_TMP: Duration = Duration::from_secs(36 * 3600);

/// Delivers each message into a Maildir, durably.
///
/// The file is written to `tmp/`, fsynced, renamed into `new/`, and the
/// directory is fsynced, all before the client gets its `250`. If any step
/// fails, the client gets `451 4.3.0` and the partial file is removed, so a
/// message is either acknowledged and stored, or neither.
///
/// The file holds a `Return-Path:` line, the envelope record
/// ([`MaildirEnvelope`], where the message content cannot reach it),
/// `Delivered-To:` lines (one per recipient, no angle brackets, as Postfix
/// and Dovecot write them) and a `Received:` trace header
/// ([`Message::received_header`]), then the message bytes exactly as
/// received.
///
/// [`MaildirReader`] (from [`reader`](Self::reader)) reads the files back.
///
/// Creating the sink removes files in `tmp/` older than [`STALE_TMP`].
///
/// ```no_run
/// let sink = mtakit::MaildirSink::create("/tmp/mail")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MaildirSink {
    root: PathBuf,
    host: String,
    /// The name in `Received: ... by NAME`.
    by: String,
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
        let swept = sweep_tmp(&root.join("tmp"), SystemTime::now())?;
        if swept > 0 {
            tracing::info!(files = swept, "removed stale files from the Maildir's tmp/");
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
        let by = host.clone();
        Ok(Self { root, host, by })
    }

    /// Names this server `name` in the `Received:` header (by default the
    /// machine's host name).
    #[must_use]
    pub fn with_hostname(mut self, name: impl Into<String>) -> Self {
        self.by = name.into();
        self
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

    /// A reader of this Maildir ([`MaildirReader`]), with the default
    /// size limit.
    pub fn reader(&self) -> MaildirReader {
        MaildirReader::new(&self.root)
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
            let head = trace_lines(message, &self.by)?;
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

/// What comes before the message in its file: `Return-Path:`, the
/// envelope record, `Delivered-To:` lines and `Received:`; an error when
/// the record would be over [`MAX_RECORD`].
fn trace_lines(message: &Message, by: &str) -> io::Result<String> {
    let return_path = format!("Return-Path: {}\r\n", message.reverse_path());
    let mut after = String::new();
    for path in message.forward_paths() {
        let path = path.to_string();
        let bare = path
            .strip_prefix('<')
            .and_then(|p| p.strip_suffix('>'))
            .unwrap_or(&path);
        after.push_str(&format!("Delivered-To: {bare}\r\n"));
    }
    after.push_str(&message.received_header(by));
    let mut record = MaildirEnvelope::of(message);
    // The record's length does not depend on `skip` (fixed width).
    let field = record.to_field().len();
    if field > MAX_RECORD {
        // A reader would not find it: refuse rather than store a file
        // that reads back without its envelope.
        return Err(io::Error::other(format!(
            "the envelope record would be {field} octets, over {MAX_RECORD}"
        )));
    }
    record.skip = return_path.len() + field + after.len();
    Ok(format!("{return_path}{}{after}", record.to_field()))
}

/// Removes the files in `tmp` last modified before `now - STALE_TMP`;
/// returns how many.
fn sweep_tmp(tmp: &Path, now: SystemTime) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(tmp)? {
        let entry = entry?;
        let Ok(info) = entry.metadata() else { continue };
        let stale = info
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_TMP);
        if info.is_file() && stale && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use mtakit_proto::testing::Harness;
    use mtakit_proto::{Event, SessionConfig};

    /// A message to `n` recipients with long addresses.
    fn to_many(n: usize) -> Message {
        let mut config = SessionConfig::new("t");
        config.limits.max_recipients = n;
        let mut h = Harness::with_config(config);
        h.greeting();
        h.send("EHLO c");
        h.send("MAIL FROM:<a@a.test>");
        let domain = format!("{0}.{0}.{0}.test", "d".repeat(58));
        for i in 0..n {
            h.send(&format!("RCPT TO:<{i:0>60}@{domain}>"));
        }
        h.send("DATA");
        let session = h.session();
        session.receive(b"Subject: x\r\n\r\nx\r\n.\r\n");
        loop {
            match session.poll_event() {
                Some(Event::Deliver(t)) => return Message::new(session.info(), t),
                Some(_) => {}
                None => panic!("no message"),
            }
        }
    }

    /// A record no reader would find is refused, not written.
    #[test]
    fn a_record_over_its_limit_is_refused() {
        let message = to_many(100);
        let head = trace_lines(&message, "h").unwrap();
        assert!(head.len() > 100 * 260);
        // Some 249 octets of record per recipient.
        let message = to_many(MAX_RECORD / 240);
        // Not `unwrap_err`: the Ok value would print 17 MB.
        let Err(refused) = trace_lines(&message, "h") else {
            panic!("a record over MAX_RECORD was written");
        };
        assert!(refused.to_string().contains("envelope record"), "{refused}");
    }

    #[test]
    fn stale_tmp_files_go_fresh_ones_stay() {
        let root = std::env::temp_dir().join(format!("mtakit-sweep-{}", std::process::id()));
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp).unwrap();
        let now = SystemTime::now();
        for (name, age) in [("old", 37), ("older", 400), ("fresh", 1), ("edge", 35)] {
            let file = File::create(tmp.join(name)).unwrap();
            file.set_modified(now - Duration::from_secs(age * 3600))
                .unwrap();
        }
        assert_eq!(sweep_tmp(&tmp, now).unwrap(), 2);
        let mut left: Vec<_> = fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["edge", "fresh"]);
        MaildirSink::create(&root).unwrap();
        fs::remove_dir_all(&root).unwrap();
    }
}
