//! A throw-away certificate authority and a serving certificate for
//! 127.0.0.1, so the API server can call the admission webhooks over HTTPS
//! as kube-apiserver does (the CA goes into the configurations' caBundle).

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};

/// PEM-encoded certificates and key.
pub struct Certs {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// Where [`Certs::write`] put them.
pub struct CertFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Certs {
    /// A new CA and a certificate it signed for `127.0.0.1` and `localhost`.
    pub fn generate() -> anyhow::Result<Certs> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        ca.distinguished_name.push(DnType::CommonName, "rudder-sandbox-webhook-ca");
        let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

        let key = KeyPair::generate()?;
        let mut serving = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
        serving.distinguished_name.push(DnType::CommonName, "rudder-admission-webhooks");
        serving.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = serving.signed_by(&key, &issuer)?;
        Ok(Certs { ca_pem: issuer.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// The `caBundle` of a webhook configuration (base64 of the CA's PEM;
    /// the JSON form of a `[]byte`).
    pub fn ca_bundle(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.ca_pem)
    }

    /// Writes `ca.crt`, `tls.crt` and `tls.key` (mode 0600) into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<CertFiles> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let files = CertFiles { ca: dir.join("ca.crt"), cert: dir.join("tls.crt"), key: dir.join("tls.key") };
        for (path, pem) in [(&files.ca, &self.ca_pem), (&files.cert, &self.cert_pem), (&files.key, &self.key_pem)] {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            f.write_all(pem.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_hold_pem() {
        let certs = Certs::generate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = certs.write(dir.path()).unwrap();
        assert!(std::fs::read_to_string(&files.ca).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(std::fs::read_to_string(&files.cert).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(std::fs::read_to_string(&files.key).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
        let decoded = base64::engine::general_purpose::STANDARD.decode(certs.ca_bundle()).unwrap();
        assert_eq!(decoded, certs.ca_pem.as_bytes());
    }
}
