//! What strap prints for a selected version that is not installed or broken: the next step
//! depends on what `strap install` can build (the release catalog), so it is worked out here,
//! once, for the CLI (`strap version`, `strap which`…) and the shims alike.

use super::Program;
use crate::error::Reported;
use crate::python::plan;
use crate::python::request::InstallRequest;
use crate::version::{Broken, Error};

/// A version error as the CLI prints it: in strap's words with a next step ([`explain`]), or,
/// when strap answers as pyenv, in pyenv's words (no hint).
impl From<Error> for Reported {
    fn from(err: Error) -> Reported {
        reported(&err)
    }
}

/// What [`Reported::from`] makes of `err`.
pub(super) fn reported(err: &Error) -> Reported {
    match Program::current() {
        Program::Strap => explain(err),
        Program::Pyenv => super::pyenv::reported(err),
    }
}

/// What strap prints for a library error. A command not found after a selected version that is
/// missing (pyenv's flavor looks further and reports both) is that version's error: the version
/// is the problem. A version that is not installed or is broken gets a hint that suggests
/// `strap install` only for what it can build.
pub(super) fn explain(err: &Error) -> Reported {
    let missing = missing_pin(err);
    let err = missing.as_ref().unwrap_or(err);
    let hint = match err {
        Error::VersionNotInstalled { name, .. } => Some(not_installed(name)),
        Error::BrokenVersion {
            problem: Broken::Unreadable { .. },
            ..
        } => Some("check the permissions of the version's bin/ directory".to_owned()),
        Error::BrokenVersion { version, .. } => Some(broken(version)),
        _ => None,
    };
    Reported {
        message: err.to_string(),
        hint: hint.or(err.hint()),
        exit_code: err.exit_code(),
    }
}

fn missing_pin(err: &Error) -> Option<Error> {
    match err {
        Error::CommandNotFound {
            missing, origin, ..
        } => missing.first().map(|name| Error::VersionNotInstalled {
            name: name.clone(),
            origin: origin.clone(),
        }),
        _ => None,
    }
}

/// The arguments of the `install` that (re)builds the version `name` (`3.12.7`, `-g 3.12.7` for
/// `3.12.7-debug`), when the catalog `strap install` uses has it; `None` for other names
/// (virtualenvs, directories made by hand, releases strap does not know).
pub(super) fn install_args(name: &str) -> Option<String> {
    let install = InstallRequest::of(name);
    install
        .is_buildable()
        .then(|| format!("{}{}", debug_flag(install.debug), install.request))
}

/// The hint for a selected version that is not installed: install it when `strap install` could
/// (resolved as it would, against the same catalog); otherwise the nearest versions it knows.
fn not_installed(name: &str) -> String {
    let installed = "`strap versions` lists the installed ones";
    let install = InstallRequest::of(name);
    let (request, debug) = (install.request, install.debug);
    match install.plan() {
        // `latest` is a request for `strap install`, not a name a version file can select.
        Ok(plan) if request == "latest" => format!(
            "version files name versions, not `latest`: select one (`strap global {}` after \
             `strap install latest`); {installed}",
            plan.name()
        ),
        Ok(_) => format!(
            "install it with `strap install {}{request}`, or select another version (`strap versions` lists them)",
            debug_flag(debug)
        ),
        Err(plan::PlanError::Unknown { suggestions, .. }) => format!(
            "{name} is not a CPython version strap knows, so it cannot be installed; nearest \
             known: {} (`strap install --list` shows them all); {installed}",
            suggestions.join(", ")
        ),
        Err(plan::PlanError::FreeThreadedTooOld(_)) => format!(
            "{name} cannot be installed: free-threaded builds exist from CPython 3.13 on; {installed}"
        ),
        Err(_) => match name.split_once(&format!("/{}/", crate::layout::ENVS_DIR)) {
            Some((python, env)) => format!(
                "make the virtualenv with `strap virtualenv {python} {env}`; {installed}"
            ),
            None => format!(
                "{name} is not a version strap can install (expected e.g. 3.12.7, 3.12, 3.13t \
                 or a name `strap install --list` shows): if it names a virtualenv, make it with \
                 `strap virtualenv PYTHON {name}`; {installed}"
            ),
        },
    }
}

/// The hint for a selected version that is installed but broken.
fn broken(name: &str) -> String {
    match install_args(name) {
        Some(args) => format!("reinstall it with `strap install -f {args}`"),
        None => format!(
            "strap cannot build '{name}': if it is a virtualenv, make it again \
             (`strap virtualenv-delete -f {name}`, then `strap virtualenv PYTHON {name}`); \
             otherwise repair or remove it"
        ),
    }
}

/// `-g ` for a debug build.
fn debug_flag(debug: bool) -> &'static str {
    if debug {
        "-g "
    } else {
        ""
    }
}
