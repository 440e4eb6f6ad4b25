//! A directory of packs: `<stem>.json` manifests next to their archives, on this machine
//! (`file://`) or served over HTTP(S) (any static file server; uploads by HTTP `PUT`, as
//! WebDAV-style stores such as Artifactory or Nexus raw repositories take them).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::{BinaryError, PackId};
use crate::atomic_file::{self, AtomicFile};
use crate::error::IoContext;
use crate::fetch::{Fetcher, MirrorError, Wanted};
use crate::pack::Manifest;
use crate::process::{Cancel, Interruptible};
use crate::report::Reporter;

/// The manifest of `id` in the directory `base`.
pub(super) fn lookup(
    base: &url::Url,
    id: PackId<'_>,
    fetcher: &mut Fetcher,
) -> Result<Manifest, BinaryError> {
    let (_, manifest_file) = id.file_names();
    let manifest_url = join(base, &manifest_file)?;
    let bytes = fetcher
        .small_file(manifest_url.as_str())
        .map_err(|e| match e {
            e if e.is_not_found() => BinaryError::NotThere,
            e => BinaryError::Transfer(vec![(manifest_url.to_string(), e)]),
        })?;
    Manifest::from_json(&bytes)
        .map_err(|e| BinaryError::Refused(format!("{manifest_url} is not a pack manifest: {e}")))
}

/// Downloads `remote_file` from the directory `base` into the build cache as `manifest`'s
/// archive, checked against its sha256.
pub(super) fn download(
    base: &url::Url,
    remote_file: &str,
    manifest: &Manifest,
    fetcher: &mut Fetcher,
    reporter: &dyn Reporter,
) -> Result<(), BinaryError> {
    let wanted = Wanted {
        file: crate::layout::build_cache_file(&manifest.archive.file),
        sha256: manifest.archive.sha256.clone(),
        size: Some(manifest.archive.size),
        archives: None,
        urls: vec![join(base, remote_file)?.to_string()],
    };
    fetcher.fetch(&[wanted], reporter)?;
    Ok(())
}

/// Uploads the pack into the directory `base`: the archive first, the manifest last (so a
/// reader never finds a manifest without its archive). A store that takes no byte and gives no
/// answer for `stall_timeout` is given up.
pub(super) fn push(
    base: &url::Url,
    archive: &Path,
    manifest: &Manifest,
    reporter: &dyn Reporter,
    stall_timeout: Duration,
    cancel: &Cancel,
) -> Result<String, BinaryError> {
    let (archive_file, manifest_file) = PackId::of(manifest).file_names();
    let manifest_url = join(base, &manifest_file)?;
    if base.scheme() == "file" {
        let dir = base
            .to_file_path()
            .map_err(|()| BinaryError::Mirror(format!("{base} is not a local path")))?;
        let targets = (dir.join(&archive_file), dir.join(&manifest_file));
        copy_into(archive, manifest, &targets, cancel)?;
        return Ok(manifest_url.to_string());
    }
    let client = crate::fetch::client::blocking(stall_timeout, None)
        .map_err(|e| BinaryError::Mirror(e.to_string()))?;
    let file = crate::bounded::open_regular(archive).io_context("read", archive)?;
    let size = file.metadata().io_context("read", archive)?.len();
    let archive_url = join(base, &archive_file)?;
    reporter.message(&format!(
        "uploading {} ({}) to {archive_url}",
        archive.display(),
        indicatif::HumanBytes(size)
    ));
    let upload = Upload {
        client: &client,
        stall_timeout,
        cancel,
    };
    upload.put(&archive_url, Box::new(file), size)?;
    let text = manifest.to_json();
    let size = text.len() as u64;
    upload.put(
        &manifest_url,
        Box::new(io::Cursor::new(text.into_bytes())),
        size,
    )?;
    Ok(manifest_url.to_string())
}

/// Copies the pack into a directory on this machine, as `targets` (the archive's path and the
/// manifest's): each whole or not at all, and only in the place of regular files (see
/// [`crate::atomic_file`]); nothing is left when `cancel` turns true.
fn copy_into(
    archive: &Path,
    manifest: &Manifest,
    (target, target_manifest): &(PathBuf, PathBuf),
    cancel: &Cancel,
) -> Result<(), BinaryError> {
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir).io_context("create", dir)?;
    }
    for path in [target, target_manifest] {
        atomic_file::check_replaceable(path).io_context("write", path)?;
    }
    let mut from = Interruptible {
        inner: fs::File::open(archive).io_context("read", archive)?,
        cancel: cancel.clone(),
    };
    let mut to = AtomicFile::create(target).io_context("write", target)?;
    io::copy(&mut from, to.file())
        .and_then(|_| to.commit())
        .io_context("write", target)?;
    Ok(manifest
        .write(target_manifest)
        .io_context("write", target_manifest)?)
}

/// Uploads by HTTP `PUT`, each given up when the store takes no byte and gives no answer for
/// `stall_timeout`, or when `cancel` turns true.
struct Upload<'a> {
    client: &'a reqwest::blocking::Client,
    stall_timeout: Duration,
    cancel: &'a Cancel,
}

impl Upload<'_> {
    /// One `PUT` of `body` (`size` bytes), with the URL's user and password (else
    /// `STRAP_REGISTRY_USER` and `STRAP_REGISTRY_PASSWORD`) as basic authentication.
    fn put(
        &self,
        url: &url::Url,
        body: Box<dyn Read + Send>,
        size: u64,
    ) -> Result<(), BinaryError> {
        let mut bare = url.clone();
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        let sent = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: body,
            sent: Arc::clone(&sent),
        };
        let mut request = self
            .client
            .put(bare.as_str())
            .body(reqwest::blocking::Body::sized(counted, size));
        if !url.username().is_empty() {
            request = request.basic_auth(url.username(), url.password());
        } else if let Some((user, password)) = super::oci::credentials_from_env() {
            request = request.basic_auth(user, Some(password));
        }
        let (answer, answered) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = answer.send(request.send());
        });
        let response = self
            .await_answer(&answered, &sent)
            .map_err(|e| match e {
                BinaryError::Mirror(why) => BinaryError::Mirror(format!("{bare}: {why}")),
                e => e,
            })?
            .map_err(|e| BinaryError::Mirror(format!("{bare}: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(BinaryError::Mirror(format!(
                "{bare}: HTTP {} to the upload",
                response.status()
            )))
        }
    }

    /// What `answered` receives, unless `sent` (the bytes taken so far) stays the same for the
    /// stall timeout, or the upload is cancelled, first.
    fn await_answer<T>(
        &self,
        answered: &mpsc::Receiver<T>,
        sent: &AtomicU64,
    ) -> Result<T, BinaryError> {
        let mut last = (sent.load(Ordering::SeqCst), Instant::now());
        loop {
            match answered.recv_timeout(Duration::from_millis(50)) {
                Ok(answer) => return Ok(answer),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(BinaryError::Mirror("the upload stopped".to_owned()))
                }
            }
            let now = sent.load(Ordering::SeqCst);
            if self.cancel.is_cancelled() {
                return Err(BinaryError::Interrupted);
            } else if now != last.0 {
                last = (now, Instant::now());
            } else if last.1.elapsed() > self.stall_timeout {
                let stalled = MirrorError::Stalled(self.stall_timeout);
                return Err(BinaryError::Mirror(stalled.to_string()));
            }
        }
    }
}

/// A body that counts the bytes read from it.
struct Counted {
    inner: Box<dyn Read + Send>,
    sent: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }
}

/// `base` joined with a plain file name.
fn join(base: &url::Url, file: &str) -> Result<url::Url, BinaryError> {
    base.join(file)
        .map_err(|e| BinaryError::Mirror(format!("{base}{file}: {e}")))
}
