//! Every path under the strap root, computed in one place.

use std::path::{Path, PathBuf};

use crate::env_vars;

/// The strap root and the fixed paths inside it.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    /// The root from `STRAP_ROOT`, else `$XDG_DATA_HOME/strap` (`~/.local/share/strap`).
    pub fn from_env() -> Self {
        match std::env::var_os(env_vars::STRAP_ROOT) {
            Some(root) if !root.is_empty() => Layout::new(root),
            _ => Layout::new(default_root()),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `versions/`: one directory per installed Python.
    pub fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    /// The directory of one installed version.
    pub fn version_dir(&self, name: &str) -> PathBuf {
        self.versions_dir().join(name)
    }

    /// `shims/`: one link per executable name.
    pub fn shims_dir(&self) -> PathBuf {
        self.root.join("shims")
    }

    /// The global version file (pyenv format).
    pub fn global_version_file(&self) -> PathBuf {
        self.root.join("version")
    }

    /// `tmp/`: build trees and staging areas (same file system as `versions/`).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `cache/`: verified downloads, unless `STRAP_CACHE_DIR` says otherwise.
    pub fn cache_dir(&self) -> PathBuf {
        match std::env::var_os(env_vars::STRAP_CACHE_DIR) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => self.root.join("cache"),
        }
    }

    /// A new log file under `logs/` for `what` (e.g. `python-3.12.7`), unique per process and second.
    pub fn log_file(&self, what: &str) -> PathBuf {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.root
            .join("logs")
            .join(format!("{what}-{secs}-{}.log", std::process::id()))
    }

    /// `locks/`: lock files that serialize rehashes and installs.
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }
}

fn default_root() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from(".local/share"))
        .join("strap")
}
