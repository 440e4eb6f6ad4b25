//! `strap cache clean`: removes what strap leaves behind and no running strap holds — lock files,
//! logs, downloaded archives (and partial or mismatching downloads), build trees of dead
//! processes, and half-removed versions of interrupted uninstalls.
//!
//! Nothing in use is touched: a lock file is removed only while this process holds its lock
//! (see [`crate::lock`]); a build tree or log only when the process named in it is gone; an archive
//! only while its download lock is held here and no install is running. Build trees kept with
//! `--keep` stay until their owner removes them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::Result;
use crate::layout::{self, Layout};
use crate::lock::{FileLock, TryLock};
use crate::process::process_exists;
use crate::stage::{DISCARDED_PREFIX, GROUPS_FILE, KEPT_FILE};

/// Downloads are named after the archives the artifacts fetch (CPython and its OpenSSL); other
/// files in the cache directory (which `STRAP_CACHE_DIR` may point anywhere) are left alone.
const ARCHIVE_PREFIXES: &[&str] = &["Python-", "openssl-"];
const ARCHIVE_SUFFIXES: &[&str] = &[".tar.xz", ".tgz", ".tar.gz", ".tar.bz2", ".zip"];

/// What to clean.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Only what was last modified longer ago than this.
    pub older_than: Option<Duration>,
    /// List, remove nothing.
    pub dry_run: bool,
}

/// The kinds of things cleaned, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum What {
    Archive,
    PartialDownload,
    MismatchedDownload,
    BuildTree,
    HalfRemovedVersion,
    PackedBuild,
    Log,
    Lock,
}

impl What {
    /// A noun for the summary, singular or plural.
    pub fn noun(self, count: usize) -> &'static str {
        let one = count == 1;
        match self {
            What::Archive if one => "archive",
            What::Archive => "archives",
            What::PartialDownload if one => "partial download",
            What::PartialDownload => "partial downloads",
            What::MismatchedDownload if one => "mismatching download",
            What::MismatchedDownload => "mismatching downloads",
            What::BuildTree if one => "build tree",
            What::BuildTree => "build trees",
            What::HalfRemovedVersion if one => "half-removed version",
            What::HalfRemovedVersion => "half-removed versions",
            What::PackedBuild if one => "packed build file",
            What::PackedBuild => "packed build files",
            What::Log if one => "log",
            What::Log => "logs",
            What::Lock if one => "lock file",
            What::Lock => "lock files",
        }
    }
}

/// One thing removed (or, in a dry run, that would be).
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub bytes: u64,
    pub what: What,
}

/// One thing left in place, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: String,
}

/// What a clean did.
#[derive(Debug, Default)]
pub struct Report {
    pub removed: Vec<Entry>,
    pub skipped: Vec<Skipped>,
    /// Entries left because they are newer than `--older-than`.
    pub recent: usize,
    /// Entries that could not be removed, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

impl Report {
    /// The bytes removed (or that would be).
    pub fn bytes(&self) -> u64 {
        self.removed.iter().map(|e| e.bytes).sum()
    }
}

/// The state of one lock file (or the lock of a file that has none yet), as this run found it.
enum LockState {
    /// Held here until the end of the run; `created` when this run made the file.
    Ours { lock: FileLock, created: bool },
    /// Held by another process.
    Busy(Option<u32>),
}

struct Cleaner<'a> {
    layout: &'a Layout,
    options: Options,
    cutoff: Option<SystemTime>,
    locks: BTreeMap<PathBuf, LockState>,
    report: Report,
}

/// Cleans `layout`'s root (and download cache) as `options` say.
pub fn clean(layout: &Layout, options: Options) -> Result<Report> {
    let mut cleaner = Cleaner {
        layout,
        options,
        cutoff: options
            .older_than
            .and_then(|age| SystemTime::now().checked_sub(age)),
        locks: BTreeMap::new(),
        report: Report::default(),
    };
    cleaner.survey_locks()?;
    cleaner.build_trees()?;
    cleaner.half_removed_versions();
    cleaner.downloads()?;
    cleaner.packed_builds();
    cleaner.logs();
    cleaner.lock_files();
    Ok(cleaner.report)
}

impl Cleaner<'_> {
    /// Takes every free lock under `locks/` for the rest of the run (so no strap starts the work
    /// they guard meanwhile) and notes the held ones.
    fn survey_locks(&mut self) -> Result<()> {
        for path in files_in(&self.layout.locks_dir()) {
            if path.extension().is_none_or(|ext| ext != "lock") {
                continue;
            }
            match FileLock::try_acquire(&path, false)? {
                TryLock::Acquired(lock) => {
                    self.locks.insert(
                        path,
                        LockState::Ours {
                            lock,
                            created: false,
                        },
                    );
                }
                TryLock::Busy { holder } => {
                    self.locks.insert(path, LockState::Busy(holder));
                }
                TryLock::Missing => {}
            }
        }
        Ok(())
    }

    /// The holder of the lock at `path`, or `None` once this run holds it (taking it, creating
    /// the file, when nobody does; in a dry run only looking).
    fn hold(&mut self, path: &Path) -> Result<Option<Option<u32>>> {
        if let Some(state) = self.locks.get(path) {
            return Ok(match state {
                LockState::Ours { .. } => None,
                LockState::Busy(holder) => Some(*holder),
            });
        }
        if self.options.dry_run {
            return Ok(None);
        }
        Ok(match FileLock::try_acquire(path, true)? {
            TryLock::Acquired(lock) => {
                self.locks.insert(
                    path.to_owned(),
                    LockState::Ours {
                        lock,
                        created: true,
                    },
                );
                None
            }
            TryLock::Busy { holder } => {
                self.locks.insert(path.to_owned(), LockState::Busy(holder));
                Some(holder)
            }
            TryLock::Missing => None,
        })
    }

    /// The pid of a running install (any held lock other than a download or rehash lock).
    fn running_install(&self) -> Option<Option<u32>> {
        self.locks.iter().find_map(|(path, state)| {
            let name = path.file_name()?.to_str()?;
            let install = !name.starts_with("download-") && name != "rehash.lock";
            match state {
                LockState::Busy(holder) if install => Some(*holder),
                _ => None,
            }
        })
    }

    fn is_recent(&mut self, path: &Path) -> bool {
        let Some(cutoff) = self.cutoff else {
            return false;
        };
        let recent = fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified > cutoff);
        if recent {
            self.report.recent += 1;
        }
        recent
    }

    fn skip(&mut self, path: &Path, why: impl Into<String>) {
        self.report.skipped.push(Skipped {
            path: path.to_owned(),
            why: why.into(),
        });
    }

    /// Removes (or in a dry run, lists) a file or directory tree.
    fn remove(&mut self, path: &Path, what: What) {
        let bytes = disk_usage(path);
        if !self.options.dry_run {
            let removed = if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                fs::remove_dir_all(path)
            } else {
                fs::remove_file(path)
            };
            match removed {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(e) => {
                    self.report.failed.push((path.to_owned(), e.to_string()));
                    return;
                }
            }
        }
        self.report.removed.push(Entry {
            path: path.to_owned(),
            bytes,
            what,
        });
    }

    /// `tmp/<kind>-<name>.<pid>`: build trees and staging areas of installs whose process is gone.
    fn build_trees(&mut self) -> Result<()> {
        for dir in dirs_in(&self.layout.tmp_dir()) {
            let Some(file_name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned)
            else {
                continue;
            };
            let Some(pid) = layout::work_dir_owner(&file_name) else {
                continue;
            };
            if process_exists(pid) {
                self.skip(&dir, format!("in use by a running strap (pid {pid})"));
                continue;
            }
            if dir.join(KEPT_FILE).exists() {
                self.skip(
                    &dir,
                    "kept with --keep for you to inspect; remove it yourself when done",
                );
                continue;
            }
            if self.is_recent(&dir) {
                continue;
            }
            if file_name.starts_with(DISCARDED_PREFIX) {
                // A finished install's tree whose background removal was stopped.
                self.remove(&dir, What::BuildTree);
                continue;
            }
            let stem = &file_name[..file_name.len() - pid.to_string().len() - 1];
            let lock = self.layout.locks_dir().join(format!("{stem}.lock"));
            if let Some(holder) = self.hold(&lock)? {
                self.skip(
                    &dir,
                    format!("an install of it is running{}", pid_note(holder)),
                );
                continue;
            }
            if !self.options.dry_run {
                crate::process::kill_recorded_groups(&dir.join(GROUPS_FILE), &dir);
            }
            self.remove(&dir, What::BuildTree);
        }
        Ok(())
    }

    /// `versions/.<name>.removing.<pid>` and `boost/.<name>.removing.<pid>`: what an
    /// interrupted uninstall had set aside.
    fn half_removed_versions(&mut self) {
        let installs = [self.layout.versions_dir(), self.layout.boost_root()];
        for dir in installs.iter().flat_map(|d| dirs_in(d)) {
            let Some(file_name) = dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !file_name.starts_with('.') || !file_name.contains(".removing.") {
                continue;
            }
            match layout::work_dir_owner(file_name) {
                Some(pid) if process_exists(pid) => {
                    self.skip(
                        &dir,
                        format!("being removed by a running strap (pid {pid})"),
                    );
                }
                Some(_) if !self.is_recent(&dir) => self.remove(&dir, What::HalfRemovedVersion),
                _ => {}
            }
        }
    }

    /// The download cache: archives, `.part` files and set-aside `.mismatch-*` files.
    fn downloads(&mut self) -> Result<()> {
        let install = self.running_install();
        for path in files_in(&self.layout.cache_dir()) {
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned)
            else {
                continue;
            };
            let Some((archive, what)) = download_kind(&file_name) else {
                continue;
            };
            if self.is_recent(&path) {
                continue;
            }
            if what == What::MismatchedDownload {
                // Set aside for good: no strap reads it again.
                self.remove(&path, what);
                continue;
            }
            if what == What::Archive {
                if let Some(holder) = install {
                    self.skip(&path, format!("an install is running{}", pid_note(holder)));
                    continue;
                }
            }
            let lock = self
                .layout
                .locks_dir()
                .join(format!("download-{archive}.lock"));
            if let Some(holder) = self.hold(&lock)? {
                self.skip(&path, format!("being downloaded{}", pid_note(holder)));
                continue;
            }
            self.remove(&path, what);
        }
        Ok(())
    }

    /// The build cache, `<cache>/builds/`: packed builds and their manifests (a running install
    /// may be reading or writing one).
    fn packed_builds(&mut self) {
        let install = self.running_install();
        for path in files_in(&self.layout.cache_dir().join(crate::stage::BUILDS_DIR)) {
            if self.is_recent(&path) {
                continue;
            }
            if let Some(holder) = install {
                self.skip(&path, format!("an install is running{}", pid_note(holder)));
                continue;
            }
            self.remove(&path, What::PackedBuild);
        }
    }

    /// `logs/*.log` whose process is gone.
    fn logs(&mut self) {
        for path in files_in(&self.layout.logs_dir()) {
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !file_name.ends_with(".log") {
                continue;
            }
            if let Some(pid) = layout::log_owner(file_name).filter(|pid| process_exists(*pid)) {
                self.skip(&path, format!("written by a running strap (pid {pid})"));
                continue;
            }
            if !self.is_recent(&path) {
                self.remove(&path, What::Log);
            }
        }
    }

    /// Every lock file this run holds, removed while held; the held ones of other processes are
    /// reported.
    fn lock_files(&mut self) {
        let locks = std::mem::take(&mut self.locks);
        for (path, state) in locks {
            match state {
                LockState::Busy(holder) => {
                    if path.exists() {
                        self.skip(
                            &path,
                            format!("held by a running strap{}", pid_note(holder)),
                        );
                    }
                }
                LockState::Ours { lock, created } => {
                    if !created && self.is_recent(&path) {
                        continue;
                    }
                    if self.options.dry_run {
                        self.remove(&path, What::Lock);
                        continue;
                    }
                    let bytes = disk_usage(&path);
                    match lock.remove() {
                        Ok(()) if created => {}
                        Ok(()) => self.report.removed.push(Entry {
                            path,
                            bytes,
                            what: What::Lock,
                        }),
                        Err(e) => self.report.failed.push((path, e.to_string())),
                    }
                }
            }
        }
    }
}

/// The archive a cache file belongs to and what the file is; `None` for files strap did not put
/// there.
fn download_kind(file_name: &str) -> Option<(&str, What)> {
    let (archive, what) = if let Some(archive) = file_name.strip_suffix(".part") {
        (archive, What::PartialDownload)
    } else if let Some((archive, hash)) = file_name.rsplit_once(".mismatch-") {
        if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (archive, What::MismatchedDownload)
    } else {
        (file_name, What::Archive)
    };
    let ours = ARCHIVE_PREFIXES.iter().any(|p| archive.starts_with(p))
        && ARCHIVE_SUFFIXES.iter().any(|s| archive.ends_with(s));
    ours.then_some((archive, what))
}

fn pid_note(holder: Option<u32>) -> String {
    holder.map_or_else(String::new, |pid| format!(" (pid {pid})"))
}

/// Regular files directly in `dir` (none when it cannot be read).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    entries(dir, |m| m.is_file())
}

/// Directories directly in `dir`, not following links.
fn dirs_in(dir: &Path) -> Vec<PathBuf> {
    entries(dir, |m| m.is_dir())
}

fn entries(dir: &Path, keep: impl Fn(&fs::Metadata) -> bool) -> Vec<PathBuf> {
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.metadata().is_ok_and(|m| keep(&m)))
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths
}

/// The bytes a file or tree takes (apparent sizes; links not followed).
fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path).map_or(0, |read| {
        read.filter_map(|e| e.ok())
            .map(|e| disk_usage(&e.path()))
            .sum()
    })
}

/// `1.5 MiB`, `320 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: &[&str] = &["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strap_downloads_are_cache_files() {
        assert_eq!(
            download_kind("Python-3.12.7.tar.xz"),
            Some(("Python-3.12.7.tar.xz", What::Archive))
        );
        assert_eq!(
            download_kind("Python-3.12.7.tgz.part"),
            Some(("Python-3.12.7.tgz", What::PartialDownload))
        );
        assert_eq!(
            download_kind("openssl-1.1.1u.tar.gz.mismatch-0123456789ab"),
            Some(("openssl-1.1.1u.tar.gz", What::MismatchedDownload))
        );
        assert_eq!(download_kind("holiday.tar.gz"), None);
        assert_eq!(download_kind("Python-3.12.7.tar.xz.mismatch-zz"), None);
        assert_eq!(download_kind("Python-notes.txt"), None);
    }

    #[test]
    fn sizes_read_like_du() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(20 * 1024 * 1024), "20.0 MiB");
    }
}
