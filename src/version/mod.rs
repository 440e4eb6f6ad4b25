//! Python version names, version files, selection and resolution (pyenv's rules).
//!
//! Everything here is plain `std` so that the shim fast path can use it.

mod error;
mod file;
mod installed;
mod name;
mod select;

use std::fmt;
use std::path::PathBuf;

pub use error::{Broken, Error, Result};
pub use file::{read_version_file, write_version_file};
pub use installed::{
    forced_names, installed_versions, listed_versions, resolve, resolve_names,
    stays_inside_versions, Resolved,
};
pub use name::{compare_names, newest_match, PythonName};
pub use select::{
    find_local_version_file, logical_absolute, select, sources, split_names, version_file,
    Selection, LOCAL_VERSION_FILE,
};

/// Where a selection of versions came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable: `STRAP_PYTHON_VERSION` (`strap shell`) or `PYENV_VERSION`.
    Env(&'static str),
    /// A `.python-version` file found walking up from the current directory.
    LocalFile(PathBuf),
    /// The global version file `<root>/version` (it may not exist: then the selection is `system`).
    GlobalFile(PathBuf),
    /// Given on the command line.
    Argument,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(var) => write!(f, "{var} environment variable"),
            Origin::LocalFile(path) | Origin::GlobalFile(path) => write!(f, "{}", path.display()),
            Origin::Argument => write!(f, "the command line"),
        }
    }
}
