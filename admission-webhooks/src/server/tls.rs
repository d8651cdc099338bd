//! HTTPS with a certificate that follows its files: the serving
//! certificate and key are read at start (an unusable pair is an error
//! then) and read again whenever either file changes, so that a rotated
//! certificate (cert-manager renewing a Secret, say) is served without a
//! restart, as kube-apiserver's own dynamic serving certificates are. A
//! pair that fails to load on a later change is logged and the previous
//! one kept. TLS 1.2 and 1.3 only (rustls has nothing older), HTTP/1.1.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};
use tracing::{info, warn};

/// How often the files are looked at (their size and modification time).
pub const RELOAD_CHECK: Duration = Duration::from_secs(2);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks a certificate chain and its key.
pub fn load(cert: &Path, key: &Path) -> anyhow::Result<CertifiedKey> {
    use anyhow::Context;
    let cert_pem = std::fs::read(cert).with_context(|| format!("cannot read --tls-cert-file {}", cert.display()))?;
    let key_pem = std::fs::read(key).with_context(|| format!("cannot read --tls-private-key-file {}", key.display()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("--tls-cert-file {}: not a PEM certificate: {e}", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "--tls-cert-file {}: no certificate in it", cert.display());
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| anyhow::anyhow!("--tls-private-key-file {}: not a PEM private key: {e}", key.display()))?;
    let certified = CertifiedKey::from_der(chain, key_der, &provider())
        .map_err(|e| anyhow::anyhow!("--tls-cert-file and --tls-private-key-file do not make a pair: {e}"))?;
    Ok(certified)
}

/// The certificate served now; replaced by [`Reloader::check`].
#[derive(Debug)]
pub struct Certificate {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// Watches the two files.
pub struct Reloader {
    cert: PathBuf,
    key: PathBuf,
    seen: Option<[Option<(u64, SystemTime)>; 2]>,
    pub certificate: Arc<Certificate>,
}

fn stamp(p: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.len(), m.modified().ok()?))
}

impl Reloader {
    /// Loads the pair; an error says which file is wrong.
    pub fn new(cert: PathBuf, key: PathBuf) -> anyhow::Result<Reloader> {
        let seen = Some([stamp(&cert), stamp(&key)]);
        let loaded = load(&cert, &key)?;
        Ok(Reloader { cert, key, seen, certificate: Arc::new(Certificate { current: RwLock::new(Arc::new(loaded)) }) })
    }

    /// Reloads when either file changed since the last look; true when a
    /// new pair is served.
    pub fn check(&mut self) -> bool {
        let now = Some([stamp(&self.cert), stamp(&self.key)]);
        if now == self.seen {
            return false;
        }
        self.seen = now;
        match load(&self.cert, &self.key) {
            Ok(k) => {
                *self.certificate.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(k);
                info!(cert = %self.cert.display(), "serving certificate reloaded");
                true
            }
            Err(e) => {
                warn!(error = %format!("{e:#}"), "the serving certificate changed but cannot be loaded; still serving the previous one");
                false
            }
        }
    }

    /// Checks every [`RELOAD_CHECK`], forever.
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(RELOAD_CHECK);
        loop {
            tick.tick().await;
            self.check();
        }
    }
}

/// The server configuration: TLS 1.2+, HTTP/1.1, the reloading certificate.
pub fn server_config(certificate: Arc<Certificate>) -> io::Result<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
