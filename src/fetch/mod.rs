//! Verified downloads: the cache first, then each mirror in order, resuming partial downloads,
//! checking the sha256 of every byte before a file enters the cache.

pub mod mirror;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::lock::FileLock;
use crate::report::Reporter;

/// One source archive to fetch.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    pub file: &'a str,
    pub sha256: &'a str,
    /// Candidate URLs, tried in order.
    pub urls: Vec<String>,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("every mirror failed for {file}:{}", attempts_list(.attempts))]
    AllMirrorsFailed {
        file: String,
        attempts: Vec<(String, String)>,
    },
    #[error("{file} is not in the cache and --offline forbids downloading it; place it at {}", path.display())]
    NotCached { file: String, path: PathBuf },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("interrupted; the partial download is kept for next time")]
    Interrupted,
    #[error(transparent)]
    Lock(#[from] crate::error::Error),
}

fn attempts_list(attempts: &[(String, String)]) -> String {
    attempts
        .iter()
        .map(|(url, why)| format!("\n  {url}: {why}"))
        .collect()
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> FetchError + 'a {
    move |source| FetchError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Downloads into a cache directory.
pub struct Fetcher {
    cache_dir: PathBuf,
    locks_dir: PathBuf,
    offline: bool,
    stall_timeout: Duration,
    client: Option<reqwest::blocking::Client>,
}

impl Fetcher {
    /// A fetcher using `cache_dir`; `stall_timeout` bounds each connect and each read.
    pub fn new(
        cache_dir: PathBuf,
        locks_dir: PathBuf,
        offline: bool,
        stall_timeout: Duration,
    ) -> Self {
        Fetcher {
            cache_dir,
            locks_dir,
            offline,
            stall_timeout,
            client: None,
        }
    }

    /// The first of `candidates` (alternative archives of the same thing, in order of preference)
    /// that is verified in the cache or can be downloaded and verified now; returns its path and
    /// index. The cache is searched for every candidate before any download.
    pub fn fetch(
        &mut self,
        candidates: &[Wanted<'_>],
        reporter: &dyn Reporter,
    ) -> Result<(PathBuf, usize), FetchError> {
        fs::create_dir_all(&self.cache_dir)
            .map_err(io_err("create cache directory", &self.cache_dir))?;
        for (index, wanted) in candidates.iter().enumerate() {
            if let Some(path) = self.cached(wanted, reporter)? {
                return Ok((path, index));
            }
        }
        let first = candidates.first().map_or("", |w| w.file);
        if self.offline {
            return Err(FetchError::NotCached {
                file: first.to_owned(),
                path: self.cache_dir.join(first),
            });
        }
        let mut attempts = Vec::new();
        for (index, wanted) in candidates.iter().enumerate() {
            let _lock = self.lock(wanted, reporter)?;
            let cached = self.cache_dir.join(wanted.file);
            let part = self.cache_dir.join(format!("{}.part", wanted.file));
            for url in &wanted.urls {
                match self.download(url, &part, wanted, reporter) {
                    Ok(()) => {
                        fs::rename(&part, &cached).map_err(io_err("move into the cache", &part))?;
                        return Ok((cached, index));
                    }
                    Err(_) if crate::runner::interrupted() => return Err(FetchError::Interrupted),
                    Err(why) => {
                        reporter.warning(&format!("{url}: {why}"));
                        attempts.push((url.clone(), why));
                    }
                }
            }
        }
        Err(FetchError::AllMirrorsFailed {
            file: first.to_owned(),
            attempts,
        })
    }

    /// Serializes work on one cached file across strap processes.
    fn lock(&self, wanted: &Wanted<'_>, reporter: &dyn Reporter) -> Result<FileLock, FetchError> {
        let path = self
            .locks_dir
            .join(format!("download-{}.lock", wanted.file));
        Ok(FileLock::acquire(&path, |_| {
            reporter.message(&format!(
                "waiting for another strap process downloading {}",
                wanted.file
            ));
        })?)
    }

    /// The cached file when its checksum matches; a mismatching one is set aside and reported.
    fn cached(
        &self,
        wanted: &Wanted<'_>,
        reporter: &dyn Reporter,
    ) -> Result<Option<PathBuf>, FetchError> {
        let cached = self.cache_dir.join(wanted.file);
        if !cached.is_file() {
            return Ok(None);
        }
        let _lock = self.lock(wanted, reporter)?;
        let actual = sha256_file(&cached).map_err(io_err("read", &cached))?;
        if actual == wanted.sha256 {
            reporter.message(&format!(
                "using {} from the cache (sha256 verified)",
                cached.display()
            ));
            return Ok(Some(cached));
        }
        let aside = self
            .cache_dir
            .join(format!("{}.mismatch-{}", wanted.file, &actual[..12]));
        fs::rename(&cached, &aside).map_err(io_err("set aside", &cached))?;
        reporter.warning(&format!(
            "{} in the cache has sha256 {actual}, expected {}; moved it to {} and will not use it",
            wanted.file,
            wanted.sha256,
            aside.display()
        ));
        Ok(None)
    }

    /// Downloads `url` into `part` (resuming what is there) and verifies it. On a checksum
    /// mismatch after resuming, retries once from the start. Errors are one line for the report.
    fn download(
        &mut self,
        url: &str,
        part: &Path,
        wanted: &Wanted<'_>,
        reporter: &dyn Reporter,
    ) -> Result<(), String> {
        for fresh_start in [false, true] {
            if fresh_start {
                let _ = fs::remove_file(part);
            }
            let resumed_from = fs::metadata(part).map_or(0, |m| m.len());
            self.transfer(url, part, resumed_from, reporter)?;
            let actual =
                sha256_file(part).map_err(|e| format!("cannot read {}: {e}", part.display()))?;
            if actual == wanted.sha256 {
                return Ok(());
            }
            if resumed_from == 0 {
                let _ = fs::remove_file(part);
                return Err(format!(
                    "checksum mismatch: got sha256 {actual}, expected {}",
                    wanted.sha256
                ));
            }
        }
        let _ = fs::remove_file(part);
        Err(format!("checksum mismatch, expected {}", wanted.sha256))
    }

    /// Appends the bytes of `url` after `offset` to `part`; a server that ignores the range
    /// restarts the file.
    fn transfer(
        &mut self,
        url: &str,
        part: &Path,
        offset: u64,
        reporter: &dyn Reporter,
    ) -> Result<(), String> {
        if let Some(path) = url.strip_prefix("file://") {
            let mut source = File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
            let total = source.metadata().ok().map(|m| m.len());
            let mut out =
                File::create(part).map_err(|e| format!("cannot write {}: {e}", part.display()))?;
            return copy_with_progress(&mut source, &mut out, 0, total, url, reporter);
        }
        let client = self.client()?;
        let mut request = client.get(url);
        if offset > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={offset}-"));
        }
        let mut response = request.send().map_err(|e| describe_reqwest_error(&e))?;
        let status = response.status();
        let (mut out, start) = if offset > 0 && status == reqwest::StatusCode::PARTIAL_CONTENT {
            let file = OpenOptions::new().append(true).open(part);
            (file, offset)
        } else if offset > 0 && status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(()); // the partial file is already whole: the checksum decides
        } else if status.is_success() {
            (File::create(part), 0)
        } else {
            return Err(format!("HTTP {status}"));
        };
        let out = out
            .as_mut()
            .map_err(|e| format!("cannot write {}: {e}", part.display()))?;
        let total = response.content_length().map(|len| len + start);
        copy_with_progress(&mut response, out, start, total, url, reporter)
    }

    fn client(&mut self) -> Result<&reqwest::blocking::Client, String> {
        if self.client.is_none() {
            let client = reqwest::blocking::Client::builder()
                .timeout(self.stall_timeout)
                .connect_timeout(self.stall_timeout)
                .user_agent(concat!("strap/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("cannot set up HTTP: {e}"))?;
            self.client = Some(client);
        }
        Ok(self.client.as_ref().expect("just set"))
    }
}

fn copy_with_progress(
    source: &mut dyn Read,
    out: &mut File,
    start: u64,
    total: Option<u64>,
    url: &str,
    reporter: &dyn Reporter,
) -> Result<(), String> {
    let progress = reporter.download(url, total, start);
    let mut buf = vec![0; 64 * 1024];
    loop {
        if crate::runner::interrupted() {
            return Err("interrupted".to_owned());
        }
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(describe_io_error(&e)),
        };
        out.write_all(&buf[..n])
            .map_err(|e| format!("cannot write the download: {e}"))?;
        progress.advance(n as u64);
    }
    out.flush()
        .map_err(|e| format!("cannot write the download: {e}"))?;
    progress.finish();
    Ok(())
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn describe_io_error(e: &io::Error) -> String {
    let text = e.to_string();
    if text.contains("timed out") || e.kind() == io::ErrorKind::TimedOut {
        format!("stalled: no data for the timeout ({text})")
    } else {
        format!("connection broke off: {text}")
    }
}

/// The sha256 of a file as lowercase hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut file = File::open(path)?;
    let mut buf = vec![0; 256 * 1024];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
