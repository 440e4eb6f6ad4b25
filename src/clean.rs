//! `strap cache clean`: removes what strap leaves behind and no running strap holds — lock files,
//! logs, downloaded source archives and packed builds (and partial or mismatching downloads),
//! build trees of dead processes, and half-removed versions of interrupted uninstalls.
//!
//! Only names strap makes are removed (see [`crate::layout`]: the archives of the known source
//! kinds, packs of the known artifact kinds, work directories, logs), so a cache directory
//! shared with other files (`STRAP_CACHE_DIR=$HOME`) loses nothing else; a directory strap
//! made under its root (`logs`, `locks`, `tmp`, `cache`, `cache/builds`, …) that is a link is
//! not followed. Nothing in use is touched: a lock file is removed only while this process holds
//! its lock (see [`crate::lock`]); a build tree or log only when the process named in it is
//! gone; a download only while its lock is held here (and a source archive only while no install
//! runs, a packed build only while no install of its build runs). Build trees kept with `--keep`
//! stay until their owner removes them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::layout::{self, CacheFile, Layout, SourceKind, BUILDS_DIR};
use crate::lock::{FileLock, TryLock};
use crate::process::process_exists;
use crate::workdir::leftovers;

/// Why a clean could not run at all.
#[derive(Debug, thiserror::Error)]
#[error("{} is a link, not the directory of lock files strap made: through it strap cannot tell what a running strap holds, so nothing was cleaned", .0.display())]
pub struct LinkedLocks(PathBuf);

impl crate::error::Explain for LinkedLocks {
    fn hint(&self) -> Option<String> {
        Some(format!(
            "remove the link {} (strap makes the directory again)",
            self.0.display()
        ))
    }
}

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
    /// Cannot be locked (a link in its place, no permission), and why.
    Unusable(String),
}

/// Whether the lock guarding something is free.
enum Guard {
    /// Held here (or, in a dry run, nobody holds it).
    Free,
    /// Held by another process.
    Held(Option<u32>),
    /// Cannot be locked, and why.
    Unusable(String),
}

/// What is at the path of a directory strap makes, not following a link.
enum Dir {
    Real,
    Link,
    Missing,
}

struct Cleaner<'a> {
    layout: &'a Layout,
    options: Options,
    now: SystemTime,
    locks: BTreeMap<PathBuf, LockState>,
    report: Report,
}

/// Cleans `layout`'s root (and download cache) as `options` say.
pub fn clean(layout: &Layout, options: Options) -> Result<Report, LinkedLocks> {
    let mut cleaner = Cleaner {
        layout,
        options,
        now: SystemTime::now(),
        locks: BTreeMap::new(),
        report: Report::default(),
    };
    cleaner.survey_locks()?;
    cleaner.build_trees();
    cleaner.half_removed_versions();
    if let Some(cache) = cleaner.cache_dir() {
        cleaner.downloads(&cache);
        cleaner.packed_builds(&cache.join(BUILDS_DIR));
    }
    cleaner.logs();
    cleaner.lock_files();
    Ok(cleaner.report)
}

/// What is at `path`, not following a link.
fn dir_at(path: &Path) -> Dir {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Dir::Real,
        Ok(meta) if meta.file_type().is_symlink() => Dir::Link,
        _ => Dir::Missing,
    }
}

impl Cleaner<'_> {
    /// Takes every free lock under `locks/` and the download cache's `.locks/` for the rest of
    /// the run (so no strap starts the work they guard meanwhile) and notes the held ones.
    fn survey_locks(&mut self) -> Result<(), LinkedLocks> {
        let dir = self.layout.locks_dir();
        if let Dir::Link = dir_at(&dir) {
            return Err(LinkedLocks(dir));
        }
        let downloads = self.layout.download_locks_dir();
        let download_locks = match dir_at(&downloads) {
            Dir::Real => files_in(&downloads),
            Dir::Link | Dir::Missing => Vec::new(),
        };
        for path in files_in(&dir).into_iter().chain(download_locks) {
            if !file_name(&path).is_some_and(layout::is_lock_file) {
                continue;
            }
            let state = match FileLock::try_acquire(&path, false) {
                Ok(TryLock::Acquired(lock)) => LockState::Ours {
                    lock,
                    created: false,
                },
                Ok(TryLock::Busy { holder }) => LockState::Busy(holder),
                Ok(TryLock::Missing) => continue,
                Err(e) => LockState::Unusable(e.to_string()),
            };
            self.locks.insert(path, state);
        }
        Ok(())
    }

    /// Whether the lock at `path` is free: then this run holds it to the end (taking it, and
    /// making the file, when it was not surveyed; a dry run only looks).
    fn hold(&mut self, path: &Path) -> Guard {
        if !self.locks.contains_key(path) {
            if self.options.dry_run {
                return Guard::Free;
            }
            let state = match FileLock::try_acquire(path, true) {
                Ok(TryLock::Acquired(lock)) => LockState::Ours {
                    lock,
                    created: true,
                },
                Ok(TryLock::Busy { holder }) => LockState::Busy(holder),
                Ok(TryLock::Missing) => return Guard::Free,
                Err(e) => LockState::Unusable(e.to_string()),
            };
            self.locks.insert(path.to_owned(), state);
        }
        match &self.locks[path] {
            LockState::Ours { .. } => Guard::Free,
            LockState::Busy(holder) => Guard::Held(*holder),
            LockState::Unusable(why) => Guard::Unusable(why.clone()),
        }
    }

    /// True, noting why, when `path` must be left because `lock`, which guards it, is not free;
    /// `doing` says what its holder is doing (`being downloaded`).
    fn guarded(&mut self, path: &Path, lock: &Path, doing: &str) -> bool {
        let why = match self.hold(lock) {
            Guard::Free => return false,
            Guard::Held(holder) => format!("{doing}{}", pid_note(holder)),
            Guard::Unusable(why) => format!("its lock cannot be taken: {why}"),
        };
        self.skip(path, why);
        true
    }

    /// The pid of a running install: a held install lock.
    fn running_install(&self) -> Option<Option<u32>> {
        self.locks.iter().find_map(|(path, state)| {
            layout::install_lock_owner(file_name(path)?)?;
            match state {
                LockState::Busy(holder) => Some(*holder),
                _ => None,
            }
        })
    }

    /// True for a directory strap made under its root that it can clean; a link in its place is
    /// noted and not followed.
    fn own_dir(&mut self, dir: &Path) -> bool {
        match dir_at(dir) {
            Dir::Real => true,
            Dir::Link => {
                self.skip(dir, "a link, not the directory strap made: not followed");
                false
            }
            Dir::Missing => false,
        }
    }

    /// The download cache to clean: the directory `STRAP_CACHE_DIR` names (the user's choice,
    /// followed), else `<root>/cache` when it is strap's own directory.
    fn cache_dir(&mut self) -> Option<PathBuf> {
        if let Some(named) = self.layout.named_cache_dir() {
            return Some(named);
        }
        let cache = self.layout.cache_dir();
        self.own_dir(&cache).then_some(cache)
    }

    /// True when `path` was modified more recently than `--older-than` (counted as left).
    fn is_recent(&mut self, path: &Path) -> bool {
        let Some(age) = self.options.older_than else {
            return false;
        };
        let recent = fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| {
                self.now
                    .duration_since(modified)
                    .map_or(true, |since| since < age)
            });
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
    fn build_trees(&mut self) {
        if !self.own_dir(&self.layout.tmp_dir()) {
            return;
        }
        for leftover in leftovers(self.layout) {
            if let Some(pid) = leftover.running {
                self.skip(
                    &leftover.path,
                    format!("in use by a running strap (pid {pid})"),
                );
                continue;
            }
            if leftover.being_removed {
                continue; // its background `rm` is on it
            }
            if leftover.kept {
                self.skip(
                    &leftover.path,
                    "kept with --keep for you to inspect; remove it yourself when done",
                );
                continue;
            }
            if self.is_recent(&leftover.path) {
                continue;
            }
            if let Some(artifact) = &leftover.artifact {
                let lock = self.layout.install_lock_of(artifact);
                if self.guarded(&leftover.path, &lock, "an install of it is running") {
                    continue;
                }
            }
            if !self.options.dry_run {
                leftover.stop_builds();
            }
            self.remove(&leftover.path, What::BuildTree);
        }
    }

    /// `versions/.<name>.removing.<pid>` and `boost/.<name>.removing.<pid>`: what an
    /// interrupted uninstall had set aside.
    fn half_removed_versions(&mut self) {
        for installs in [self.layout.versions_dir(), self.layout.boost_root()] {
            if !self.own_dir(&installs) {
                continue;
            }
            for dir in dirs_in(&installs) {
                let Some(pid) = file_name(&dir).and_then(layout::removing_owner) else {
                    continue;
                };
                if process_exists(pid) {
                    self.skip(
                        &dir,
                        format!("being removed by a running strap (pid {pid})"),
                    );
                } else if !self.is_recent(&dir) {
                    self.remove(&dir, What::HalfRemovedVersion);
                }
            }
        }
    }

    /// The source archives in the download cache, their `.part` files and set-aside
    /// `.mismatch-*` files.
    fn downloads(&mut self, cache: &Path) {
        let install = self.running_install();
        for path in files_in(cache) {
            let Some(file) = file_name(&path).map(CacheFile::of) else {
                continue;
            };
            if SourceKind::of(file.file()).is_none() || self.is_recent(&path) {
                continue;
            }
            let what = match file {
                // Set aside for good: no strap reads it again.
                CacheFile::Mismatched(_) => {
                    self.remove(&path, What::MismatchedDownload);
                    continue;
                }
                CacheFile::Partial(_) => What::PartialDownload,
                CacheFile::Complete(_) => What::Archive,
            };
            if let (What::Archive, Some(holder)) = (what, install) {
                self.skip(&path, format!("an install is running{}", pid_note(holder)));
                continue;
            }
            let lock = self.layout.download_lock(file.file());
            if !self.guarded(&path, &lock, "being downloaded") {
                self.remove(&path, what);
            }
        }
    }

    /// The build cache, `<cache>/builds/`: packed builds (archives and manifests), their partial
    /// and set-aside files. One being downloaded, made or installed is left.
    fn packed_builds(&mut self, builds: &Path) {
        if !self.own_dir(builds) {
            return;
        }
        for path in files_in(builds) {
            let Some(file) = file_name(&path).map(CacheFile::of) else {
                continue;
            };
            let Some(pack) = layout::pack_of(file.file()) else {
                continue;
            };
            if self.is_recent(&path) {
                continue;
            }
            let what = match file {
                CacheFile::Mismatched(_) => {
                    self.remove(&path, What::MismatchedDownload);
                    continue;
                }
                CacheFile::Partial(_) => What::PartialDownload,
                CacheFile::Complete(_) => What::PackedBuild,
            };
            let download = (self.layout).download_lock(&layout::build_cache_file(&pack.archive()));
            let install = self.layout.install_lock_of(&pack.artifact_id());
            let doing = format!("an install of {} {} is running", pack.kind, pack.name);
            if !self.guarded(&path, &download, "being downloaded")
                && !self.guarded(&path, &install, &doing)
            {
                self.remove(&path, what);
            }
        }
    }

    /// `logs/<what>-<secs>-<pid>.log` whose process is gone.
    fn logs(&mut self) {
        let logs = self.layout.logs_dir();
        if !self.own_dir(&logs) {
            return;
        }
        for path in files_in(&logs) {
            let Some(pid) = file_name(&path).and_then(layout::log_owner) else {
                continue;
            };
            if process_exists(pid) {
                self.skip(&path, format!("written by a running strap (pid {pid})"));
            } else if !self.is_recent(&path) {
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
                LockState::Unusable(why) => {
                    if fs::symlink_metadata(&path).is_ok() {
                        self.skip(&path, format!("cannot be locked: {why}"));
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

fn pid_note(holder: Option<u32>) -> String {
    holder.map_or_else(String::new, |pid| format!(" (pid {pid})"))
}

/// The file name of `path`, when it is UTF-8 (every name strap makes is).
fn file_name(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()
}

/// Regular files directly in `dir` (none when it cannot be read); links are not files here.
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
