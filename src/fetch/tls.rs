//! The TLS crypto provider: rustls with `ring` (pure Rust and assembly, no C build of aws-lc),
//! installed for the whole process. Certificates are still verified against the platform's
//! store (reqwest's rustls-platform-verifier; on Linux `SSL_CERT_FILE`/`SSL_CERT_DIR` or the
//! system bundle).

/// Makes `ring` the process's rustls provider unless one is installed. Call it before building
/// an HTTP client (reqwest's or the OCI client's): without a provider, building one panics.
pub fn install_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error means another thread installed one just now, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ring_is_the_provider_after_installing() {
        super::install_provider();
        super::install_provider();
        let provider = rustls::crypto::CryptoProvider::get_default().expect("installed");
        let ring = rustls::crypto::ring::default_provider();
        assert_eq!(
            format!("{:?}", provider.cipher_suites),
            format!("{:?}", ring.cipher_suites)
        );
    }
}
