//! TLS: loading certificates, a throw-away test PKI, and the TLS facts the
//! policy and the [`Message`](crate::Message) see.
//!
//! The server takes a ready [`ServerConfig`]. This module builds one from
//! PEM files ([`server_config_from_pem`]) or, with the `test-util`
//! feature, from a generated test PKI (`TestPki`), whose CA a test hands
//! to its client so that the chain is verified for real. All of it uses
//! rustls's `ring` provider.
//!
//! The rustls types in this crate's signatures are re-exported here:
//! [`ServerConfig`], [`ClientConfig`] and [`CertificateDer`]. For anything
//! else (a custom certificate verifier, other key types), depend on
//! `rustls` 0.23 yourself and name its types directly:
//!
//! ```
//! use std::sync::Arc;
//! use mtakit::tls::ServerConfig;
//!
//! fn with_tls(config: Arc<ServerConfig>) -> mtakit::Builder {
//!     mtakit::Server::builder().tls(config)
//! }
//! ```

use std::io;
use std::path::Path;
use std::sync::Arc;

use mtakit_proto::TlsInfo;
use rustls::ServerConnection;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

pub use rustls::pki_types::CertificateDer;
pub use rustls::{ClientConfig, ServerConfig};

#[cfg(feature = "test-util")]
#[path = "tls_test_pki.rs"]
mod test_pki;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use test_pki::{TestPki, TlsScenario};

/// The crypto provider used everywhere: ring.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn config_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// Builds a server configuration from a PEM certificate chain and a PEM
/// private key.
///
/// # Errors
///
/// If a file cannot be read or parsed, or the key does not fit.
pub fn server_config_from_pem(cert: &Path, key: &Path) -> io::Result<Arc<ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(config_error)?
        .collect::<Result<_, _>>()
        .map_err(config_error)?;
    if chain.is_empty() {
        return Err(config_error(format!(
            "no certificate in {}",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(config_error)?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(config_error)?;
    Ok(Arc::new(config))
}

/// The TLS facts of an established server connection.
pub(crate) fn tls_info(conn: &ServerConnection) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(v) => format!("{v:?}"),
        None => "unknown".to_owned(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let mut info = TlsInfo::new(version, cipher);
    info.sni = conn.server_name().map(str::to_owned);
    info.peer_certificates = conn
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.to_vec()).collect())
        .unwrap_or_default();
    info
}
