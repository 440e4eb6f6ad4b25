//! CPython forks (Stackless, nogil) built from their source archive exactly as CPython is:
//! python-build's `standard verify_pyXY ensurepip` is strap's CPython build ([`CPython`]) —
//! the same configure, make and install, the user's options, the private OpenSSL 1.1.1 for a
//! definition flagged `openssl11`, the check of the required modules and pip — with the
//! fork's download as its source and the fork's name and title.

use super::{Definition, FamilyPlan};
use crate::python::catalog::Catalog;
use crate::python::install::{CPython, PythonOptions};
use crate::python::plan::Plan;

/// The CPython build of the fork `plan` under `layout`.
pub fn artifact<'a>(
    layout: &crate::layout::Layout,
    plan: &FamilyPlan,
    options: &'a PythonOptions,
) -> CPython<'a> {
    let definition = &plan.definition;
    let version = cpython_version(definition)
        .expect("the catalog refuses a fork whose CPython version it cannot tell");
    let cpython = Plan {
        version,
        name: definition.name.clone(),
        archives: Vec::new(),
        free_threaded: false,
        debug: false,
        needs_openssl11: definition.needs_openssl11,
    };
    // The catalog `strap install` planned with: its OpenSSL pin may be the user's.
    let custom = Catalog::from_env().ok();
    let catalog = custom.as_deref().unwrap_or_else(|| Catalog::embedded());
    CPython::from_source(
        layout,
        catalog,
        cpython,
        super::title(plan),
        super::source(plan, &options.mirrors),
        options,
    )
}

/// The CPython version a fork is built as: the first part of its name that is a version
/// (`stackless-3.7.5` → 3.7.5, `nogil-3.9.10-1` → 3.9.10), else its `py=` (`3.9`); `None`
/// when neither says.
pub fn cpython_version(definition: &Definition) -> Option<String> {
    let from_name = definition.name.split('-').find(|part| {
        crate::dotted::parse::<u64>(part).is_some_and(|numbers| (2..=3).contains(&numbers.len()))
    });
    from_name
        .map(str::to_owned)
        .or_else(|| definition.python.clone())
}

#[cfg(test)]
mod tests {
    use super::super::Family;
    use super::*;

    fn version_of(name: &str, fields: &[&str]) -> Option<String> {
        cpython_version(&Definition::parse(name, Family::Stackless, fields).unwrap())
    }

    #[test]
    fn the_cpython_version_comes_from_the_name_else_from_py() {
        assert_eq!(version_of("stackless-3.7.5", &[]).as_deref(), Some("3.7.5"));
        assert_eq!(version_of("nogil-3.9.10-1", &[]).as_deref(), Some("3.9.10"));
        assert_eq!(
            version_of("stackless-dev", &["git", "py=3.4"]).as_deref(),
            Some("3.4")
        );
        assert_eq!(version_of("stackless-dev", &["git"]), None);
    }

    #[test]
    fn a_fork_without_a_version_is_refused_by_the_catalog() {
        let sha = "c".repeat(64);
        let download = format!("any=https://h/stackless-x.tar.gz#{sha}");
        let err = Definition::parse("stackless-x", Family::Stackless, &[&download]).unwrap_err();
        assert!(err.contains("which CPython version"), "{err}");
        assert!(
            Definition::parse("stackless-x", Family::Stackless, &["py=3.7", &download]).is_ok()
        );
    }
}
