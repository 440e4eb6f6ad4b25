//! What one `strap boost install` builds, decided before anything is downloaded: the release,
//! the libraries, variants, linkage and C++ standard, the Python Boost.Python is built
//! against, the install's name, and the refusals (unknown libraries, known-broken pairs).

use std::path::PathBuf;

use super::catalog::{BoostCatalog, BoostVersion, RequestError, Resolved};
use super::compat;
use super::libraries::{self, UnknownLibrary};
use crate::error::{Explain, EXIT_FAILURE, EXIT_USAGE};
use crate::layout::Layout;
use crate::python::probe::{self, ProbeError, PythonInfo};
use crate::version::{self, Origin};

/// Which libraries to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Libraries {
    /// The headers only (plus the named ones).
    Listed(Vec<String>),
    /// Everything the release builds (`--all`).
    All,
}

/// The Python Boost.Python is built against.
#[derive(Debug, Clone)]
pub struct ChosenPython {
    /// How it was named: an installed version (`3.11.2`) or `system`.
    pub label: String,
    pub info: PythonInfo,
}

/// Build variants and linkage, as b2 spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// `release`, `debug`.
    pub variants: Vec<String>,
    /// `shared`, `static`.
    pub links: Vec<String>,
    /// `11` … `23`; `None` leaves the compiler's default.
    pub cxxstd: Option<String>,
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `1.86`, `1.86.0` or `latest`.
    pub version: &'a str,
    /// `--python`: an installed version name or prefix, or `system`.
    pub python: Option<&'a str>,
    pub libraries: Libraries,
    pub shape: Shape,
}

/// A planned Boost install.
#[derive(Debug, Clone)]
pub struct Plan {
    pub version: BoostVersion,
    /// `1.86.0`, or `1.86.0-py3.11` when built against a Python.
    pub name: String,
    /// The archive the catalog pins (file, sha256), when it has the release.
    pub pinned: Option<(String, String)>,
    pub libraries: Libraries,
    pub shape: Shape,
    pub python: Option<ChosenPython>,
    /// Boost.NumPy is built too (the Python can import numpy).
    pub numpy: bool,
}

impl Plan {
    /// True when Boost.Python is among what is built.
    pub fn builds_python(&self) -> bool {
        self.python.is_some()
    }

    /// The explicitly requested libraries (empty for `--all` or headers only).
    pub fn listed(&self) -> &[String] {
        match &self.libraries {
            Libraries::Listed(names) => names,
            Libraries::All => &[],
        }
    }

    /// True when the library `name` is built (explicitly or by `--all`).
    pub fn builds(&self, name: &str) -> bool {
        match &self.libraries {
            Libraries::All => !(name == "python" && self.python.is_none()),
            Libraries::Listed(names) => names.iter().any(|n| n == name),
        }
    }
}

/// Why a Boost install cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("{0}")]
    Library(#[from] UnknownLibrary),
    #[error("--with python needs --python: the Python to build Boost.Python against")]
    PythonNotChosen,
    #[error("Python '{spec}' (--python) is not installed")]
    PythonNotInstalled { spec: String },
    #[error("no python3 on PATH for --python system")]
    NoSystemPython,
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("{0}")]
    Name(#[from] crate::error::Error),
    #[error("Boost {boost} with Python {python} is refused: {reason}")]
    Broken {
        boost: BoostVersion,
        python: String,
        reason: &'static str,
        nearest: Option<BoostVersion>,
    },
    #[error(
        "--python {spec}: a free-threaded Python ({version}t) is not supported by Boost.Python"
    )]
    FreeThreaded { spec: String, version: String },
}

impl Explain for PlanError {
    fn hint(&self) -> Option<String> {
        match self {
            PlanError::Request(e) => e.hint(),
            PlanError::PythonNotChosen => {
                Some("add --python 3.12 (an installed version) or --python system".to_owned())
            }
            PlanError::PythonNotInstalled { spec } => Some(format!(
                "install it first with `strap install {spec}`, or use --python system"
            )),
            PlanError::Broken {
                nearest: Some(v), ..
            } => Some(format!("the nearest Boost that works with it: {v}")),
            _ => None,
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            PlanError::Request(e) => e.exit_code(),
            PlanError::Name(e) => e.exit_code(),
            PlanError::Library(_) | PlanError::PythonNotChosen => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}

/// Plans `request` against `catalog`, resolving `--python` among the installs under `layout`.
pub fn plan(
    layout: &Layout,
    catalog: &BoostCatalog,
    request: Request<'_>,
) -> Result<Plan, PlanError> {
    let resolved = catalog.resolve(request.version)?;
    let version = resolved.version();
    let mut libraries = request.libraries;
    if let Libraries::Listed(names) = &mut libraries {
        libraries::check(names, version)?;
        if request.python.is_some() && !names.iter().any(|n| n == "python") {
            names.push("python".to_owned());
        }
        if names.iter().any(|n| n == "python") && request.python.is_none() {
            return Err(PlanError::PythonNotChosen);
        }
        names.sort();
        names.dedup();
    }
    let python = request
        .python
        .map(|spec| choose_python(layout, spec))
        .transpose()?;
    if let Some(python) = &python {
        if python.info.abiflags.contains('t') {
            return Err(PlanError::FreeThreaded {
                spec: python.label.clone(),
                version: python.info.version.clone(),
            });
        }
        if let Some((reason, nearest)) =
            compat::refusal(catalog, version, python.info.major_minor())
        {
            return Err(PlanError::Broken {
                boost: version,
                python: python.info.version.clone(),
                reason,
                nearest,
            });
        }
    }
    let name = match &python {
        Some(p) => format!("{version}-py{}", p.info.version),
        None => version.to_string(),
    };
    let numpy = python
        .as_ref()
        .is_some_and(|p| p.info.numpy_include.is_some());
    Ok(Plan {
        version,
        name,
        pinned: match resolved {
            Resolved::Known(release) => Some((release.file.clone(), release.sha256.clone())),
            Resolved::Unlisted(_) => None,
        },
        libraries,
        shape: request.shape,
        python,
        numpy,
    })
}

/// Resolves `--python SPEC` (an installed version name or prefix, or `system`) and asks the
/// interpreter about itself.
fn choose_python(layout: &Layout, spec: &str) -> Result<ChosenPython, PlanError> {
    let (label, executable) = if spec == "system" {
        let found = crate::which::find_on_system_path(layout, "python3")
            .ok_or(PlanError::NoSystemPython)?;
        ("system".to_owned(), found)
    } else {
        match version::resolve(layout, spec, &Origin::Argument) {
            Ok(version::Resolved::Installed { name, prefix }) => (name, interpreter_in(&prefix)),
            Ok(version::Resolved::System) => unreachable!("`system` is handled above"),
            Err(crate::error::Error::VersionNotInstalled { .. }) => {
                return Err(PlanError::PythonNotInstalled {
                    spec: spec.to_owned(),
                })
            }
            Err(other) => return Err(other.into()),
        }
    };
    let info = probe::probe(&executable)?;
    // Prefer the versioned interpreter (`python3.11`) the install has, as b2 is told its version.
    let versioned = executable.with_file_name(format!("python{}", info.version));
    let info = if label != "system" && versioned.is_file() {
        PythonInfo {
            executable: versioned,
            ..info
        }
    } else {
        info
    };
    Ok(ChosenPython { label, info })
}

/// The interpreter of an installed version: `bin/python3`, else `bin/python`.
fn interpreter_in(prefix: &std::path::Path) -> PathBuf {
    let bin = prefix.join("bin");
    let python3 = bin.join("python3");
    if python3.exists() {
        python3
    } else {
        bin.join("python")
    }
}
