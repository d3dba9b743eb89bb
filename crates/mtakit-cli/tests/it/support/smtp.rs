//! A blocking SMTP client over a plain `TcpStream`, reading replies with
//! the library's bounded `ReplyReader`, and base64 for AUTH.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use mtakit::proto::ReplyReader;

use super::WAIT;

/// A blocking SMTP client over a plain `TcpStream`.
pub(crate) struct Smtp {
    reader: TcpStream,
    replies: ReplyReader,
    /// The socket, for writing and for its addresses.
    pub(crate) writer: TcpStream,
}

/// A reply: its code and its lines of text (without the code).
pub(crate) type Reply = (u16, Vec<String>);

impl Smtp {
    /// Connects and checks the `220` greeting.
    pub(crate) fn connect(addr: SocketAddr) -> Smtp {
        Smtp::connect_after(addr, b"")
    }

    /// Connects, sends `preamble` (such as a PROXY header) before reading
    /// anything, and checks the `220` greeting.
    pub(crate) fn connect_after(addr: SocketAddr, preamble: &[u8]) -> Smtp {
        let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.write_all(preamble).expect("write the preamble");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let mut smtp = Smtp {
            reader: stream.try_clone().unwrap(),
            replies: ReplyReader::new(),
            writer: stream,
        };
        let (code, lines) = smtp.reply();
        assert_eq!(code, 220, "greeting: {lines:?}");
        smtp
    }

    pub(crate) fn reply(&mut self) -> Reply {
        self.reply_lenient()
            .expect("a whole, well-formed reply before the connection closed")
    }

    /// Like [`reply`](Self::reply), but `None` when the connection closed
    /// or failed before a whole, well-formed reply came.
    pub(crate) fn reply_lenient(&mut self) -> Option<Reply> {
        loop {
            if let Some(reply) = self.replies.next_reply().ok()? {
                // The lines as sent after the code, enhanced code included.
                let lines = reply
                    .lines()
                    .map(|line| match (reply.enhanced(), line) {
                        (Some(e), "") => e.to_string(),
                        (Some(e), line) => format!("{e} {line}"),
                        (None, line) => line.to_owned(),
                    })
                    .collect();
                return Some((reply.code().get(), lines));
            }
            let mut chunk = [0u8; 4096];
            let n = self.reader.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            self.replies.feed(&chunk[..n]);
        }
    }

    /// Like [`send`](Self::send), but `None` when writing fails.
    pub(crate) fn send_lenient(&mut self, bytes: &[u8]) -> Option<()> {
        self.writer.write_all(bytes).ok()
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    pub(crate) fn cmd(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Sends a whole transaction; `content` must be dot-stuffed and end
    /// with CRLF. Returns the final reply.
    pub(crate) fn transaction(&mut self, from: &str, to: &[&str], content: &str) -> Reply {
        assert_eq!(self.cmd(&format!("MAIL FROM:<{from}>")).0, 250);
        for rcpt in to {
            assert_eq!(self.cmd(&format!("RCPT TO:<{rcpt}>")).0, 250);
        }
        assert_eq!(self.cmd("DATA").0, 354);
        self.send(content.as_bytes());
        self.cmd(".")
    }

    /// True once the server closed the connection.
    pub(crate) fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.replies.buffered() == 0 && matches!(self.reader.read_to_end(&mut rest), Ok(0))
    }
}

pub(crate) fn plain_token(user: &str, password: &str) -> String {
    base64(format!("\0{user}\0{password}").as_bytes())
}

/// Standard base64 with padding (RFC 4648 §4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One whole session: EHLO, one transaction that must get its `250`, and
/// QUIT. `content` must be dot-stuffed and end with CRLF.
pub(crate) fn send_one(addr: SocketAddr, from: &str, to: &[&str], content: &str) {
    let mut smtp = Smtp::connect(addr);
    assert_eq!(smtp.cmd("EHLO client.example").0, 250);
    let reply = smtp.transaction(from, to, content);
    assert_eq!(reply.0, 250, "{reply:?}");
    assert_eq!(smtp.cmd("QUIT").0, 221);
}
