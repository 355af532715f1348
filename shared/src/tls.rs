//! The one crypto provider of every TLS connection: ring. rustls also offers aws-lc-rs (the
//! default of reqwest and of the AWS SDK's HTTPS client), which would add a second, larger
//! one to every bootstrap.

/// Makes ring the process's default provider, for the clients that take the default
/// (reqwest). Idempotent; the AWS and MongoDB clients name ring themselves.
pub fn use_ring() {
    // An error only means a provider is installed already: ring, by an earlier call.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
