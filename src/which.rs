//! Finding the executable a command name runs: in the selected versions in order, then on the
//! system `PATH` outside the shims directory.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::layout::{Flavor, Layout};
use crate::version::{self, Resolved, Selection};
use crate::version::{Broken, Error, Result};

/// The executable a command resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Absolute path of the executable.
    pub path: PathBuf,
    /// The version providing it; `None` for the system.
    pub version: Option<String>,
}

/// Finds `command` for `selection`: in the selected versions in order, then `system`. A pinned
/// version that is missing is an error, never a silent fallback: in strap's flavor every selected
/// name must resolve; in pyenv's, the versions missing before the command is found are collected
/// and reported with it ([`Error::CommandNotFound`], as pyenv words it). A selected version that
/// has no `bin/<command>` entry is passed over (the next one, or the system, may have it); one
/// whose entry cannot run, or that has no `bin/` at all, stops the search
/// ([`Error::BrokenVersion`], see [`examine`]). Not found anywhere → [`Error::CommandNotFound`]
/// listing the versions that have it.
pub fn find_command(layout: &Layout, selection: &Selection, command: &str) -> Result<Target> {
    find_command_in(layout, selection, command, true)
}

/// [`find_command`]; without `system`, the system `PATH` is not searched (`pyenv which --nosystem`).
pub fn find_command_in(
    layout: &Layout,
    selection: &Selection,
    command: &str,
    system: bool,
) -> Result<Target> {
    let origin = &selection.origin;
    let resolved: Vec<Result<Resolved>> = match layout.flavor() {
        Flavor::Strap => selection
            .names
            .iter()
            .map(|name| version::resolve(layout, name, origin).map(Ok))
            .collect::<Result<_>>()?,
        Flavor::Pyenv => selection
            .names
            .iter()
            .map(|name| version::resolve(layout, name, origin))
            .collect(),
    };
    let mut missing = Vec::new();
    let system_last = system.then_some(Ok(Resolved::System));
    for candidate in resolved.into_iter().chain(system_last) {
        let found = match candidate {
            Err(
                Error::VersionNotInstalled { name, .. } | Error::UnsafeVersionName { name, .. },
            ) => {
                missing.push(name);
                continue;
            }
            Err(err) => return Err(err),
            Ok(Resolved::System) => find_on_system_path(layout, command).map(|path| Target {
                path,
                version: None,
            }),
            Ok(Resolved::Installed { name, prefix }) => {
                let path = prefix.join("bin").join(command);
                match examine(&prefix, &path) {
                    Ok(true) => Some(Target {
                        path,
                        version: Some(name),
                    }),
                    Ok(false) => None,
                    Err(problem) => {
                        return Err(Error::BrokenVersion {
                            version: name,
                            problem,
                            origin: origin.clone(),
                        })
                    }
                }
            }
        };
        if let Some(target) = found {
            if missing.is_empty() {
                return Ok(target);
            }
            break;
        }
    }
    Err(Error::CommandNotFound {
        command: command.to_owned(),
        available: versions_with_command(layout, command)?,
        missing,
        origin: origin.clone(),
    })
}

/// Whether `path`, a version's `bin/<command>` (the version at `prefix`), runs: `Ok(true)` for a
/// regular file with an execute bit (through any links: one `stat`, the shim's fast path);
/// `Ok(false)` when there is no such entry in a `bin/` that exists; else what is broken: a
/// dangling link, something that is not a regular file, a file without an execute bit, an entry
/// that cannot be examined, or a version without `bin/`.
pub fn examine(prefix: &Path, path: &Path) -> std::result::Result<bool, Broken> {
    let error = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => return Ok(true),
        Ok(meta) if meta.is_file() => {
            return Err(Broken::NotExecutable {
                path: path.to_owned(),
                mode: meta.permissions().mode() & 0o7777,
            })
        }
        Ok(meta) => {
            return Err(Broken::NotAFile {
                path: path.to_owned(),
                kind: kind_of(&meta.file_type()),
            })
        }
        Err(e) => e,
    };
    let unreadable = |e: std::io::Error| Broken::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    match std::fs::symlink_metadata(path) {
        // A link that leads nowhere: to nothing, through a non-directory, or round in a loop.
        Ok(meta) if meta.is_symlink() && is_missing(&error) => Err(Broken::Dangling {
            path: path.to_owned(),
            target: std::fs::read_link(path).unwrap_or_default(),
        }),
        Ok(_) => Err(unreadable(error)),
        Err(e) if is_missing(&e) => {
            let bin = prefix.join("bin");
            if bin.is_dir() {
                Ok(false)
            } else {
                Err(Broken::NoBin { bin })
            }
        }
        Err(e) => Err(unreadable(e)),
    }
}

/// The interpreter of the installed Python at `prefix` (`bin/python3`, else `bin/python`), each
/// examined as [`find_command`] examines a command ([`examine`]); what is broken when neither
/// runs: the first that is broken, or [`Broken::NoInterpreter`] when neither is there.
pub fn examine_python(prefix: &Path) -> std::result::Result<PathBuf, Broken> {
    let bin = prefix.join("bin");
    for path in [bin.join("python3"), bin.join("python")] {
        if examine(prefix, &path)? {
            return Ok(path);
        }
    }
    Err(Broken::NoInterpreter {
        path: bin.join("python3"),
    })
}

/// No such file, a path through a non-directory, or a loop of links.
fn is_missing(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::NotFound
        || matches!(error.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP))
}

/// "a directory", "a FIFO"…: what a non-regular file is, for a message.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

/// The listed versions and virtualenvs whose `bin/` has an executable `command`, oldest first
/// (what pyenv's `whence` prints).
pub fn versions_with_command(layout: &Layout, command: &str) -> Result<Vec<String>> {
    Ok(version::listed_versions(layout, false, false)?
        .into_iter()
        .filter(|(_, prefix)| is_executable(&prefix.join("bin").join(command)))
        .map(|(name, _)| name)
        .collect())
}

/// The first executable `command` on `PATH`, skipping the shims directory (however it is spelled)
/// and links to this root's shim for `command` elsewhere (`~/bin/python3 -> <root>/shims/python3`),
/// which would only start the shim again.
pub fn find_on_system_path(layout: &Layout, command: &str) -> Option<PathBuf> {
    let shims = layout.shims_dir();
    let shims_id = dir_identity(&shims);
    let shim = shims.join(command);
    search_path(
        command,
        |dir| dir == shims || (shims_id.is_some() && dir_identity(dir) == shims_id),
        |candidate| {
            candidate.is_symlink()
                && candidate
                    .canonicalize()
                    .is_ok_and(|real| shim.canonicalize().is_ok_and(|s| s == real))
        },
    )
}

/// The first of `names` found on the system `PATH` (see [`find_on_system_path`]), in that order
/// of preference: the system's Python is `["python3", "python"]` to strap, `["python",
/// "python3", "python2"]` to pyenv.
pub fn find_first_on_system_path(layout: &Layout, names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .find_map(|name| find_on_system_path(layout, name))
}

/// The first executable `command` on `PATH` (shims included).
pub fn find_on_path(command: &str) -> Option<PathBuf> {
    search_path(command, |_| false, |_| false)
}

fn search_path(
    command: &str,
    skip_dir: impl Fn(&Path) -> bool,
    skip_file: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if command.contains('/') {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty() && !skip_dir(dir))
        .map(|dir| dir.join(command))
        .find(|candidate| is_executable(candidate) && !skip_file(candidate))
}

fn dir_identity(dir: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

/// True for a regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
