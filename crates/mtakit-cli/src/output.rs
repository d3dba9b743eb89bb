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
        let text = render(&message);
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
        Ok(())
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
        if let Sink::Discard(sink) = self {
            // Benchmarks send many messages: keep the log quiet, and format
            // nothing unless debug logging is on.
            tracing::debug!(
                id = %message.id(),
                from = %message.reverse_path(),
                recipients = message.recipients().len(),
                size = message.data().len(),
                "message discarded"
            );
            return sink.deliver(message).await;
        }
        let id = message.id().to_owned();
        let from = message.reverse_path().to_string();
        let recipients = message.recipients().len();
        let size = message.data().len();
        // Boxed: these futures are large, and the discarding path above
        // should not carry room for them.
        let result = match self {
            Sink::Maildir(sink) => Box::pin(sink.deliver(message)).await,
            Sink::Stdout(sink) => Box::pin(sink.deliver(message)).await,
            Sink::Quiet | Sink::Discard(_) => Ok(()),
        };
        match &result {
            Ok(()) => tracing::info!(%id, %from, recipients, size, "message accepted"),
            Err(reply) => tracing::warn!(%id, %from, reply = %reply.text(), "message not stored"),
        }
        result
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
