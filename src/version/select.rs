//! Which versions are selected, and by what: `STRAP_PYTHON_VERSION` (`PYENV_VERSION` in pyenv's
//! flavor), the nearest
//! `.python-version` walking up from a directory, the global version file, else `system`.

use std::path::{Path, PathBuf};

use super::{read_version_file, Origin};
use crate::env_vars;
use crate::error::Result;
use crate::layout::{Flavor, Layout};

/// The name of the per-directory version file (the same as pyenv's).
pub const LOCAL_VERSION_FILE: &str = ".python-version";

/// The selected version names (first is primary) and where they were set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub names: Vec<String>,
    pub origin: Origin,
}

/// Selects versions for a process whose current directory is `cwd` (`None` when it is unknown).
/// The nearest version file wins even when it names nothing (then the selection is `system`), as
/// in pyenv. In pyenv's flavor the lookup starts at `PYENV_DIR` (when set), then at `cwd`.
pub fn select(layout: &Layout, cwd: Option<&Path>) -> Result<Selection> {
    for var in layout.version_vars() {
        if let Some(value) = std::env::var_os(var) {
            let names = split_names(&value.to_string_lossy());
            if !names.is_empty() {
                return Ok(Selection {
                    names,
                    origin: Origin::Env(var),
                });
            }
        }
    }
    let file = match layout.flavor() {
        Flavor::Strap => cwd.and_then(find_local_version_file),
        Flavor::Pyenv => std::env::var_os(env_vars::PYENV_DIR)
            .filter(|dir| !dir.is_empty())
            .and_then(|dir| find_local_version_file(Path::new(&dir)))
            .or_else(|| cwd.and_then(find_local_version_file)),
    };
    let (names, origin) = match file {
        Some(file) => (read_version_file(&file)?, Origin::LocalFile(file)),
        None => {
            let global = layout.global_version_file();
            let names = if global.is_file() {
                read_version_file(&global)?
            } else {
                Vec::new()
            };
            (names, Origin::GlobalFile(global))
        }
    };
    Ok(Selection {
        names: if names.is_empty() {
            vec!["system".to_owned()]
        } else {
            names
        },
        origin,
    })
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
