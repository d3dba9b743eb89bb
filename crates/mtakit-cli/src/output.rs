//! Where `mtakit serve` puts accepted messages: [`StdoutSink`] prints them
//! as pymta's debugging server did, and [`Sink`] picks it, a Maildir, or
//! nothing at all, from the flags.

use std::fmt::Write as _;
use std::io::{self, Write};

use mtakit::proto::Reply;
use mtakit::{MaildirSink, Message, MessageSink, NullSink};

/// The first line printed for each message.
pub(crate) const BEGIN_MARKER: &str = "---------- MESSAGE FOLLOWS ----------";
/// The last line printed for each message.
pub(crate) const END_MARKER: &str = "------------ END MESSAGE ------------";

/// Prints each message on stdout: a marker line, the envelope (with `Auth:`,
/// `Tls:` and one `Finding:` line per conformance finding when there are
/// any), a blank line, the content, and an end marker.
///
/// Printing never makes delivery fail: the message was received, and a
/// closed or broken stdout is only logged.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StdoutSink;

impl MessageSink for StdoutSink {
    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        self.print(&message).await;
        Ok(())
    }
}

impl StdoutSink {
    /// Prints `message`; a failure to write is only logged.
    pub(crate) async fn print(&self, message: &Message) {
        let text = render(message);
        let id = message.id().to_owned();
        // Writing to a pipe may block; keep it off the async workers.
        let written = tokio::task::spawn_blocking(move || {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(%id, error = %e, "could not print the message"),
            Err(e) => tracing::warn!(%id, error = %e, "printing the message failed"),
        }
    }
}

/// The printed form of a message, ending with the end marker and a newline.
pub(crate) fn render(message: &Message) -> String {
    let mut out = String::with_capacity(message.data().len() + 256);
    out.push_str(BEGIN_MARKER);
    out.push('\n');
    let _ = writeln!(out, "Peer: {}", message.peer());
    match message.helo() {
        Some(helo) => {
            let _ = writeln!(out, "Helo: {helo}");
        }
        None => out.push_str("Helo:\n"),
    }
    let _ = writeln!(out, "Mail-From: {}", message.reverse_path());
    for path in message.forward_paths() {
        let _ = writeln!(out, "Rcpt-To: {path}");
    }
    if let Some(auth) = message.auth() {
        let _ = writeln!(out, "Auth: {}", auth.username);
    }
    if let Some(tls) = message.tls() {
        let _ = writeln!(out, "Tls: {} {}", tls.version, tls.cipher);
    }
    for finding in message.findings() {
        let _ = writeln!(out, "Finding: {finding}");
    }
    out.push('\n');
    out.push_str(&content_text(message.data()));
    out.push_str(END_MARKER);
    out.push('\n');
    out
}

/// Message bytes as text: invalid UTF-8 replaced, CRLF shown as a newline,
/// and a final newline added when missing.
pub(crate) fn content_text(data: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(data).replace("\r\n", "\n");
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The sink chosen on the command line.
#[derive(Clone, Debug)]
pub(crate) enum Sink {
    /// `--maildir DIR`.
    Maildir(MaildirSink),
    /// The default: print on stdout.
    Stdout(StdoutSink),
    /// `--discard`.
    Discard(NullSink),
    /// Kept in the memory store only: `--quiet`, or `--events -`, which
    /// needs stdout for itself.
    Quiet,
}

impl MessageSink for Sink {
    /// `--discard` never holds message content.
    fn keeps_content(&self) -> bool {
        !matches!(self, Sink::Discard(_))
    }

    async fn deliver(&self, message: Message) -> Result<(), Reply> {
        match self {
            Sink::Discard(sink) => {
                log_discarded(&message);
                sink.deliver(message).await
            }
            Sink::Stdout(_) | Sink::Quiet => self.deliver_kept(&message).await,
            // Boxed: this future is large, and the other paths should not
            // carry room for it.
            Sink::Maildir(sink) => Box::pin(to_maildir(sink, message)).await,
        }
    }
}

impl Sink {
    /// Delivers a message that the caller keeps (the memory store):
    /// printing needs only a reference, so the content is not copied; only
    /// a Maildir gets a copy of its own.
    pub(crate) async fn deliver_kept(&self, message: &Message) -> Result<(), Reply> {
        match self {
            Sink::Maildir(sink) => Box::pin(to_maildir(sink, message.clone())).await,
            Sink::Discard(_) => {
                log_discarded(message);
                Ok(())
            }
            Sink::Stdout(printer) => {
                Box::pin(printer.print(message)).await;
                Summary::of(message).log(&Ok(()));
                Ok(())
            }
            Sink::Quiet => {
                Summary::of(message).log(&Ok(()));
                Ok(())
            }
        }
    }
}

/// Writes `message` to the Maildir, and logs the outcome.
async fn to_maildir(sink: &MaildirSink, message: Message) -> Result<(), Reply> {
    let summary = Summary::of(&message);
    let result = sink.deliver(message).await;
    summary.log(&result);
    result
}

/// Benchmarks send many messages: `--discard` keeps the log quiet, and
/// formats nothing unless debug logging is on.
fn log_discarded(message: &Message) {
    tracing::debug!(
        id = %message.id(),
        from = %message.reverse_path(),
        recipients = message.recipients().len(),
        size = message.data().len(),
        "message discarded"
    );
}

/// What the log says of a delivered message.
struct Summary {
    id: String,
    from: String,
    recipients: usize,
    size: usize,
}

impl Summary {
    fn of(message: &Message) -> Summary {
        Summary {
            id: message.id().to_owned(),
            from: message.reverse_path().to_string(),
            recipients: message.recipients().len(),
            size: message.data().len(),
        }
    }

    fn log(&self, result: &Result<(), Reply>) {
        let Summary {
            id,
            from,
            recipients,
            size,
        } = self;
        match result {
            Ok(()) => tracing::info!(%id, %from, recipients, size, "message accepted"),
            Err(reply) => tracing::warn!(%id, %from, reply = %reply.text(), "message not stored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::content_text;

    #[test]
    fn crlf_becomes_newline() {
        assert_eq!(
            content_text(b"Subject: hi\r\n\r\nbody\r\n"),
            "Subject: hi\n\nbody\n"
        );
    }

    #[test]
    fn a_final_newline_is_added() {
        assert_eq!(content_text(b"no end"), "no end\n");
        assert_eq!(content_text(b""), "");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(content_text(b"caf\xe9\r\n"), "caf\u{fffd}\n");
    }
}
