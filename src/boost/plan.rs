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

/// A build variant (`--variant`; `variant` in strap.toml); release by default.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    #[default]
    Release,
    Debug,
}

/// A linkage (`--link`; `link` in strap.toml); shared by default.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    #[default]
    Shared,
    Static,
}

/// A variant or linkage as b2 (and strap's flags) spell it: `release`, `static`.
pub fn b2_value(value: &impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
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
    Name(#[from] crate::version::Error),
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
    let resolved = check(
        catalog,
        request.version,
        &request.libraries,
        request.python.is_some(),
    )?;
    let version = resolved.version();
    let mut libraries = request.libraries;
    if let Libraries::Listed(names) = &mut libraries {
        if request.python.is_some() && !names.iter().any(|n| n == "python") {
            names.push("python".to_owned());
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
        check_pair(
            catalog,
            version,
            &python.info.version,
            python.info.major_minor(),
        )?;
    }
    let name = install_name(version, python.as_ref().map(|p| p.info.version.as_str()));
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

/// The checks of a request that need nothing of this machine: the release (resolved against
/// `catalog`), each library (known, built by strap, in that release), a Python for
/// Boost.Python. `strap boost install` and the bootstrap plan both call it.
pub fn check<'c>(
    catalog: &'c BoostCatalog,
    version: &str,
    libraries: &Libraries,
    python_chosen: bool,
) -> Result<Resolved<'c>, PlanError> {
    let resolved = catalog.resolve(version)?;
    if let Libraries::Listed(names) = libraries {
        libraries::check(names, resolved.version())?;
        if !python_chosen && names.iter().any(|n| n == "python") {
            return Err(PlanError::PythonNotChosen);
        }
    }
    Ok(resolved)
}

/// Refuses Boost.Python `version` with a Python `(major, minor)` (named `python`) that it is
/// known not to work with (see [`compat`]).
pub fn check_pair(
    catalog: &BoostCatalog,
    version: BoostVersion,
    python: &str,
    major_minor: (u32, u32),
) -> Result<(), PlanError> {
    match compat::refusal(catalog, version, major_minor) {
        Some((reason, nearest)) => Err(PlanError::Broken {
            boost: version,
            python: python.to_owned(),
            reason,
            nearest,
        }),
        None => Ok(()),
    }
}

/// The name a Boost build is installed under: `1.86.0`, or `1.86.0-py3.12` when Boost.Python
/// is built against a Python `X.Y` (`python_xy`).
pub fn install_name(version: BoostVersion, python_xy: Option<&str>) -> String {
    match python_xy {
        Some(xy) => format!("{version}-py{xy}"),
        None => version.to_string(),
    }
}

/// The release of an install name ([`install_name`]): `1.86.0-py3.12` → 1.86.0; 0.0.0 for a
/// name that is none.
pub fn release_of(name: &str) -> BoostVersion {
    let version = name.split_once('-').map_or(name, |(v, _)| v);
    BoostVersion::parse(version).unwrap_or(BoostVersion(0, 0, 0))
}

/// What the interpreter of the Python `spec` names (as `--python` takes it) says about itself,
/// asked as [`plan`] asks it; `None` when it is not there (not installed yet).
pub fn python_info(layout: &Layout, spec: &str) -> Option<PythonInfo> {
    choose_python(layout, spec).ok().map(|p| p.info)
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
            Err(crate::version::Error::VersionNotInstalled { .. }) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_names_carry_the_python_and_give_back_the_release() {
        let version = BoostVersion(1, 86, 0);
        assert_eq!(install_name(version, None), "1.86.0");
        assert_eq!(install_name(version, Some("3.12")), "1.86.0-py3.12");
        for name in ["1.86.0", "1.86.0-py3.12"] {
            assert_eq!(release_of(name), version, "{name}");
        }
        assert_eq!(release_of("junk"), BoostVersion(0, 0, 0));
    }
}
