//! Building a [`Reply`] without a fallible step: named constructors for
//! the replies a server commonly sends, and [`FromStr`] for the human form
//! `550 5.1.1 No such user`.

use std::borrow::Cow;
use std::net::IpAddr;
use std::str::FromStr;

use super::{EnhancedCode, Reply, ReplyCode, ReplyError};

/// `4.3.1`: mail system full.
const SYSTEM_FULL: EnhancedCode = EnhancedCode {
    class: 4,
    subject: 3,
    detail: 1,
};

/// `5.1.1`: bad destination mailbox address.
const NO_SUCH_MAILBOX: EnhancedCode = EnhancedCode {
    class: 5,
    subject: 1,
    detail: 1,
};

impl Reply {
    /// `250 2.0.0 OK`.
    pub const fn ok() -> Self {
        Self::fixed(ReplyCode::OK, Some(EnhancedCode::SUCCESS), "OK")
    }

    /// `451 4.3.0 Temporary local problem, please try again`: something on
    /// the server's side failed, for example a sink could not store a
    /// message.
    pub const fn temporary_failure() -> Self {
        Self::fixed(
            ReplyCode::LOCAL_ERROR,
            Some(EnhancedCode::TEMP_SYSTEM),
            "Temporary local problem, please try again",
        )
    }

    /// `452 4.3.1 Insufficient system storage, try again later`.
    pub const fn insufficient_storage() -> Self {
        Self::fixed(
            ReplyCode::INSUFFICIENT_STORAGE,
            Some(SYSTEM_FULL),
            "Insufficient system storage, try again later",
        )
    }

    /// `421 4.3.2 Too many connections`: the server is at its connection
    /// limit.
    pub const fn too_many_connections() -> Self {
        Self::fixed(
            ReplyCode::SERVICE_UNAVAILABLE,
            Some(EnhancedCode::SHUTTING_DOWN),
            "Too many connections",
        )
    }

    /// `421 4.7.0 Error: too many connections from <ip>`: one client
    /// address is at its connection limit.
    pub fn too_many_connections_from(ip: IpAddr) -> Self {
        // An address's text form is digits, dots, colons and hex letters.
        Self::owned(
            ReplyCode::SERVICE_UNAVAILABLE,
            Some(EnhancedCode::TEMP_SECURITY),
            format!("Error: too many connections from {ip}"),
        )
    }

    /// `550 5.1.1 No such user here`.
    pub const fn no_such_user() -> Self {
        Self::fixed(
            ReplyCode::MAILBOX_UNAVAILABLE,
            Some(NO_SUCH_MAILBOX),
            "No such user here",
        )
    }

    /// `550 5.7.1 Relaying denied`.
    pub const fn relaying_denied() -> Self {
        Self::fixed(
            ReplyCode::MAILBOX_UNAVAILABLE,
            Some(EnhancedCode::NOT_AUTHORIZED),
            "Relaying denied",
        )
    }

    /// The human form that [`FromStr`] reads: the code, the enhanced code
    /// if any, and the text, lines joined by `\n`; for example
    /// `550 5.1.1 No such user`. (`Display` gives the wire form instead.)
    ///
    /// ```
    /// use mtakit_proto::Reply;
    ///
    /// let reply: Reply = "550 5.1.1 No such user".parse()?;
    /// assert_eq!(reply.to_text(), "550 5.1.1 No such user");
    /// assert_eq!(reply.to_text().parse::<Reply>()?, reply);
    /// # Ok::<(), mtakit_proto::ReplyError>(())
    /// ```
    pub fn to_text(&self) -> String {
        let mut text = self.code().to_string();
        if let Some(enhanced) = self.enhanced() {
            text.push(' ');
            text.push_str(&enhanced.to_string());
        }
        if !self.text().is_empty() {
            text.push(' ');
            text.push_str(self.text());
        }
        text
    }
}

/// Reads `CODE [x.y.z] text`: `"550 5.1.1 No such user"`, `"250 OK"` or
/// `"421"`. The enhanced code is optional; a `\n` in the text makes a
/// multi-line reply. The same checks as [`Reply::new`] apply.
///
/// ```
/// use mtakit_proto::{EnhancedCode, Reply};
///
/// let reply: Reply = "451 4.3.1 Disk full, try later".parse()?;
/// assert_eq!(reply.code().get(), 451);
/// assert_eq!(reply.enhanced(), EnhancedCode::parse("4.3.1"));
/// assert_eq!(reply.text(), "Disk full, try later");
///
/// assert!("hello".parse::<Reply>().is_err());
/// assert!("700 x".parse::<Reply>().is_err());
/// assert!("550 4.1.1 class disagrees".parse::<Reply>().is_err());
/// # Ok::<(), mtakit_proto::ReplyError>(())
/// ```
impl FromStr for Reply {
    type Err = ReplyError;

    fn from_str(text: &str) -> Result<Self, ReplyError> {
        let (code, rest) = text.split_once(' ').unwrap_or((text, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReplyError::NoCode);
        }
        let code: u16 = code.parse().map_err(|_| ReplyError::NoCode)?;
        let (first, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        let (enhanced, text) = match EnhancedCode::parse(first) {
            Some(e) => (Some(e), tail),
            None => (None, rest),
        };
        if text.contains('\n') {
            Self::multiline(code, enhanced, text.split('\n'))
        } else {
            Self::new(code, enhanced, Cow::Owned(text.to_owned()))
        }
    }
}
