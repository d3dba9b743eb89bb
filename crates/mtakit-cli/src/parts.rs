//! The server's parts as the `mtakit serve` flags choose them: the sink,
//! TLS, the authenticator, the limits and the extensions.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mtakit::tls::ServerConfig;
use mtakit::tls::{TestPki, server_config_from_pem};
use mtakit::{MaildirSink, NullSink, UserTable};

use crate::config::{ServeConfig, StoreKind, TlsSource};
use crate::error::ServeError;
use crate::output::{Sink, StdoutSink};

/// The authenticator chosen on the command line: none (AUTH is neither
/// offered nor accepted), or the `--auth` users, which offer whatever
/// [`UserTable`] offers (PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER). The
/// library logs failed attempts.
pub(crate) type Auth = Option<UserTable>;

pub(crate) fn make_sink(config: &ServeConfig) -> Result<Sink, ServeError> {
    match &config.store {
        StoreKind::Maildir(dir) => {
            let sink = MaildirSink::create(dir)
                .map_err(|e| ServeError::Maildir(dir.clone(), e))?
                .with_hostname(config.hostname.clone());
            tracing::info!(maildir = %dir.display(), "delivering into a Maildir");
            Ok(Sink::Maildir(sink))
        }
        StoreKind::Discard => {
            tracing::info!("discarding every message");
            Ok(Sink::Discard(NullSink))
        }
        StoreKind::Memory { .. } if config.print => Ok(Sink::Stdout(StdoutSink)),
        StoreKind::Memory { .. } => Ok(Sink::Quiet),
    }
}

pub(crate) fn make_tls(config: &ServeConfig) -> Result<Option<Arc<ServerConfig>>, ServeError> {
    let dir = match &config.tls {
        TlsSource::None => return Ok(None),
        TlsSource::Files { cert, key } => {
            let tls = server_config_from_pem(cert, key).map_err(ServeError::Tls)?;
            tracing::info!(cert = %cert.display(), "STARTTLS enabled");
            return Ok(Some(tls));
        }
        TlsSource::SelfSigned { dir: Some(dir) } => dir.clone(),
        TlsSource::SelfSigned { dir: None } => {
            fresh_dir().map_err(|e| ServeError::TlsDir(std::env::temp_dir(), e))?
        }
    };
    let mut names = Vec::new();
    if usable_dns_name(&config.hostname) && config.hostname != "localhost" {
        names.push(config.hostname.as_str());
    }
    names.push("localhost");
    let pki = TestPki::new(&names);
    pki.write_to(&dir)
        .map_err(|e| ServeError::TlsDir(dir.clone(), e))?;
    eprintln!(
        "mtakit: test CA certificate: {}",
        dir.join("ca.pem").display()
    );
    tracing::info!(names = ?names, "STARTTLS enabled with a self-signed test certificate");
    Ok(Some(pki.server_config()))
}

/// A name rcgen accepts as a DNS name or IP address.
fn usable_dns_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic())
}

/// A new directory under the system temp dir, readable by this user only,
/// for the test key.
fn fresh_dir() -> io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "mtakit-tls-{}-{nanos}-{attempt}",
            std::process::id()
        ));
        match create_private_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free directory name")))
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

pub(crate) fn make_auth(config: &ServeConfig) -> Auth {
    if config.users.is_empty() {
        return None;
    }
    let mut users = UserTable::new();
    for (name, password) in &config.users {
        users.insert(name.clone(), password.clone());
    }
    Some(users)
}

#[cfg(test)]
mod tests {

    use super::*;
    use mtakit::Authenticator;
    use mtakit::proto::Mechanism;

    fn config(flags: &[&str]) -> ServeConfig {
        ServeConfig::from_args(&crate::test_args::serve_args(flags))
    }

    #[test]
    fn auth_offers_what_user_table_offers() {
        assert!(make_auth(&config(&[])).mechanisms().is_empty());
        let auth = make_auth(&config(&["--auth", "a:b", "--allow-insecure-auth"]));
        assert_eq!(
            auth.mechanisms(),
            [
                Mechanism::Plain,
                Mechanism::Login,
                Mechanism::XOAuth2,
                Mechanism::OAuthBearer
            ]
        );
    }

    #[test]
    fn self_signed_files_go_into_tls_dir() {
        let dir = std::env::temp_dir().join(format!("mtakit-cli-unit-{}", std::process::id()));
        let tls = make_tls(&config(&[
            "--tls-self-signed",
            "--tls-dir",
            dir.to_str().unwrap(),
            "--hostname",
            "mx.example.test",
        ]))
        .unwrap();
        assert!(tls.is_some());
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            assert!(dir.join(file).is_file(), "{file}");
        }
        // The files load back as --tls-cert and --tls-key.
        let again = make_tls(&config(&[
            "--tls-cert",
            dir.join("cert.pem").to_str().unwrap(),
            "--tls-key",
            dir.join("key.pem").to_str().unwrap(),
        ]));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(again.unwrap().is_some());
    }

    #[test]
    fn fresh_dirs_are_new_and_private() {
        let a = fresh_dir().unwrap();
        let b = fresh_dir().unwrap();
        assert_ne!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&a).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        let _ = std::fs::remove_dir(&a);
        let _ = std::fs::remove_dir(&b);
    }

    #[test]
    fn missing_certificate_is_an_error() {
        let err = make_tls(&config(&[
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("cannot load the TLS certificate"),
            "{err}"
        );
    }
}
