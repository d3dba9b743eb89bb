//! `--relay smtp://HOST[:PORT]`: forwarding accepted mail to a real server,
//! and releasing a stored message to it from the UI or the API.
//!
//! The client is the library's [`Client`], used deliberately small: plain
//! SMTP (no TLS, no AUTH), lock-step, every step bounded by
//! [`STEP_TIMEOUT`]. It says EHLO (HELO if that is
//! refused), asks for SMTPUTF8
//! when an address needs it and for BODY=8BITMIME when the content is 8-bit,
//! makes every line ending CRLF, dot-stuffs the content and ends it with
//! `<CRLF>.<CRLF>` ([`encode`]). The content is streamed from where it is
//! stored ([`Payload`]). Every address is checked again before it is sent,
//! so a stored one can never carry parameters or line breaks.

mod encode;
mod payload;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use mtakit::client::{Client, ClientError};
use mtakit::proto::{EhloInfo, ForwardPath, Reply, ReversePath};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use encode::DataEncoder;
use payload::CHUNK;
pub(crate) use payload::Payload;

/// How long any one step (connect, a reply, a write) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where accepted mail goes: the parsed `--relay` URL, and the
/// connections it may have open at once (forwarding and releases
/// together).
#[derive(Clone, Debug)]
pub(crate) struct Relay {
    host: String,
    port: u16,
    /// One permit per connection; shared by clones.
    slots: Arc<Semaphore>,
}

impl PartialEq for Relay {
    fn eq(&self, other: &Relay) -> bool {
        (&self.host, self.port) == (&other.host, other.port)
    }
}

impl Eq for Relay {}

impl Relay {
    /// Allows at most `connections` connections at once.
    pub(crate) fn with_connections(mut self, connections: usize) -> Relay {
        self.slots = Arc::new(Semaphore::new(connections.max(1)));
        self
    }
}

impl FromStr for Relay {
    type Err = String;

    /// `smtp://HOST[:PORT]`, the port 25 by default; IPv6 hosts in
    /// brackets.
    fn from_str(url: &str) -> Result<Relay, String> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("{url:?}: the relay must be smtp://HOST[:PORT]"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '@', '?', '#']) {
            return Err(format!("{url:?}: only smtp://HOST[:PORT] is supported"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("{url:?}: bad port {port:?}"))?;
                (host, port)
            }
            _ => (rest, 25),
        };
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() || host.contains(['[', ']']) {
            return Err(format!("{url:?}: no host"));
        }
        Ok(Relay {
            host: host.to_owned(),
            port,
            slots: Arc::new(Semaphore::new(crate::http::RELAY_CONNECTIONS)),
        })
    }
}

impl fmt::Display for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "smtp://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "smtp://{}:{}", self.host, self.port)
        }
    }
}

/// Why a message could not be relayed.
#[derive(Debug)]
pub(crate) enum RelayError {
    /// Connecting, reading or writing failed.
    Io(std::io::Error),
    /// A step took longer than [`STEP_TIMEOUT`].
    Timeout,
    /// The server's reply made no sense.
    Protocol(String),
    /// The server refused a step; the text is its reply.
    Refused(String),
    /// A stored address is not a valid path; nothing was sent.
    BadAddress(String),
}

impl fmt::Display for RelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayError::Io(e) => write!(f, "{e}"),
            RelayError::Timeout => write!(f, "the relay did not answer in time"),
            RelayError::Protocol(what) => write!(f, "bad reply from the relay: {what}"),
            RelayError::Refused(reply) => write!(f, "the relay refused: {reply}"),
            RelayError::BadAddress(address) => write!(f, "not a valid address: {address:?}"),
        }
    }
}

impl std::error::Error for RelayError {}

impl From<ClientError> for RelayError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Io(e) => RelayError::Io(e),
            ClientError::Timeout => RelayError::Timeout,
            other => RelayError::Protocol(other.to_string()),
        }
    }
}

/// Sends `line` and wants a reply of class `class` (2 or 3).
async fn command(
    conn: &mut Client<TcpStream>,
    line: &str,
    class: u16,
) -> Result<Reply, RelayError> {
    let reply = conn.command(line).await?;
    if reply.code().get() / 100 != class {
        return Err(RelayError::Refused(format!("{line}: {}", one_line(&reply))));
    }
    Ok(reply)
}

/// A reply as one line, for errors and logs.
fn one_line(reply: &Reply) -> String {
    format!(
        "{} {}",
        reply.code().get(),
        reply.text().replace('\n', " / ")
    )
}

/// Checks that `from` and every `to` is exactly one path, nothing after
/// it: no ESMTP parameters, no CR or LF.
fn check_addresses(from: &str, to: &[String]) -> Result<(), RelayError> {
    let bad = |a: &str| RelayError::BadAddress(a.to_owned());
    if from.chars().any(char::is_control)
        || !matches!(ReversePath::parse(&format!("<{from}>")), Ok((_, "")))
    {
        return Err(bad(from));
    }
    for rcpt in to {
        if rcpt.chars().any(char::is_control)
            || !matches!(ForwardPath::parse(&format!("<{rcpt}>")), Ok((_, "")))
        {
            return Err(bad(rcpt));
        }
    }
    Ok(())
}

impl Relay {
    /// Sends one message: `from` and `to` are bare addresses (`""` is the
    /// null reverse-path). Returns the relay's reply to the content.
    pub(crate) async fn send(
        &self,
        hello: &str,
        from: &str,
        to: &[String],
        content: &Payload,
    ) -> Result<String, RelayError> {
        if to.is_empty() {
            return Err(RelayError::Protocol("no recipients".to_owned()));
        }
        check_addresses(from, to)?;
        // Waits for a free connection; the semaphore is never closed.
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| RelayError::Protocol("relay closed".to_owned()))?;
        let ascii = content.is_ascii().await.map_err(RelayError::Io)?;
        let stream = tokio::time::timeout(
            STEP_TIMEOUT,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| RelayError::Timeout)?
        .map_err(RelayError::Io)?;
        let mut conn = Client::new(stream, STEP_TIMEOUT);
        let greeting = conn.read_reply().await?;
        if greeting.code().get() != 220 {
            return Err(RelayError::Refused(one_line(&greeting)));
        }
        // A server without ESMTP gets HELO, and no parameters.
        let ehlo = conn.ehlo(hello).await?;
        if ehlo.code().get() / 100 != 2 {
            command(&mut conn, &format!("HELO {hello}"), 2).await?;
        }
        // After HELO there is no EHLO information, so no parameters.
        let offers = |extension: fn(&EhloInfo) -> bool| conn.ehlo_info().is_some_and(extension);
        let (smtputf8, eight_bit) = (
            offers(EhloInfo::smtp_utf8),
            offers(EhloInfo::eight_bit_mime),
        );
        let mut params = String::new();
        let utf8 = !from.is_ascii() || to.iter().any(|t| !t.is_ascii());
        if utf8 && smtputf8 {
            params.push_str(" SMTPUTF8");
        }
        if !ascii && eight_bit {
            params.push_str(" BODY=8BITMIME");
        }
        command(&mut conn, &format!("MAIL FROM:<{from}>{params}"), 2).await?;
        for rcpt in to {
            command(&mut conn, &format!("RCPT TO:<{rcpt}>"), 2).await?;
        }
        command(&mut conn, "DATA", 3).await?;
        // A read error stops here without the final dot: the relay drops
        // the incomplete message when the connection closes.
        let mut reader = content.open().await.map_err(RelayError::Io)?;
        let mut encoder = DataEncoder::default();
        let mut chunk = vec![0; CHUNK];
        let mut out = Vec::with_capacity(CHUNK * 2);
        loop {
            let n = reader.read(&mut chunk).await.map_err(RelayError::Io)?;
            if n == 0 {
                break;
            }
            out.clear();
            encoder.push(&chunk[..n], &mut out);
            conn.send(&out).await?;
        }
        out.clear();
        encoder.finish(&mut out);
        conn.send(&out).await?;
        let done = conn.read_reply().await?;
        if done.code().get() / 100 != 2 {
            return Err(RelayError::Refused(format!(
                "end of data: {}",
                one_line(&done)
            )));
        }
        // The message is accepted; a failing QUIT changes nothing.
        let _ = conn.command("QUIT").await;
        Ok(one_line(&done))
    }
}

#[cfg(test)]
mod tests;
