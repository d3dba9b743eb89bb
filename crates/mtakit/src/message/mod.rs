//! [`Message`]: an accepted message with everything known about it.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(feature = "test-util")]
mod decoded;
#[cfg(feature = "mime")]
pub mod mime;
#[cfg(feature = "mime")]
mod mime_bound;
#[cfg(feature = "mime")]
mod mime_scan;
#[cfg(feature = "test-util")]
pub use decoded::{Attachment, NamedAddress};

use mtakit_proto::{
    AuthIdentity, DataStats, Domain, Envelope, Finding, ForwardPath, Greeting, MailParams,
    Recipient, ReversePath, SessionInfo, TlsInfo, Transaction,
};

/// A message received at the end of DATA: the bytes exactly as received
/// (dot-stuffing removed, CRLF kept) with its envelope, the peer, the HELO
/// name, TLS facts and the authenticated identity.
///
/// This is what pymta's deliverer received as `Message`; the fields
/// `peer`, `smtp_helo`, `smtp_from`, `smtp_to`, `msg_data` and `username`
/// are [`peer`](Self::peer), [`helo`](Self::helo),
/// [`reverse_path`](Self::reverse_path), [`recipients`](Self::recipients),
/// [`data`](Self::data) and [`auth`](Self::auth) here.
///
/// With the `test-util` feature, it also decodes what a test compares:
/// `subject` and `header` with RFC 2047 encoded words decoded, the `from`,
/// `to` and `cc` mailboxes with their display names, `text_body` and
/// `html_body` decoded from their transfer encoding and charset, and the
/// `attachments`. The message is parsed on the first such call and the
/// result kept. [`raw_header`](Self::raw_header), [`data`](Self::data) and
/// [`text`](Self::text) give the content as it came, in every build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    id: String,
    received_at: SystemTime,
    peer: SocketAddr,
    local: SocketAddr,
    helo: Option<(Greeting, Domain)>,
    tls: Option<TlsInfo>,
    auth: Option<AuthIdentity>,
    envelope: Envelope,
    data: Vec<u8>,
    stats: DataStats,
    findings: Vec<Finding>,
    /// The decoded view, built on first use.
    #[cfg(feature = "test-util")]
    decoded: decoded::Cache,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The process id, read once (it is a system call every time otherwise).
static PID: LazyLock<u32> = LazyLock::new(std::process::id);

/// A unique, sortable id: seconds and microseconds, process id, counter.
fn new_id(now: SystemTime) -> String {
    let t = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:x}.{:05x}.{:x}.{:x}",
        t.as_secs(),
        t.subsec_micros(),
        *PID,
        n
    )
}

impl Message {
    /// Builds the message for a transaction of `session`, stamped now.
    pub fn new(session: &SessionInfo, transaction: Transaction) -> Self {
        let received_at = SystemTime::now();
        let Transaction {
            envelope,
            data,
            stats,
            findings,
            ..
        } = transaction;
        Self {
            id: new_id(received_at),
            received_at,
            peer: session.peer(),
            local: session.local(),
            helo: session
                .helo()
                .cloned()
                .map(|d| (session.greeting().unwrap_or(Greeting::Helo), d)),
            tls: session.tls().cloned(),
            auth: session.auth().cloned(),
            envelope,
            data,
            stats,
            findings,
            #[cfg(feature = "test-util")]
            decoded: decoded::Cache::default(),
        }
    }

    /// A unique id, also used for Maildir file names.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When the end of data was received.
    pub fn received_at(&self) -> SystemTime {
        self.received_at
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The local address the client connected to.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The HELO/EHLO name.
    pub fn helo(&self) -> Option<&Domain> {
        self.helo.as_ref().map(|(_, d)| d)
    }

    /// Whether the client used HELO or EHLO.
    pub fn greeting(&self) -> Option<Greeting> {
        self.helo.as_ref().map(|(g, _)| *g)
    }

    /// TLS facts, when the message came over TLS.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// Who authenticated, if anyone.
    pub fn auth(&self) -> Option<&AuthIdentity> {
        self.auth.as_ref()
    }

    /// The whole envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The MAIL FROM reverse-path.
    pub fn reverse_path(&self) -> &ReversePath {
        &self.envelope.reverse_path
    }

    /// The MAIL parameters (SIZE, BODY, SMTPUTF8, AUTH).
    pub fn mail_params(&self) -> &MailParams {
        &self.envelope.mail_params
    }

    /// The recipients with their parameters, in order.
    pub fn recipients(&self) -> &[Recipient] {
        &self.envelope.recipients
    }

    /// The recipients' forward-paths, in order.
    pub fn forward_paths(&self) -> impl Iterator<Item = &ForwardPath> {
        self.envelope.recipients.iter().map(|r| &r.path)
    }

    /// The content exactly as received: dot-stuffing removed, CRLF kept,
    /// the final `.` line not included.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The content as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }

    /// The value of the first header field with this name (unfolded,
    /// case-insensitive name), from the header section, **as it is on the
    /// wire**: RFC 2047 encoded words (`=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=`) are
    /// not decoded. This is what a policy sees; in tests,
    /// `header` (feature `test-util`) decodes them.
    ///
    /// ```
    /// use mtakit::test_util::{TestClient, TestServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = TestServer::start_async().await;
    /// let mut client = TestClient::connect(server.addr()).await?;
    /// client.ehlo("client.example").await?;
    /// client.mail_from("<a@example.com>").await?;
    /// client.rcpt_to("<b@example.com>").await?;
    /// client.data(b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n again\r\n\r\nHi\r\n").await?;
    /// let message = &server.wait_for_messages_async(1).await[0];
    /// assert_eq!(
    ///     message.raw_header("subject").as_deref(),
    ///     Some("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= again")
    /// );
    /// assert_eq!(message.subject(), Some("Grüße again"));
    /// # Ok(()) }
    /// ```
    pub fn raw_header(&self, name: &str) -> Option<String> {
        header_fields(&self.data)
            .into_iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// What the DATA receiver saw: bare CR/LF, NUL, 8-bit octets, longest
    /// line.
    pub fn stats(&self) -> &DataStats {
        &self.stats
    }

    /// What the client did against the rules: bare CR or LF, NUL octets,
    /// lines over 998 octets, 8-bit data without `BODY=8BITMIME`, a UTF-8
    /// envelope without `SMTPUTF8`, talking before the greeting. Empty for
    /// a conforming client. With the default strict limits most of these
    /// are refused; with [`LineEndingPolicy::Record`](crate::proto::LineEndingPolicy::Record)
    /// they are accepted and listed here.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Panics, listing the findings, unless the client conformed.
    ///
    /// ```
    /// use mtakit::test_util::{TestClient, TestServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = TestServer::start_async().await;
    /// let mut client = TestClient::connect(server.addr()).await?;
    /// client.ehlo("client.example").await?;
    /// client.mail_from("<a@example.com>").await?;
    /// client.rcpt_to("<b@example.com>").await?;
    /// client.data(b"Subject: fine\r\n\r\nAll lines end in CRLF.\r\n").await?;
    /// server.wait_for_messages_async(1).await[0].assert_clean();
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    ///
    /// When [`findings`](Self::findings) is not empty.
    #[track_caller]
    pub fn assert_clean(&self) {
        if !self.findings.is_empty() {
            let list: Vec<String> = self.findings.iter().map(ToString::to_string).collect();
            panic!(
                "message {} from {} is not clean: {}",
                self.id,
                self.reverse_path(),
                list.join("; ")
            );
        }
    }

    /// Keeps the recipients whose entry in `keep` is true (in envelope
    /// order; missing entries keep theirs).
    pub(crate) fn retain_recipients(&mut self, keep: &[bool]) {
        let mut keep = keep.iter();
        self.envelope
            .recipients
            .retain(|_| keep.next().copied().unwrap_or(true));
    }

    /// Takes the content out of the message.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
}

/// The fields of the header section of `data`: names as written, values
/// unfolded (CRLF before the continuation removed) and trimmed. The
/// section ends at the first empty line; lines without a colon are
/// skipped.
pub(crate) fn header_fields(data: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    let head = text.split("\r\n\r\n").next().unwrap_or("").to_owned();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(line);
            }
            continue;
        }
        if let Some((field, rest)) = line.split_once(':') {
            fields.push((field.to_owned(), rest.trim_start().to_owned()));
        }
    }
    for (_, value) in &mut fields {
        value.truncate(value.trim_end().len());
    }
    fields
}
