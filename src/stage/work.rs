//! The work directory of one install (`<root>/tmp/<kind>-<name>.<pid>`, on the same file system
//! as the final prefix so placing it is one rename), removed when dropped unless kept, and the
//! cleanup of those that killed runs left behind.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use super::StageError;
use crate::layout::Layout;

/// The file in a work directory that lists the process groups of its build commands.
pub(crate) const GROUPS_FILE: &str = "process-groups";
/// The file that marks a work directory kept with `--keep`: cleanups leave it alone.
pub(crate) const KEPT_FILE: &str = "kept-by-strap";

/// The name prefix of a work directory being removed in the background after a successful
/// install (see [`WorkDir::discard`]).
pub(crate) const DISCARDED_PREFIX: &str = ".discard-";

/// A work directory, removed on drop unless [`WorkDir::keep`] was called.
pub struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    /// Creates this process's work directory for `kind`/`name`.
    pub fn create(layout: &Layout, kind: &str, name: &str) -> Result<WorkDir, StageError> {
        let path = layout.work_dir(kind, name);
        fs::create_dir_all(&path)
            .map_err(|e| StageError::io("create build directory", &path, e))?;
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
        let Some(file_name) = self.path.file_name() else {
            return;
        };
        let discarded = self
            .path
            .with_file_name(format!("{DISCARDED_PREFIX}{}", file_name.to_string_lossy()));
        if fs::rename(&self.path, &discarded).is_err() {
            return; // dropped: removed here
        }
        self.path = discarded;
        let started = std::process::Command::new("rm")
            .arg("-rf")
            .arg("--")
            .arg(&self.path)
            .stdin(std::process::Stdio::null())
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

/// Removes what killed installs left behind under `tmp/`, after stopping any of their build
/// processes still running: every work directory of `kind`/`name` (the caller holds its install
/// lock, so no live strap uses them), and those of other installs whose strap process is gone.
/// Directories kept with `--keep` stay.
pub fn remove_leftovers(layout: &Layout, kind: &str, name: &str) {
    let Ok(entries) = fs::read_dir(layout.tmp_dir()) else {
        return;
    };
    let ours = layout.work_dir_prefix(kind, name);
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with(DISCARDED_PREFIX) {
            continue; // its `rm` is on it (`strap cache clean` removes one that was stopped)
        }
        let dir = entry.path();
        let Some(pid) = crate::layout::work_dir_owner(&file_name) else {
            continue;
        };
        let abandoned = file_name.starts_with(&ours) || !crate::process::process_exists(pid);
        if abandoned && !dir.join(KEPT_FILE).exists() {
            crate::process::kill_recorded_groups(&dir.join(GROUPS_FILE), &dir);
            let _ = fs::remove_dir_all(&dir);
        }
    }
}
