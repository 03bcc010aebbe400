//! HTTPS on the public listener: the certificate chain and key (PEM) named by
//! `AUTHD_TLS_CERT` and `AUTHD_TLS_KEY`, reloaded on SIGHUP and when the files change, and the
//! local development CA that `authd dev-cert` (or `AUTHD_TLS_CERT=dev`) makes.
//!
//! A reload swaps the certificate that new handshakes get; connections already open keep the
//! one they were made with, so nothing is dropped. A file caught half-written (a key that does
//! not match its certificate) is not taken: the previous pair goes on serving until the next
//! change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

pub use crate::config::{CertificateFiles, DEV_TLS_DIRECTORY as DEV_DIRECTORY};

/// How often the files are compared with what is being served.
const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// Why a certificate could not be served or made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("{0} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate(PathBuf),
    /// The key file holds no private key rustls can use.
    #[error("{path} holds no usable PEM private key: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error("the key in {key} is not the key of the certificate in {cert}")]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The development CA or certificate could not be made.
    #[error("cannot make the development certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The certificate new handshakes get, swapped when its files change.
#[derive(Debug)]
pub struct ReloadingCertificate {
    files: CertificateFiles,
    current: RwLock<Served>,
}

#[derive(Debug)]
struct Served {
    /// The files' bytes, to tell a change from a touch.
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    certified: Arc<CertifiedKey>,
}

impl ReloadingCertificate {
    /// Reads and checks the files.
    pub fn load(files: CertificateFiles) -> Result<Arc<Self>, Error> {
        let served = read_pair(&files)?;
        Ok(Arc::new(Self {
            files,
            current: RwLock::new(served),
        }))
    }

    /// The files served.
    pub fn files(&self) -> &CertificateFiles {
        &self.files
    }

    /// Reads the files again and serves them if they changed. `Ok(false)`: unchanged.
    pub fn reload(&self) -> Result<bool, Error> {
        let cert_pem = read(&self.files.cert)?;
        let key_pem = read(&self.files.key)?;
        {
            let current = self
                .current
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if current.cert_pem == cert_pem && current.key_pem == key_pem {
                return Ok(false);
            }
        }
        let served = certified(&self.files, cert_pem, key_pem)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = served;
        Ok(true)
    }

    /// A TLS acceptor that serves whatever certificate is current, offering HTTP/2 and
    /// HTTP/1.1.
    pub fn acceptor(self: &Arc<Self>) -> tokio_rustls::TlsAcceptor {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| unreachable!("aws-lc-rs supports the default TLS versions"))
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    /// Reloads on SIGHUP and whenever the files change, until dropped. A failed reload is
    /// logged and the previous certificate goes on serving.
    pub async fn watch(self: Arc<Self>) {
        #[cfg(unix)]
        let mut hangups =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut every = tokio::time::interval(FILE_CHECK_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            #[cfg(unix)]
            let hangup = async {
                match hangups.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let hangup = std::future::pending::<()>();
            let asked = tokio::select! {
                () = hangup => true,
                _ = every.tick() => false,
            };
            match self.reload() {
                Ok(true) => tracing::info!(
                    cert = %self.files.cert.display(),
                    "TLS certificate reloaded; new connections get it"
                ),
                Ok(false) if asked => tracing::info!("SIGHUP: the TLS certificate is unchanged"),
                Ok(false) => {}
                Err(err) => tracing::warn!(
                    error = %err,
                    "TLS certificate not reloaded; the previous one is still served"
                ),
            }
        }
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(current.certified.clone())
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

fn read_pair(files: &CertificateFiles) -> Result<Served, Error> {
    certified(files, read(&files.cert)?, read(&files.key)?)
}

/// The chain in `cert_pem`, leaf first.
fn chain(path: &Path, cert_pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::NoCertificate(path.to_owned()))?;
    if chain.is_empty() {
        return Err(Error::NoCertificate(path.to_owned()));
    }
    Ok(chain)
}

fn certified(
    files: &CertificateFiles,
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
) -> Result<Served, Error> {
    let chain = chain(&files.cert, &cert_pem)?;
    let key_error = |reason: String| Error::Key {
        path: files.key.clone(),
        reason,
    };
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| key_error(err.to_string()))?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|err| key_error(err.to_string()))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|_| Error::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
    })?;
    Ok(Served {
        cert_pem,
        key_pem,
        certified: Arc::new(certified),
    })
}

/// A TLS client configuration that trusts exactly the leaf certificate in `cert`: how `authd
/// healthcheck` reaches its own server, whatever CA issued the certificate and whatever name
/// it was issued for.
pub fn client_pinned_to(cert: &Path) -> Result<rustls::ClientConfig, Error> {
    let leaf = chain(cert, &read(cert)?)?.swap_remove(0);
    let provider = provider();
    let verifier = Arc::new(PinnedLeaf {
        leaf,
        algorithms: provider.signature_verification_algorithms,
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| unreachable!("aws-lc-rs supports the default TLS versions"))
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// Accepts one certificate, byte for byte, and checks the handshake's signatures with it.
#[derive(Debug)]
struct PinnedLeaf {
    leaf: CertificateDer<'static>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for PinnedLeaf {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.leaf.as_ref() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The development CA and the certificate it issued for this machine.
#[derive(Debug, Clone)]
pub struct DevCertificate {
    /// The CA certificate to trust (PEM).
    pub ca: PathBuf,
    /// The certificate for `localhost`, `127.0.0.1` and `::1` (PEM), with the CA after it.
    pub files: CertificateFiles,
    /// Whether the CA was made now (and so is not trusted anywhere yet).
    pub new_ca: bool,
}

const DEV_CA_NAME: &str = "authd development CA";
/// Browsers and Apple's TLS stack refuse leaf certificates valid for longer.
const DEV_LEAF_DAYS: i64 = 397;
const DEV_CA_YEARS: i32 = 10;
/// Renewed this long before it expires.
const DEV_LEAF_RENEWAL_DAYS: i64 = 30;

impl DevCertificate {
    /// The development files in `directory`, whether or not they exist.
    pub fn paths(directory: &Path) -> Self {
        Self {
            ca: directory.join("ca.pem"),
            files: CertificateFiles {
                cert: directory.join("localhost.pem"),
                key: directory.join("localhost-key.pem"),
            },
            new_ca: false,
        }
    }

    /// Makes what is missing in `directory`: the CA (kept, so that trusting it once is
    /// enough), then a certificate for this machine's loopback names, made again when
    /// `renew` is set, when it was issued by another CA or when it is about to expire.
    pub fn ensure(directory: &Path, renew: bool) -> Result<Self, Error> {
        let mut paths = Self::paths(directory);
        let ca_key_path = directory.join("ca-key.pem");
        std::fs::create_dir_all(directory).map_err(|source| Error::Write {
            path: directory.to_owned(),
            source,
        })?;
        let now = time::OffsetDateTime::now_utc();
        let ca_params = dev_ca_params(now);
        let (ca_key, ca_pem) = match (read(&ca_key_path), read(&paths.ca)) {
            (Ok(key), Ok(ca)) => {
                let key = String::from_utf8_lossy(&key);
                let key = rcgen::KeyPair::from_pem(&key)?;
                (key, String::from_utf8_lossy(&ca).into_owned())
            }
            _ => {
                let key = rcgen::KeyPair::generate()?;
                let ca = ca_params.self_signed(&key)?;
                write(&ca_key_path, &key.serialize_pem(), true)?;
                write(&paths.ca, &ca.pem(), false)?;
                paths.new_ca = true;
                (key, ca.pem())
            }
        };
        let leaf_is_current = !paths.new_ca
            && !renew
            && read(&paths.files.key).is_ok()
            && read(&paths.files.cert).is_ok_and(|pem| {
                dev_leaf_is_current(
                    &pem,
                    &ca_pem,
                    now + time::Duration::days(DEV_LEAF_RENEWAL_DAYS),
                )
            });
        if !leaf_is_current {
            let issuer = rcgen::Issuer::new(ca_params, ca_key);
            let key = rcgen::KeyPair::generate()?;
            let mut params = rcgen::CertificateParams::new(vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
            ])?;
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "localhost");
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(DEV_LEAF_DAYS);
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
            params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
            params.use_authority_key_identifier_extension = true;
            let leaf = params.signed_by(&key, &issuer)?;
            write(&paths.files.key, &key.serialize_pem(), true)?;
            write(&paths.files.cert, &format!("{}{ca_pem}", leaf.pem()), false)?;
        }
        Ok(paths)
    }
}

/// The CA's parameters: the same each time, so that a certificate issued later names the
/// issuer exactly as the kept CA certificate does.
fn dev_ca_params(now: time::OffsetDateTime) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, DEV_CA_NAME);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "authd development");
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now.replace_year(now.year() + DEV_CA_YEARS).unwrap_or(now);
    params
}

/// Whether the kept certificate chain ends with this CA and its leaf outlives `until`.
fn dev_leaf_is_current(cert_pem: &[u8], ca_pem: &str, until: time::OffsetDateTime) -> bool {
    let Ok(chain) = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<Vec<_>, _>>() else {
        return false;
    };
    let Ok(ca) = CertificateDer::from_pem_slice(ca_pem.as_bytes()) else {
        return false;
    };
    let [leaf, issuer] = chain.as_slice() else {
        return false;
    };
    if issuer.as_ref() != ca.as_ref() {
        return false;
    }
    let Ok(leaf) = webpki::EndEntityCert::try_from(leaf) else {
        return false;
    };
    let trust_anchor = match webpki::anchor_from_trusted_cert(&ca) {
        Ok(anchor) => anchor,
        Err(_) => return false,
    };
    let at = rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(
        u64::try_from(until.unix_timestamp()).unwrap_or(0),
    ));
    leaf.verify_for_usage(
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .all,
        &[trust_anchor],
        &[],
        at,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .is_ok()
}

fn write(path: &Path, contents: &str, private: bool) -> Result<(), Error> {
    use std::io::Write as _;

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .map_err(|source| Error::Write {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_ca_is_kept_and_its_certificate_made_again_only_when_asked() {
        let directory = tempfile::tempdir().unwrap();
        let first = DevCertificate::ensure(directory.path(), false).unwrap();
        assert!(first.new_ca);
        let ca = std::fs::read(&first.ca).unwrap();
        let leaf = std::fs::read(&first.files.cert).unwrap();
        ReloadingCertificate::load(first.files.clone()).unwrap();

        let again = DevCertificate::ensure(directory.path(), false).unwrap();
        assert!(!again.new_ca);
        assert_eq!(std::fs::read(&again.ca).unwrap(), ca);
        assert_eq!(
            std::fs::read(&again.files.cert).unwrap(),
            leaf,
            "still current"
        );

        let renewed = DevCertificate::ensure(directory.path(), true).unwrap();
        assert_eq!(std::fs::read(&renewed.ca).unwrap(), ca, "the CA is kept");
        let new_leaf = std::fs::read(&renewed.files.cert).unwrap();
        assert_ne!(new_leaf, leaf);
        assert!(dev_leaf_is_current(
            &new_leaf,
            std::str::from_utf8(&ca).unwrap(),
            time::OffsetDateTime::now_utc()
        ));
        ReloadingCertificate::load(renewed.files).unwrap();
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_and_the_previous_pair_kept() {
        let directory = tempfile::tempdir().unwrap();
        let dev = DevCertificate::ensure(directory.path(), false).unwrap();
        let served = ReloadingCertificate::load(dev.files.clone()).unwrap();
        assert!(
            !served.reload().unwrap(),
            "unchanged files are not reloaded"
        );
        let old_key = std::fs::read(&dev.files.key).unwrap();
        std::fs::write(
            &dev.files.key,
            rcgen::KeyPair::generate().unwrap().serialize_pem(),
        )
        .unwrap();
        assert!(matches!(served.reload(), Err(Error::Mismatch { .. })));
        std::fs::write(&dev.files.key, old_key).unwrap();
        assert!(!served.reload().unwrap());
        assert!(matches!(
            ReloadingCertificate::load(CertificateFiles {
                cert: dev.files.key.clone(),
                key: dev.files.key.clone(),
            }),
            Err(Error::NoCertificate(_))
        ));
    }
}
