//! One transfer from one URL into a `.part` file: runs in a worker thread while the calling
//! thread watches it, so that a stalled mirror is given up after the stall timeout and Ctrl-C
//! stops at once, keeping what arrived. Every byte is hashed as it is written.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::{Io, IoContext};
use crate::process::Cancel;
use crate::report::{Progress, Reporter};

/// Why one mirror could not deliver a file (the next one is tried).
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("not found (HTTP 404)")]
    NotFound,
    #[error("HTTP {0}")]
    Status(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no answer in time: {0}")]
    TimedOut(String),
    #[error("not asked: {0} did not answer earlier in this run")]
    NotAsked(String),
    #[error("no data for {}s (STRAP_DOWNLOAD_TIMEOUT sets how long to wait)", .0.as_secs_f64())]
    Stalled(Duration),
    #[error("the connection broke off: {0}")]
    Broken(String),
    #[error("the mirror returned an HTML page (a login or captive portal?), not the archive")]
    HtmlPage,
    #[error("sent more than the declared size of {0} bytes")]
    Oversized(u64),
    #[error("{0}")]
    Refused(crate::bounded::Refusal),
    #[error("checksum mismatch: got sha256 {actual}, expected {expected}")]
    Checksum { actual: String, expected: String },
    #[error("cannot read {}: {source}", path.display())]
    Source { path: PathBuf, source: io::Error },
    #[error("not a usable URL: {0}")]
    BadUrl(String),
}

impl MirrorError {
    /// The mirror does not have this file (normal when it holds only another format).
    pub fn is_not_found(&self) -> bool {
        match self {
            MirrorError::NotFound => true,
            MirrorError::Source { source, .. } => source.kind() == io::ErrorKind::NotFound,
            _ => false,
        }
    }

    /// The mirror's host did not answer in time (it is not asked again in this run).
    pub fn is_timeout(&self) -> bool {
        matches!(self, MirrorError::Stalled(_) | MirrorError::TimedOut(_))
    }
}

/// How a transfer failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The mirror's fault: try the next.
    Mirror(MirrorError),
    /// This machine's fault (disk full, permissions): stop.
    Local(Io),
    Interrupted,
}

impl From<Io> for Failure {
    fn from(error: Io) -> Failure {
        Failure::Local(error)
    }
}

impl From<MirrorError> for Failure {
    fn from(why: MirrorError) -> Failure {
        Failure::Mirror(why)
    }
}

/// The mirror's failure inside an error, when it is one.
pub(super) trait AsMirrorError {
    fn as_mirror_error(&self) -> Option<&MirrorError>;
}

impl AsMirrorError for MirrorError {
    fn as_mirror_error(&self) -> Option<&MirrorError> {
        Some(self)
    }
}

impl AsMirrorError for Failure {
    fn as_mirror_error(&self) -> Option<&MirrorError> {
        match self {
            Failure::Mirror(why) => Some(why),
            _ => None,
        }
    }
}

/// A finished transfer.
pub(super) struct Done {
    pub sha256: String,
    /// Bytes that were already in the `.part` file and kept.
    pub resumed_from: u64,
}

/// One URL into one `.part` file.
pub(super) struct Transfer {
    pub url: String,
    pub part: PathBuf,
    pub stall_timeout: Duration,
    /// The most bytes the file may have (its declared size).
    pub limit: u64,
}

/// What the worker thread and the watching thread share.
#[derive(Default)]
struct Shared {
    /// Bytes in the `.part` file.
    position: AtomicU64,
    /// Set once the source answered: (total size when known, bytes resumed).
    answered: Mutex<Option<(Option<u64>, u64)>>,
    result: Mutex<Option<Result<Done, Failure>>>,
    /// The watcher gave up: the worker must stop writing.
    abandoned: AtomicBool,
}

impl Transfer {
    /// Runs the transfer, reporting progress; gives up when no byte arrives for the stall
    /// timeout, and stops (keeping the partial file) when `cancel` turns true.
    /// `client` is for an HTTP(S) URL; a `file://` one needs none.
    pub fn run(
        self,
        client: Option<reqwest::blocking::Client>,
        cancel: &Cancel,
        reporter: &dyn Reporter,
    ) -> Result<Done, Failure> {
        let shared = Arc::new(Shared::default());
        let worker_shared = Arc::clone(&shared);
        let stall_timeout = self.stall_timeout;
        let url = self.url.clone();
        if let Some(host) = super::hosts::host_of(&url) {
            reporter.waiting(&host);
        }
        std::thread::spawn(move || {
            let result = self.work(client.as_ref(), &worker_shared);
            *worker_shared.result.lock().expect("not poisoned") = Some(result);
        });
        let mut progress: Option<Box<dyn Progress>> = None;
        let mut last = (0, Instant::now());
        loop {
            // The result is taken before the progress is looked at, so a transfer that answered
            // and finished between two looks is still reported as a download.
            let result = shared.result.lock().expect("not poisoned").take();
            if progress.is_none() {
                if let Some((total, resumed)) = *shared.answered.lock().expect("not poisoned") {
                    progress = Some(reporter.download(&url, total, resumed));
                    last = (resumed, Instant::now());
                }
            }
            if let Some(result) = result {
                if let Some(p) = &progress {
                    p.set_position(shared.position.load(Ordering::SeqCst));
                    p.finish();
                }
                return result;
            }
            let give_up = if cancel.is_cancelled() {
                Some(Failure::Interrupted)
            } else if last.1.elapsed() > stall_timeout {
                Some(Failure::Mirror(MirrorError::Stalled(stall_timeout)))
            } else {
                None
            };
            if let Some(failure) = give_up {
                shared.abandoned.store(true, Ordering::SeqCst);
                if let Some(p) = &progress {
                    p.finish();
                }
                return Err(failure);
            }
            let position = shared.position.load(Ordering::SeqCst);
            if position != last.0 {
                last = (position, Instant::now());
                if let Some(p) = &progress {
                    p.set_position(position);
                }
            }
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// The worker: open the source, append to (or restart) the `.part` file, hash it all.
    fn work(
        &self,
        client: Option<&reqwest::blocking::Client>,
        shared: &Shared,
    ) -> Result<Done, Failure> {
        let parsed = url::Url::parse(&self.url)
            .map_err(|e| Failure::Mirror(MirrorError::BadUrl(format!("{}: {e}", self.url))))?;
        // A partial download to resume is a regular file no larger than the file can be; a
        // link or a FIFO planted under its name is replaced, never written through.
        let existing = match fs::symlink_metadata(&self.part) {
            Ok(meta) if meta.is_file() && meta.len() <= self.limit => meta.len(),
            _ => 0,
        };
        let (source, total, resumed_from): (Box<dyn Read>, Option<u64>, u64) = match parsed.scheme()
        {
            "file" => {
                let path = parsed
                    .to_file_path()
                    .map_err(|()| Failure::Mirror(MirrorError::BadUrl(self.url.clone())))?;
                let file = crate::bounded::open_regular(&path).map_err(|source| {
                    Failure::Mirror(MirrorError::Source {
                        path: path.clone(),
                        source,
                    })
                })?;
                let total = file.metadata().ok().map(|m| m.len());
                (Box::new(file), total, 0)
            }
            _ => {
                let client = client.ok_or_else(|| {
                    Failure::Mirror(MirrorError::BadUrl(format!(
                        "{}: not a file:// URL",
                        self.url
                    )))
                })?;
                let mut request = client.get(parsed.as_str());
                if existing > 0 {
                    request = request.header(reqwest::header::RANGE, format!("bytes={existing}-"));
                }
                let response = request.send().map_err(|e| Failure::Mirror(describe(&e)))?;
                let status = response.status();
                let is_html = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| t.trim_start().starts_with("text/html"));
                let resumed_from = if existing > 0 && status == reqwest::StatusCode::PARTIAL_CONTENT
                {
                    existing
                } else if existing > 0 && status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
                    // The partial file is already whole: the checksum decides.
                    let sha256 = super::sha256_file(&self.part).io_context("read", &self.part)?;
                    return Ok(Done {
                        sha256,
                        resumed_from: existing,
                    });
                } else if status == reqwest::StatusCode::NOT_FOUND {
                    return Err(Failure::Mirror(MirrorError::NotFound));
                } else if status.is_success() {
                    0
                } else {
                    return Err(Failure::Mirror(MirrorError::Status(status.to_string())));
                };
                if is_html {
                    return Err(Failure::Mirror(MirrorError::HtmlPage));
                }
                let total = response.content_length().map(|len| len + resumed_from);
                (Box::new(response), total, resumed_from)
            }
        };
        if total.is_some_and(|total| total > self.limit) {
            return Err(Failure::Mirror(MirrorError::Oversized(self.limit)));
        }
        let mut hasher = Sha256::new();
        let mut out = if resumed_from > 0 {
            // Hash what is kept, then append to it.
            let mut kept =
                crate::atomic_file::open_to_append(&self.part).io_context("write", &self.part)?;
            super::hash_into(&mut kept, &mut hasher).io_context("read", &self.part)?;
            kept
        } else {
            crate::atomic_file::create_fresh(&self.part).io_context("write", &self.part)?
        };
        shared.position.store(resumed_from, Ordering::SeqCst);
        *shared.answered.lock().expect("not poisoned") = Some((total, resumed_from));
        copy_hashing(
            source,
            Sink {
                out: &mut out,
                part: &self.part,
                limit: self.limit,
            },
            &mut hasher,
            shared,
            resumed_from == 0,
        )?;
        Ok(Done {
            sha256: hex::encode(hasher.finalize()),
            resumed_from,
        })
    }
}

/// Where a transfer writes: the `.part` file, which may grow up to `limit` bytes.
struct Sink<'a> {
    out: &'a mut File,
    part: &'a Path,
    limit: u64,
}

/// Copies `source` to the sink, hashing it; a fresh download that starts like an HTML page is
/// refused (a captive portal answering 200 with its login page), and so is a byte past the
/// sink's limit.
fn copy_hashing(
    mut source: Box<dyn Read>,
    sink: Sink<'_>,
    hasher: &mut Sha256,
    shared: &Shared,
    fresh: bool,
) -> Result<(), Failure> {
    let Sink { out, part, limit } = sink;
    let mut buf = vec![0; 64 * 1024];
    let mut first = fresh;
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Mirror(MirrorError::Broken(chain(&e)))),
        };
        if std::mem::take(&mut first) && looks_like_html(&buf[..n]) {
            return Err(Failure::Mirror(MirrorError::HtmlPage));
        }
        if shared.abandoned.load(Ordering::SeqCst) {
            return Err(Failure::Interrupted);
        }
        if shared.position.load(Ordering::SeqCst) + n as u64 > limit {
            return Err(Failure::Mirror(MirrorError::Oversized(limit)));
        }
        out.write_all(&buf[..n]).io_context("write", part)?;
        hasher.update(&buf[..n]);
        shared.position.fetch_add(n as u64, Ordering::SeqCst);
    }
    out.flush().io_context("write", part)?;
    Ok(out.sync_all().io_context("write", part)?)
}

fn looks_like_html(start: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&start[..start.len().min(512)]).to_ascii_lowercase();
    let text = text.trim_start();
    text.starts_with("<!doctype html") || text.starts_with("<html") || text.starts_with("<head")
}

/// Reads a small file (a checksum sidecar, a pack manifest) from a `file://` URL: at most
/// [`crate::bounded::SMALL_FILE_LIMIT`] bytes.
pub(super) fn local_small_file(url: &str) -> Result<Vec<u8>, MirrorError> {
    let path = url::Url::parse(url)
        .ok()
        .and_then(|parsed| parsed.to_file_path().ok())
        .ok_or_else(|| MirrorError::BadUrl(url.to_owned()))?;
    crate::bounded::read(&path, crate::bounded::SMALL_FILE_LIMIT)
        .map_err(|source| MirrorError::Source { path, source })
}

/// Reads a small file (a checksum sidecar, a pack manifest) from an HTTP(S) URL: at most
/// [`crate::bounded::SMALL_FILE_LIMIT`] bytes, within `timeout`.
pub(super) fn small_file(
    client: &reqwest::blocking::Client,
    url: &str,
    timeout: Duration,
) -> Result<Vec<u8>, MirrorError> {
    let limit = crate::bounded::SMALL_FILE_LIMIT;
    let parsed = url::Url::parse(url).map_err(|e| MirrorError::BadUrl(format!("{url}: {e}")))?;
    let response = client
        .get(parsed.as_str())
        .timeout(timeout)
        .send()
        .map_err(|e| describe(&e))?;
    match response.status() {
        reqwest::StatusCode::NOT_FOUND => return Err(MirrorError::NotFound),
        status if !status.is_success() => return Err(MirrorError::Status(status.to_string())),
        _ => {}
    }
    let mut body = Vec::new();
    crate::bounded::read_at_most(response, limit, &mut body).map_err(|e| {
        match crate::bounded::refusal(&e) {
            Some(refusal) => MirrorError::Refused(*refusal),
            None => MirrorError::Broken(chain(&e)),
        }
    })?;
    Ok(body)
}

fn describe(e: &reqwest::Error) -> MirrorError {
    let text = chain(e);
    if e.is_timeout() {
        MirrorError::TimedOut(text)
    } else if e.is_connect() {
        MirrorError::Connect(text)
    } else {
        MirrorError::Broken(text)
    }
}

/// An error and its causes on one line.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(&format!(": {cause_text}"));
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_are_recognised() {
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"<HTML><head>"));
        assert!(!looks_like_html(b"\x1f\x8b\x08\x00"));
    }
}
