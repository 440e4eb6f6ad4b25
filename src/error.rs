//! What every error strap reports shares: [`Explain`] (a hint and an exit code), the exit codes,
//! [`UsageError`], [`Reported`] (what the CLI prints), and [`Io`], the one file-system error
//! (each module's error embeds it). A leaf: it depends on no other strap module.

use std::io;
use std::path::{Path, PathBuf};

/// Exit code for a command that could not be found (through a shim or `strap exec`).
pub const EXIT_COMMAND_NOT_FOUND: i32 = 127;
/// Exit code for a command that was found but could not be executed (as in POSIX shells).
pub const EXIT_CANNOT_EXECUTE: i32 = 126;

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
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Reported {
    pub message: String,
    pub hint: Option<String>,
    pub exit_code: i32,
}

/// `text` as it may be shown on a terminal: control characters other than newlines and tabs
/// (an escape sequence in a hostile archive's entry name or a definition file's line) written
/// as `\x1b`, so they show instead of acting.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, |c| !c.is_control() || c == '\n' || c == '\t')
}

/// A name (a file, an archive's entry) as it may be shown within one line: [`printable`], its
/// newlines and tabs escaped too, so a hostile name cannot fake lines of strap's output.
pub fn printable_name(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, |c| !c.is_control())
}

/// `text` with the characters that are not `shown` written as `\xNN`.
fn escaped(text: &str, shown: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if text.chars().all(&shown) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if shown(c) {
                    c.to_string()
                } else {
                    format!("\\x{:02x}", u32::from(c))
                }
            })
            .collect(),
    )
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

    /// A failure (exit code 1) that needs no next step.
    pub fn message(message: impl Into<String>) -> Reported {
        Reported {
            message: message.into(),
            hint: None,
            exit_code: EXIT_FAILURE,
        }
    }

    /// A failure (exit code 1): `message`, then one `caused by:` line for `cause` and for each
    /// error behind it.
    pub fn caused_by(message: impl Into<String>, cause: &dyn std::error::Error) -> Reported {
        let mut message = message.into();
        let mut next = Some(cause);
        while let Some(cause) = next {
            message.push_str(&format!("\n  caused by: {cause}"));
            next = cause.source();
        }
        Reported::message(message)
    }

    /// An error that explains nothing more (a write to the output, JSON): its message and what
    /// caused it, exit code 1.
    pub fn chain(error: &dyn std::error::Error) -> Reported {
        match error.source() {
            Some(cause) => Reported::caused_by(error.to_string(), cause),
            None => Reported::message(error.to_string()),
        }
    }
}

impl<E: Explain> From<E> for Reported {
    fn from(error: E) -> Reported {
        Reported::of(&error)
    }
}

impl From<io::Error> for Reported {
    fn from(error: io::Error) -> Reported {
        Reported::chain(&error)
    }
}

impl From<serde_json::Error> for Reported {
    fn from(error: serde_json::Error) -> Reported {
        Reported::chain(&error)
    }
}

/// A file-system operation failed: what strap was doing, on which path, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct Io {
    pub action: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
}

impl Io {
    /// `source` while doing `action` (`"read"`, `"create directory"`…) on `path`.
    pub fn new(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Io {
        Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl Explain for Io {}

/// Names what an I/O operation was doing and where: `fs::read(p).io_context("read", p)?`.
pub trait IoContext<T> {
    /// The error, as an [`Io`] naming `action` and `path`.
    fn io_context(self, action: &'static str, path: impl AsRef<Path>) -> Result<T, Io>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn io_context(self, action: &'static str, path: impl AsRef<Path>) -> Result<T, Io> {
        self.map_err(|source| Io::new(action, path.as_ref(), source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_shows_on_one_line_and_a_message_keeps_its_lines() {
        let hostile = "top\n==> installed\t\x1b[31m";
        assert_eq!(
            printable_name(hostile),
            "top\\x0a==> installed\\x09\\x1b[31m"
        );
        assert_eq!(printable(hostile), "top\n==> installed\t\\x1b[31m");
        assert!(matches!(
            printable_name("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
