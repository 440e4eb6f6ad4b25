//! Binary mirrors: where packed builds ([`crate::pack`]) made on other machines come from and
//! go to. A mirror is a directory of packs (`file://DIR` or a static `http(s)://` directory:
//! `<stem>.json` next to its archive) or an OCI registry repository (`oci://REGISTRY/REPO`,
//! one artifact per pack, tagged with its stem). An install looks its cache key up in each
//! mirror, checks the manifest (the same build, this platform, a C library no newer than this
//! machine's) and downloads the archive into the build cache, checking its sha256; from there
//! it installs like a locally cached build. `strap push` uploads packs.

mod directory;
mod oci;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Explain, Io, IoContext, UsageError, EXIT_FAILURE, EXIT_INTERRUPTED};
use crate::fetch::{FetchError, Fetcher, MirrorError};
use crate::identity::Platform;
use crate::pack::Manifest;
use crate::process::Cancel;
use crate::report::Reporter;

/// The largest pack archive strap downloads.
const MAX_PACK_SIZE: u64 = 16 << 30;

/// A place packed builds are shared through.
#[derive(Debug, Clone)]
pub enum BinaryMirror {
    /// A directory of packs, on this machine (`file://`) or served over HTTP(S).
    Directory(url::Url),
    /// A repository in an OCI registry.
    Registry(oci::Repository),
}

impl fmt::Display for BinaryMirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BinaryMirror::Directory(url) => write!(f, "{url}"),
            BinaryMirror::Registry(repo) => write!(f, "{repo}"),
        }
    }
}

/// One packed build: its kind, name and cache key.
#[derive(Debug, Clone, Copy)]
pub struct PackId<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub key: &'a str,
}

impl<'a> PackId<'a> {
    /// The pack a manifest describes.
    pub fn of(manifest: &'a Manifest) -> PackId<'a> {
        PackId {
            kind: &manifest.kind,
            name: &manifest.name,
            key: &manifest.key,
        }
    }

    /// `<kind>-<name>-<key16>`: the files' stem and the registry tag.
    pub fn stem(&self) -> String {
        crate::layout::pack_stem(self.kind, self.name, self.key)
    }

    fn file_names(&self) -> (String, String) {
        crate::layout::pack_files(self.kind, self.name, self.key)
    }
}

/// A usable pack a binary mirror has.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its manifest, the archive named as the build cache names it.
    pub manifest: Manifest,
    /// The archive's file name on the mirror.
    remote_file: String,
}

/// Why a binary mirror gave no build.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    #[error("has no such build")]
    NotThere,
    #[error("refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Mirror(String),
    /// Each URL tried, and how the mirror failed it.
    #[error("{}", transfers(.0))]
    Transfer(Vec<(String, MirrorError)>),
    /// A download the fetcher refused (offline, say).
    #[error(transparent)]
    Fetch(FetchError),
    #[error(transparent)]
    Io(#[from] Io),
    #[error("interrupted")]
    Interrupted,
}

fn transfers(attempts: &[(String, MirrorError)]) -> String {
    let attempts: Vec<String> = attempts
        .iter()
        .map(|(url, why)| format!("{url}: {why}"))
        .collect();
    attempts.join("; ")
}

impl From<FetchError> for BinaryError {
    fn from(error: FetchError) -> BinaryError {
        match error {
            FetchError::Interrupted => BinaryError::Interrupted,
            FetchError::Io(error) => BinaryError::Io(error),
            FetchError::AllMirrorsFailed { attempts, .. } => BinaryError::Transfer(attempts),
            error => BinaryError::Fetch(error),
        }
    }
}

impl Explain for BinaryError {
    fn hint(&self) -> Option<String> {
        match self {
            BinaryError::Io(_) | BinaryError::Interrupted | BinaryError::Fetch(_) => None,
            _ => Some(
                "check the URL and the credentials (STRAP_REGISTRY_USER and \
                 STRAP_REGISTRY_PASSWORD, or `docker login`)"
                    .to_owned(),
            ),
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            BinaryError::Interrupted => EXIT_INTERRUPTED,
            _ => EXIT_FAILURE,
        }
    }
}

impl BinaryMirror {
    /// Parses a mirror URL: `file:///DIR`, `http(s)://HOST/DIR`, `oci://REGISTRY/REPO`
    /// (HTTPS, except for a registry on a loopback address) or `oci+http://REGISTRY/REPO`.
    /// `origin` names where it came from for the error.
    pub fn parse(text: &str, origin: &str) -> Result<BinaryMirror, UsageError> {
        let bad = |why: &str| {
            UsageError::new(format!("binary mirror '{text}' (from {origin}) {why}")).with_hint(
                "a binary mirror is file:///DIR, https://HOST/DIR or oci://REGISTRY/REPOSITORY",
            )
        };
        if let Some(rest) = text.strip_prefix("oci://") {
            return oci::Repository::parse(rest, false)
                .map(BinaryMirror::Registry)
                .map_err(|why| bad(&why));
        }
        if let Some(rest) = text.strip_prefix("oci+http://") {
            return oci::Repository::parse(rest, true)
                .map(BinaryMirror::Registry)
                .map_err(|why| bad(&why));
        }
        let mut url = url::Url::parse(text).map_err(|e| bad(&format!("is not a URL: {e}")))?;
        match url.scheme() {
            "http" | "https" if url.has_host() => {}
            "file" => crate::fetch::mirror::local_path(text)
                .map(drop)
                .map_err(|why| bad(&why))?,
            scheme => {
                return Err(bad(&format!(
                    "has the scheme '{scheme}', not file, http, https or oci"
                )))
            }
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(BinaryMirror::Directory(url))
    }

    /// Where strap talks to the mirror: its directory's URL, or the registry's API over the
    /// scheme the registry client uses.
    pub fn endpoint(&self) -> String {
        match self {
            BinaryMirror::Directory(url) => url.to_string(),
            BinaryMirror::Registry(repo) => repo.api_base(),
        }
    }

    /// True for a directory on this machine (read even with `--offline`).
    pub fn is_local(&self) -> bool {
        matches!(self, BinaryMirror::Directory(url) if url.scheme() == "file")
    }

    /// Looks the pack `id` up: its manifest, checked to describe that very build for this
    /// machine (see [`Manifest::refusal`]).
    pub fn lookup(&self, id: PackId<'_>, fetcher: &mut Fetcher) -> Result<Found, BinaryError> {
        let manifest = match self {
            BinaryMirror::Directory(base) => directory::lookup(base, id, fetcher)?,
            BinaryMirror::Registry(repo) => repo.lookup(id, fetcher)?,
        };
        if let Some(why) = manifest.refusal(id.kind, id.name, id.key, &Platform::current()) {
            return Err(BinaryError::Refused(why));
        }
        let remote_file = manifest.archive.file.clone();
        Ok(Found {
            manifest: named_by_key(manifest),
            remote_file,
        })
    }

    /// Downloads the archive of `found` into the build cache (checked against the manifest's
    /// sha256), then writes its manifest there, so the cache has the pack from now on; returns
    /// the archive's path.
    pub fn download(
        &self,
        found: &Found,
        fetcher: &mut Fetcher,
        reporter: &dyn Reporter,
    ) -> Result<PathBuf, BinaryError> {
        let manifest = &found.manifest;
        let id = PackId::of(manifest);
        let builds = fetcher.settings().cache_dir.join(crate::layout::BUILDS_DIR);
        fs::create_dir_all(&builds).io_context("create", &builds)?;
        check_room(manifest.archive.size, &builds)?;
        match self {
            BinaryMirror::Directory(base) => {
                directory::download(base, &found.remote_file, manifest, fetcher, reporter)?
            }
            BinaryMirror::Registry(repo) => {
                // The registry's client writes the file itself: the lock a download from a
                // directory takes is taken here, so other strap processes and `strap cache
                // clean` leave it alone.
                let file = crate::layout::build_cache_file(&manifest.archive.file);
                let _lock = fetcher.lock(&file, reporter)?;
                repo.download(id, manifest, fetcher, reporter)?
            }
        }
        let manifest_path = builds.join(id.file_names().1);
        manifest
            .write(&manifest_path)
            .io_context("write", &manifest_path)?;
        Ok(builds.join(&manifest.archive.file))
    }

    /// Uploads the pack (`archive` and its `manifest`) to this mirror; returns where it is.
    /// Stops with [`BinaryError::Interrupted`] soon after `cancel` turns true (a registry's
    /// requests other than the upload itself within the stall timeout), leaving no partial
    /// file in a directory.
    pub fn push(
        &self,
        archive: &Path,
        manifest: &Manifest,
        reporter: &dyn Reporter,
        stall_timeout: std::time::Duration,
        cancel: &Cancel,
    ) -> Result<String, BinaryError> {
        let manifest = named_by_key(manifest.clone());
        let pushed = match self {
            BinaryMirror::Directory(base) => {
                directory::push(base, archive, &manifest, reporter, stall_timeout, cancel)
            }
            BinaryMirror::Registry(repo) => {
                repo.push(archive, &manifest, reporter, stall_timeout, cancel)
            }
        };
        pushed.map_err(|e| match cancel.is_cancelled() {
            true => BinaryError::Interrupted,
            false => e,
        })
    }
}

/// Refuses, before it is downloaded into `dir`, an archive of `size` bytes: more than
/// [`MAX_PACK_SIZE`], or than the free space of `dir`'s file system.
fn check_room(size: u64, dir: &Path) -> Result<(), BinaryError> {
    let human = indicatif::HumanBytes;
    if size > MAX_PACK_SIZE {
        return Err(BinaryError::Refused(format!(
            "its manifest declares an archive of {}, more than the {} strap downloads",
            human(size),
            human(MAX_PACK_SIZE)
        )));
    }
    let free = free_space(dir).io_context("find the free space of", dir)?;
    if size > free {
        return Err(BinaryError::Refused(format!(
            "its archive has {}, but the file system of {} has only {} free",
            human(size),
            dir.display(),
            human(free)
        )));
    }
    Ok(())
}

/// The bytes an unprivileged user may still write on `dir`'s file system.
// The statvfs fields are 32 bits wide on some systems.
#[allow(clippy::unnecessary_cast)]
fn free_space(dir: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: an all-zero statvfs is a valid value of the plain C struct.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs reads the NUL-terminated path and fills the struct we own.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64))
}

/// `manifest` with its archive named as the pack is named everywhere (`<stem>.tar.zst`),
/// whatever a file or a mirror called it.
fn named_by_key(manifest: Manifest) -> Manifest {
    let (file, _) = PackId::of(&manifest).file_names();
    Manifest {
        archive: crate::pack::PackedArchive {
            file,
            ..manifest.archive
        },
        ..manifest
    }
}

/// The binary mirrors: `--binary-mirror` flags, else `STRAP_BINARY_MIRRORS` (comma-separated),
/// else the config's `[cache] binary`; none by default.
pub fn mirrors(flags: &[String], config: &Config) -> Result<Vec<BinaryMirror>, UsageError> {
    let source = crate::settings::MirrorSource::binary(config);
    let (texts, origin) = crate::settings::mirror_list(flags, source, config);
    texts
        .iter()
        .map(|text| BinaryMirror::parse(text, &origin))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_urls_are_parsed_or_refused_with_their_origin() {
        let dir = BinaryMirror::parse("file:///srv/builds", "t").unwrap();
        assert_eq!(dir.to_string(), "file:///srv/builds/");
        assert!(dir.is_local());
        let http = BinaryMirror::parse("https://files.example/builds/", "t").unwrap();
        assert_eq!(http.to_string(), "https://files.example/builds/");
        assert!(!http.is_local());
        let oci = BinaryMirror::parse("oci://registry.example:5000/team/builds", "t").unwrap();
        assert_eq!(oci.to_string(), "oci://registry.example:5000/team/builds");
        for bad in [
            "ftp://files.example/builds",
            "/srv/builds",
            "oci://registry.example",
            "oci://registry.example/Team",
            "oci:///builds",
            "file:builds",
            "file://builds/x",
        ] {
            let err = BinaryMirror::parse(bad, "STRAP_BINARY_MIRRORS").unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("'{bad}' (from STRAP_BINARY_MIRRORS)")),
                "{err}"
            );
        }
    }
}
