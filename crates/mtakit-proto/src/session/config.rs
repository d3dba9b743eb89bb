//! What a session is configured with: [`SessionConfig`], [`Extensions`]
//! and the [`ConnectionInfo`] of one connection.

use std::net::SocketAddr;

use crate::limits::Limits;
use crate::sasl::Mechanism;

/// The service extensions a session advertises in its EHLO reply and
/// honours. Each can be switched off, so that a client's fallback paths can
/// be tested.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extensions {
    /// `PIPELINING` (RFC 2920). Pipelined input is always processed in
    /// order; this only controls the advertisement.
    pub pipelining: bool,
    /// `SIZE` (RFC 1870). When off, the `SIZE=` parameter is unknown.
    pub size: bool,
    /// `8BITMIME` (RFC 6152). When off, `BODY=` is unknown.
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531). When off, the parameter is unknown and
    /// non-ASCII addresses get `553 5.6.7`.
    pub smtputf8: bool,
    /// `ENHANCEDSTATUSCODES` (RFC 2034). When off, replies carry none.
    pub enhanced_status_codes: bool,
    /// `CHUNKING` (RFC 3030): the BDAT command. When off, BDAT gets
    /// `502 5.5.1`.
    pub chunking: bool,
    /// `BINARYMIME` (RFC 3030), offered only with CHUNKING. When off,
    /// `BODY=BINARYMIME` gets `555 5.5.4`.
    pub binarymime: bool,
    /// `DSN` (RFC 3461). When off, RET, ENVID, NOTIFY and ORCPT get
    /// `555 5.5.4`.
    pub dsn: bool,
    /// `STARTTLS` (RFC 3207), offered only when the driver can do TLS
    /// ([`SessionConfig::tls_available`]) and TLS is not yet active.
    pub starttls: bool,
    /// `AUTH` (RFC 4954), offered only when there are
    /// [`SessionConfig::auth_mechanisms`], and, unless
    /// [`SessionConfig::allow_insecure_auth`], only under TLS.
    pub auth: bool,
    /// `HELP`, listed last as pymta did.
    pub help: bool,
    /// Extra keyword lines to advertise verbatim (e.g. `"X-FOO bar"`).
    /// Lines with CR, LF or NUL are skipped.
    pub extra: Vec<String>,
}

impl Default for Extensions {
    fn default() -> Self {
        Self {
            pipelining: true,
            size: true,
            eight_bit_mime: true,
            smtputf8: true,
            enhanced_status_codes: true,
            chunking: true,
            binarymime: true,
            dsn: true,
            starttls: true,
            auth: true,
            help: true,
            extra: Vec::new(),
        }
    }
}

impl Extensions {
    /// These extensions with the ones that depend on a switched-off
    /// extension switched off too, so that what is advertised is what is
    /// accepted: `SMTPUTF8` needs `8BITMIME` (RFC 6531 §3.1), and
    /// `BINARYMIME` needs `BODY=`, i.e. `8BITMIME`, and `CHUNKING`
    /// (RFC 3030 §3). A session applies this to whatever it is given.
    ///
    /// ```
    /// use mtakit_proto::Extensions;
    ///
    /// let mut ext = Extensions::default();
    /// ext.eight_bit_mime = false;
    /// let ext = ext.consistent();
    /// assert!(!ext.smtputf8 && !ext.binarymime);
    /// ```
    #[must_use]
    pub fn consistent(mut self) -> Self {
        if !self.eight_bit_mime {
            self.smtputf8 = false;
            self.binarymime = false;
        }
        if !self.chunking {
            self.binarymime = false;
        }
        self
    }

    /// What both offer: each extension only if on in both, and the
    /// [`extra`](Self::extra) lines found in both. How two policies'
    /// EHLO verdicts combine.
    ///
    /// ```
    /// use mtakit_proto::Extensions;
    ///
    /// let mut a = Extensions::default();
    /// a.pipelining = false;
    /// let mut b = Extensions::default();
    /// b.dsn = false;
    /// let both = a.intersection(&b);
    /// assert!(!both.pipelining && !both.dsn && both.size);
    /// ```
    #[must_use]
    pub fn intersection(&self, other: &Extensions) -> Extensions {
        let Extensions {
            pipelining,
            size,
            eight_bit_mime,
            smtputf8,
            enhanced_status_codes,
            chunking,
            binarymime,
            dsn,
            starttls,
            auth,
            help,
            extra,
        } = self;
        Extensions {
            pipelining: *pipelining && other.pipelining,
            size: *size && other.size,
            eight_bit_mime: *eight_bit_mime && other.eight_bit_mime,
            smtputf8: *smtputf8 && other.smtputf8,
            enhanced_status_codes: *enhanced_status_codes && other.enhanced_status_codes,
            chunking: *chunking && other.chunking,
            binarymime: *binarymime && other.binarymime,
            dsn: *dsn && other.dsn,
            starttls: *starttls && other.starttls,
            auth: *auth && other.auth,
            help: *help && other.help,
            extra: (extra.iter())
                .filter(|line| other.extra.contains(line))
                .cloned()
                .collect(),
        }
    }
}

/// The configuration shared by every session of a server.
///
/// ```
/// use mtakit_proto::{Mechanism, SessionConfig};
///
/// let mut config = SessionConfig::new("mx.example.com");
/// config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login];
/// config.allow_insecure_auth = true;
/// assert_eq!(config.limits.max_message_size, 10 * 1024 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The name used in the greeting and the EHLO reply.
    pub hostname: String,
    /// Every limit.
    pub limits: Limits,
    /// The extensions offered.
    pub extensions: Extensions,
    /// The SASL mechanisms offered; empty means AUTH is not available.
    pub auth_mechanisms: Vec<Mechanism>,
    /// Offer and accept AUTH without TLS. Off by default (RFC 4954 §4);
    /// without it AUTH over plaintext gets `538 5.7.11`.
    pub allow_insecure_auth: bool,
    /// The driver can perform a STARTTLS handshake.
    pub tls_available: bool,
    /// MAIL requires TLS first (`530 5.7.0`).
    pub require_tls: bool,
    /// MAIL requires a successful AUTH first (`530 5.7.0`).
    pub require_auth: bool,
    /// Speak LMTP (RFC 2033): LHLO instead of HELO/EHLO, and one reply per
    /// recipient after the message.
    pub lmtp: bool,
    /// Yield an [`Event::Command`](crate::Event::Command) for every command
    /// line, for transcripts. Off by default.
    pub record_commands: bool,
    /// Keep message content for delivery. When off (for a sink that
    /// discards messages) content is still counted, size-limited and
    /// checked, but never held, so memory stays flat; the delivered
    /// [`Transaction`](crate::Transaction) has empty data. On by default.
    pub keep_content: bool,
}

impl SessionConfig {
    /// A configuration with default limits and extensions, no AUTH and no
    /// TLS.
    pub fn new(hostname: impl Into<String>) -> Self {
        Self {
            hostname: hostname.into(),
            limits: Limits::default(),
            extensions: Extensions::default(),
            auth_mechanisms: Vec::new(),
            allow_insecure_auth: false,
            tls_available: false,
            require_tls: false,
            require_auth: false,
            lmtp: false,
            record_commands: false,
            keep_content: true,
        }
    }
}

/// Facts about a negotiated TLS session, filled in by the driver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// The protocol version, e.g. `TLSv1.3`.
    pub version: String,
    /// The cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The server name the client asked for (SNI).
    pub sni: Option<String>,
    /// The client's certificate chain (DER), when one was presented.
    pub peer_certificates: Vec<Vec<u8>>,
}

impl TlsInfo {
    /// TLS facts with a version and cipher name.
    pub fn new(version: impl Into<String>, cipher: impl Into<String>) -> Self {
        Self {
            version: version.into(),
            cipher: cipher.into(),
            ..Self::default()
        }
    }
}

/// Facts about one connection, known before the session starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The local address the client connected to.
    pub local: SocketAddr,
    /// TLS from the first byte (implicit TLS, RFC 8314).
    pub tls: Option<TlsInfo>,
}

impl ConnectionInfo {
    /// A plaintext connection from `peer` to `local`.
    pub fn new(peer: SocketAddr, local: SocketAddr) -> Self {
        Self {
            peer,
            local,
            tls: None,
        }
    }
}
