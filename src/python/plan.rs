//! Turning an install request (`3.12`, `3.13t`, `latest`, `3.12.7` with `--debug`) into a
//! checked plan: which release, which archives, the install name and the build options.

use super::catalog::{Archive, Catalog, Release, FREE_THREADED_SINCE};
use super::family::{self, FamilyPlan, Unavailable};
use crate::layout::SourceKind;
use crate::version::PythonName;

/// A resolved install of any family: a CPython release, or another python-build definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    CPython(Plan),
    Family(FamilyPlan),
}

impl Planned {
    /// The directory name under `versions/`.
    pub fn name(&self) -> &str {
        match self {
            Planned::CPython(plan) => &plan.name,
            Planned::Family(plan) => &plan.definition.name,
        }
    }

    /// The Python version it implements (`(3, 10)`), when known before installing.
    pub fn major_minor(&self) -> Option<(u64, u64)> {
        match self {
            Planned::CPython(plan) => Some(plan.major_minor()),
            Planned::Family(plan) => plan.major_minor(),
        }
    }

    /// True when it is built from a CPython-style source tree (`configure`, `make`): CPython and
    /// its forks, which a patch (`-p`) applies to.
    pub fn builds_from_source(&self) -> bool {
        match self {
            Planned::CPython(_) => true,
            Planned::Family(plan) => matches!(
                plan.definition.family.method(),
                family::Method::CPythonBuild | family::Method::ForkBuild
            ),
        }
    }

    /// True for a free-threaded CPython build.
    pub fn free_threaded(&self) -> bool {
        matches!(self, Planned::CPython(plan) if plan.free_threaded)
    }
}

/// Plans `request` of any family: a python-build definition by its name (`pypy3.10-7.3.17`)
/// or a prefix of one that is not CPython-style (`pypy3.10`, `miniforge3`), else a CPython
/// request ([`plan`]). `debug` (`-g`) is CPython's only.
pub fn plan_any(
    catalog: &Catalog,
    request: &str,
    debug: bool,
    sha256: Option<&str>,
) -> Result<Planned, PlanError> {
    let bare = request.strip_suffix(":latest").unwrap_or(request);
    let from_file;
    // As python-build: a path to a file is a definition; answering as pyenv, so is a file of
    // that name in the current directory (`pyenv install mydef`).
    let as_pyenv = crate::program::Program::current() == crate::program::Program::Pyenv;
    let is_path = (bare.contains('/') && std::fs::symlink_metadata(bare).is_ok())
        || (as_pyenv && std::path::Path::new(bare).is_file());
    let definition = if is_path {
        // pyenv's `install PATH/TO/DEFINITION`: a definition file, named as the file is.
        from_file = family::definition_file::read(std::path::Path::new(bare))
            .map_err(PlanError::DefinitionFile)?;
        Some(&from_file)
    } else {
        None
    };
    let definition = definition.or_else(|| catalog.definition(bare)).or_else(|| {
        PythonName::parse(bare)
            .is_none()
            .then(|| catalog.latest_definition(bare))
            .flatten()
    });
    let Some(definition) = definition else {
        let family_like = PythonName::parse(bare).is_none()
            && family::Family::ALL
                .iter()
                .any(|f| *f != family::Family::CPython && bare.starts_with(f.id()));
        if family_like {
            return Err(PlanError::Unknown {
                request: request.to_owned(),
                suggestions: catalog
                    .suggestions(bare)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            });
        }
        return plan(catalog, request, debug, sha256).map(Planned::CPython);
    };
    if debug {
        return Err(PlanError::DebugIsCPythons(definition.name.clone()));
    }
    if sha256.is_some() && definition.name != bare && !is_path {
        return Err(PlanError::Sha256NeedsExactVersion {
            request: request.to_owned(),
            newest: Some(definition.name.clone()),
        });
    }
    let sha256 = sha256
        .map(|s| crate::sha256::parse(s).ok_or(PlanError::BadSha256))
        .transpose()?;
    family::plan(definition, request, sha256).map(Planned::Family)
}

/// A resolved install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The CPython release (`3.13.1`).
    pub version: String,
    /// The directory name under `versions/` (`3.13.1`, `3.13.1t`, `3.12.7-debug`).
    pub name: String,
    /// Archives to try, in order.
    pub archives: Vec<Archive>,
    pub free_threaded: bool,
    pub debug: bool,
    pub needs_openssl11: bool,
}

impl Plan {
    fn parsed(&self) -> PythonName<'_> {
        PythonName::parse(&self.version).expect("a planned version is a CPython name")
    }

    /// The directory python.org keeps this release in (`3.14.0` for `3.14.0rc1`).
    pub fn release_dir(&self) -> String {
        self.parsed().release_dir()
    }

    /// The major.minor of the release (`3.12`).
    pub fn major_minor(&self) -> (u64, u64) {
        self.parsed().major_minor()
    }
}

/// Why a request cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("unknown {} '{request}'{}", if request.starts_with(|c: char| c.is_ascii_digit()) { "CPython version" } else { "version" }, nearest(.suggestions))]
    Unknown {
        request: String,
        suggestions: Vec<String>,
    },
    #[error("'{0}' is not a CPython version (expected e.g. 3.12.7, 3.12, 3.13t or latest)")]
    Malformed(String),
    #[error("free-threaded builds ('t') exist from CPython 3.13 on; '{0}' is older")]
    FreeThreadedTooOld(String),
    #[error("--sha256 must be 64 hexadecimal digits")]
    BadSha256,
    #[error(transparent)]
    DefinitionFile(family::definition_file::DefinitionError),
    /// A setting the plan depends on is malformed (`STRAP_ARCH`): the message says which.
    #[error("{0}")]
    Setting(String),
    #[error("-g (--debug) builds a debug CPython; {0} is not a CPython release")]
    DebugIsCPythons(String),
    #[error("{name} cannot be installed: {why}")]
    Unavailable { name: String, why: Unavailable },
    #[error("{name} has no sha256 to verify its download with: {why}; --sha256 HEX installs it with the checksum of the file you verified")]
    NoChecksum {
        name: String,
        why: String,
        /// Where it would be downloaded from, for the hint.
        url: String,
    },
    #[error("--sha256 needs an exact version such as 3.12.7, not '{request}'")]
    Sha256NeedsExactVersion {
        request: String,
        /// The release the prefix selects in the catalog, for the hint.
        newest: Option<String>,
    },
}

impl crate::error::Explain for PlanError {
    fn hint(&self) -> Option<String> {
        match self {
            PlanError::Unknown { request, .. }
                if !request.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                Some(
                    "`strap install --list` shows the known versions; one of your own installs \
                     from a python-build definition file (`strap install PATH/TO/DEFINITION`) or \
                     a line in STRAP_PYTHON_CATALOG"
                        .to_owned(),
                )
            }
            PlanError::Unknown { .. } => Some(
                "`strap install --list` shows the known versions; --sha256 HEX installs one the catalog lacks"
                    .to_owned(),
            ),
            PlanError::DefinitionFile(e) => crate::error::Explain::hint(e),
            PlanError::Unavailable {
                why: Unavailable::NotForArch { arch, .. },
                ..
            } => Some(format!(
                "strap installs the build for this machine's architecture ({arch}); set {} to \
                 install for another",
                crate::env_vars::STRAP_ARCH
            )),
            PlanError::NoChecksum { name, url, .. } => {
                Some(format!("`strap install {name} --sha256 HEX` downloads {url}"))
            }
            PlanError::Sha256NeedsExactVersion { request, newest } => Some(match newest {
                Some(newest) => format!(
                    "'{request}' selects {newest} now: `strap install {newest} --sha256 HEX` if \
                     the checksum is of that release's archive"
                ),
                None => "name the release the checksum is of in full (MAJOR.MINOR.MICRO)"
                    .to_owned(),
            }),
            _ => None,
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            PlanError::Unknown { .. }
            | PlanError::Unavailable { .. }
            | PlanError::NoChecksum { .. } => crate::error::EXIT_FAILURE,
            _ => crate::error::EXIT_USAGE,
        }
    }
}

fn nearest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; nearest known: {}", suggestions.join(", "))
    }
}

/// Plans `request`. With `sha256`, a full version the catalog lacks is allowed (its archive is
/// `Python-<version>.tar.xz` or `.tgz`, whichever has that checksum). pyenv's `PREFIX:latest`
/// (`3.11:latest`) is the prefix: the newest known release it starts.
pub fn plan(
    catalog: &Catalog,
    request: &str,
    debug: bool,
    sha256: Option<&str>,
) -> Result<Plan, PlanError> {
    let request = request.strip_suffix(":latest").unwrap_or(request);
    let parsed = match request {
        "latest" => None,
        _ => Some(
            PythonName::parse(request)
                .filter(|name| name.variant().is_none())
                .ok_or_else(|| PlanError::Malformed(request.to_owned()))?,
        ),
    };
    let free_threaded = parsed.as_ref().is_some_and(PythonName::free_threaded);
    let full = parsed.as_ref().is_some_and(PythonName::is_full);
    let base = parsed
        .as_ref()
        .map_or_else(|| request.to_owned(), PythonName::base);
    let base = base.as_str();
    let sha256 = sha256
        .map(|s| crate::sha256::parse(s).ok_or(PlanError::BadSha256))
        .transpose()?;
    if sha256.is_some() && !full {
        return Err(PlanError::Sha256NeedsExactVersion {
            request: request.to_owned(),
            newest: catalog.resolve(base).map(|r| r.version.clone()),
        });
    }
    let release = match (catalog.resolve(base), &sha256) {
        (Some(release), None) => release.clone(),
        (Some(release), Some(sha)) if release.version == base => {
            with_checksum(release.clone(), sha)
        }
        (_, Some(sha)) => Release {
            version: base.to_owned(),
            archives: SourceKind::Python
                .archives(base)
                .into_iter()
                .map(|file| Archive {
                    file,
                    sha256: sha.clone(),
                })
                .collect(),
            prerelease: parsed.as_ref().is_some_and(PythonName::is_prerelease),
            needs_openssl11: false,
            free_threaded_definition: false,
        },
        _ => {
            return Err(PlanError::Unknown {
                request: request.to_owned(),
                suggestions: catalog
                    .suggestions(base)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            })
        }
    };
    let plan = Plan {
        name: install_name(&release.version, free_threaded, debug),
        version: release.version,
        archives: release.archives,
        free_threaded,
        debug,
        needs_openssl11: release.needs_openssl11,
    };
    if free_threaded && plan.major_minor() < FREE_THREADED_SINCE {
        return Err(PlanError::FreeThreadedTooOld(request.to_owned()));
    }
    Ok(plan)
}

/// The name an install of the CPython release `version` has under `versions/`: `t` for a
/// free-threaded build, `-debug` for a debug one (`3.13.1`, `3.13.1t`, `3.13.1t-debug`).
pub fn install_name(version: &str, free_threaded: bool, debug: bool) -> String {
    let t = if free_threaded { "t" } else { "" };
    let suffix = if debug { "-debug" } else { "" };
    format!("{version}{t}{suffix}")
}

/// A release in the catalog installed with a user-given checksum: only the archives it matches
/// can pass verification, so the same file names are tried with that checksum.
fn with_checksum(mut release: Release, sha: &str) -> Release {
    for archive in &mut release.archives {
        archive.sha256 = sha.to_owned();
    }
    release
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> &'static Catalog {
        Catalog::embedded()
    }

    #[test]
    fn exact_prefix_latest_free_threaded_debug() {
        let p = plan(catalog(), "3.11.2", false, None).unwrap();
        assert_eq!(
            (p.name.as_str(), p.archives[0].file.as_str()),
            ("3.11.2", "Python-3.11.2.tar.xz")
        );
        assert_eq!(
            plan(catalog(), "3.11:latest", false, None).unwrap(),
            plan(catalog(), "3.11", false, None).unwrap()
        );
        let p = plan(catalog(), "3.13t", false, None).unwrap();
        assert!(p.free_threaded && p.name.starts_with("3.13.") && p.name.ends_with('t'));
        let p = plan(catalog(), "3.12.7", true, None).unwrap();
        assert_eq!(p.name, "3.12.7-debug");
        assert!(plan(catalog(), "latest", false, None)
            .unwrap()
            .version
            .starts_with('3'));
        assert!(
            plan(catalog(), "2.7.18", false, None)
                .unwrap()
                .needs_openssl11
        );
    }

    #[test]
    fn unknown_and_malformed_requests() {
        let err = plan(catalog(), "3.11.99", false, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown CPython version '3.11.99'; nearest known: 3.11."),
            "{err}"
        );
        assert!(matches!(
            plan(catalog(), "../x", false, None),
            Err(PlanError::Malformed(_))
        ));
        assert!(matches!(
            plan(catalog(), "3.12t", false, None),
            Err(PlanError::FreeThreadedTooOld(_))
        ));
        assert!(matches!(
            plan(catalog(), "3.99.1", false, Some("xyz")),
            Err(PlanError::BadSha256)
        ));
    }

    #[test]
    fn sha256_permits_versions_the_catalog_lacks() {
        let sha = "a".repeat(64);
        let p = plan(catalog(), "3.99.1", false, Some(&sha)).unwrap();
        assert_eq!(p.archives[0].file, "Python-3.99.1.tar.xz");
        assert_eq!(p.archives[1].sha256, sha);
        assert!(matches!(
            plan(catalog(), "3.99", false, Some(&sha)),
            Err(PlanError::Sha256NeedsExactVersion { newest: None, .. })
        ));
        assert!(matches!(
            plan(catalog(), "3.12", false, Some(&sha)),
            Err(PlanError::Sha256NeedsExactVersion { newest: Some(v), .. }) if v.starts_with("3.12.")
        ));
        assert!(matches!(
            plan(catalog(), "latest", false, Some(&sha)),
            Err(PlanError::Sha256NeedsExactVersion { .. })
        ));
        assert!(plan(catalog(), "3.12.7-debug", false, None).is_err());
        assert!(
            !plan(catalog(), "latest", false, None)
                .unwrap()
                .free_threaded
        );
    }

    #[test]
    fn prerelease_directory_on_the_mirror() {
        let sha = "b".repeat(64);
        let p = plan(catalog(), "3.99.0rc1", false, Some(&sha)).unwrap();
        assert_eq!(p.release_dir(), "3.99.0");
        assert_eq!(p.major_minor(), (3, 99));
    }
}
