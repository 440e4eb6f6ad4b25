//! The one way strap makes an HTTP client: its user agent, TLS through the platform's
//! certificate store and proxies from the environment (reqwest's defaults), and timeouts.
//! TLS is rustls with the `ring` provider ([`super::tls`]), installed before any client is built.

use std::time::Duration;

/// How strap introduces itself to servers.
pub const USER_AGENT: &str = concat!("strap/", env!("CARGO_PKG_VERSION"));

/// A blocking client that gives up connecting after `connect_timeout` and a whole request
/// after `timeout` (`None`: never; downloads watch for stalls themselves).
pub fn blocking(
    connect_timeout: Duration,
    timeout: Option<Duration>,
) -> reqwest::Result<reqwest::blocking::Client> {
    super::tls::install_provider();
    reqwest::blocking::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .build()
}

/// An async client that gives up connecting, or waiting for the next bytes, after `stall`.
pub fn asynchronous(stall: Duration) -> reqwest::Result<reqwest::Client> {
    super::tls::install_provider();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(stall)
        .read_timeout(stall)
        .build()
}
