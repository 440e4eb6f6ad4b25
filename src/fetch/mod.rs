//! Verified downloads: the cache first, then each mirror in order, resuming partial downloads,
//! hashing every byte as it arrives and checking the sha256 before a file enters the cache.
//!
//! A failure of one mirror (HTTP error, connection, stall, HTML page, more bytes than declared,
//! checksum) moves on to the next; a failure on this machine (disk full, permission denied)
//! stops at once. A host that did not answer in time is not asked again in the same run.

pub mod client;
pub mod hosts;
pub mod mirror;
pub mod tls;
mod transfer;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Explain, Io, IoContext};
use crate::lock::FileLock;
use crate::process::Cancel;
use crate::report::Reporter;
use mirror::Archives;
use transfer::{Failure, Transfer};

pub use transfer::MirrorError;

/// One archive to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub file: String,
    pub sha256: String,
    /// Its size when known beforehand (a pack's manifest declares it): a mirror that sends
    /// more fails, and what it sent is deleted.
    pub size: Option<u64>,
    /// What kind of archive it is, for the hint of a failed download (which mirror settings
    /// to add); `None` for a pack, whose binary mirror explains its own failures.
    pub archives: Option<Archives>,
    /// Candidate URLs, tried in order.
    pub urls: Vec<String>,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("could not download {}; every mirror failed:{}", or_list(.files), attempts_list(.attempts))]
    AllMirrorsFailed {
        /// Every file name tried (the formats strap accepts).
        files: Vec<String>,
        attempts: Vec<(String, MirrorError)>,
        archives: Option<Archives>,
    },
    #[error("{} is not in the cache{} and --offline forbids downloading; place it in the cache first ({}){}", or_list(.files), nor_on_file_mirrors(.attempts), cache_paths(cache_dir, .files), attempts_list(.attempts))]
    NotCached {
        files: Vec<String>,
        cache_dir: PathBuf,
        /// The `file://` mirrors tried (offline, only those are read).
        attempts: Vec<(String, MirrorError)>,
        archives: Option<Archives>,
    },
    #[error(transparent)]
    Io(#[from] Io),
    #[error("interrupted; the partial download is kept for next time")]
    Interrupted,
}

impl Explain for FetchError {
    fn hint(&self) -> Option<String> {
        match self {
            FetchError::AllMirrorsFailed { archives, .. } => archives.map(|a| {
                format!(
                    "add a reachable mirror with {}, or put the archive into the cache by hand",
                    a.settings()
                )
            }),
            FetchError::NotCached {
                attempts, archives, ..
            } if attempts.is_empty() => archives.map(|a| {
                format!(
                    "or add a file:// mirror, which --offline reads too, e.g. {}",
                    a.file_mirror_example()
                )
            }),
            FetchError::Io(Io { source, .. }) if source.kind() == io::ErrorKind::StorageFull => {
                Some(
                    "free some space (or set STRAP_CACHE_DIR to a larger disk) and retry"
                        .to_owned(),
                )
            }
            _ => None,
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            FetchError::Interrupted => crate::error::EXIT_INTERRUPTED,
            _ => crate::error::EXIT_FAILURE,
        }
    }
}

fn or_list(files: &[String]) -> String {
    match files {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn cache_paths(cache_dir: &Path, files: &[String]) -> String {
    let paths: Vec<String> = files
        .iter()
        .map(|f| cache_dir.join(f).display().to_string())
        .collect();
    or_list(&paths)
}

fn nor_on_file_mirrors(attempts: &[(String, MirrorError)]) -> &'static str {
    if attempts.is_empty() {
        ""
    } else {
        " nor on a file:// mirror,"
    }
}

fn attempts_list(attempts: &[(String, MirrorError)]) -> String {
    attempts
        .iter()
        .map(|(url, why)| format!("\n  {url}: {why}"))
        .collect()
}

/// Where and how downloads happen.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub cache_dir: PathBuf,
    /// Where the locks of the cache's files are (`<cache>/.locks`).
    pub locks_dir: PathBuf,
    pub offline: bool,
    /// A mirror that sends nothing for this long is given up.
    pub stall_timeout: Duration,
}

/// Downloads into a cache directory.
pub struct Fetcher {
    settings: FetchSettings,
    cancel: Cancel,
    client: Option<reqwest::blocking::Client>,
}

impl Fetcher {
    /// A fetcher that stops when `cancel` turns true (keeping a partial download).
    pub fn new(settings: FetchSettings, cancel: Cancel) -> Self {
        Fetcher {
            settings,
            cancel,
            client: None,
        }
    }

    /// Where and how it downloads.
    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// What stops its downloads.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// The first of `candidates` (alternative archives of the same thing, in order of preference)
    /// that is verified in the cache or can be downloaded and verified now; returns its path and
    /// index. The cache is searched for every candidate before any download.
    pub fn fetch(
        &mut self,
        candidates: &[Wanted],
        reporter: &dyn Reporter,
    ) -> Result<(PathBuf, usize), FetchError> {
        let cache_dir = self.settings.cache_dir.clone();
        fs::create_dir_all(&cache_dir).io_context("create cache directory", &cache_dir)?;
        for (index, wanted) in candidates.iter().enumerate() {
            if let Some(path) = self.cached(wanted, reporter)? {
                return Ok((path, index));
            }
        }
        let files: Vec<String> = candidates.iter().map(|w| w.file.clone()).collect();
        let archives = candidates.first().and_then(|w| w.archives);
        // Offline, only `file://` mirrors are read: they are directories on this machine.
        let offline = self.settings.offline;
        let mut attempts = Vec::new();
        for (index, wanted) in candidates.iter().enumerate() {
            let urls: Vec<&String> = wanted
                .urls
                .iter()
                .filter(|url| !offline || mirror::is_local(url))
                .collect();
            if urls.is_empty() {
                continue;
            }
            let _lock = self.lock(&wanted.file, reporter)?;
            // Another strap process may have downloaded it while this one waited for the lock.
            if let Some(path) = self.verified(wanted, reporter)? {
                return Ok((path, index));
            }
            let cached = cache_dir.join(&wanted.file);
            let part = cache_dir.join(crate::layout::download_part(&wanted.file));
            for url in urls {
                match self.download(url, &part, wanted, reporter) {
                    Ok(()) => {
                        fs::rename(&part, &cached).io_context("move into the cache", &part)?;
                        return Ok((cached, index));
                    }
                    Err(Failure::Mirror(why)) => {
                        // A missing format is normal (a mirror may hold only `.tgz`): it is
                        // reported only when no format could be found at all. A host given up
                        // on was warned about when it timed out.
                        if !why.is_not_found() && !matches!(why, MirrorError::NotAsked(_)) {
                            reporter.warning(&format!("{url}: {why}"));
                        }
                        attempts.push((url.clone(), why));
                    }
                    Err(Failure::Local(error)) => return Err(error.into()),
                    Err(Failure::Interrupted) => {
                        // Keep what arrived for the next run; an empty file is nothing to keep.
                        if fs::metadata(&part).is_ok_and(|m| m.len() == 0) {
                            let _ = fs::remove_file(&part);
                        }
                        return Err(FetchError::Interrupted);
                    }
                }
            }
        }
        if offline {
            return Err(FetchError::NotCached {
                files,
                cache_dir,
                attempts,
                archives,
            });
        }
        Err(FetchError::AllMirrorsFailed {
            files,
            attempts,
            archives,
        })
    }

    /// Serializes work on one file of the cache (`builds/…` for a pack) across strap processes.
    pub fn lock(&self, file: &str, reporter: &dyn Reporter) -> Result<FileLock, FetchError> {
        let path = (self.settings.locks_dir).join(crate::layout::download_lock_name(file));
        let waiting = |_: &Path| {
            reporter.message(&format!(
                "waiting for another strap process downloading {file}"
            ));
        };
        FileLock::acquire_unless_cancelled(&path, waiting, &self.cancel)?
            .ok_or(FetchError::Interrupted)
    }

    /// The cached file when its checksum matches; a mismatching one is set aside and reported.
    fn cached(
        &self,
        wanted: &Wanted,
        reporter: &dyn Reporter,
    ) -> Result<Option<PathBuf>, FetchError> {
        if !self.settings.cache_dir.join(&wanted.file).is_file() {
            return Ok(None);
        }
        let _lock = self.lock(&wanted.file, reporter)?;
        self.verified(wanted, reporter)
    }

    /// [`Fetcher::cached`] with the file's lock already held.
    fn verified(
        &self,
        wanted: &Wanted,
        reporter: &dyn Reporter,
    ) -> Result<Option<PathBuf>, FetchError> {
        let cached = self.settings.cache_dir.join(&wanted.file);
        if !cached.is_file() {
            return Ok(None);
        }
        let actual = sha256_file(&cached).io_context("read", &cached)?;
        if actual == wanted.sha256 {
            reporter.message(&format!(
                "using {} from the cache (sha256 verified)",
                cached.display()
            ));
            return Ok(Some(cached));
        }
        let aside =
            (self.settings.cache_dir).join(crate::layout::mismatch_name(&wanted.file, &actual));
        fs::rename(&cached, &aside).io_context("set aside", &cached)?;
        reporter.warning(&format!(
            "{} in the cache has sha256 {actual}, expected {}; moved it to {} and will not use it",
            wanted.file,
            wanted.sha256,
            aside.display()
        ));
        Ok(None)
    }

    /// Downloads `url` into `part` (resuming what is there) and verifies it. On a checksum
    /// mismatch after resuming, retries once from the start. More bytes than `wanted` may have
    /// are a mirror failure, and the partial file is deleted.
    fn download(
        &mut self,
        url: &str,
        part: &Path,
        wanted: &Wanted,
        reporter: &dyn Reporter,
    ) -> Result<(), Failure> {
        for fresh_start in [false, true] {
            if fresh_start {
                let _ = fs::remove_file(part);
            }
            let transfer = Transfer {
                url: url.to_owned(),
                part: part.to_owned(),
                stall_timeout: self.settings.stall_timeout,
                size: wanted.size,
            };
            // A `file://` mirror needs no HTTP client: a machine without a certificate store
            // (a fresh container) still installs from one.
            let client = match mirror::is_local(url) {
                true => None,
                false => Some(self.client().map_err(Failure::Mirror)?),
            };
            let done = match asking(url, || transfer.run(client, &self.cancel, reporter)) {
                Err(Failure::Mirror(why)) if why.is_too_large() => {
                    let _ = fs::remove_file(part);
                    return Err(Failure::Mirror(why));
                }
                result => result?,
            };
            if done.sha256 == wanted.sha256 {
                return Ok(());
            }
            if done.resumed_from == 0 || fresh_start {
                let _ = fs::remove_file(part);
                return Err(Failure::Mirror(MirrorError::Checksum {
                    actual: done.sha256,
                    expected: wanted.sha256.clone(),
                }));
            }
        }
        unreachable!("the fresh start returns")
    }

    /// A small file such as a checksum sidecar or a pack manifest, at most
    /// [`crate::bounded::SMALL_FILE_LIMIT`] bytes (`--offline`: only from `file://` URLs).
    pub fn small_file(&mut self, url: &str) -> Result<Vec<u8>, MirrorError> {
        if self.settings.offline && !mirror::is_local(url) {
            return Err(MirrorError::Status("not read: --offline".to_owned()));
        }
        if mirror::is_local(url) {
            return transfer::local_small_file(url);
        }
        let client = self.client()?;
        let timeout = self.settings.stall_timeout;
        asking(url, || transfer::small_file(&client, url, timeout))
    }

    fn client(&mut self) -> Result<reqwest::blocking::Client, MirrorError> {
        if self.client.is_none() {
            // Stalls are detected by watching the bytes arrive (see `Transfer`), so a slow but
            // steady download of a large archive is never cut off.
            let client = client::blocking(self.settings.stall_timeout, None).map_err(|e| {
                MirrorError::Connect(format!(
                    "cannot set up HTTP(S): {} (servers are checked against the system's CA \
                     certificates: the ca-certificates package, or SSL_CERT_FILE)",
                    transfer::chain(&e)
                ))
            })?;
            self.client = Some(client);
        }
        Ok(self.client.clone().expect("just set"))
    }
}

/// Asks `url`'s host with `ask`, unless it did not answer in time earlier in this run; when it
/// does not answer in time now, it is given up on.
fn asking<T, E>(url: &str, ask: impl FnOnce() -> Result<T, E>) -> Result<T, E>
where
    E: From<MirrorError> + transfer::AsMirrorError,
{
    let Some(host) = hosts::host_of(url) else {
        return ask();
    };
    hosts::not_given_up(&host)?;
    let result = ask();
    if let Err(e) = &result {
        if e.as_mirror_error().is_some_and(MirrorError::is_timeout) {
            hosts::give_up(&host);
        }
    }
    result
}

/// The sha256 of a regular file as lowercase hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    hash_into(&mut crate::bounded::open_regular(path)?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

fn hash_into(source: &mut dyn Read, hasher: &mut Sha256) -> io::Result<u64> {
    let mut buf = vec![0; 256 * 1024];
    let mut total = 0;
    loop {
        match source.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                hasher.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_listed_as_alternatives() {
        assert_eq!(or_list(&["a.tar.xz".into()]), "a.tar.xz");
        assert_eq!(
            or_list(&["a.tar.xz".into(), "a.tgz".into()]),
            "a.tar.xz or a.tgz"
        );
    }
}
