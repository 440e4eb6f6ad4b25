//! Which versions are selected, and by what: `STRAP_PYTHON_VERSION` (`PYENV_VERSION` in pyenv's
//! flavor), the nearest
//! `.python-version` walking up from a directory, the global version file, else `system`.

use std::path::{Path, PathBuf};

use super::Result;
use super::{read_version_file, Origin};
use crate::env_vars;
use crate::layout::{Flavor, Layout};

/// The name of the per-directory version file (the same as pyenv's).
pub const LOCAL_VERSION_FILE: &str = ".python-version";

/// The selected version names (first is primary) and where they were set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub names: Vec<String>,
    pub origin: Origin,
    /// Names the version file gave that pyenv's flavor ignores, as pyenv does, because they would
    /// leave `versions/` (the CLI warns about each).
    pub ignored: Vec<String>,
}

/// Selects versions for a process whose current directory is `cwd` (`None` when it is unknown).
/// The nearest version file wins even when it names nothing (then the selection is `system`), as
/// in pyenv. In pyenv's flavor the lookup starts at `PYENV_DIR` (when set), then at `cwd`.
pub fn select(layout: &Layout, cwd: Option<&Path>) -> Result<Selection> {
    for (var, names) in env_selections(layout) {
        if !names.is_empty() {
            return Ok(Selection {
                names,
                origin: Origin::Env(var),
                ignored: Vec::new(),
            });
        }
    }
    let (file, is_local) = version_file(layout, cwd);
    let mut names = if is_local || file.is_file() {
        read_version_file(&file)?
    } else {
        Vec::new()
    };
    let mut ignored = Vec::new();
    if layout.flavor() == Flavor::Pyenv {
        // pyenv ignores, with a warning, names that would leave `versions/`; strap refuses them.
        (names, ignored) = names
            .into_iter()
            .partition(|name| super::stays_inside_versions(layout, name));
    }
    if names.is_empty() {
        names.push("system".to_owned());
    }
    let origin = if is_local {
        Origin::LocalFile(file)
    } else {
        Origin::GlobalFile(file)
    };
    Ok(Selection {
        names,
        origin,
        ignored,
    })
}

/// Each version variable that is set (`STRAP_PYTHON_VERSION`; `PYENV_VERSION` in pyenv's
/// flavor), in the order selection reads them, with the names it gives.
fn env_selections(layout: &Layout) -> Vec<(&'static str, Vec<String>)> {
    let mut set = Vec::new();
    for var in layout.version_vars() {
        if let Some(value) = std::env::var_os(var) {
            let value = value.to_string_lossy();
            let names = if *var == env_vars::PYENV_VERSION {
                // pyenv splits its variable at `:` only.
                value
                    .split(':')
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect()
            } else {
                split_names(&value)
            };
            set.push((*var, names));
        }
    }
    set
}

/// Every place that names versions for a process in `cwd`, nearest first, with the names it
/// gives: each version variable that is set, every `.python-version` from where [`select`]
/// starts looking up to `/` (in pyenv's flavor from `PYENV_DIR`, then from `cwd`), and the
/// global file. [`select`] takes the first that names a version; a version is selected *by*
/// any of them (what `uninstall` warns about).
pub fn sources(layout: &Layout, cwd: Option<&Path>) -> Vec<(Origin, Vec<String>)> {
    let mut sources: Vec<(Origin, Vec<String>)> = env_selections(layout)
        .into_iter()
        .map(|(var, names)| (Origin::Env(var), names))
        .collect();
    let pyenv_dir = match layout.flavor() {
        Flavor::Strap => None,
        Flavor::Pyenv => std::env::var_os(env_vars::PYENV_DIR)
            .filter(|dir| !dir.is_empty())
            .map(|dir| logical_absolute(Path::new(&dir))),
    };
    let starts = pyenv_dir.into_iter().chain(cwd.map(Path::to_owned));
    let mut seen = std::collections::HashSet::new();
    for dir in starts
        .collect::<Vec<_>>()
        .iter()
        .flat_map(|d| d.ancestors())
    {
        let file = dir.join(LOCAL_VERSION_FILE);
        if file.is_file() && seen.insert(file.clone()) {
            if let Ok(names) = read_version_file(&file) {
                sources.push((Origin::LocalFile(file), names));
            }
        }
    }
    let global = layout.global_version_file();
    if let Ok(names) = read_version_file(&global) {
        sources.push((Origin::GlobalFile(global), names));
    }
    sources
}

/// The version file that applies (whether or not a variable selects first): the nearest
/// `.python-version` from `cwd` (in pyenv's flavor from `PYENV_DIR` first), with `true`; else
/// the global file (which may not exist), with `false`.
pub fn version_file(layout: &Layout, cwd: Option<&Path>) -> (PathBuf, bool) {
    let from_pyenv_dir = || {
        std::env::var_os(env_vars::PYENV_DIR)
            .filter(|dir| !dir.is_empty())
            .and_then(|dir| find_local_version_file(&logical_absolute(Path::new(&dir))))
    };
    let local = match layout.flavor() {
        Flavor::Strap => None,
        Flavor::Pyenv => from_pyenv_dir(),
    }
    .or_else(|| cwd.and_then(find_local_version_file));
    match local {
        Some(file) => (file, true),
        None => (layout.global_version_file(), false),
    }
}

/// `dir` as `cd DIR && echo $PWD` prints it: absolute, with `.` and `..` folded lexically.
pub fn logical_absolute(dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let mut folded = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::ParentDir => {
                folded.pop();
            }
            std::path::Component::CurDir => {}
            other => folded.push(other),
        }
    }
    folded
}

/// The names in a `:`- or whitespace-separated list (`PYENV_VERSION`, `STRAP_PYTHON_VERSION`).
pub fn split_names(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ':' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The first `.python-version` file in `dir` or one of its ancestors. Directories that cannot be
/// read are passed over, as if they held no version file.
pub fn find_local_version_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(LOCAL_VERSION_FILE))
        .find(|candidate| candidate.is_file())
}
