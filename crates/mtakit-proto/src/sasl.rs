//! SASL mechanisms for AUTH (RFC 4954): PLAIN (RFC 4616) and LOGIN.

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard base64 that tolerates missing padding, as many clients send it.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The `334` prompt for a LOGIN user name: base64 of `Username:`.
pub const LOGIN_USERNAME_PROMPT: &str = "VXNlcm5hbWU6";
/// The `334` prompt for a LOGIN password: base64 of `Password:`.
pub const LOGIN_PASSWORD_PROMPT: &str = "UGFzc3dvcmQ6";

/// A SASL mechanism the session can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// PLAIN (RFC 4616): `authzid NUL authcid NUL password`.
    Plain,
    /// LOGIN: user name and password in two base64 lines.
    Login,
}

impl Mechanism {
    /// The name as advertised in EHLO.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::Login => "LOGIN",
        }
    }

    /// Looks a mechanism up by name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("PLAIN") {
            Some(Self::Plain)
        } else if name.eq_ignore_ascii_case("LOGIN") {
            Some(Self::Login)
        } else {
            None
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a client presented to authenticate.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A user name and password (PLAIN, LOGIN).
    Password {
        /// The mechanism that carried them.
        mechanism: Mechanism,
        /// The authorisation identity, if the client asked for one (PLAIN).
        authzid: Option<String>,
        /// The authentication identity.
        username: String,
        /// The password.
        password: String,
    },
}

impl Credentials {
    /// The mechanism used.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Self::Password { mechanism, .. } => *mechanism,
        }
    }

    /// The authentication identity.
    pub fn username(&self) -> &str {
        match self {
            Self::Password { username, .. } => username,
        }
    }

    /// The authorisation identity, if any.
    pub fn authzid(&self) -> Option<&str> {
        match self {
            Self::Password { authzid, .. } => authzid.as_deref(),
        }
    }

    /// The password.
    pub fn password(&self) -> &str {
        match self {
            Self::Password { password, .. } => password,
        }
    }
}

impl fmt::Debug for Credentials {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password {
                mechanism,
                authzid,
                username,
                ..
            } => f
                .debug_struct("Password")
                .field("mechanism", mechanism)
                .field("authzid", authzid)
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// Why a SASL response was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaslError {
    /// Not valid base64 (`501 5.5.2`).
    BadBase64,
    /// Decoded, but not in the mechanism's format, or not UTF-8.
    Malformed,
}

impl fmt::Display for SaslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadBase64 => "Invalid base64 data",
            Self::Malformed => "Malformed authentication data",
        })
    }
}

impl std::error::Error for SaslError {}

/// Decodes one base64 response line. `=` is the empty response.
///
/// # Errors
///
/// [`SaslError::BadBase64`].
pub fn decode_base64(line: &str) -> Result<Vec<u8>, SaslError> {
    if line == "=" {
        return Ok(Vec::new());
    }
    if line.is_empty() || line.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(SaslError::BadBase64);
    }
    B64.decode(line).map_err(|_| SaslError::BadBase64)
}

/// Encodes bytes as standard base64, as a server challenge or client
/// response.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a PLAIN response: base64 of `authzid NUL authcid NUL password`.
///
/// ```
/// use mtakit_proto::sasl::{decode_plain, encode_base64};
///
/// let creds = decode_plain(&encode_base64(b"\0alice\0secret ")).unwrap();
/// assert_eq!(creds.username(), "alice");
/// assert_eq!(creds.password(), "secret ");
/// assert_eq!(creds.authzid(), None);
/// ```
///
/// # Errors
///
/// [`SaslError`] for bad base64, a wrong number of NULs, an empty user
/// name or password, or text that is not UTF-8.
pub fn decode_plain(line: &str) -> Result<Credentials, SaslError> {
    let raw = decode_base64(line)?;
    let mut parts = raw.split(|&b| b == 0);
    let (Some(authzid), Some(username), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| SaslError::Malformed);
    let (authzid, username, password) = (text(authzid)?, text(username)?, text(password)?);
    if username.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed);
    }
    Ok(Credentials::Password {
        mechanism: Mechanism::Plain,
        authzid: (!authzid.is_empty()).then_some(authzid),
        username,
        password,
    })
}

/// Decodes one LOGIN line (user name or password) to text.
///
/// # Errors
///
/// [`SaslError`] for bad base64 or text that is not UTF-8 or has NUL.
pub fn decode_login(line: &str) -> Result<String, SaslError> {
    let raw = decode_base64(line)?;
    if raw.contains(&0) {
        return Err(SaslError::Malformed);
    }
    String::from_utf8(raw).map_err(|_| SaslError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_forms() {
        let c = decode_plain(&encode_base64(b"ignored\0foo\0foo")).unwrap();
        assert_eq!(
            (c.authzid(), c.username(), c.password()),
            (Some("ignored"), "foo", "foo")
        );
        assert_eq!(c.mechanism(), Mechanism::Plain);
        // Unpadded base64 is tolerated.
        assert!(decode_plain("AGZvbwBmb28").is_ok());
        assert!(decode_plain("foo").is_err());
        assert_eq!(decode_plain("invalid_base64"), Err(SaslError::BadBase64));
        assert_eq!(decode_plain("!!!notbase64"), Err(SaslError::BadBase64));
        assert_eq!(
            decode_plain(&encode_base64(b"\0foo")),
            Err(SaslError::Malformed)
        );
        assert_eq!(
            decode_plain(&encode_base64(b"foobar")),
            Err(SaslError::Malformed)
        );
        assert_eq!(
            decode_plain(&encode_base64(b"\0foo\0bar\0baz")),
            Err(SaslError::Malformed)
        );
        assert_eq!(
            decode_plain(&encode_base64(b"\0\0bar")),
            Err(SaslError::Malformed)
        );
        assert_eq!(
            decode_plain(&encode_base64(b"\0foo\0")),
            Err(SaslError::Malformed)
        );
        assert_eq!(
            decode_plain(&encode_base64(b"\0f\xffo\0bar")),
            Err(SaslError::Malformed)
        );
        assert_eq!(decode_plain("="), Err(SaslError::Malformed));
    }

    #[test]
    fn login_lines() {
        assert_eq!(decode_login("Zm9v").unwrap(), "foo");
        assert_eq!(decode_login("=").unwrap(), "");
        assert_eq!(decode_login("*"), Err(SaslError::BadBase64));
        assert_eq!(decode_login("Zm 9v"), Err(SaslError::BadBase64));
        assert_eq!(
            decode_login(&encode_base64(b"a\0b")),
            Err(SaslError::Malformed)
        );
    }

    #[test]
    fn prompts_decode_to_their_words() {
        assert_eq!(decode_login(LOGIN_USERNAME_PROMPT).unwrap(), "Username:");
        assert_eq!(decode_login(LOGIN_PASSWORD_PROMPT).unwrap(), "Password:");
    }

    #[test]
    fn debug_hides_the_password() {
        let c = decode_plain(&encode_base64(b"\0foo\0hunter2")).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(Mechanism::from_name("plain"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::from_name("LOGIN"), Some(Mechanism::Login));
        assert_eq!(Mechanism::from_name("CRAM-MD5"), None);
    }
}
