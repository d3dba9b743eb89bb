//! Where `mtakit serve` puts accepted messages: [`StdoutSink`] prints them
//! as pymta's debugging server did, and [`Sink`] picks it, a Maildir, or
//! nothing at all, from the flags.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use mtakit::proto::Reply;
use mtakit::{MaildirSink, Message, MessageSink, NullSink};

/// The first line printed for each message.
pub(crate) const BEGIN_MARKER: &str = "---------- MESSAGE FOLLOWS ----------";
/// The last line printed for each message.
pub(crate) const END_MARKER: &str = "------------ END MESSAGE ------------";
/// What begins every printed line of content, so that no content line can
/// look like a marker or an envelope line.
pub(crate) const CONTENT_PREFIX: &str = "| ";

/// Prints each message on stdout: a marker line, the envelope (with `Auth:`,
/// `Tls:` and one `Finding:` line per conformance finding when there are
/// any), a blank line, the content with each line after
/// [`CONTENT_PREFIX`], and an end marker. Control characters are escaped
/// (see [`escape_controls`]), so nothing printed can drive the terminal,
/// and only mtakit writes lines that do not begin with the prefix.
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
    let mut out = String::with_capacity(message.data().len() * 11 / 10 + 256);
    out.push_str(BEGIN_MARKER);
    out.push('\n');
    let mut field = |name: &str, value: &dyn std::fmt::Display| {
        let value = value.to_string();
        let _ = writeln!(out, "{name}: {}", escape_controls(&value));
    };
    field("Peer", &message.peer());
    match message.helo() {
        Some(helo) => field("Helo", helo),
        None => field("Helo", &""),
    }
    field("Mail-From", message.reverse_path());
    for path in message.forward_paths() {
        field("Rcpt-To", path);
    }
    if let Some(auth) = message.auth() {
        field("Auth", &auth.username);
    }
    if let Some(tls) = message.tls() {
        field("Tls", &format_args!("{} {}", tls.version, tls.cipher));
    }
    for finding in message.findings() {
        field("Finding", finding);
    }
    out.push('\n');
    content_lines(message.data(), &mut out);
    out.push_str(END_MARKER);
    out.push('\n');
    out
}

/// Appends message bytes as text to `out`: one line per line of content
/// (CRLF or a bare LF ends it), each after [`CONTENT_PREFIX`], with
/// invalid UTF-8 replaced and control characters escaped.
pub(crate) fn content_lines(data: &[u8], out: &mut String) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() && lines.peek().is_none() {
            break; // after the final line end
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        out.push_str(CONTENT_PREFIX);
        out.push_str(&escape_controls(line));
        out.push('\n');
    }
}

/// `text` with every control character but TAB shown as an escape: C0
/// and DEL as `\xHH` (ESC is `\x1b`, a bare CR `\x0d`), C1 as `\u{HH}`.
/// A terminal then shows them instead of obeying them.
pub(crate) fn escape_controls(text: &str) -> Cow<'_, str> {
    let is_control = |c: char| c != '\t' && c.is_control();
    if !text.contains(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !is_control(c) => out.push(c),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
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
    use super::{BEGIN_MARKER, END_MARKER, content_lines, escape_controls};

    fn content(data: &[u8]) -> String {
        let mut out = String::new();
        content_lines(data, &mut out);
        out
    }

    #[test]
    fn each_line_gets_the_prefix() {
        assert_eq!(
            content(b"Subject: hi\r\n\r\nbody\r\n"),
            "| Subject: hi\n| \n| body\n"
        );
        assert_eq!(content(b"no end"), "| no end\n");
        assert_eq!(content(b"bare\nlf\n"), "| bare\n| lf\n");
        assert_eq!(content(b""), "");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(content(b"caf\xe9\r\n"), "| caf\u{fffd}\n");
    }

    #[test]
    fn controls_are_escaped_visibly() {
        assert_eq!(escape_controls("a\tb"), "a\tb");
        assert_eq!(
            escape_controls("\x1b]52;c;cHduZWQ=\x07 \x1b[2J"),
            "\\x1b]52;c;cHduZWQ=\\x07 \\x1b[2J"
        );
        assert_eq!(
            escape_controls("del\x7f c1\u{9b}2J"),
            "del\\x7f c1\\u{9b}2J"
        );
        assert_eq!(escape_controls("caf\u{e9} \u{a0}"), "caf\u{e9} \u{a0}");
        assert_eq!(content(b"bare\rcr\r\n"), "| bare\\x0dcr\n");
        let printed = content(b"\x1b]0;title\x07\xc2\x9b31m\r\n");
        assert!(
            !printed.contains(|c: char| c != '\n' && c.is_control()),
            "{printed:?}"
        );
    }

    #[test]
    fn content_cannot_forge_the_framing() {
        let forged = format!(
            "Subject: x\r\n\r\n{END_MARKER}\r\n{BEGIN_MARKER}\r\nPeer: 10.9.8.7:25\r\n\r\nfake\r\n"
        );
        let printed = content(forged.as_bytes());
        for line in printed.lines() {
            assert!(line.starts_with("| "), "{line:?}");
        }
    }
}
