//! Finding the executable a command name runs: in the selected versions in order, then on the
//! system `PATH` outside the shims directory.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::version::{self, Resolved, Selection};

/// The executable a command resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Absolute path of the executable.
    pub path: PathBuf,
    /// The version providing it; `None` for the system.
    pub version: Option<String>,
}

/// Finds `command` for `selection`. Every selected name must resolve (a pinned version that is
/// missing is an error, never a silent fallback); then the versions are tried in order, then
/// `system`. Not found anywhere → [`Error::CommandNotFound`] listing the versions that have it.
pub fn find_command(layout: &Layout, selection: &Selection, command: &str) -> Result<Target> {
    let resolved = selection
        .names
        .iter()
        .map(|name| version::resolve(layout, name, &selection.origin))
        .collect::<Result<Vec<_>>>()?;
    let system_last = std::iter::once(Resolved::System);
    for candidate in resolved.into_iter().chain(system_last) {
        let found = match candidate {
            Resolved::System => find_on_system_path(layout, command).map(|path| Target {
                path,
                version: None,
            }),
            Resolved::Installed { name, prefix } => {
                let path = prefix.join("bin").join(command);
                is_executable(&path).then_some(Target {
                    path,
                    version: Some(name),
                })
            }
        };
        if let Some(target) = found {
            return Ok(target);
        }
    }
    Err(Error::CommandNotFound {
        command: command.to_owned(),
        available: versions_with_command(layout, command)?,
    })
}

/// Installed versions whose `bin/` has an executable `command`, oldest first.
pub fn versions_with_command(layout: &Layout, command: &str) -> Result<Vec<String>> {
    Ok(version::installed_versions(layout)?
        .into_iter()
        .filter(|v| is_executable(&layout.version_dir(v).join("bin").join(command)))
        .collect())
}

/// The first executable `command` on `PATH`, skipping the shims directory (however it is spelled).
pub fn find_on_system_path(layout: &Layout, command: &str) -> Option<PathBuf> {
    let shims = layout.shims_dir();
    let shims_id = dir_identity(&shims);
    search_path(command, |dir| {
        dir == shims || (shims_id.is_some() && dir_identity(dir) == shims_id)
    })
}

/// The first executable `command` on `PATH` (shims included).
pub fn find_on_path(command: &str) -> Option<PathBuf> {
    search_path(command, |_| false)
}

fn search_path(command: &str, skip: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    if command.contains('/') {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty() && !skip(dir))
        .map(|dir| dir.join(command))
        .find(|candidate| is_executable(candidate))
}

fn dir_identity(dir: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

/// True for a regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
