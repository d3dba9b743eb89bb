//! SASL mechanisms for AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN, and the
//! bearer-token mechanisms XOAUTH2 (Google's) and OAUTHBEARER (RFC 7628).

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard base64 that tolerates missing padding, as many clients send it.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// The `334` prompt for a LOGIN user name: base64 of `Username:`.
pub const LOGIN_USERNAME_PROMPT: &str = "VXNlcm5hbWU6";
#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
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
    /// XOAUTH2: `user=NAME^Aauth=Bearer TOKEN^A^A`.
    XOAuth2,
    /// OAUTHBEARER (RFC 7628): a GS2 header, then `auth=Bearer TOKEN`.
    OAuthBearer,
}

impl Mechanism {
    /// The name as advertised in EHLO.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::Login => "LOGIN",
            Self::XOAuth2 => "XOAUTH2",
            Self::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// True for the bearer-token mechanisms.
    pub const fn is_token(self) -> bool {
        matches!(self, Self::XOAuth2 | Self::OAuthBearer)
    }

    /// Looks a mechanism up by name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("PLAIN") {
            Some(Self::Plain)
        } else if name.eq_ignore_ascii_case("LOGIN") {
            Some(Self::Login)
        } else if name.eq_ignore_ascii_case("XOAUTH2") {
            Some(Self::XOAuth2)
        } else if name.eq_ignore_ascii_case("OAUTHBEARER") {
            Some(Self::OAuthBearer)
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
    /// A user name and an OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER).
    Token {
        /// The mechanism that carried them.
        mechanism: Mechanism,
        /// The authorisation identity (OAUTHBEARER's `a=`), if any.
        authzid: Option<String>,
        /// The user the token is for (XOAUTH2's `user=`, or OAUTHBEARER's
        /// `a=`; empty if the client gave none).
        username: String,
        /// The bearer token.
        token: String,
    },
}

impl Credentials {
    /// The mechanism used.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Self::Password { mechanism, .. } | Self::Token { mechanism, .. } => *mechanism,
        }
    }

    /// The authentication identity.
    pub fn username(&self) -> &str {
        match self {
            Self::Password { username, .. } | Self::Token { username, .. } => username,
        }
    }

    /// The authorisation identity, if any.
    pub fn authzid(&self) -> Option<&str> {
        match self {
            Self::Password { authzid, .. } | Self::Token { authzid, .. } => authzid.as_deref(),
        }
    }

    /// The secret: the password, or the bearer token for XOAUTH2 and
    /// OAUTHBEARER.
    pub fn password(&self) -> &str {
        match self {
            Self::Password { password, .. } => password,
            Self::Token { token, .. } => token,
        }
    }

    /// The bearer token, for the token mechanisms.
    pub fn token(&self) -> Option<&str> {
        match self {
            Self::Token { token, .. } => Some(token),
            Self::Password { .. } => None,
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
            Self::Token {
                mechanism,
                authzid,
                username,
                ..
            } => f
                .debug_struct("Token")
                .field("mechanism", mechanism)
                .field("authzid", authzid)
                .field("username", username)
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
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

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
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

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// Encodes bytes as standard base64, as a server challenge or client
/// response.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
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

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
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

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// The error challenge sent after a failed bearer-token AUTH (RFC 7628
/// §3.2.2), base64-encoded; the client answers it and gets `535`.
pub fn oauth_error_challenge() -> String {
    encode_base64(br#"{"status":"invalid_token","schemes":"bearer","scope":""}"#)
}

/// Splits `auth=Bearer TOKEN` out of `^A`-separated key-value pairs.
fn bearer_token(pairs: &str) -> Result<String, SaslError> {
    let mut token = None;
    for pair in pairs.split('\x01').filter(|p| !p.is_empty()) {
        if let Some(value) = pair.strip_prefix("auth=") {
            let (scheme, t) = value.split_once(' ').ok_or(SaslError::Malformed)?;
            if !scheme.eq_ignore_ascii_case("Bearer") || t.is_empty() || token.is_some() {
                return Err(SaslError::Malformed);
            }
            token = Some(t.to_owned());
        }
    }
    token.ok_or(SaslError::Malformed)
}

fn decode_text(line: &str) -> Result<String, SaslError> {
    let raw = decode_base64(line)?;
    let text = String::from_utf8(raw).map_err(|_| SaslError::Malformed)?;
    if text.contains(['\0', '\r', '\n']) {
        return Err(SaslError::Malformed);
    }
    Ok(text)
}

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// Decodes an XOAUTH2 response: base64 of
/// `user=NAME^Aauth=Bearer TOKEN^A^A`.
///
/// ```
/// use mtakit_proto::sasl::{decode_xoauth2, encode_base64};
///
/// let line = encode_base64(b"user=alice@example.com\x01auth=Bearer ya29.token\x01\x01");
/// let creds = decode_xoauth2(&line).unwrap();
/// assert_eq!(creds.username(), "alice@example.com");
/// assert_eq!(creds.token(), Some("ya29.token"));
/// ```
///
/// # Errors
///
/// [`SaslError`] for bad base64 or a malformed response.
pub fn decode_xoauth2(line: &str) -> Result<Credentials, SaslError> {
    let text = decode_text(line)?;
    let body = text.strip_suffix("\x01\x01").ok_or(SaslError::Malformed)?;
    let (user, rest) = body.split_once('\x01').ok_or(SaslError::Malformed)?;
    let username = user.strip_prefix("user=").ok_or(SaslError::Malformed)?;
    Ok(Credentials::Token {
        mechanism: Mechanism::XOAuth2,
        authzid: None,
        username: username.to_owned(),
        token: bearer_token(rest)?,
    })
}

#[doc(hidden)] // public for the fuzz targets and benches only; not part of the API
/// Decodes an OAUTHBEARER initial response (RFC 7628 §3.1): base64 of a
/// GS2 header such as `n,a=user@example.com,` followed by
/// `^Aauth=Bearer TOKEN^A^A` (other key-value pairs are ignored).
///
/// # Errors
///
/// [`SaslError`] for bad base64 or a malformed response.
pub fn decode_oauthbearer(line: &str) -> Result<Credentials, SaslError> {
    let text = decode_text(line)?;
    let body = text.strip_suffix("\x01\x01").ok_or(SaslError::Malformed)?;
    let (gs2, pairs) = body.split_once('\x01').ok_or(SaslError::Malformed)?;
    let mut fields = gs2.split(',');
    let flag = fields.next().ok_or(SaslError::Malformed)?;
    if !(flag == "n" || flag == "y" || flag.starts_with("p=")) {
        return Err(SaslError::Malformed);
    }
    let authzid = match fields.next() {
        Some("") => None,
        Some(a) => Some(
            a.strip_prefix("a=")
                .ok_or(SaslError::Malformed)?
                .replace("=2C", ",")
                .replace("=3D", "="),
        ),
        None => return Err(SaslError::Malformed),
    };
    if fields.next() != Some("") || fields.next().is_some() {
        return Err(SaslError::Malformed);
    }
    Ok(Credentials::Token {
        mechanism: Mechanism::OAuthBearer,
        username: authzid.clone().unwrap_or_default(),
        authzid,
        token: bearer_token(pairs)?,
    })
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
    fn xoauth2_forms() {
        let ok = encode_base64(b"user=a@b.c\x01auth=Bearer tok\x01\x01");
        let c = decode_xoauth2(&ok).unwrap();
        assert_eq!(
            (c.username(), c.token(), c.mechanism()),
            ("a@b.c", Some("tok"), Mechanism::XOAuth2)
        );
        assert_eq!(c.password(), "tok");
        for bad in [
            &b"user=a@b.c\x01auth=Bearer tok\x01"[..],
            b"user=a@b.c\x01auth=Basic tok\x01\x01",
            b"a@b.c\x01auth=Bearer tok\x01\x01",
            b"user=a@b.c\x01\x01",
            b"user=a@b.c\x01auth=Bearer \x01\x01",
            b"user=a\rb\x01auth=Bearer t\x01\x01",
        ] {
            assert!(decode_xoauth2(&encode_base64(bad)).is_err(), "{bad:?}");
        }
        assert!(decode_xoauth2("!!").is_err());
    }

    #[test]
    fn oauthbearer_forms() {
        let ok = encode_base64(b"n,a=user@example.com,\x01host=server.example.com\x01port=587\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
        let c = decode_oauthbearer(&ok).unwrap();
        assert_eq!(c.username(), "user@example.com");
        assert_eq!(c.authzid(), Some("user@example.com"));
        assert_eq!(
            c.token(),
            Some("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==")
        );
        let anonymous = encode_base64(b"n,,\x01auth=Bearer t\x01\x01");
        assert_eq!(decode_oauthbearer(&anonymous).unwrap().username(), "");
        for bad in [
            &b"x,,\x01auth=Bearer t\x01\x01"[..],
            b"n,b=x,\x01auth=Bearer t\x01\x01",
            b"n,,\x01auth=Bearer t\x01",
            b"n,,\x01host=x\x01\x01",
            b"n\x01auth=Bearer t\x01\x01",
        ] {
            assert!(decode_oauthbearer(&encode_base64(bad)).is_err(), "{bad:?}");
        }
        assert!(!format!("{c:?}").contains("vF9dft"));
        assert!(
            decode_login(&oauth_error_challenge())
                .unwrap()
                .contains("invalid_token")
        );
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(Mechanism::from_name("plain"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::from_name("LOGIN"), Some(Mechanism::Login));
        assert_eq!(Mechanism::from_name("xoauth2"), Some(Mechanism::XOAuth2));
        assert_eq!(
            Mechanism::from_name("OAUTHBEARER"),
            Some(Mechanism::OAuthBearer)
        );
        assert!(Mechanism::OAuthBearer.is_token() && !Mechanism::Plain.is_token());
        assert_eq!(Mechanism::from_name("CRAM-MD5"), None);
    }
}
