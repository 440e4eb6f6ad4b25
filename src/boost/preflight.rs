//! Boost's build prerequisites, checked before anything is downloaded: a C++ compiler, the
//! chosen Python's headers and shared library, zlib and bzip2 headers for iostreams, ICU for
//! locale. Missing ones are named with the command that installs them.

use super::plan::Plan;
use crate::stage::StageError;
use crate::sysdeps::{self, PackageManager, Packages};

/// Headers a library needs from the system.
struct SystemHeaders {
    /// The Boost library that needs them.
    library: &'static str,
    what: &'static str,
    header: &'static str,
    packages: Packages,
}

const SYSTEM_HEADERS: &[SystemHeaders] = &[
    SystemHeaders {
        library: "iostreams",
        what: "zlib headers",
        header: "zlib.h",
        packages: sysdeps::ZLIB,
    },
    SystemHeaders {
        library: "iostreams",
        what: "bzip2 headers",
        header: "bzlib.h",
        packages: sysdeps::BZIP2,
    },
    SystemHeaders {
        library: "locale",
        what: "ICU headers",
        header: "unicode/uchar.h",
        packages: sysdeps::ICU,
    },
];

/// One missing prerequisite.
struct Missing {
    what: String,
    /// The package that provides it, when a package manager can.
    packages: Option<Packages>,
}

/// Checks everything `plan` needs. With `--all`, missing optional headers are warnings (b2
/// builds those libraries without the feature); for a library asked for by name they stop the
/// install.
pub fn check(plan: &Plan) -> Result<Vec<String>, StageError> {
    let manager = PackageManager::detect();
    let mut missing = Vec::new();
    let mut warnings = Vec::new();
    let compiler = sysdeps::cxx_compiler();
    if let Some(compiler) = &compiler {
        sysdeps::check_compiler(compiler, true)?;
    }
    if compiler.is_none() {
        missing.push(Missing {
            what: "C++ compiler".to_owned(),
            packages: Some(sysdeps::CXX_COMPILER),
        });
    }
    if let Some(python) = &plan.python {
        let system = python.label == "system";
        let fix = system.then_some(sysdeps::PYTHON_DEV);
        if !python.info.header().is_file() {
            missing.push(Missing {
                what: format!(
                    "Python {} headers ({})",
                    python.info.version,
                    python.info.header().display()
                ),
                packages: fix,
            });
        }
        if python.info.shared_library().is_none() {
            missing.push(Missing {
                what: format!(
                    "Python {} shared library (libpython{}.so in {})",
                    python.info.version,
                    python.info.version,
                    python.info.libdir.display()
                ),
                packages: fix,
            });
        }
    }
    if let Some(compiler) = &compiler {
        for needed in SYSTEM_HEADERS.iter().filter(|h| plan.builds(h.library)) {
            if sysdeps::header_available(compiler, needed.header, true, &[]) {
                continue;
            }
            if plan.listed().iter().any(|l| l == needed.library) {
                missing.push(Missing {
                    what: format!("{} for {}", needed.what, needed.library),
                    packages: Some(needed.packages),
                });
            } else {
                warnings.push(format!(
                    "{} missing: {} is built without them{}",
                    needed.what,
                    needed.library,
                    manager.map_or_else(String::new, |m| format!(
                        " (package {})",
                        needed.packages.name(m)
                    ))
                ));
            }
        }
    }
    if missing.is_empty() {
        return Ok(warnings);
    }
    let names: Vec<String> = missing.iter().map(|m| m.what.clone()).collect();
    let mut packages: Vec<&str> = match manager {
        Some(m) => missing
            .iter()
            .filter_map(|p| p.packages.map(|p| p.name(m)))
            .collect(),
        None => Vec::new(),
    };
    packages.dedup();
    let managed_python = plan
        .python
        .as_ref()
        .filter(|p| p.label != "system")
        .filter(|_| {
            missing
                .iter()
                .any(|m| m.packages.is_none() && m.what.starts_with("Python"))
        });
    let fix = match (managed_python, manager) {
        (Some(python), _) => Some(format!(
            "strap install -f {}  (strap's own builds have both)",
            python.label
        )),
        (None, Some(m)) if !packages.is_empty() => Some(m.install_hint(&packages)),
        _ => None,
    };
    Err(StageError::Preflight {
        missing: names.join(", "),
        fix,
    })
}
