//! The stand-in's TLS: a certificate authority and a server certificate for
//! `127.0.0.1` and `localhost`, generated when the stand-in starts (never
//! stored), and the rustls acceptor that presents them. A client trusts the
//! stand-in by adding [`TestCertificate::root_pem`] to its roots.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

pub struct TestCertificate {
    root_pem: String,
    acceptor: TlsAcceptor,
}

impl TestCertificate {
    /// A fresh authority and a server certificate it signed.
    pub fn generate() -> std::io::Result<Self> {
        let fail = |e: rcgen::Error| std::io::Error::other(e.to_string());
        let ca_key = KeyPair::generate().map_err(fail)?;
        let mut ca_params = CertificateParams::new(Vec::new()).map_err(fail)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "hallpass SMTP stand-in test authority");
        let ca = ca_params.self_signed(&ca_key).map_err(fail)?;

        let server_key = KeyPair::generate().map_err(fail)?;
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .map_err(fail)?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "hallpass SMTP stand-in");
        let server = server_params
            .signed_by(&server_key, &ca, &ca_key)
            .map_err(fail)?;

        let chain: Vec<CertificateDer<'static>> = vec![server.der().clone(), ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(std::io::Error::other)?;
        Ok(Self {
            root_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The authority's certificate, PEM-encoded: what a client must trust.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}
