//! `pyenv install`'s answer to a version it cannot install: python-build's words and exit code 2
//! (`python-build: definition not found: 3.99.1`), before anything is installed.

use std::io::Write;

use crate::python::catalog::Catalog;
use crate::python::plan::{self, PlanError};

use super::query;

/// The exit code python-build gives a definition it does not have.
const EXIT_DEFINITION_NOT_FOUND: i32 = 2;

/// Checks each requested version as `strap install` will plan it (`debug`: `-g`); for the first
/// one that names no release, prints pyenv's lines and returns `Some(2)`. A version the install
/// is given a checksum for (`--sha256`) is left to the install.
pub(super) fn definition_not_found(
    versions: &[String],
    debug: bool,
    sha256: Option<&str>,
) -> Result<Option<i32>, crate::error::Reported> {
    if sha256.is_some() {
        return Ok(None);
    }
    let catalog = Catalog::from_env()?;
    let Some(missing) = versions.iter().find(|version| {
        matches!(
            plan::plan_any(&catalog, version, debug, None, None),
            Err(PlanError::Unknown { .. }
                | PlanError::Malformed(_)
                | PlanError::FreeThreadedTooOld(_))
        )
    }) else {
        return Ok(None);
    };
    let candidates: Vec<String> = query::known_versions()?
        .into_iter()
        .filter(|name| name.contains(missing.as_str()))
        .collect();
    let mut text = Vec::new();
    write_not_found(&mut text, missing, &candidates)?;
    std::io::stderr().write_all(&text)?;
    Ok(Some(EXIT_DEFINITION_NOT_FOUND))
}

/// python-build's and `pyenv install`'s lines for `definition`, with the known names containing it.
fn write_not_found(
    out: &mut dyn Write,
    definition: &str,
    candidates: &[String],
) -> std::io::Result<()> {
    writeln!(out, "python-build: definition not found: {definition}")?;
    if !candidates.is_empty() {
        writeln!(
            out,
            "\nThe following versions contain `{definition}' in the name:"
        )?;
        for name in candidates {
            writeln!(out, "  {name}")?;
        }
    }
    writeln!(
        out,
        "\nSee all available versions with `pyenv install --list'."
    )?;
    writeln!(
        out,
        "\nIf the version you need is missing, try upgrading pyenv."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyenvs_lines_with_and_without_candidates() {
        let mut text = Vec::new();
        write_not_found(&mut text, "3.99.1", &[]).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "python-build: definition not found: 3.99.1\n\n\
             See all available versions with `pyenv install --list'.\n\n\
             If the version you need is missing, try upgrading pyenv.\n"
        );
        let mut text = Vec::new();
        write_not_found(&mut text, "3.1", &["3.1.5".to_owned(), "3.10.1".to_owned()]).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(
            "\n\nThe following versions contain `3.1' in the name:\n  3.1.5\n  3.10.1\n\nSee all"
        ));
    }
}
