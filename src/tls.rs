//! TLS for gitferry's own HTTP clients (kube-rs, notifications).

/// Both go through rustls, which needs one process-wide crypto provider. gitferry uses ring
/// (as octocrab does); should another crate compile in a second provider, rustls could no
/// longer choose one by itself and creating a client would fail. Installing ring explicitly
/// keeps that from ever happening (a second call is a no-op).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
