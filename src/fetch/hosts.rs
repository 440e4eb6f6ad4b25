//! Hosts that did not answer in time. Within one strap process such a host is waited on once,
//! not once per file format, archive or pack: later requests to it fail at once.

use std::collections::BTreeSet;
use std::sync::Mutex;

use super::MirrorError;

/// The hosts given up on in this process.
static GIVEN_UP: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The host (`name` or `name:port` when the port is not the scheme's default) a URL is served
/// from; `None` for a `file://` URL.
pub fn host_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str().filter(|h| !h.is_empty())?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// `Err` when `host` did not answer in time earlier in this process.
pub fn not_given_up(host: &str) -> Result<(), MirrorError> {
    let given_up = GIVEN_UP.lock().is_ok_and(|hosts| hosts.contains(host));
    if given_up {
        return Err(MirrorError::NotAsked(host.to_owned()));
    }
    Ok(())
}

/// Remembers that `host` did not answer in time.
pub fn give_up(host: &str) {
    if let Ok(mut hosts) = GIVEN_UP.lock() {
        hosts.insert(host.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_named_with_their_port_unless_it_is_the_default() {
        assert_eq!(
            host_of("http://127.0.0.1:8080/a/x.tgz").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            host_of("https://mirror.example/x.tgz").as_deref(),
            Some("mirror.example")
        );
        assert_eq!(host_of("file:///srv/x.tgz"), None);
    }

    #[test]
    fn a_host_given_up_on_is_not_asked_again() {
        assert!(not_given_up("dead.example:1").is_ok());
        give_up("dead.example:1");
        let err = not_given_up("dead.example:1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not asked: dead.example:1 did not answer earlier in this run"
        );
        assert!(not_given_up("alive.example:1").is_ok());
    }
}
