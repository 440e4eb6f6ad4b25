//! Installed versions under `versions/` and resolving a selected name to one of them.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::{name, Origin};
use super::{Error, Result};
use crate::error::Io;
use crate::layout::Layout;

/// What a selected version name resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The interpreter found on `PATH` outside the shims directory.
    System,
    /// An installed version: its directory name under `versions/` and its prefix.
    Installed { name: String, prefix: PathBuf },
}

/// Names of the installed versions, oldest first. A missing `versions/` means none.
pub fn installed_versions(layout: &Layout) -> Result<Vec<String>> {
    let dir = layout.versions_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Io::new("list installed versions in", dir, e).into()),
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir() && !crate::workdir::is_staging_link(&entry.path()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort_by(|a, b| name::compare_names(a, b));
    Ok(names)
}

/// The versions as pyenv lists them (`pyenv versions --bare`): every directory under
/// `versions/` (links to directories and dot names included; strap's own scratch and removal
/// directories, and the link of an install in progress, excluded), version-sorted, each followed by its virtualenvs
/// (`3.12.7/envs/NAME`, sorted) unless `skip_envs`; `skip_aliases` leaves out links to another
/// version or virtualenv of this root. Each with its directory.
pub fn listed_versions(
    layout: &Layout,
    skip_envs: bool,
    skip_aliases: bool,
) -> Result<Vec<(String, PathBuf)>> {
    let versions_dir = layout.versions_dir();
    let real_versions_dir = versions_dir
        .canonicalize()
        .unwrap_or_else(|_| versions_dir.clone());
    let mut entries = Vec::new();
    for name in sorted_dirs(&versions_dir)? {
        let path = versions_dir.join(&name);
        // strap's own removals, and a conda install's prefix while it is being installed.
        if crate::layout::removing_owner(&name).is_some() || crate::workdir::is_staging_link(&path)
        {
            continue;
        }
        if skip_aliases && path.is_symlink() {
            let target = path.canonicalize().unwrap_or_default();
            let env_home = target
                .parent()
                .filter(|envs| {
                    envs.file_name()
                        .is_some_and(|n| n == crate::layout::ENVS_DIR)
                })
                .and_then(Path::parent)
                .and_then(Path::parent);
            if target.parent() == Some(&real_versions_dir) || env_home == Some(&real_versions_dir) {
                continue;
            }
        }
        entries.push((name.clone(), path.clone()));
        if !skip_envs {
            let envs_dir = path.join(crate::layout::ENVS_DIR);
            let mut envs = sorted_dirs(&envs_dir)?;
            envs.sort();
            entries.extend(
                envs.into_iter()
                    .map(|env| (format!("{name}/envs/{env}"), envs_dir.join(env))),
            );
        }
    }
    Ok(entries)
}

/// The names of the directories (or links to directories) in `dir`, version-sorted; a missing
/// `dir` has none.
fn sorted_dirs(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.kind() == std::io::ErrorKind::NotADirectory =>
        {
            return Ok(Vec::new())
        }
        Err(e) => return Err(Io::new("list", dir, e).into()),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort_by(|a, b| name::compare_names(a, b));
    Ok(names)
}

/// Resolves a selected name: `system`; the exact directory `versions/<name>`; else the same
/// without a `python-` prefix (`python-3.12.7`); else the newest installed version it (or its
/// stripped form) selects as a prefix. Names that would leave `versions/` are refused.
pub fn resolve(layout: &Layout, requested: &str, origin: &Origin) -> Result<Resolved> {
    if requested == "system" {
        return Ok(Resolved::System);
    }
    let versions_dir = layout.versions_dir();
    if needs_containment_check(requested) {
        // A virtualenv named as pyenv-virtualenv lists it (`3.12.7/envs/proj`) that is not
        // there is not installed, like any version; every other name must resolve inside.
        if is_virtualenv_path(requested) && !versions_dir.join(requested).exists() {
            return Err(Error::VersionNotInstalled {
                name: requested.to_owned(),
                origin: origin.clone(),
            });
        }
        return match contained_dir(&versions_dir, &versions_dir.join(requested)) {
            Some(()) => Ok(Resolved::Installed {
                name: requested.to_owned(),
                prefix: versions_dir.join(requested),
            }),
            None => Err(Error::UnsafeVersionName {
                name: requested.to_owned(),
                origin: origin.clone(),
                versions_dir,
            }),
        };
    }
    // pyenv's order: the exact name, the name without a `python-` prefix, then each as a prefix.
    let stripped = Some(without_python_prefix(requested)).filter(|s| *s != requested);
    let installed_as = |name: &str| {
        versions_dir
            .join(name)
            .is_dir()
            .then(|| Resolved::Installed {
                name: name.to_owned(),
                prefix: versions_dir.join(name),
            })
    };
    if let Some(found) = installed_as(requested).or_else(|| stripped.and_then(installed_as)) {
        return Ok(found);
    }
    let installed = installed_versions(layout)?;
    let newest = |name: &str| name::newest_match(name, installed.iter().map(String::as_str));
    match newest(requested).or_else(|| stripped.and_then(newest)) {
        Some(found) => Ok(Resolved::Installed {
            name: found.to_owned(),
            prefix: versions_dir.join(found),
        }),
        None => Err(Error::VersionNotInstalled {
            name: requested.to_owned(),
            origin: origin.clone(),
        }),
    }
}

/// Each selected name with what it resolves to: the installed directory name, or `system`;
/// `None` for a name that is not installed (or not safe), as pyenv's `version-name` resolves them.
pub fn resolve_names<'s>(
    layout: &Layout,
    selection: &'s super::Selection,
) -> Vec<(&'s str, Option<String>)> {
    selection
        .names
        .iter()
        .map(|requested| {
            let resolved = match resolve(layout, requested, &selection.origin) {
                Ok(Resolved::System) => Some("system".to_owned()),
                Ok(Resolved::Installed { name, .. }) => Some(name),
                Err(_) => None,
            };
            (requested.as_str(), resolved)
        })
        .collect()
}

/// The selected names as `pyenv version-name -f` prints them: each resolved, or as written
/// (without a `python-` prefix) when it is not installed.
pub fn forced_names(layout: &Layout, selection: &super::Selection) -> Vec<String> {
    resolve_names(layout, selection)
        .into_iter()
        .map(|(requested, resolved)| {
            resolved.unwrap_or_else(|| without_python_prefix(requested).to_owned())
        })
        .collect()
}

/// A name without pyenv's optional `python-` prefix (`python-3.12` → `3.12`).
fn without_python_prefix(name: &str) -> &str {
    name.strip_prefix("python-")
        .filter(|rest| !rest.is_empty())
        .unwrap_or(name)
}

/// False for a name with path syntax that leaves `versions/` (or names nothing there): such a
/// name in a version file is ignored, as pyenv ignores it (`../*`, `..`).
pub fn stays_inside_versions(layout: &Layout, name: &str) -> bool {
    !needs_containment_check(name)
        || contained_dir(&layout.versions_dir(), &layout.versions_dir().join(name)).is_some()
}

/// Names with path syntax (`a/b`, `..`, `/abs`) must be checked to stay inside `versions/`;
/// pyenv-virtualenv's `3.12.1/envs/foo` is such a name and is fine.
/// `PY/envs/NAME` with plain parts (no `.`, `..` or hidden names): a path that stays inside
/// `versions/` whatever exists.
fn is_virtualenv_path(name: &str) -> bool {
    let plain = |part: &str| !part.is_empty() && !part.starts_with('.');
    matches!(
        name.split('/').collect::<Vec<_>>().as_slice(),
        [python, envs, env] if plain(python) && *envs == crate::layout::ENVS_DIR && plain(env)
    )
}

fn needs_containment_check(name: &str) -> bool {
    name.is_empty()
        || Path::new(name)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        || name.contains('/')
}

/// `Some` when `candidate` is an existing directory strictly inside `versions_dir`, after
/// following every `..` and symlink.
fn contained_dir(versions_dir: &Path, candidate: &Path) -> Option<()> {
    let base = versions_dir.canonicalize().ok()?;
    let real = candidate.canonicalize().ok()?;
    (real != base && real.starts_with(&base) && real.is_dir()).then_some(())
}
