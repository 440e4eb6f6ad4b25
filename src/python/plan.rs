//! Turning an install request (`3.12`, `3.13t`, `latest`, `3.12.7` with `--debug`) into a
//! checked plan: which release, which archives, the install name and the build options.

use super::catalog::{Archive, Catalog, Release, FREE_THREADED_SINCE};
use super::family::{self, FamilyPlan, Unavailable};
use super::platform::Machine;
use super::prebuilt::{self, Variant};
use crate::config::PrebuiltMode;
use crate::layout::SourceKind;
use crate::version::{self, PythonName};

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
/// request ([`plan`]; `3.12.7-debug` is `3.12.7` with `debug`). `debug` (`-g`) is CPython's
/// only.
pub fn plan_any(
    catalog: &Catalog,
    request: &str,
    debug: bool,
    sha256: Option<&str>,
    prebuilts: Option<&PrebuiltReleases<'_>>,
) -> Result<Planned, PlanError> {
    let (request, debug_name) = split_debug(request);
    let debug = debug || debug_name;
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
        return plan(catalog, request, debug, sha256, prebuilts).map(Planned::CPython);
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

/// A CPython install name's request and whether it is a debug build: `3.12.7-debug` is
/// `(3.12.7, true)`, `3.13.1t-debug` `(3.13.1t, true)`; any other name is itself.
pub fn split_debug(name: &str) -> (&str, bool) {
    match name.strip_suffix("-debug") {
        Some(request) if PythonName::parse(request).is_some_and(|n| n.variant().is_none()) => {
            (request, true)
        }
        _ => (name, false),
    }
}

/// The prebuilt releases a CPython request may resolve to (prebuilt mode `only` or `prefer`):
/// those the prebuilt catalog has for this machine in the requested variant.
pub struct PrebuiltReleases<'a> {
    pub catalog: &'a prebuilt::Catalog,
    pub machine: &'a Machine,
    /// `only`: a request resolves among them alone (among the source catalog's when none
    /// matches, for the error that says so); else (`prefer`) to the newest of them and the
    /// source catalog's.
    pub only: bool,
}

impl<'a> PrebuiltReleases<'a> {
    /// The releases of `catalog` for `machine` that requests resolve among under `mode`; none
    /// under `never`.
    pub fn under(
        mode: PrebuiltMode,
        catalog: &'a prebuilt::Catalog,
        machine: &'a Machine,
    ) -> Option<PrebuiltReleases<'a>> {
        let only = match mode {
            PrebuiltMode::Never => return None,
            PrebuiltMode::Prefer => false,
            PrebuiltMode::Only => true,
        };
        Some(PrebuiltReleases {
            catalog,
            machine,
            only,
        })
    }
}

/// A resolved install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The CPython release (`3.13.1`).
    pub version: String,
    /// The directory name under `versions/` (`3.13.1`, `3.13.1t`, `3.12.7-debug`).
    pub name: String,
    /// Archives to try, in order; none for a release only the prebuilt catalog has.
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
/// (`3.11:latest`) is the prefix: the newest known release it starts. With `prebuilts`, the
/// prebuilt catalog's releases are known too (see [`PrebuiltReleases`]).
pub fn plan(
    catalog: &Catalog,
    request: &str,
    debug: bool,
    sha256: Option<&str>,
    prebuilts: Option<&PrebuiltReleases<'_>>,
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
    let prebuilts = prebuilts.filter(|_| sha256.is_none());
    let variant = Variant::of(free_threaded, debug);
    let release = match (resolve(catalog, base, variant, prebuilts), &sha256) {
        (Some(release), None) => release,
        (Some(release), Some(sha)) if release.version == base => with_checksum(release, sha),
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

/// The release `base` (`3.12.7`, `3.12`, `latest`) selects in `variant`: the source catalog's,
/// or with `prebuilts` the prebuilt catalog's too (see [`PrebuiltReleases`]); a release only
/// the prebuilt catalog has comes without source archives.
fn resolve(
    catalog: &Catalog,
    base: &str,
    variant: Variant,
    prebuilts: Option<&PrebuiltReleases<'_>>,
) -> Option<Release> {
    let source = catalog.resolve(base);
    let Some(prebuilts) = prebuilts else {
        return source.cloned();
    };
    let releases = prebuilts.catalog.releases(variant, prebuilts.machine);
    let prefix = if base == "latest" { "3" } else { base };
    let prebuilt = (releases.iter().find(|r| **r == base).copied())
        .or_else(|| version::newest_match(prefix, releases.iter().copied()));
    let newest = match (prebuilt, source) {
        (Some(prebuilt), _) if prebuilts.only => prebuilt,
        (Some(prebuilt), Some(source))
            if version::compare_names(prebuilt, &source.version).is_gt() =>
        {
            prebuilt
        }
        (Some(_), Some(source)) | (None, Some(source)) => return Some(source.clone()),
        (Some(prebuilt), None) => prebuilt,
        (None, None) => return None,
    };
    Some(catalog.find(newest).cloned().unwrap_or_else(|| Release {
        version: newest.to_owned(),
        archives: Vec::new(),
        prerelease: PythonName::parse(newest).is_some_and(|n| n.is_prerelease()),
        needs_openssl11: false,
        free_threaded_definition: false,
    }))
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

    /// [`plan`] against the embedded catalog, without prebuilts.
    fn plan_it(request: &str, debug: bool, sha256: Option<&str>) -> Result<Plan, PlanError> {
        plan(catalog(), request, debug, sha256, None)
    }

    #[test]
    fn exact_prefix_latest_free_threaded_debug() {
        let p = plan_it("3.11.2", false, None).unwrap();
        assert_eq!(
            (p.name.as_str(), p.archives[0].file.as_str()),
            ("3.11.2", "Python-3.11.2.tar.xz")
        );
        assert_eq!(
            plan_it("3.11:latest", false, None).unwrap(),
            plan_it("3.11", false, None).unwrap()
        );
        let p = plan_it("3.13t", false, None).unwrap();
        assert!(p.free_threaded && p.name.starts_with("3.13.") && p.name.ends_with('t'));
        let p = plan_it("3.12.7", true, None).unwrap();
        assert_eq!(p.name, "3.12.7-debug");
        assert!(plan_it("latest", false, None)
            .unwrap()
            .version
            .starts_with('3'));
        assert!(plan_it("2.7.18", false, None).unwrap().needs_openssl11);
    }

    #[test]
    fn unknown_and_malformed_requests() {
        let err = plan_it("3.11.99", false, None).unwrap_err().to_string();
        assert!(
            err.contains("unknown CPython version '3.11.99'; nearest known: 3.11."),
            "{err}"
        );
        assert!(matches!(
            plan_it("../x", false, None),
            Err(PlanError::Malformed(_))
        ));
        assert!(matches!(
            plan_it("3.12t", false, None),
            Err(PlanError::FreeThreadedTooOld(_))
        ));
        assert!(matches!(
            plan_it("3.99.1", false, Some("xyz")),
            Err(PlanError::BadSha256)
        ));
    }

    #[test]
    fn sha256_permits_versions_the_catalog_lacks() {
        let sha = "a".repeat(64);
        let p = plan_it("3.99.1", false, Some(&sha)).unwrap();
        assert_eq!(p.archives[0].file, "Python-3.99.1.tar.xz");
        assert_eq!(p.archives[1].sha256, sha);
        assert!(matches!(
            plan_it("3.99", false, Some(&sha)),
            Err(PlanError::Sha256NeedsExactVersion { newest: None, .. })
        ));
        assert!(matches!(
            plan_it("3.12", false, Some(&sha)),
            Err(PlanError::Sha256NeedsExactVersion { newest: Some(v), .. }) if v.starts_with("3.12.")
        ));
        assert!(matches!(
            plan_it("latest", false, Some(&sha)),
            Err(PlanError::Sha256NeedsExactVersion { .. })
        ));
        assert!(plan_it("3.12.7-debug", false, None).is_err());
        assert!(!plan_it("latest", false, None).unwrap().free_threaded);
    }

    #[test]
    fn prebuilt_releases_resolve_under_only_and_the_newest_of_both_under_prefer() {
        let sha = "c".repeat(64);
        let line = |version: &str, variant: &str| {
            format!(
                "{version}\tx86_64\tgnu\t{variant}\t1\tfile:///m/cpython-{version}.tar.gz\t{sha}\n"
            )
        };
        let text = format!(
            "version\tarch\tlibc\tvariant\tbuild\turl\tsha256\n{}{}{}",
            line("3.11.2", "default"),
            line("3.11.99", "default"),
            line("3.13.1", "freethreaded")
        );
        let prebuilt = prebuilt::Catalog::parse(&text).unwrap();
        let machine = Machine::parse("x86_64-linux-gnu").unwrap();
        let releases = |only| PrebuiltReleases {
            catalog: &prebuilt,
            machine: &machine,
            only,
        };
        let resolved = |request: &str, only| {
            plan(catalog(), request, false, None, Some(&releases(only)))
                .map(|p| (p.name, p.archives.is_empty()))
        };
        // Under `only`, among the prebuilt releases; a release only they have has no source.
        assert_eq!(
            resolved("3.11", true).unwrap(),
            ("3.11.99".to_owned(), true)
        );
        assert_eq!(
            resolved("3.13t", true).unwrap(),
            ("3.13.1t".to_owned(), false)
        );
        // None matches: the source catalog's (for the error that there is no prebuilt).
        let source = plan_it("3.12", false, None).unwrap();
        assert_eq!(resolved("3.12", true).unwrap().0, source.name);
        // Under `prefer`, the newest of both: the source catalog's when it is as new.
        assert_eq!(resolved("3.11", false).unwrap().0, "3.11.99");
        let newest_ft = plan_it("3.13t", false, None).unwrap();
        assert_eq!(resolved("3.13t", false).unwrap(), (newest_ft.name, false));
        assert_eq!(
            resolved("3.11.2", false).unwrap(),
            ("3.11.2".to_owned(), false)
        );
        // No debug build: the source catalog's.
        let debug = plan(catalog(), "3.11", true, None, Some(&releases(true))).unwrap();
        assert_eq!(
            debug.name,
            format!("{}-debug", plan_it("3.11", false, None).unwrap().name)
        );
        // --sha256 names a source archive: the prebuilt releases are not considered.
        assert!(matches!(
            plan(catalog(), "3.11", false, Some(&sha), Some(&releases(true))),
            Err(PlanError::Sha256NeedsExactVersion { newest: Some(v), .. }) if v != "3.11.99"
        ));
    }

    #[test]
    fn debug_names_are_debug_requests() {
        assert_eq!(split_debug("3.12.7-debug"), ("3.12.7", true));
        assert_eq!(split_debug("3.13.1t-debug"), ("3.13.1t", true));
        assert_eq!(split_debug("3.12.7"), ("3.12.7", false));
        assert_eq!(split_debug("proj-debug"), ("proj-debug", false));
        let planned = plan_any(catalog(), "3.12.7-debug", false, None, None).unwrap();
        assert_eq!(planned.name(), "3.12.7-debug");
    }

    #[test]
    fn prerelease_directory_on_the_mirror() {
        let sha = "b".repeat(64);
        let p = plan_it("3.99.0rc1", false, Some(&sha)).unwrap();
        assert_eq!(p.release_dir(), "3.99.0");
        assert_eq!(p.major_minor(), (3, 99));
    }
}
