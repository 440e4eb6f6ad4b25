//! Checking a staged Boost before it is kept: `boost/version.hpp` says the version, every
//! library built is under `lib/`, and Boost.Python works: a tiny extension module compiled
//! against the staged install is imported by the chosen Python.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::libraries::Library;
use super::plan::Plan;
use crate::process::{Limits, RunError, Runner};

/// How long compiling or importing the check module may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// The extension module compiled to prove Boost.Python works.
const EXTENSION: &str = r#"#include <boost/python.hpp>

static int answer() { return 42; }

BOOST_PYTHON_MODULE(strap_boost_check)
{
    boost::python::def("answer", answer);
}
"#;

/// Why the staged Boost is not kept.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Wrong(String),
    #[error(transparent)]
    Run(#[from] RunError),
}

/// `BOOST_VERSION` in the staged `boost/version.hpp` must be `plan`'s.
pub fn version_header(prefix: &Path, plan: &Plan) -> Result<(), VerifyError> {
    let header = prefix.join("include/boost/version.hpp");
    let text = fs::read_to_string(&header)
        .map_err(|e| VerifyError::Wrong(format!("cannot read {}: {e}", header.display())))?;
    let found = text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("#define") && words.next() == Some("BOOST_VERSION"))
            .then(|| words.next())
            .flatten()
            .and_then(|n| n.parse::<u32>().ok())
    });
    match found {
        Some(n) if n == plan.version.number() => Ok(()),
        Some(n) => Err(VerifyError::Wrong(format!(
            "{} says BOOST_VERSION {n}, expected {} for {}",
            header.display(),
            plan.version.number(),
            plan.version
        ))),
        None => Err(VerifyError::Wrong(format!(
            "{} does not define BOOST_VERSION",
            header.display()
        ))),
    }
}

/// The library files each built library must have left in `<prefix>/lib`; returns the
/// libraries checked.
pub fn libraries(prefix: &Path, plan: &Plan, built: &[String]) -> Result<Vec<String>, VerifyError> {
    let lib = prefix.join("lib");
    let files: Vec<String> = fs::read_dir(&lib)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let python = plan.python.as_ref().map(|p| p.info.nodot());
    let mut stems: Vec<(String, String)> = built
        .iter()
        .filter_map(|name| {
            let stem = Library::named(name)?.file_stem(python.as_deref())?;
            Some((name.clone(), stem))
        })
        .collect();
    if plan.numpy {
        if let Some(v) = &python {
            stems.push(("numpy".to_owned(), format!("boost_numpy{v}")));
        }
    }
    let absent: Vec<String> = stems
        .iter()
        .filter(|(_, stem)| !files.iter().any(|f| is_library_file(f, stem)))
        .map(|(name, stem)| format!("{name} (lib{stem}.*)"))
        .collect();
    if absent.is_empty() {
        Ok(stems.into_iter().map(|(name, _)| name).collect())
    } else {
        Err(VerifyError::Wrong(format!(
            "b2 finished but lib/ has no library for {}",
            absent.join(", ")
        )))
    }
}

/// `libboost_python311.so.1.81.0`, `libboost_python311-mt-d.a` and `libboost_math_c99.so` are
/// files of the stems `boost_python311` and `boost_math`.
fn is_library_file(file: &str, stem: &str) -> bool {
    file.strip_prefix("lib")
        .and_then(|f| f.strip_prefix(stem))
        .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
        && (file.contains(".so") || file.ends_with(".a") || file.contains(".dylib"))
}

/// Compiles the check extension against the staged install in `work` and imports it with the
/// chosen Python; returns what it printed.
pub fn python_extension(
    runner: &Runner,
    prefix: &Path,
    plan: &Plan,
    cxx: &str,
    work: &Path,
) -> Result<String, VerifyError> {
    let Some(python) = &plan.python else {
        return Ok(String::new());
    };
    let info = &python.info;
    let lib = prefix.join("lib");
    let library = boost_python_file(&lib, &info.nodot()).ok_or_else(|| {
        VerifyError::Wrong(format!(
            "no libboost_python{} in {}",
            info.nodot(),
            lib.display()
        ))
    })?;
    fs::create_dir_all(work)
        .map_err(|e| VerifyError::Wrong(format!("cannot create {}: {e}", work.display())))?;
    let source = work.join("strap_boost_check.cpp");
    fs::write(&source, EXTENSION)
        .map_err(|e| VerifyError::Wrong(format!("cannot write {}: {e}", source.display())))?;
    let module = work.join(format!("strap_boost_check{}", info.ext_suffix));
    let mut words = cxx.split_whitespace();
    let mut compile = Command::new(words.next().unwrap_or("c++"));
    compile.args(words);
    if let Some(std) = &plan.shape.cxxstd {
        compile.arg(format!("-std=c++{std}"));
    }
    compile
        .args(["-shared", "-fPIC", "-o"])
        .arg(&module)
        .arg(&source)
        .arg(format!("-I{}", prefix.join("include").display()))
        .arg(format!("-I{}", info.include.display()))
        .arg(format!("-L{}", lib.display()))
        .arg(format!(
            "-l:{}",
            library.file_name().unwrap_or_default().to_string_lossy()
        ))
        .arg(format!("-Wl,-rpath,{}", lib.display()));
    let limits = Limits {
        timeout: Some(CHECK_TIMEOUT),
        capture: false,
    };
    runner.check_within(&mut compile, limits)?;
    let mut import = Command::new(&info.executable);
    import
        .args([
            "-c",
            "import strap_boost_check as m; print('strap_boost_check.answer() =', m.answer()); \
             assert m.answer() == 42",
        ])
        .env("PYTHONPATH", work)
        .env("LD_LIBRARY_PATH", &lib)
        .env_remove("PYTHONHOME");
    let finished = runner.check_within(
        &mut import,
        Limits {
            timeout: Some(CHECK_TIMEOUT),
            capture: true,
        },
    )?;
    Ok(finished.output.trim().to_owned())
}

/// The Boost.Python library to link the check against: shared before static, release before
/// debug.
fn boost_python_file(lib: &Path, nodot: &str) -> Option<PathBuf> {
    let stem = format!("boost_python{nodot}");
    let mut files: Vec<String> = fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|f| is_library_file(f, &stem) && (f.ends_with(".so") || f.ends_with(".a")))
        .collect();
    files.sort_by_key(|f| (f.ends_with(".a"), f.contains("-d"), f.clone()));
    files.first().map(|f| lib.join(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_files_are_recognised_by_stem() {
        assert!(is_library_file(
            "libboost_python311.so.1.81.0",
            "boost_python311"
        ));
        assert!(is_library_file(
            "libboost_python311-mt-d.a",
            "boost_python311"
        ));
        assert!(is_library_file("libboost_math_c99.so", "boost_math"));
        assert!(!is_library_file("libboost_python310.so", "boost_python311"));
        assert!(!is_library_file(
            "libboost_python311.txt",
            "boost_python311"
        ));
        assert!(!is_library_file("boost_python311.so", "boost_python311"));
    }

    #[test]
    fn shared_release_libraries_are_linked_first() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "libboost_python311-mt-d.so",
            "libboost_python311-mt.a",
            "libboost_python311-mt.so",
            "libboost_python311-mt.so.1.81.0",
        ] {
            fs::write(dir.path().join(f), "").unwrap();
        }
        assert_eq!(
            boost_python_file(dir.path(), "311").unwrap(),
            dir.path().join("libboost_python311-mt.so")
        );
    }
}
