//! The work directory of one install (`<root>/tmp/<kind>-<name>.<pid>`, on the same file system
//! as the final prefix so placing it is one rename), removed when dropped unless kept; the one
//! classifier of the directories under `tmp/` ([`leftovers`]) that the pipeline's cleanup of
//! what killed runs left behind and `strap cache clean` share. Every name is [`crate::layout`]'s.

use std::fs::{self, File};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::layout::{Layout, WORK_GROUPS_FILE, WORK_KEPT_FILE};

/// A work directory, removed on drop unless [`WorkDir::keep`] was called.
pub struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    /// Creates this process's work directory for `kind`/`name`.
    pub fn create(layout: &Layout, kind: &str, name: &str) -> std::io::Result<WorkDir> {
        let path = layout.work_dir(kind, name);
        fs::create_dir_all(&path)?;
        Ok(WorkDir { path, keep: false })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the build's process groups are recorded.
    pub fn groups_file(&self) -> PathBuf {
        self.path.join(WORK_GROUPS_FILE)
    }

    /// Leaves the directory in place (`--keep` after a failure), marked so that later installs
    /// do not clean it up.
    pub fn keep(&mut self) {
        self.keep = true;
        let _ = fs::write(
            self.path.join(WORK_KEPT_FILE),
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
pub struct Leftover {
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
        crate::process::kill_recorded_groups(&self.path.join(WORK_GROUPS_FILE), &self.path);
    }
}

/// The directories under `tmp/` whose names strap makes (work directories and discarded ones);
/// links and other names are not strap's and are left out.
pub fn leftovers(layout: &Layout) -> Vec<Leftover> {
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
        kept: fs::symlink_metadata(path.join(WORK_KEPT_FILE)).is_ok(),
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

/// Where [`PrefixLink`] keeps, inside the work directory, the install that `install -f`
/// replaces while the new one is installed at its prefix.
const REPLACED_DURING_INSTALL: &str = "replaced-during-install";

/// The final prefix of an install made a link to its staged copy, for a program that must be
/// told the final prefix because it writes it into what it installs (a conda installer, into
/// scripts and binaries): its files land in the staging area, so the install stays atomic.
///
/// The window in which the prefix is a link runs from [`PrefixLink::create`] to
/// [`PrefixLink::remove`]: the installer's run and the verification through the final prefix.
/// Meanwhile the version is listed as installed but is not complete; the pipeline does not
/// count it as installed (see [`is_staging_link`]). Over an existing install (`install -f`),
/// the old one is moved into the work directory for that window (marked kept, so that no cleanup
/// removes it) and put back when the link goes. The link goes on failure and interruption too,
/// when the guard is dropped; one left by a killed run points into its work directory, and the
/// next install of the name undoes it ([`undo_prefix_link`]) before it cleans up leftovers.
pub struct PrefixLink {
    prefix: PathBuf,
    /// The work directory the link points into.
    work: PathBuf,
}

impl PrefixLink {
    /// Makes `prefix` a link to `staged_prefix` (created, in a work directory), moving an
    /// install at `prefix` into that work directory meanwhile.
    pub fn create(prefix: &Path, staged_prefix: &Path) -> std::io::Result<PrefixLink> {
        let work = work_dir_staging(prefix, staged_prefix)
            .ok_or_else(|| std::io::Error::other("the staged prefix is not in a work directory"))?;
        fs::create_dir_all(staged_prefix)?;
        if let Some(parent) = prefix.parent() {
            fs::create_dir_all(parent)?;
        }
        let link = PrefixLink {
            prefix: prefix.to_owned(),
            work,
        };
        if fs::symlink_metadata(prefix).is_ok() {
            fs::write(
                link.work.join(WORK_KEPT_FILE),
                format!(
                    "{REPLACED_DURING_INSTALL}/ is the install of {} that `install -f` replaces; \
                     the next install of it puts it back\n",
                    prefix.display()
                ),
            )?;
            fs::rename(prefix, link.work.join(REPLACED_DURING_INSTALL))?;
        }
        std::os::unix::fs::symlink(staged_prefix, prefix)?;
        Ok(link)
    }

    /// Removes the link (and puts back the install it replaced), reporting a failure.
    pub fn remove(self) -> std::io::Result<()> {
        let done = put_back(&self.prefix, &self.work);
        std::mem::forget(self);
        done
    }
}

impl Drop for PrefixLink {
    fn drop(&mut self) {
        let _ = put_back(&self.prefix, &self.work);
    }
}

/// Undoes a [`PrefixLink`] at `prefix` that a killed run left (the caller holds the install
/// lock of the name, so no running install owns it): the link goes, and the install it replaced
/// comes back from the work directory.
pub fn undo_prefix_link(prefix: &Path) -> std::io::Result<()> {
    match staging_link(prefix) {
        Some(work) => put_back(prefix, &work),
        None => Ok(()),
    }
}

/// True when `prefix` is a [`PrefixLink`], of an install running or killed.
pub fn is_staging_link(prefix: &Path) -> bool {
    staging_link(prefix).is_some()
}

/// The work directory the link `prefix` points into, when it is a [`PrefixLink`].
fn staging_link(prefix: &Path) -> Option<PathBuf> {
    work_dir_staging(prefix, &fs::read_link(prefix).ok()?)
}

/// The work directory whose staging area `staged` is the staged copy of `prefix` in
/// (`<work>/stage/<prefix>`, as the install pipeline stages it), when it is one.
fn work_dir_staging(prefix: &Path, staged: &Path) -> Option<PathBuf> {
    let relative = prefix.strip_prefix("/").ok()?;
    if !staged.is_absolute() || !staged.ends_with(relative) {
        return None;
    }
    let work = staged.ancestors().nth(relative.components().count() + 1)?;
    crate::layout::work_dir_of(work.file_name()?.to_str()?)?;
    Some(work.to_owned())
}

/// Removes the link at `prefix` (only a link) and moves back the install `work` holds for it.
fn put_back(prefix: &Path, work: &Path) -> std::io::Result<()> {
    if fs::symlink_metadata(prefix).is_ok_and(|m| m.is_symlink()) {
        fs::remove_file(prefix)?;
    }
    let replaced = work.join(REPLACED_DURING_INSTALL);
    if fs::symlink_metadata(&replaced).is_ok() {
        fs::rename(&replaced, prefix)?;
        match fs::remove_file(work.join(WORK_KEPT_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::work_dir_staging;
    use std::path::Path;

    #[test]
    fn a_staging_link_is_told_by_its_target_being_the_prefix_staged_in_a_work_dir() {
        let staged = |prefix: &str, target: &str| {
            work_dir_staging(Path::new(prefix), Path::new(target))
                .map(|work| work.display().to_string())
        };
        assert_eq!(
            staged("/r/versions/x", "/r/tmp/python-x.42/stage/r/versions/x").as_deref(),
            Some("/r/tmp/python-x.42")
        );
        // A root whose own path looks like a work directory does not mislead it.
        assert_eq!(
            staged(
                "/h/python-a.1/versions/x",
                "/h/python-a.1/tmp/python-x.42/stage/h/python-a.1/versions/x"
            )
            .as_deref(),
            Some("/h/python-a.1/tmp/python-x.42")
        );
        // The user's own links: to another Python, a relative one, one to another name.
        assert_eq!(staged("/r/versions/x", "/opt/conda"), None);
        assert_eq!(
            staged("/r/versions/x", "tmp/python-x.42/stage/r/versions/x"),
            None
        );
        assert_eq!(
            staged("/r/versions/x", "/r/tmp/other/stage/r/versions/x"),
            None
        );
    }
}
