//! The decoded view of a [`Message`] that tests assert on (feature
//! `test-util`): header fields with RFC 2047 encoded words decoded, the
//! `From`/`To`/`Cc` mailboxes, the text and HTML bodies decoded from their
//! transfer encoding and charset, and the attachments.
//!
//! Built with mail-parser on first use and kept in the message. The MIME
//! parse goes through [`mime::parse`](crate::mime::parse), which refuses
//! messages too costly for mail-parser to take apart safely.

use std::fmt;
use std::sync::OnceLock;

use mail_parser::parsers::MessageStream;
use mail_parser::{Address, HeaderValue, MimeHeaders, PartType};

use super::{Message, header_fields, mime_bound};

/// A display name and address from a `From`, `To` or `Cc` header field
/// (not the SMTP envelope): `Ada Lovelace <ada@example.com>` is the name
/// `Ada Lovelace` and the address `ada@example.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedAddress {
    name: Option<String>,
    address: String,
}

impl NamedAddress {
    /// The display name, decoded, if the field gave one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The address (`local@domain`), empty when the field had none.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl fmt::Display for NamedAddress {
    /// `Name <address>`, or the bare address without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}

/// An attachment of a message: its file name, content type and contents
/// decoded from their transfer encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    name: Option<String>,
    content_type: String,
    data: Vec<u8>,
}

impl Attachment {
    /// The file name (`Content-Disposition: attachment; filename=...` or
    /// the `name` parameter of `Content-Type`), decoded.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The content type, `type/subtype` in lower case, without parameters
    /// (`application/octet-stream` when the part gave none).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The contents, decoded from base64 or quoted-printable.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// What the MIME parse found, kept once made.
#[derive(Clone, Default)]
struct Mime {
    from: Vec<NamedAddress>,
    to: Vec<NamedAddress>,
    cc: Vec<NamedAddress>,
    text_body: Option<String>,
    html_body: Option<String>,
    attachments: Vec<Attachment>,
}

/// The decoded view, built on first use. Clones share nothing with the
/// original's work but copy what is already decoded; it takes no part in
/// equality (it is derived from the bytes, which do).
#[derive(Clone, Default)]
pub(super) struct Cache {
    headers: OnceLock<Vec<(String, String)>>,
    mime: OnceLock<Box<Mime>>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cache { .. }")
    }
}

impl PartialEq for Cache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Cache {}

/// Decodes the RFC 2047 encoded words of an unstructured field value.
fn decode_words(raw: &str) -> String {
    let mut line = Vec::with_capacity(raw.len() + 2);
    line.extend_from_slice(raw.as_bytes());
    line.extend_from_slice(b"\r\n");
    match MessageStream::new(&line).parse_unstructured() {
        HeaderValue::Text(text) => text.into_owned(),
        _ => String::new(),
    }
}

fn addresses(field: Option<&Address<'_>>) -> Vec<NamedAddress> {
    field
        .map(|address| {
            address
                .iter()
                .map(|a| NamedAddress {
                    name: a.name().map(str::to_owned),
                    address: a.address().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Mime {
    /// Parses `data`, or gives the empty view when it is nested too deeply
    /// to parse safely (see [`mime`](crate::mime)) or is no message at all.
    fn parse(data: &[u8]) -> Self {
        let Ok(Some(message)) = mime_bound::parse(data) else {
            return Self::default();
        };
        let part_text = |ids: &[u32], html: bool| {
            ids.iter()
                .find_map(|&id| match &message.parts.get(id as usize)?.body {
                    PartType::Html(text) if html => Some(text.to_string()),
                    PartType::Text(text) if !html => Some(text.to_string()),
                    _ => None,
                })
        };
        Self {
            from: addresses(message.from()),
            to: addresses(message.to()),
            cc: addresses(message.cc()),
            text_body: part_text(&message.text_body, false),
            html_body: part_text(&message.html_body, true),
            attachments: message
                .attachments()
                .map(|part| Attachment {
                    name: part.attachment_name().map(str::to_owned),
                    content_type: part.content_type().map_or_else(
                        || "application/octet-stream".to_owned(),
                        |ct| match ct.subtype() {
                            Some(sub) => format!("{}/{sub}", ct.ctype()),
                            None => ct.ctype().to_owned(),
                        },
                    ),
                    data: part.contents().to_vec(),
                })
                .collect(),
        }
    }
}

/// The assertion helpers: what a test compares, decoded. Feature
/// `test-util`; each parses the message once, on first use.
impl Message {
    fn decoded_headers(&self) -> &[(String, String)] {
        self.decoded.headers.get_or_init(|| {
            header_fields(&self.data)
                .into_iter()
                .map(|(name, value)| (name, decode_words(&value)))
                .collect()
        })
    }

    fn mime(&self) -> &Mime {
        self.decoded
            .mime
            .get_or_init(|| Box::new(Mime::parse(&self.data)))
    }

    /// The value of the first header field with this name (unfolded,
    /// case-insensitive name), with RFC 2047 encoded words decoded:
    /// `=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=` reads `Grüße`. The value as it is on
    /// the wire is [`raw_header`](Self::raw_header).
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
    /// client
    ///     .data(b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nX-Tag: =?ISO-8859-1?Q?caf=E9?=\r\n\r\nHi\r\n")
    ///     .await?;
    /// let message = &server.wait_for_messages_async(1).await[0];
    /// assert_eq!(message.header("x-tag"), Some("café"));
    /// assert_eq!(message.raw_header("x-tag").as_deref(), Some("=?ISO-8859-1?Q?caf=E9?="));
    /// # Ok(()) }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.decoded_headers()
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The `Subject` header field, decoded (see [`header`](Self::header)).
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
    /// client.data(b"Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n\r\nHi\r\n").await?;
    /// assert_eq!(server.wait_for_messages_async(1).await[0].subject(), Some("Grüße"));
    /// # Ok(()) }
    /// ```
    pub fn subject(&self) -> Option<&str> {
        self.header("Subject")
    }

    /// The mailboxes of the `From` header field, display names decoded
    /// (the envelope sender is [`reverse_path`](Self::reverse_path)).
    ///
    /// ```
    /// use mtakit::test_util::{TestClient, TestServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = TestServer::start_async().await;
    /// let mut client = TestClient::connect(server.addr()).await?;
    /// client.ehlo("client.example").await?;
    /// client.mail_from("<bounce@example.com>").await?;
    /// client.rcpt_to("<b@example.com>").await?;
    /// client
    ///     .data(b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.com>\r\nTo: b@example.com, \"Bo\" <bo@example.com>\r\n\r\nHi\r\n")
    ///     .await?;
    /// let message = &server.wait_for_messages_async(1).await[0];
    /// assert_eq!(message.from()[0].name(), Some("Jürgen"));
    /// assert_eq!(message.from()[0].address(), "j@example.com");
    /// let to: Vec<String> = message.to().iter().map(ToString::to_string).collect();
    /// assert_eq!(to, ["b@example.com", "Bo <bo@example.com>"]);
    /// assert!(message.cc().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn from(&self) -> &[NamedAddress] {
        &self.mime().from
    }

    /// The mailboxes of the `To` header field (the envelope recipients
    /// are [`forward_paths`](Self::forward_paths)); see
    /// [`from`](Self::from).
    pub fn to(&self) -> &[NamedAddress] {
        &self.mime().to
    }

    /// The mailboxes of the `Cc` header field; see [`from`](Self::from).
    pub fn cc(&self) -> &[NamedAddress] {
        &self.mime().cc
    }

    /// The first `text/plain` body, decoded from its transfer encoding
    /// (base64, quoted-printable) and charset; for a message without MIME
    /// structure, its body.
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
    /// client
    ///     .data(
    ///         b"MIME-Version: 1.0\r\n\
    ///           Content-Type: multipart/alternative; boundary=b\r\n\r\n\
    ///           --b\r\n\
    ///           Content-Type: text/plain; charset=utf-8\r\n\
    ///           Content-Transfer-Encoding: quoted-printable\r\n\r\n\
    ///           Gr=C3=BC=C3=9Fe\r\n\
    ///           --b\r\n\
    ///           Content-Type: text/html; charset=utf-8\r\n\
    ///           Content-Transfer-Encoding: base64\r\n\r\n\
    ///           PGI+R3LDvMOfZTwvYj4=\r\n\
    ///           --b--\r\n",
    ///     )
    ///     .await?;
    /// let message = &server.wait_for_messages_async(1).await[0];
    /// assert_eq!(message.text_body(), Some("Grüße"));
    /// assert_eq!(message.html_body(), Some("<b>Grüße</b>"));
    /// # Ok(()) }
    /// ```
    ///
    /// A message that mail-parser could not take apart safely is not
    /// parsed: one that names more than 100 `multipart`/`message` media
    /// types (counted generously, also inside base64 and quoted-printable
    /// parts; this bounds the nesting) or holds more than 2,000 RFC 2231
    /// parameter sections decodes to no mailboxes, no bodies and no
    /// attachments. Its header fields still decode.
    pub fn text_body(&self) -> Option<&str> {
        self.mime().text_body.as_deref()
    }

    /// The first `text/html` body, decoded; see
    /// [`text_body`](Self::text_body).
    pub fn html_body(&self) -> Option<&str> {
        self.mime().html_body.as_deref()
    }

    /// The attachments (and inline parts that are not the bodies), in
    /// order, decoded.
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
    /// client
    ///     .data(
    ///         b"Content-Type: multipart/mixed; boundary=b\r\n\r\n\
    ///           --b\r\n\
    ///           Content-Type: text/plain\r\n\r\n\
    ///           See attached.\r\n\
    ///           --b\r\n\
    ///           Content-Type: application/pdf\r\n\
    ///           Content-Disposition: attachment; filename=\"report.pdf\"\r\n\
    ///           Content-Transfer-Encoding: base64\r\n\r\n\
    ///           JVBERi0=\r\n\
    ///           --b--\r\n",
    ///     )
    ///     .await?;
    /// let message = &server.wait_for_messages_async(1).await[0];
    /// let attachment = &message.attachments()[0];
    /// assert_eq!(attachment.name(), Some("report.pdf"));
    /// assert_eq!(attachment.content_type(), "application/pdf");
    /// assert_eq!(attachment.data(), b"%PDF-");
    /// # Ok(()) }
    /// ```
    pub fn attachments(&self) -> &[Attachment] {
        &self.mime().attachments
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::mime_bound::{base64_wrapped, nested};

    /// Parses on a thread with a 2 MiB stack (the default for test
    /// threads), where mail-parser's recursion used to overflow.
    fn parse_on_small_stack(raw: Vec<u8>) -> Mime {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || Mime::parse(&raw))
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn shallow_nesting_is_taken_apart() {
        let mime = parse_on_small_stack(nested(10));
        assert_eq!(mime.attachments.len(), 1);
        assert_eq!(mime.attachments[0].content_type(), "message/rfc822");
        let mime = parse_on_small_stack(base64_wrapped(&nested(10)));
        assert_eq!(mime.attachments.len(), 1);
    }

    #[test]
    fn deep_nesting_decodes_to_nothing_instead_of_aborting() {
        for raw in [nested(50_000), base64_wrapped(&nested(50_000))] {
            let mime = parse_on_small_stack(raw);
            assert!(mime.attachments.is_empty());
            assert_eq!(mime.text_body, None);
        }
    }

    #[test]
    fn encoded_words_decode_in_any_field() {
        assert_eq!(decode_words("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus"), "Grüße aus");
        assert_eq!(decode_words("=?ISO-8859-1?B?Y2Fm6Q==?="), "café");
        assert_eq!(decode_words("plain text"), "plain text");
        assert_eq!(decode_words(""), "");
    }
}
