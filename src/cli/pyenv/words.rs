//! strap's errors in pyenv's words and exit codes (pyenv mode, and shims in pyenv's root).

use std::fmt::Write as _;

use crate::error::{Reported, EXIT_COMMAND_NOT_FOUND, EXIT_FAILURE};
use crate::version::Origin;
use crate::version::{Error, Selection};

/// Prints a library error as pyenv would; returns its exit code.
pub fn report_error(err: &Error) -> i32 {
    report(&reported(err))
}

/// Prints a command's error as pyenv would (`pyenv: MESSAGE`; pyenv prints no hints); returns
/// its exit code.
pub(super) fn report(reported: &Reported) -> i32 {
    say!("pyenv: {}", crate::error::printable(&reported.message));
    reported.exit_code
}

/// A library error in pyenv's words (every line of it after the first `pyenv: `, as [`report`]
/// prints it).
pub(crate) fn reported(err: &Error) -> Reported {
    let (text, exit_code) = render(err, false);
    let text = text.trim_end_matches('\n');
    Reported {
        message: text.strip_prefix("pyenv: ").unwrap_or(text).to_owned(),
        hint: None,
        exit_code,
    }
}

/// The text and exit code of an error; `skip_advice` leaves out the list of versions that have a
/// command that was not found (`pyenv which --skip-advice`).
pub(super) fn render(err: &Error, skip_advice: bool) -> (String, i32) {
    let mut text = String::new();
    match err {
        Error::VersionNotInstalled { name, origin } => {
            let _ = writeln!(text, "{}", not_installed(name, origin));
            (text, EXIT_FAILURE)
        }
        Error::CommandNotFound {
            command,
            available,
            missing,
            origin,
        } => {
            for name in missing {
                let _ = writeln!(text, "{}", not_installed(name, origin));
            }
            let _ = writeln!(text, "pyenv: {command}: command not found");
            if !skip_advice && !available.is_empty() {
                let _ = writeln!(
                    text,
                    "\nThe `{command}' command exists in these Python versions:"
                );
                for version in available {
                    let _ = writeln!(text, "  {version}");
                }
                let _ = writeln!(
                    text,
                    "\nNote: See 'pyenv help global' for tips on allowing multiple\n      \
                     Python versions to be found at the same time."
                );
            }
            (text, EXIT_COMMAND_NOT_FOUND)
        }
        Error::BrokenVersion {
            version,
            problem,
            origin,
        } => {
            let _ = writeln!(
                text,
                "pyenv: version `{version}' is broken (set by {origin}): {problem}"
            );
            if let Some(args) = super::super::hints::install_args(version) {
                let _ = writeln!(
                    text,
                    "pyenv: reinstall it with `pyenv install --force {args}'"
                );
            }
            (text, problem.exit_code())
        }
        err => {
            let _ = writeln!(text, "pyenv: {err}");
            (text, err.exit_code())
        }
    }
}

/// Warns, as pyenv does, about each name the version file gave that the selection ignored.
pub(crate) fn warn_ignored(selection: &Selection) {
    for name in &selection.ignored {
        say!(
            "pyenv: invalid version `{name}' ignored in `{}'",
            selection.origin
        );
    }
}

/// pyenv's line for a selected version that is not installed.
pub(super) fn not_installed(name: &str, origin: &Origin) -> String {
    format!("pyenv: version `{name}' is not installed (set by {origin})")
}
