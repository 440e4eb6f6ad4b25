//! The errors strap reports to users, each naming the thing that is wrong and what to do next.

use std::fmt;
use std::path::PathBuf;

use crate::version::Origin;

/// Exit code for a command that could not be found (through a shim or `strap exec`).
pub const EXIT_COMMAND_NOT_FOUND: i32 = 127;
/// Exit code for a command that was found but could not be executed (as in POSIX shells).
pub const EXIT_CANNOT_EXECUTE: i32 = 126;

/// A failure that strap explains to the user.
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
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
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

impl Error {
    /// Wraps an I/O error with what strap was doing and on which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl Explain for Error {
    fn exit_code(&self) -> i32 {
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
    /// `cli::hints::explain`.)
    fn hint(&self) -> Option<String> {
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

/// What an error shown to the user can tell besides its message: a next step, and the exit code.
pub trait Explain: std::error::Error {
    /// A next step for the user, printed as a `hint:` line.
    fn hint(&self) -> Option<String> {
        None
    }

    /// The process exit code (1 unless the error says otherwise; see the README's table).
    fn exit_code(&self) -> i32 {
        EXIT_FAILURE
    }
}

/// Exit code for a failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for a usage error: bad arguments, environment variables or config values.
pub const EXIT_USAGE: i32 = 2;
/// Exit code after an interruption (Ctrl-C, SIGTERM), once everything is cleaned up.
pub const EXIT_INTERRUPTED: i32 = 130;

/// A mistake in how strap was called or configured: a bad argument, environment variable or
/// config value. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    /// A usage error without a hint.
    pub fn new(message: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a next step.
    pub fn with_hint(mut self, hint: impl Into<String>) -> UsageError {
        self.hint = Some(hint.into());
        self
    }
}

impl Explain for UsageError {
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
    fn exit_code(&self) -> i32 {
        EXIT_USAGE
    }
}

/// Any [`Explain`] error, reduced to what the CLI prints: the message, the hint, the exit code.
/// Library errors become this at the CLI boundary (`.map_err(Reported::from)`).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Reported {
    pub message: String,
    pub hint: Option<String>,
    pub exit_code: i32,
}

impl Reported {
    /// What the CLI prints for `error`.
    pub fn of<E: Explain + ?Sized>(error: &E) -> Reported {
        Reported {
            message: error.to_string(),
            hint: error.hint(),
            exit_code: error.exit_code(),
        }
    }

    /// A failure (exit code 1) with a next step.
    pub fn failure(message: impl Into<String>, hint: impl Into<String>) -> Reported {
        Reported {
            message: message.into(),
            hint: Some(hint.into()),
            exit_code: EXIT_FAILURE,
        }
    }
}

impl<E: Explain> From<E> for Reported {
    fn from(error: E) -> Reported {
        Reported::of(&error)
    }
}

/// Result type of the strap library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
