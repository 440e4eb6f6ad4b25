//! The work directory of one install (`<root>/tmp/<kind>-<name>.<pid>`, on the same file system
//! as the final prefix so placing it is one rename), removed when dropped unless kept, and the
//! cleanup of those that killed runs left behind.

use std::fs::{self, File};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use super::StageError;
use crate::error::IoContext;
use crate::layout::Layout;

/// The file in a work directory that lists the process groups of its build commands.
const GROUPS_FILE: &str = "process-groups";
/// The file that marks a work directory kept with `--keep`: cleanups leave it alone.
const KEPT_FILE: &str = "kept-by-strap";

/// A work directory, removed on drop unless [`WorkDir::keep`] was called.
pub struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    /// Creates this process's work directory for `kind`/`name`.
    pub fn create(layout: &Layout, kind: &str, name: &str) -> Result<WorkDir, StageError> {
        let path = layout.work_dir(kind, name);
        fs::create_dir_all(&path).io_context("create build directory", &path)?;
        Ok(WorkDir { path, keep: false })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the build's process groups are recorded.
    pub fn groups_file(&self) -> PathBuf {
        self.path.join(GROUPS_FILE)
    }

    /// Leaves the directory in place (`--keep` after a failure), marked so that later installs
    /// do not clean it up.
    pub fn keep(&mut self) {
        self.keep = true;
        let _ = fs::write(
            self.path.join(KEPT_FILE),
            "kept with --keep; remove it when done\n",
        );
    }

    /// Removes the directory without waiting, after a successful install: it is renamed to
    /// `tmp/.discard-…` and a detached `rm -rf` deletes it, so strap does not wait for tens of
    /// thousands of files to go (a Boost source tree takes about 10 s). Removed here when that
    /// cannot start.
    pub fn discard(mut self) {
        let Some(discarded) = crate::layout::discarded_work_dir(&self.path) else {
            return;
        };
        if fs::rename(&self.path, &discarded).is_err() {
            return; // dropped: removed here
        }
        self.path = discarded;
        // `rm` holds the tree's removal lock while it runs: its stdin is the locked directory.
        let stdin = removal_lock(&self.path).map_or_else(std::process::Stdio::null, Into::into);
        let started = std::process::Command::new("rm")
            .arg("-rf")
            .arg("--")
            .arg(&self.path)
            .stdin(stdin)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn();
        if started.is_ok() {
            self.keep = true; // not removed by `drop`: `rm` does it
        }
    }

    /// The path, when kept.
    pub fn kept(&self) -> Option<&Path> {
        self.keep.then_some(self.path.as_path())
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A directory strap made under `tmp/`, as the pipeline's cleanup and `strap cache clean` both
/// see it.
pub(crate) struct Leftover {
    pub path: PathBuf,
    /// The [`crate::layout::artifact_id`] of the install it belongs to (the stem of the lock
    /// that guards it); `None` for a finished install's tree whose background removal was
    /// stopped (`tmp/.discard-…`).
    pub artifact: Option<String>,
    /// The strap process it belongs to, while that runs.
    pub running: Option<u32>,
    /// Kept with `--keep` for the user to inspect: only the user removes it.
    pub kept: bool,
    /// A finished install's tree that a background `rm` is removing right now.
    pub being_removed: bool,
}

impl Leftover {
    /// Stops the build processes still running in it (a killed install's `make`).
    pub fn stop_builds(&self) {
        crate::process::kill_recorded_groups(&self.path.join(GROUPS_FILE), &self.path);
    }
}

/// The directories under `tmp/` whose names strap makes (work directories and discarded ones);
/// links and other names are not strap's and are left out.
pub(crate) fn leftovers(layout: &Layout) -> Vec<Leftover> {
    let tmp = layout.tmp_dir();
    let real = fs::symlink_metadata(&tmp).is_ok_and(|m| m.is_dir());
    let Some(entries) = real.then(|| fs::read_dir(&tmp).ok()).flatten() else {
        return Vec::new();
    };
    let mut found: Vec<Leftover> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|entry| leftover(entry.path()))
        .collect();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// What the directory `path` under `tmp/` is, when its name is one strap makes.
fn leftover(path: PathBuf) -> Option<Leftover> {
    let file_name = path.file_name()?.to_str()?;
    let (artifact, pid) = match crate::layout::work_dir_of(file_name) {
        Some((artifact, pid)) => (Some(artifact.to_owned()), pid),
        None => (None, crate::layout::discarded_owner(file_name)?),
    };
    Some(Leftover {
        being_removed: artifact.is_none() && being_removed(&path),
        running: crate::process::process_exists(pid).then_some(pid),
        kept: fs::symlink_metadata(path.join(KEPT_FILE)).is_ok(),
        artifact,
        path,
    })
}

/// The directory `path` (not through a link), opened and locked: the background `rm` that
/// removes a discarded tree holds it, so that [`being_removed`] tells a removal under way from
/// one that was stopped. `None` when it cannot be locked (the tree is then removed unlocked).
fn removal_lock(path: &Path) -> Option<File> {
    let dir = open_dir(path)?;
    dir.try_lock().ok()?;
    Some(dir)
}

/// True while a process holds the [`removal_lock`] of the directory `path`.
fn being_removed(path: &Path) -> bool {
    open_dir(path).is_some_and(|dir| matches!(dir.try_lock(), Err(fs::TryLockError::WouldBlock)))
}

fn open_dir(path: &Path) -> Option<File> {
    File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)
        .ok()
}

/// Removes what killed installs left behind under `tmp/`, after stopping any of their build
/// processes still running: every work directory of `kind`/`name` (the caller holds its install
/// lock, so no live strap uses them), and those of other installs whose strap process is gone.
/// Directories kept with `--keep` stay, and so do discarded ones (their `rm` is on it; `strap
/// cache clean` removes one that was stopped).
pub fn remove_leftovers(layout: &Layout, kind: &str, name: &str) {
    let ours = crate::layout::artifact_id(kind, name);
    for leftover in leftovers(layout) {
        let Some(artifact) = &leftover.artifact else {
            continue;
        };
        if !leftover.kept && (*artifact == ours || leftover.running.is_none()) {
            leftover.stop_builds();
            let _ = fs::remove_dir_all(&leftover.path);
        }
    }
}
