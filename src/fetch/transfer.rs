//! One transfer from one URL into a `.part` file: runs in a worker thread while the calling
//! thread watches it, so that a stalled mirror is given up after the stall timeout and Ctrl-C
//! stops at once, keeping what arrived. Every byte is hashed as it is written.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::PathBuf;
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
    #[error("only {bytes} bytes in the last {}s: too slow (under {MIN_BYTES_PER_SECOND} bytes a second over STRAP_DOWNLOAD_TIMEOUT seconds)", .window.as_secs_f64())]
    TooSlow { bytes: u64, window: Duration },
    #[error("the connection broke off: {0}")]
    Broken(String),
    #[error("the mirror returned an HTML page (a login or captive portal?), not the archive")]
    HtmlPage,
    #[error("sent more than the declared size of {0} bytes")]
    Oversized(u64),
    #[error("sent or announced more than {0} bytes, more than any archive strap downloads: the mirror is not serving the archive")]
    Endless(u64),
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
        matches!(
            self,
            MirrorError::Stalled(_) | MirrorError::TooSlow { .. } | MirrorError::TimedOut(_)
        )
    }

    /// The mirror sent more than the file can have: what it sent is worth nothing.
    pub fn is_too_large(&self) -> bool {
        matches!(self, MirrorError::Oversized(_) | MirrorError::Endless(_))
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

/// The most bytes a download of unknown size (a prebuilt CPython, a server sending no
/// `Content-Length`) may have. python-build-standalone's largest archives (`*-full.tar.zst`)
/// are a few hundred MB and Boost's sources about 150 MB: 2 GiB leaves room for years of
/// growth, yet stops a mirror streaming without end before it fills the disk.
pub const UNKNOWN_SIZE_LIMIT: u64 = 2 << 30;

/// A mirror averaging fewer bytes a second than this over the stall timeout is given up as
/// too slow (as curl's `--speed-limit` over `--speed-time`): none at all is a stall. At this
/// pace a 30 MB archive takes 8 hours.
pub const MIN_BYTES_PER_SECOND: u64 = 1024;

/// One URL into one `.part` file.
pub(super) struct Transfer {
    pub url: String,
    pub part: PathBuf,
    pub stall_timeout: Duration,
    /// The file's declared size, if known.
    pub size: Option<u64>,
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
    /// The most bytes the file may have: its declared size, else [`UNKNOWN_SIZE_LIMIT`].
    fn limit(&self) -> u64 {
        self.size.unwrap_or(UNKNOWN_SIZE_LIMIT)
    }

    /// Why a source sending more than [`Transfer::limit`] bytes is refused.
    fn too_large(&self) -> Failure {
        Failure::Mirror(match self.size {
            Some(size) => MirrorError::Oversized(size),
            None => MirrorError::Endless(UNKNOWN_SIZE_LIMIT),
        })
    }

    /// Runs the transfer, reporting progress; gives up when under [`MIN_BYTES_PER_SECOND`]
    /// bytes a second arrive over the stall timeout (see [`Pace`]), and
    /// stops (keeping the partial file) when `cancel` turns true.
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
        let mut pace = Pace::new(stall_timeout, Instant::now(), 0);
        loop {
            // The result is taken before the progress is looked at, so a transfer that answered
            // and finished between two looks is still reported as a download.
            let result = shared.result.lock().expect("not poisoned").take();
            if progress.is_none() {
                if let Some((total, resumed)) = *shared.answered.lock().expect("not poisoned") {
                    progress = Some(reporter.download(&url, total, resumed));
                    pace = Pace::new(stall_timeout, Instant::now(), resumed);
                }
            }
            if let Some(result) = result {
                if let Some(p) = &progress {
                    p.set_position(shared.position.load(Ordering::SeqCst));
                    p.finish();
                }
                return result;
            }
            let position = shared.position.load(Ordering::SeqCst);
            let give_up = if cancel.is_cancelled() {
                Some(Failure::Interrupted)
            } else {
                pace.observe(Instant::now(), position).map(Failure::Mirror)
            };
            if let Some(failure) = give_up {
                shared.abandoned.store(true, Ordering::SeqCst);
                if let Some(p) = &progress {
                    p.finish();
                }
                return Err(failure);
            }
            if let Some(p) = &progress {
                p.set_position(position);
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
            Ok(meta) if meta.is_file() && meta.len() <= self.limit() => meta.len(),
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
        if total.is_some_and(|total| total > self.limit()) {
            return Err(self.too_large());
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
                transfer: self,
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

/// Where a transfer writes: its `.part` file, which may grow up to its limit.
struct Sink<'a> {
    out: &'a mut File,
    transfer: &'a Transfer,
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
    let Sink { out, transfer } = sink;
    let (part, limit) = (transfer.part.as_path(), transfer.limit());
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
            return Err(transfer.too_large());
        }
        out.write_all(&buf[..n]).io_context("write", part)?;
        hasher.update(&buf[..n]);
        shared.position.fetch_add(n as u64, Ordering::SeqCst);
    }
    out.flush().io_context("write", part)?;
    Ok(out.sync_all().io_context("write", part)?)
}

/// The one rule of a mirror too slow to wait for: under [`MIN_BYTES_PER_SECOND`] bytes a
/// second arrived over the last `window` (the stall timeout); none at all is a stall.
struct Pace {
    window: Duration,
    /// (when, bytes so far), oldest first: the first one is at or before the window's start.
    samples: VecDeque<(Instant, u64)>,
}

impl Pace {
    /// Watching from `start`, when `position` bytes were there.
    fn new(window: Duration, start: Instant, position: u64) -> Pace {
        Pace {
            window,
            samples: VecDeque::from([(start, position)]),
        }
    }

    /// Records that `position` bytes are there at `now`; why to give up, if the last window
    /// brought too few.
    fn observe(&mut self, now: Instant, position: u64) -> Option<MirrorError> {
        self.samples.push_back((now, position));
        let start = now.checked_sub(self.window)?;
        while self.samples.get(1).is_some_and(|&(when, _)| when <= start) {
            self.samples.pop_front();
        }
        let (first, before) = self.samples[0];
        if first > start {
            return None;
        }
        match position.saturating_sub(before) {
            0 => Some(MirrorError::Stalled(self.window)),
            bytes if (bytes as f64) < MIN_BYTES_PER_SECOND as f64 * self.window.as_secs_f64() => {
                Some(MirrorError::TooSlow {
                    bytes,
                    window: self.window,
                })
            }
            _ => None,
        }
    }
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
    fn a_mirror_is_given_up_when_a_window_brings_too_few_bytes() {
        let window = Duration::from_secs(30);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // Steady but slow: 1100 bytes a second, enough.
        let mut steady = Pace::new(window, t0, 0);
        for s in 1..=90 {
            assert!(steady.observe(at(s), s * 1100).is_none(), "second {s}");
        }
        // A trickle of 1000 bytes a second: 30000 in the first full window, too few.
        let mut trickle = Pace::new(window, t0, 5000);
        for s in 1..30 {
            assert!(
                trickle.observe(at(s), 5000 + s * 1000).is_none(),
                "second {s}"
            );
        }
        assert!(matches!(
            trickle.observe(at(30), 35000),
            Some(MirrorError::TooSlow { bytes: 30000, .. })
        ));
        // A burst, then nothing: given up one window after the last byte, as a stall.
        let mut burst = Pace::new(window, t0, 0);
        assert!(burst.observe(at(10), 1 << 20).is_none());
        for s in 11..40 {
            assert!(burst.observe(at(s), 1 << 20).is_none(), "second {s}");
        }
        assert!(matches!(
            burst.observe(at(40), 1 << 20),
            Some(MirrorError::Stalled(w)) if w == window
        ));
    }

    #[test]
    fn a_file_of_unknown_size_is_capped() {
        let transfer = |size| Transfer {
            url: String::new(),
            part: PathBuf::new(),
            stall_timeout: Duration::from_secs(30),
            size,
        };
        assert_eq!(transfer(None).limit(), UNKNOWN_SIZE_LIMIT);
        assert_eq!(transfer(Some(10)).limit(), 10);
        assert!(matches!(
            transfer(None).too_large(),
            Failure::Mirror(MirrorError::Endless(UNKNOWN_SIZE_LIMIT))
        ));
        assert!(matches!(
            transfer(Some(10)).too_large(),
            Failure::Mirror(MirrorError::Oversized(10))
        ));
    }

    #[test]
    fn html_pages_are_recognised() {
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"<HTML><head>"));
        assert!(!looks_like_html(b"\x1f\x8b\x08\x00"));
    }
}
