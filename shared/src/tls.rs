//! The TLS settings of every connection we open: one crypto provider, ring (rustls also
//! offers aws-lc-rs, the default of reqwest and of the AWS SDK's HTTPS client, which would add
//! a second, larger one to every bootstrap), and one set of trusted roots, Mozilla's, compiled
//! in (`webpki-roots`, which the MongoDB driver uses too).
//!
//! Compiled-in roots: a cold start reads no certificate files. The system's roots are hundreds
//! of files on `provided.al2023`, each read and parsed by every HTTP client before its first
//! handshake. Amazon's and the common public CAs are all among Mozilla's roots; an update of
//! the roots is a dependency update.

use std::sync::Arc;

/// Makes ring the process's default provider, for the clients that take the default.
/// Idempotent.
pub fn use_ring() {
    // An error only means a provider is installed already: ring, by an earlier call.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client TLS configuration of every HTTPS client (Glassix, AWS, CloudFormation's
/// response URL): ring, TLS 1.2 and 1.3, Mozilla's roots.
pub fn client_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A reqwest client builder on [`client_config`].
pub fn https_client() -> reqwest::ClientBuilder {
    use_ring();
    reqwest::Client::builder().tls_backend_preconfigured(client_config())
}

#[cfg(test)]
mod tests {
    /// The roots `client_config` trusts include those the endpoints we call chain to: AWS's
    /// (Amazon Trust Services, and Starfield for older endpoints), and the public CAs MongoDB
    /// Atlas and web APIs use. Fails if a `webpki-roots` update drops one.
    #[test]
    fn the_roots_of_aws_atlas_and_common_web_apis_are_trusted() {
        let subjects: Vec<String> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|root| String::from_utf8_lossy(root.subject.as_ref()).into_owned())
            .collect();
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 3",
            "Starfield Services Root Certificate Authority - G2",
            "ISRG Root X1",
            "DigiCert Global Root G2",
        ] {
            assert!(
                subjects.iter().any(|s| s.contains(name)),
                "{name} is missing"
            );
        }
    }
}
