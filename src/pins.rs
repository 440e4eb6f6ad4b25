//! What `strap install` without versions does with each selected name: install what no
//! installed version satisfies, rebuild with `-f`, leave virtualenvs and `system` alone.

use crate::layout::Layout;
use crate::version::Error;
use crate::version::{self, Origin, PythonName, Resolved, Selection};

/// What became of one selected name when `strap install` runs without versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// To install: this request.
    Install(String),
    /// Installed under that very name.
    Installed(String),
    /// Satisfied by another installed version (a prefix's newest match).
    SatisfiedBy { wanted: String, found: String },
    /// A virtualenv that `-f` leaves as it is (it rebuilds versions).
    VirtualenvKept(String),
    /// The system Python.
    System,
}

/// For each selected name but `system`, what `strap install` without versions does with it:
/// install what no installed version satisfies (resolved as the shims resolve it: the exact
/// name, else the newest installed match of a prefix); with `force`, rebuild what the names
/// resolve to (but a virtualenv); with `debug`, only a debug build satisfies a name. An error
/// stops at that name (the results before it stand).
pub fn pins(
    layout: &Layout,
    selection: &Selection,
    debug: bool,
    force: bool,
) -> Vec<Result<Pin, Error>> {
    let pin = |name: &String| {
        let wanted = match PythonName::parse(name) {
            Some(parsed) if debug && parsed.variant().is_none() => format!("{name}-debug"),
            _ => name.clone(),
        };
        Ok(match version::resolve(layout, &wanted, &selection.origin) {
            Ok(Resolved::Installed { name: found, .. })
                if force && crate::virtualenv::is_virtualenv_name(layout, &found) =>
            {
                Pin::VirtualenvKept(found)
            }
            Ok(Resolved::Installed { name: found, .. }) if force => {
                let release = if debug {
                    found.strip_suffix("-debug").unwrap_or(&found)
                } else {
                    &found
                };
                Pin::Install(release.to_owned())
            }
            Ok(Resolved::Installed { name: found, .. }) if found == wanted => Pin::Installed(found),
            Ok(Resolved::Installed { name: found, .. }) => Pin::SatisfiedBy { wanted, found },
            Ok(Resolved::System) => Pin::System,
            Err(Error::VersionNotInstalled { .. }) => Pin::Install(name.clone()),
            Err(other) => return Err(other),
        })
    };
    selection
        .names
        .iter()
        .filter(|n| *n != "system")
        .map(pin)
        .collect()
}

/// Why nothing is selected to install: the selection names only `system`; `None` when it
/// names a version.
pub fn nothing_selected(selection: &Selection) -> Option<String> {
    if selection.names.iter().any(|n| n != "system") {
        return None;
    }
    Some(match &selection.origin {
        Origin::GlobalFile(path) if !path.exists() => {
            "no version is selected (no .python-version here or above, no global version)"
                .to_owned()
        }
        origin => format!("{origin} selects only the system Python"),
    })
}
