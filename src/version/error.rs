//! The errors of selecting, resolving and running versions, each naming the thing that is
//! wrong and what to do next.

use std::fmt;
use std::path::PathBuf;

use super::Origin;
#[cfg(doc)]
use crate::error::Explain;
use crate::error::{Io, EXIT_CANNOT_EXECUTE, EXIT_COMMAND_NOT_FOUND, EXIT_FAILURE, EXIT_USAGE};

/// Why a version could not be selected, resolved or run (the shim path's errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A selected version is not installed (and no installed version matches it as a prefix).
    #[error("version '{name}' is not installed{}", set_by(.origin))]
    VersionNotInstalled { name: String, origin: Origin },

    /// A version name that would reach outside `versions/`.
    #[error("invalid version name '{name}'{}: it must name a directory inside {}", set_by(.origin), versions_dir.display())]
    UnsafeVersionName {
        name: String,
        origin: Origin,
        versions_dir: PathBuf,
    },

    /// A version file that cannot be read as one.
    #[error("cannot read version file {path}: {reason}")]
    BadVersionFile { path: PathBuf, reason: String },

    /// The command exists in none of the selected versions nor on the system PATH (or, in
    /// pyenv's flavor, only after selected versions that are `missing`).
    #[error("{}{command}: command not found{}", missing_versions(.missing, .origin), available_versions(.available))]
    CommandNotFound {
        command: String,
        /// Installed versions that have it.
        available: Vec<String>,
        /// Selected names that are not installed (pyenv's flavor), set by `origin`.
        missing: Vec<String>,
        origin: Origin,
    },

    /// A selected version has an entry for the command that cannot run (see [`Broken`]): an
    /// error, never a fall through to the next version or the system.
    #[error("version '{version}' is broken{}: {problem}", set_by(.origin))]
    BrokenVersion {
        version: String,
        problem: Broken,
        origin: Origin,
    },

    /// No installed version matches a prefix.
    #[error("no installed version matches '{0}'")]
    NoMatch(String),

    /// A shim kept executing shims (for example a version's `bin/` links back into the shims).
    #[error("shim loop: '{0}' was started through shims too many times in a row")]
    ShimLoop(String),

    /// The resolved executable could not be started.
    #[error("cannot execute {}: {source}", path.display())]
    Exec {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file-system operation failed; names the action and the path.
    #[error(transparent)]
    Io(#[from] Io),
}

/// What is wrong with a selected version's `bin/<command>` (or its `bin/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// A link whose target does not exist (or a loop of links).
    Dangling { path: PathBuf, target: PathBuf },
    /// The version has no `bin/` directory: nothing in it can run.
    NoBin { bin: PathBuf },
    /// A Python version has no interpreter (`bin/python3` nor `bin/python`).
    NoInterpreter { path: PathBuf },
    /// Something other than a regular file (`kind`: "a directory", "a FIFO"…).
    NotAFile { path: PathBuf, kind: &'static str },
    /// A regular file without an execute bit.
    NotExecutable { path: PathBuf, mode: u32 },
    /// It cannot be examined (a `bin/` that cannot be searched).
    Unreadable { path: PathBuf, reason: String },
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Dangling { path, target } => write!(
                f,
                "{} is a link to {}, which does not exist",
                path.display(),
                target.display()
            ),
            Broken::NoBin { bin } => write!(f, "there is no directory {}", bin.display()),
            Broken::NoInterpreter { path } => {
                write!(f, "there is no interpreter {} (nor python)", path.display())
            }
            Broken::NotAFile { path, kind } => {
                write!(f, "{} is {kind}, not a program", path.display())
            }
            Broken::NotExecutable { path, mode } => {
                write!(f, "{} is not executable (mode {mode:o})", path.display())
            }
            Broken::Unreadable { path, reason } => {
                write!(f, "{} cannot be examined: {reason}", path.display())
            }
        }
    }
}

impl Broken {
    /// 127 when there is no program (a dangling link, no `bin/`), 126 when there is one that
    /// cannot be executed, as POSIX shells tell the two apart.
    pub fn exit_code(&self) -> i32 {
        match self {
            Broken::Dangling { .. } | Broken::NoBin { .. } | Broken::NoInterpreter { .. } => {
                EXIT_COMMAND_NOT_FOUND
            }
            _ => EXIT_CANNOT_EXECUTE,
        }
    }
}

fn set_by(origin: &Origin) -> String {
    match origin {
        Origin::Argument => String::new(),
        origin => format!(" (set by {origin})"),
    }
}

fn missing_versions(missing: &[String], origin: &Origin) -> String {
    missing
        .iter()
        .map(|name| format!("version '{name}' is not installed{}; ", set_by(origin)))
        .collect()
}

fn available_versions(versions: &[String]) -> String {
    if versions.is_empty() {
        return String::new();
    }
    let mut text = String::from("; it exists in these Python versions:");
    for v in versions {
        text.push_str("\n  ");
        text.push_str(v);
    }
    text
}

/// Not an [`Explain`] error: the CLI says it in its own words (a version to install is a hint
/// only the CLI can give, and pyenv mode words it as pyenv does), from these.
impl Error {
    /// The exit code: 127 for a command not found, 126 for one that cannot be executed, 2 for
    /// an unsafe name given as an argument or variable, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::CommandNotFound { .. } => EXIT_COMMAND_NOT_FOUND,
            Error::Exec { .. } => EXIT_CANNOT_EXECUTE,
            Error::BrokenVersion { problem, .. } => problem.exit_code(),
            Error::UnsafeVersionName {
                origin: Origin::Argument | Origin::Env(_),
                ..
            } => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// A next step for a command that was not found. (A version that is not installed or
    /// broken gets its hint from the CLI, which knows what `strap install` can build:
    /// `cli::hints`.)
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::CommandNotFound { available, .. } => Some(match available.first() {
                Some(first) => format!(
                    "select it for this shell with `strap shell {first}`, or list it after your \
                     main version: `strap global <main> {first}`"
                ),
                None => "no installed version provides it; `strap versions` lists what is \
                         installed"
                    .to_owned(),
            }),
            _ => None,
        }
    }
}

/// Result type of version selection and resolution.
pub type Result<T, E = Error> = std::result::Result<T, E>;
