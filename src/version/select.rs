//! Which versions are selected, and by what: `STRAP_PYTHON_VERSION`, the nearest
//! `.python-version` walking up from a directory, the global version file, else `system`.

use std::path::{Path, PathBuf};

use super::{read_version_file, Origin};
use crate::env_vars;
use crate::error::Result;
use crate::layout::Layout;

/// The name of the per-directory version file (the same as pyenv's).
pub const LOCAL_VERSION_FILE: &str = ".python-version";

/// The selected version names (first is primary) and where they were set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub names: Vec<String>,
    pub origin: Origin,
}

/// Selects versions for a process whose current directory is `cwd` (`None` when it is unknown).
pub fn select(layout: &Layout, cwd: Option<&Path>) -> Result<Selection> {
    if let Some(value) = std::env::var_os(env_vars::STRAP_PYTHON_VERSION) {
        let names: Vec<String> = value
            .to_string_lossy()
            .split(|c: char| c == ':' || c.is_whitespace())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if !names.is_empty() {
            return Ok(Selection {
                names,
                origin: Origin::Env,
            });
        }
    }
    let mut start = cwd.map(Path::to_path_buf);
    while let Some(file) = start.as_deref().and_then(find_local_version_file) {
        let names = read_version_file(&file)?;
        if !names.is_empty() {
            return Ok(Selection {
                names,
                origin: Origin::LocalFile(file),
            });
        }
        // An empty file selects nothing: keep looking above it.
        start = file.parent().and_then(Path::parent).map(Path::to_path_buf);
    }
    let global = layout.global_version_file();
    let names = if global.is_file() {
        read_version_file(&global)?
    } else {
        Vec::new()
    };
    Ok(Selection {
        names: if names.is_empty() {
            vec!["system".to_owned()]
        } else {
            names
        },
        origin: Origin::GlobalFile(global),
    })
}

/// The first `.python-version` file in `dir` or one of its ancestors. Directories that cannot be
/// read are passed over, as if they held no version file.
pub fn find_local_version_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(LOCAL_VERSION_FILE))
        .find(|candidate| candidate.is_file())
}
