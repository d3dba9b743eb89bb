//! [`TestPki`]: a throw-away certificate authority for tests, and the
//! [`TlsScenario`]s it serves (feature `test-util`).

use std::io;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use super::provider;

/// A TLS situation for testing how a client copes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsScenario {
    /// A valid certificate for the PKI's host names.
    Valid,
    /// A certificate that expired in 2001.
    Expired,
    /// A valid certificate, but for `wrong.invalid` only.
    WrongHostname,
    /// Only TLS 1.2 is offered.
    Tls12Only,
    /// The client must present a certificate signed by the test CA.
    ClientCertRequired,
    /// A client certificate is asked for, and verified if given, but not
    /// required.
    ClientCertOptional,
}

/// A throw-away certificate authority with a server certificate, for tests
/// and development.
///
/// ```
/// use mtakit::tls::TestPki;
///
/// let pki = TestPki::new(&["localhost"]);
/// assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// let _config = pki.server_config();
/// ```
pub struct TestPki {
    ca_params: CertificateParams,
    ca_key: KeyPair,
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    names: Vec<String>,
    leaf: (Vec<CertificateDer<'static>>, String),
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// A new CA and a server certificate for `names` (DNS names or IP
    /// addresses); `127.0.0.1` and `::1` are always included.
    ///
    /// # Panics
    ///
    /// If a name is neither an IP address nor an ASCII DNS name; see
    /// [`try_new`](Self::try_new).
    pub fn new(names: &[&str]) -> Self {
        Self::try_new(names).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`new`](Self::new), but refuses a name that cannot go into a
    /// certificate (non-ASCII names must be given in punycode).
    ///
    /// # Errors
    ///
    /// The offending name.
    pub fn try_new(names: &[&str]) -> Result<Self, String> {
        for name in names {
            let ok = name.parse::<std::net::IpAddr>().is_ok()
                || rcgen::string::Ia5String::try_from(name.to_string()).is_ok();
            if !ok || name.is_empty() {
                return Err(format!("not a DNS name or IP address: {name:?}"));
            }
        }
        Ok(Self::generate(names))
    }

    fn generate(names: &[&str]) -> Self {
        let ca_key = KeyPair::generate().expect("generate CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mtakit test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut pki = Self {
            ca_der: ca_cert.der().clone(),
            ca_pem: ca_cert.pem(),
            ca_params,
            ca_key,
            names,
            leaf: (Vec::new(), String::new()),
        };
        pki.leaf = pki.issue(&pki.names.clone(), false, Leaf::Server);
        pki
    }

    /// Issues a certificate signed by the CA: the chain and the PEM key.
    fn issue(
        &self,
        names: &[String],
        expired: bool,
        kind: Leaf,
    ) -> (Vec<CertificateDer<'static>>, String) {
        let client = kind == Leaf::Client;
        let key = KeyPair::generate().expect("generate key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().map_or("mtakit", String::as_str),
        );
        let mut sans = Vec::new();
        for name in names {
            match name.parse::<std::net::IpAddr>() {
                Ok(ip) => sans.push(SanType::IpAddress(ip)),
                Err(_) => sans.push(SanType::DnsName(name.clone().try_into().expect("DNS name"))),
            }
        }
        if kind == Leaf::Server {
            for ip in ["127.0.0.1", "::1"] {
                let ip: std::net::IpAddr = ip.parse().expect("IP");
                if !sans.contains(&SanType::IpAddress(ip)) {
                    sans.push(SanType::IpAddress(ip));
                }
            }
        }
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = params.signed_by(&key, &issuer).expect("sign certificate");
        (vec![cert.der().clone()], key.serialize_pem())
    }

    /// The CA certificate, PEM, to give to a client as its trust root.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate, DER.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// The server certificate chain, PEM.
    pub fn cert_pem(&self) -> String {
        self.leaf
            .0
            .iter()
            .map(|c| pem_block("CERTIFICATE", c))
            .collect()
    }

    /// The server's private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> &str {
        &self.leaf.1
    }

    /// A client certificate signed by the CA, as (chain PEM, key PEM).
    pub fn client_cert_pem(&self, name: &str) -> (String, String) {
        let (chain, key) = self.issue(&[name.to_owned()], false, Leaf::Client);
        let pem = chain.iter().map(|c| pem_block("CERTIFICATE", c)).collect();
        (pem, key)
    }

    /// A server configuration with the valid certificate.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.scenario(TlsScenario::Valid)
    }

    /// A server configuration for one [`TlsScenario`].
    pub fn scenario(&self, scenario: TlsScenario) -> Arc<ServerConfig> {
        let (chain, key) = match scenario {
            TlsScenario::Expired => self.issue(&self.names, true, Leaf::Server),
            TlsScenario::WrongHostname => {
                self.issue(&["wrong.invalid".to_owned()], false, Leaf::ServerNamesOnly)
            }
            _ => self.leaf.clone(),
        };
        let key = PrivateKeyDer::Pkcs8(
            PrivatePkcs8KeyDer::from_pem_slice(key.as_bytes()).expect("our own key parses"),
        );
        let versions: &[&rustls::SupportedProtocolVersion] = match scenario {
            TlsScenario::Tls12Only => &[&rustls::version::TLS12],
            _ => rustls::DEFAULT_VERSIONS,
        };
        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .expect("ring supports these versions");
        let builder = match scenario {
            TlsScenario::ClientCertRequired | TlsScenario::ClientCertOptional => {
                let mut roots = RootCertStore::empty();
                roots.add(self.ca_der.clone()).expect("CA certificate");
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(roots.into(), provider());
                let verifier = if scenario == TlsScenario::ClientCertOptional {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                builder.with_client_cert_verifier(verifier.build().expect("client verifier"))
            }
            _ => builder.with_no_client_auth(),
        };
        Arc::new(
            builder
                .with_single_cert(chain, key)
                .expect("certificate and key match"),
        )
    }

    /// A client configuration that trusts only this CA.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        Arc::new(self.client_builder().with_no_client_auth())
    }

    /// A client configuration that trusts this CA and presents a client
    /// certificate for `name` signed by it.
    pub fn client_config_with_cert(&self, name: &str) -> Arc<rustls::ClientConfig> {
        let (chain, key) = self.issue(&[name.to_owned()], false, Leaf::Client);
        let key = PrivateKeyDer::Pkcs8(
            PrivatePkcs8KeyDer::from_pem_slice(key.as_bytes()).expect("our own key parses"),
        );
        Arc::new(
            self.client_builder()
                .with_client_auth_cert(chain, key)
                .expect("certificate and key match"),
        )
    }

    fn client_builder(
        &self,
    ) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("CA certificate");
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(roots)
    }

    /// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir`; the key is
    /// readable by its owner only.
    ///
    /// # Errors
    ///
    /// If the files cannot be written.
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("ca.pem"), self.ca_pem())?;
        std::fs::write(dir.join("cert.pem"), self.cert_pem())?;
        let key = dir.join("key.pem");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        io::Write::write_all(&mut options.open(&key)?, self.key_pem().as_bytes())?;
        // An existing file keeps its mode on open: tighten it too.
        #[cfg(unix)]
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        Ok(())
    }
}

/// What kind of certificate [`TestPki::issue`] makes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaf {
    /// A server certificate that also covers the loopback addresses.
    Server,
    /// A server certificate for the given names only.
    ServerNamesOnly,
    /// A client certificate.
    Client,
}

/// Encodes DER as a PEM block.
fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = mtakit_proto::sasl::encode_base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
