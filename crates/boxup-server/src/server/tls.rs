//! TLS for [`Server`](super::Server): the certificate chain and private key
//! from PEM files, served with rustls (through axum-server's acceptor, which
//! runs each handshake in its connection's own task, with a timeout, so a
//! slow or silent client never holds up the accept loop).
//!
//! Why these choices:
//! - The files are read and checked when the server opens, before it binds
//!   or touches its data directory, and every failure names the file (and
//!   the key/certificate pair for a mismatch): a typo in a deploy fails at
//!   start-up with one clear line rather than at the first handshake.
//! - The crypto provider is chosen here (ring, which sqlx's PostgreSQL TLS
//!   already brings in) instead of rustls's process-wide default: the binary
//!   links both ring and aws-lc-rs, and with two providers compiled in
//!   rustls has no default to pick.
//! - ALPN offers `http/1.1` only, the one protocol boxup serves over plain
//!   HTTP too (`shutdown.rs`): the lingering close of early answers
//!   (`protocol.md` §1.4) and the shutdown's connection handling are
//!   built and tested for HTTP/1.1 connections, and every Box SDK speaks it.
//! - Behind its own TLS the server is reached over https, so URLs it builds
//!   from the request (`protocol.md` §1.6) must say so: a request without
//!   `X-Forwarded-Proto` is given `https` (a proxy's own header is kept).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::HeaderName;
use axum_server::tls_rustls::RustlsConfig;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files `boxup serve --tls-cert FILE --tls-key FILE` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain: the server's certificate first, then any
    /// intermediates.
    pub cert: PathBuf,
    /// The private key of the first certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why the TLS files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} file {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the TLS {what} file {path} is not valid PEM: {detail}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("the TLS certificate file {0} holds no CERTIFICATE block")]
    NoCertificate(PathBuf),
    #[error("the TLS key file {0} holds no private key (PRIVATE KEY, RSA or EC PRIVATE KEY block)")]
    NoKey(PathBuf),
    #[error("cannot use the TLS key {key} with the certificate {cert}: {detail}")]
    Rejected {
        cert: PathBuf,
        key: PathBuf,
        detail: String,
    },
}

/// Reads and checks both files and builds the server's TLS configuration.
pub(super) fn load(files: &TlsFiles) -> Result<RustlsConfig, TlsError> {
    let certs = read_certs(&files.cert)?;
    let key = read_key(&files.key)?;
    let rejected = |e: rustls::Error| TlsError::Rejected {
        cert: files.cert.clone(),
        key: files.key.clone(),
        detail: e.to_string(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        // Also checks that the key belongs to the first certificate.
        .with_single_cert(certs, key)
        .map_err(rejected)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

fn pem_error(what: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Pem {
        what,
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read("certificate", path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error("certificate", path, e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    use rustls::pki_types::pem::Error;
    let pem = read("key", path)?;
    match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(key) => Ok(key),
        Err(Error::NoItemsFound) => Err(TlsError::NoKey(path.to_owned())),
        Err(e) => Err(pem_error("key", path, e)),
    }
}

/// Middleware of a TLS server: a request that did not come through a proxy
/// saying otherwise was made over https.
pub(super) async fn default_https_proto(mut request: Request) -> Request {
    const PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
    if !request.headers().contains_key(PROTO) {
        request
            .headers_mut()
            .insert(PROTO, HeaderValue::from_static("https"));
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path, cert: &str, key: &str) -> TlsFiles {
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert).unwrap();
        std::fs::write(&k, key).unwrap();
        TlsFiles { cert: c, key: k }
    }

    fn message(files: &TlsFiles) -> String {
        match load(files) {
            Ok(_) => panic!("{files:?} loaded"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_failure_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsFiles {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("key.pem"),
        };
        let m = message(&missing);
        assert!(
            m.starts_with("cannot read the TLS certificate file") && m.contains("nope.pem"),
            "{m}"
        );

        let empty = files(dir.path(), "hello\n", "");
        let m = message(&empty);
        assert!(
            m.contains("no CERTIFICATE block") && m.contains("cert.pem"),
            "{m}"
        );

        let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let m = message(&files(dir.path(), broken, ""));
        assert!(
            m.contains("is not valid PEM") && m.contains("cert.pem"),
            "{m}"
        );
    }
}
