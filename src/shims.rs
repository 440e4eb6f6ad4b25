//! `rehash`: keep one link to the strap binary in `shims/` per executable name that any installed
//! version provides, plus the [`ALWAYS`] shims, and nothing else.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{Io, IoContext};
use crate::layout::Layout;
use crate::lock::FileLock;
use crate::version;
use crate::version::Result;
use crate::which::is_executable;

/// Shims that exist even when no installed version provides them, and that rehash never removes.
/// Without them, a `.python-version` naming a version that is not installed yet would silently
/// run the system interpreter; through the shim it gives strap's "not installed" error instead,
/// while `system` (or no selection) still finds the system program outside the shims.
pub const ALWAYS: [&str; 4] = ["pip", "pip3", "python", "python3"];

/// What shims link to: the lean `strap-shim` installed next to the running executable, else
/// that executable itself (`strap` takes the shim path too when started under another name).
pub fn shim_executable() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let lean = exe.with_file_name("strap-shim");
    Ok(if is_executable(&lean) { lean } else { exe })
}

/// True when `dir` holds strap's shims (of any root): its `python3`, a shim every root has
/// (see [`ALWAYS`]), links to a strap binary (`strap` or `strap-shim`).
pub fn holds_strap_shims(dir: &Path) -> bool {
    fs::canonicalize(dir.join("python3"))
        .ok()
        .and_then(|target| target.file_name().map(|name| name.to_owned()))
        .is_some_and(|name| name == "strap" || name == "strap-shim")
}

/// Brings `shims/` in line with the installed versions (and [`ALWAYS`]), linking each shim to
/// `strap_exe`. Safe to run at any time and from several processes at once (serialized by a lock).
pub fn rehash(layout: &Layout, strap_exe: &Path) -> Result<()> {
    let _lock = FileLock::acquire(&layout.rehash_lock(), |_| {})?;
    let mut wanted = executable_names(layout)?;
    wanted.extend(ALWAYS.iter().map(OsString::from));
    let dir = layout.shims_dir();
    fs::create_dir_all(&dir).io_context("create shims directory", &dir)?;

    for name in &wanted {
        let shim = dir.join(name);
        if fs::read_link(&shim).is_ok_and(|target| target == strap_exe) {
            continue;
        }
        replace_with_link(&shim, strap_exe)?;
    }
    for existing in list_dir(&dir)? {
        if !wanted.contains(&existing) {
            let path = dir.join(&existing);
            fs::remove_file(&path).io_context("remove stale shim", &path)?;
        }
    }
    Ok(())
}

/// Creates the [`ALWAYS`] shims that are missing (a root that was never rehashed), linked to
/// `strap_exe`; existing entries are left alone. No lock: each link appears atomically or not at
/// all, and a concurrent rehash creates the same links.
pub fn ensure_always(layout: &Layout, strap_exe: &Path) -> Result<()> {
    let dir = layout.shims_dir();
    let missing: Vec<PathBuf> = ALWAYS
        .iter()
        .map(|name| dir.join(name))
        .filter(|shim| fs::symlink_metadata(shim).is_err())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(&dir).io_context("create shims directory", &dir)?;
    for shim in missing {
        match std::os::unix::fs::symlink(strap_exe, &shim) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Io::new("create shim", &shim, e).into()),
        }
    }
    Ok(())
}

/// How `shims/` differs from what a rehash would make: (missing, stale) shim names.
pub fn out_of_date(layout: &Layout) -> Result<(Vec<String>, Vec<String>)> {
    let mut wanted = executable_names(layout)?;
    wanted.extend(ALWAYS.iter().map(OsString::from));
    let existing: BTreeSet<OsString> = list_dir(&layout.shims_dir())?.into_iter().collect();
    let names = |set: &mut dyn Iterator<Item = &OsString>| {
        set.map(|n| n.to_string_lossy().into_owned()).collect()
    };
    Ok((
        names(&mut wanted.difference(&existing)),
        names(&mut existing.difference(&wanted)),
    ))
}

/// The shims currently in `shims/`, sorted.
pub fn list_shims(layout: &Layout) -> Result<Vec<PathBuf>> {
    let dir = layout.shims_dir();
    let mut shims: Vec<PathBuf> = list_dir(&dir)?.into_iter().map(|n| dir.join(n)).collect();
    shims.sort();
    Ok(shims)
}

/// The executable names in every listed version's and virtualenv's `bin/` (what pyenv's
/// `versions --executables` lists and its rehash makes shims for; dangling links included, see
/// [`has_shim`]), except `strap` itself, which must stay the CLI.
pub fn executable_names(layout: &Layout) -> Result<BTreeSet<OsString>> {
    let mut names = BTreeSet::new();
    for (_, prefix) in version::listed_versions(layout, false, false)? {
        let bin = prefix.join("bin");
        let entries = match fs::read_dir(&bin) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(Io::new("list executables in", bin, e).into()),
        };
        names.extend(
            entries
                .filter_map(|entry| entry.ok())
                .filter(|entry| has_shim(&prefix, &entry.path()))
                .map(|entry| entry.file_name())
                .filter(|name| name != "strap" && !name.to_string_lossy().starts_with('.')),
        );
    }
    Ok(names)
}

/// True for a version's `bin/` entry that gets a shim: a program, or a link that has lost its
/// target (its shim then reports the version as broken instead of letting the name fall through
/// to another program on `PATH`).
fn has_shim(prefix: &Path, entry: &Path) -> bool {
    matches!(
        crate::which::examine(prefix, entry),
        Ok(true) | Err(crate::version::Broken::Dangling { .. })
    )
}

/// Names in `dir` that are not hidden; a missing directory is empty.
fn list_dir(dir: &Path) -> Result<Vec<OsString>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Io::new("list shims in", dir, e).into()),
    };
    let mut names: Vec<OsString> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name())
        .filter(|name| !name.to_string_lossy().starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

/// Makes `shim` a symlink to `target`: created directly when absent, else a temporary link renamed
/// over the old entry, so the shim is never missing, even for a moment.
fn replace_with_link(shim: &Path, target: &Path) -> Result<()> {
    match std::os::unix::fs::symlink(target, shim) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Io::new("create shim", shim, e).into()),
    }
    Ok(crate::atomic_file::symlink(target, shim).io_context("create shim", shim)?)
}
