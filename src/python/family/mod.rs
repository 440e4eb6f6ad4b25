//! The Pythons of python-build's catalog besides CPython releases: PyPy, GraalPy, Pyston and
//! ActivePython binaries, the conda installers, CPython forks built from source (Stackless,
//! nogil), MicroPython, Jython and IronPython — their definitions, what is excluded and why,
//! and which download serves this machine.

mod binary;
mod conda;
pub mod definition_file;
mod fork;
mod micropython;
mod runtime;
mod settle;

use std::fmt;

use super::install::PythonOptions;
use crate::fetch::{mirror, Wanted};
use crate::layout::{Layout, SourceKind};
use crate::stage::{Artifact, Source};

/// A family of Pythons, as the catalog's second column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    CPython,
    PyPy,
    GraalPy,
    GraalPython,
    Pyston,
    ActivePython,
    Anaconda,
    Miniconda,
    Miniforge,
    Mambaforge,
    Stackless,
    Nogil,
    Cinder,
    MicroPython,
    Jython,
    IronPython,
}

/// How a family is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// CPython's own build (configure, make) of a release archive.
    CPythonBuild,
    /// A CPython fork's source archive, built like CPython.
    ForkBuild,
    /// MicroPython's unix port, built with make.
    MicroPythonBuild,
    /// A prebuilt interpreter tree, unpacked and laid out as python-build lays it.
    Binary,
    /// A conda installer (`.sh`) run in batch mode.
    CondaInstaller,
    /// Jython's installer jar, run with a Java runtime.
    JythonInstaller,
    /// IronPython's zip, run with mono.
    IronPythonZip,
}

impl Family {
    /// Every family, in the order the docs list them.
    pub const ALL: [Family; 16] = [
        Family::CPython,
        Family::PyPy,
        Family::GraalPy,
        Family::GraalPython,
        Family::Pyston,
        Family::ActivePython,
        Family::Anaconda,
        Family::Miniconda,
        Family::Miniforge,
        Family::Mambaforge,
        Family::Stackless,
        Family::Nogil,
        Family::Cinder,
        Family::MicroPython,
        Family::Jython,
        Family::IronPython,
    ];

    /// The catalog's name of the family (`pypy`).
    pub fn id(self) -> &'static str {
        self.facts().0
    }

    /// The name people know it by (`PyPy`).
    pub fn title(self) -> &'static str {
        self.facts().1
    }

    /// How it is installed.
    pub fn method(self) -> Method {
        self.facts().2
    }

    fn facts(self) -> (&'static str, &'static str, Method) {
        match self {
            Family::CPython => ("cpython", "CPython", Method::CPythonBuild),
            Family::PyPy => ("pypy", "PyPy", Method::Binary),
            Family::GraalPy => ("graalpy", "GraalPy", Method::Binary),
            Family::GraalPython => ("graalpython", "GraalPython", Method::Binary),
            Family::Pyston => ("pyston", "Pyston", Method::Binary),
            Family::ActivePython => ("activepython", "ActivePython", Method::Binary),
            Family::Anaconda => ("anaconda", "Anaconda", Method::CondaInstaller),
            Family::Miniconda => ("miniconda", "Miniconda", Method::CondaInstaller),
            Family::Miniforge => ("miniforge", "Miniforge", Method::CondaInstaller),
            Family::Mambaforge => ("mambaforge", "Mambaforge", Method::CondaInstaller),
            Family::Stackless => ("stackless", "Stackless Python", Method::ForkBuild),
            Family::Nogil => ("nogil", "nogil Python", Method::ForkBuild),
            Family::Cinder => ("cinder", "Cinder", Method::ForkBuild),
            Family::MicroPython => ("micropython", "MicroPython", Method::MicroPythonBuild),
            Family::Jython => ("jython", "Jython", Method::JythonInstaller),
            Family::IronPython => ("ironpython", "IronPython", Method::IronPythonZip),
        }
    }

    /// The family the catalog names `id`.
    pub fn parse(id: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.id() == id)
    }

    /// The ids, for messages (`cpython, pypy, …`).
    pub fn ids() -> String {
        Family::ALL.map(Family::id).join(", ")
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// What python-build downloads for one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// `uname -m` of the machines it serves (`x86_64`), or `any` (a source archive).
    pub arch: String,
    /// Where upstream publishes it.
    pub url: String,
    /// Its name in the download cache and `{file}` on a mirror: the URL's last part, after
    /// the family's name when it does not start with it ([`crate::layout::distribution_file`]).
    pub file: String,
    /// None for python-build's moving `latest` downloads, which it does not check, and for
    /// the old ones it checks by MD5 only ([`Download::md5`]).
    pub sha256: Option<String>,
    /// The MD5 python-build checks some old downloads by: not a checksum strap trusts.
    pub md5: Option<String>,
}

/// Where python-build builds a definition from when it is not an archive it can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vcs {
    Git,
    Mercurial,
}

/// One python-build definition other than a CPython release (a CPython `-dev` branch
/// included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// python-build's name (`pypy3.10-7.3.17`), the install's name under `versions/`.
    pub name: String,
    pub family: Family,
    /// The Python version it implements (`3.10`), when the definition says.
    pub python: Option<String>,
    /// Per architecture; empty when python-build has none for Linux.
    pub downloads: Vec<Download>,
    /// Built from a branch head (`-dev`): nothing to verify.
    pub vcs: Option<Vcs>,
    /// python-build looks its download up in a moving index when it runs (`graalpy-dev`).
    pub dynamic: bool,
    /// A definition file of the user's that strap cannot read: why (it is listed, as
    /// python-build lists it, and refused with this).
    pub unreadable: Option<String>,
    /// PyPy built from source (`-src`).
    pub from_source: bool,
    /// Built against a private OpenSSL 1.1.1.
    pub needs_openssl11: bool,
}

/// The architecture name of the catalog that serves source archives on every machine.
pub const ANY_ARCH: &str = "any";

/// Why a definition cannot be installed on `arch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Never installed by strap: the reason.
    Excluded(String),
    /// Nothing for this architecture: the ones python-build has.
    NotForArch { arch: String, has: Vec<String> },
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::Excluded(why) => f.write_str(why),
            Unavailable::NotForArch { arch, has } if has.is_empty() => write!(
                f,
                "python-build has no Linux build of it (none for {arch} nor any other Linux architecture)"
            ),
            Unavailable::NotForArch { arch, has } => write!(
                f,
                "python-build has no build of it for {arch}, only for {}",
                has.join(", ")
            ),
        }
    }
}

impl Definition {
    /// Why strap never installs this definition, if it does not (the same reason everywhere:
    /// `--list --all`, a refused install, the docs).
    pub fn exclusion(&self) -> Option<String> {
        if let Some(why) = &self.unreadable {
            return Some(format!("strap cannot read its definition: {why}"));
        }
        if let Some(vcs) = self.vcs {
            let (what, tool) = match vcs {
                Vcs::Git => ("git", "git"),
                Vcs::Mercurial => ("Mercurial", "hg"),
            };
            return Some(format!(
                "builds the head of a {what} branch ({tool} clone): a moving target with no \
                 checksum to verify; install a release"
            ));
        }
        if self.family == Family::IronPython {
            return Some(
                "its builds are Windows .NET zip archives run with mono; strap unpacks tar \
                 archives only"
                    .to_owned(),
            );
        }
        if self.dynamic {
            return Some(
                "python-build looks its download up in a moving index when it runs: no \
                 checksum to verify; install a release"
                    .to_owned(),
            );
        }
        if self.from_source {
            return Some(format!(
                "builds PyPy from source, which takes hours and needs a PyPy or Python 2 to \
                 translate it; install {}, the same PyPy prebuilt",
                self.name.trim_end_matches("-src")
            ));
        }
        None
    }

    /// The download for a machine of `arch` (`uname -m`), or why there is none.
    pub fn download_for(&self, arch: &str) -> Result<&Download, Unavailable> {
        if let Some(why) = self.exclusion() {
            return Err(Unavailable::Excluded(why));
        }
        self.downloads
            .iter()
            .find(|d| d.arch == arch || d.arch == ANY_ARCH)
            .ok_or_else(|| Unavailable::NotForArch {
                arch: arch.to_owned(),
                has: self.downloads.iter().map(|d| d.arch.clone()).collect(),
            })
    }

    /// `name` of `family`, with nothing known about it yet.
    fn bare(name: &str, family: Family) -> Definition {
        Definition {
            name: name.to_owned(),
            family,
            python: None,
            downloads: Vec::new(),
            vcs: None,
            dynamic: false,
            unreadable: None,
            from_source: false,
            needs_openssl11: false,
        }
    }

    /// Parses the fields after the name and family of a catalog line:
    /// `[py=X.Y] [git|hg|src|openssl11...] [ARCH=URL[#SHA256]...]`.
    pub fn parse(name: &str, family: Family, fields: &[&str]) -> Result<Definition, String> {
        if !is_definition_name(name) {
            return Err(format!(
                "'{name}' is not a definition name (a letter or digit, then letters, digits, \
                 '.', '_', '+' and '-')"
            ));
        }
        if RESERVED_NAMES.contains(&name) {
            return Err(format!(
                "'{name}' names something else where versions are selected; name the \
                 definition otherwise"
            ));
        }
        let mut definition = Definition::bare(name, family);
        for field in fields {
            match *field {
                "git" => definition.vcs = Some(Vcs::Git),
                "hg" => definition.vcs = Some(Vcs::Mercurial),
                "src" => definition.from_source = true,
                "dynamic" => definition.dynamic = true,
                "openssl11" => definition.needs_openssl11 = true,
                field => {
                    if let Some(py) = field.strip_prefix("py=") {
                        if crate::dotted::parse::<u64>(py).is_none_or(|parts| parts.len() != 2) {
                            return Err(format!("'{field}' is not py=MAJOR.MINOR"));
                        }
                        definition.python = Some(py.to_owned());
                    } else if let Some((arch, rest)) = field.split_once('=') {
                        let download = download(family, arch, rest)?;
                        if definition.downloads.iter().any(|d| d.arch == download.arch) {
                            return Err(format!("{name} lists {arch} twice"));
                        }
                        definition.downloads.push(download);
                    } else {
                        return Err(format!(
                            "'{field}' is none of ARCH=URL#SHA256, py=X.Y, git, hg, dynamic, src, openssl11"
                        ));
                    }
                }
            }
        }
        let builds_like_cpython = matches!(family.method(), Method::ForkBuild);
        if builds_like_cpython
            && definition.vcs.is_none()
            && fork::cpython_version(&definition).is_none()
        {
            return Err(format!(
                "{name} is built like CPython, but neither its name nor a py=X.Y field says which CPython version it is"
            ));
        }
        Ok(definition)
    }
}

/// Names that mean something else where a version is selected (`strap global system`).
const RESERVED_NAMES: &[&str] = &["system", "latest"];

/// A definition of the user's that strap cannot read, named `name`: listed (as python-build
/// lists every file of its definition directories) and refused with `why`.
pub fn unreadable(name: &str, why: String) -> Definition {
    let family = Family::ALL
        .into_iter()
        .filter(|f| *f != Family::CPython)
        .find(|f| name.to_ascii_lowercase().starts_with(f.id()))
        .unwrap_or(Family::CPython);
    Definition {
        unreadable: Some(why),
        ..Definition::bare(name, family)
    }
}

/// True for a name python-build could give a definition: no path, no spaces, nothing a
/// version file or directory name would trip on.
fn is_definition_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

/// `ARCH=URL[#SHA256]` of `family`.
fn download(family: Family, arch: &str, rest: &str) -> Result<Download, String> {
    let arch_ok = !arch.is_empty() && arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !arch_ok {
        return Err(format!(
            "'{arch}' is not an architecture (uname -m, or any)"
        ));
    }
    let (url, sha256, md5) = match rest.split_once('#') {
        Some((url, md5)) if md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (url, None, Some(md5.to_ascii_lowercase()))
        }
        Some((url, sha)) => (
            url,
            Some(crate::sha256::parse(sha).ok_or_else(|| {
                format!("'{sha}' is not a sha256 (64 hex digits) nor an MD5 (32)")
            })?),
            None,
        ),
        None => (rest, None, None),
    };
    let scheme_ok = ["https://", "http://", "file://"]
        .iter()
        .any(|s| url.starts_with(s));
    let upstream = url.rsplit('/').next().unwrap_or_default();
    let file = crate::layout::distribution_file(family.id(), upstream);
    if !scheme_ok || !is_definition_name(upstream) || SourceKind::of(&file).is_none() {
        return Err(format!(
            "'{url}' is not an http(s) or file URL of a .tar.bz2, .tar.gz, .tgz, .tar.xz, .zip, .sh or .jar file"
        ));
    }
    Ok(Download {
        arch: arch.to_owned(),
        url: url.to_owned(),
        file,
        sha256,
        md5,
    })
}

/// A resolved install of a definition: the download for this machine, with the sha256 it is
/// verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyPlan {
    pub definition: Definition,
    /// What the user asked for (`pypy3.10`).
    pub request: String,
    pub download: Download,
    /// The sha256 the download must have (the catalog's, or `--sha256`).
    pub sha256: String,
}

impl FamilyPlan {
    /// The Python version it implements, when the definition says (`py=3.10`).
    pub fn major_minor(&self) -> Option<(u64, u64)> {
        let parts = crate::dotted::parse::<u64>(self.definition.python.as_deref()?)?;
        Some((*parts.first()?, *parts.get(1)?))
    }
}

/// Plans the install of `definition` (requested as `request`) on this machine; `sha256` is
/// `--sha256`, which stands in for a checksum the catalog lacks and overrides one it has.
pub fn plan(
    definition: &Definition,
    request: &str,
    sha256: Option<String>,
) -> Result<FamilyPlan, super::plan::PlanError> {
    use super::plan::PlanError;
    let download = definition
        .download_for(&this_arch().map_err(PlanError::Setting)?)
        .map_err(|why| PlanError::Unavailable {
            name: definition.name.clone(),
            why,
        })?;
    let sha256 = match (sha256, &download.sha256) {
        (Some(given), _) => given,
        (None, Some(pinned)) => pinned.clone(),
        (None, None) => {
            let why = match &download.md5 {
                Some(md5) => format!(
                    "python-build checks it by MD5 only ({md5}), which strap does not trust"
                ),
                None if definition.name.ends_with("-latest") => {
                    "python-build downloads it from a moving URL (a `latest` build) without a \
                     checksum"
                        .to_owned()
                }
                None => "its definition gives no sha256 for the download".to_owned(),
            };
            return Err(PlanError::NoChecksum {
                name: definition.name.clone(),
                why,
                url: download.url.clone(),
            });
        }
    };
    Ok(FamilyPlan {
        definition: definition.clone(),
        request: request.to_owned(),
        download: download.clone(),
        sha256,
    })
}

/// The install of `plan` under `layout`, as its family installs.
pub fn artifact<'a>(
    layout: &Layout,
    plan: &'a FamilyPlan,
    options: &'a PythonOptions,
) -> Box<dyn Artifact + 'a> {
    let prefix = layout.version_dir(&plan.definition.name);
    match plan.definition.family.method() {
        Method::Binary => Box::new(binary::Binary::new(plan, prefix, options)),
        Method::CondaInstaller => Box::new(conda::Conda::new(plan, prefix, options)),
        Method::CPythonBuild | Method::ForkBuild => Box::new(fork::artifact(layout, plan, options)),
        Method::MicroPythonBuild => Box::new(micropython::MicroPython::new(plan, prefix, options)),
        Method::JythonInstaller | Method::IronPythonZip => {
            Box::new(runtime::OnRuntime::new(plan, prefix, options))
        }
    }
}

/// The download of `plan` as the pipeline fetches it: from each mirror that serves any file
/// (`{file}` or `{sha256}`, as python-build's `PYTHON_BUILD_MIRROR_URL`), then from upstream.
pub fn source(plan: &FamilyPlan, mirrors: &[String]) -> Source {
    let download = &plan.download;
    let mut urls: Vec<String> = mirrors
        .iter()
        .filter(|m| mirror::serves_any_file(m))
        .map(|m| {
            let values =
                mirror::Placeholders::source(&plan.definition.name, &download.file, &plan.sha256);
            mirror::expand(m, &values)
        })
        .collect();
    urls.push(download.url.clone());
    Source {
        candidates: vec![Wanted {
            file: download.file.clone(),
            sha256: plan.sha256.clone(),
            size: None,
            archives: Some(mirror::Archives::Sources),
            urls,
        }],
    }
}

/// The header line's title of a family install (`PyPy pypy3.10-7.3.17 (for pypy3.10)`).
pub fn title(plan: &FamilyPlan) -> String {
    let name = &plan.definition.name;
    let title = format!("{} {name}", plan.definition.family.title());
    if plan.request == *name {
        title
    } else {
        format!("{title} (for {})", plan.request)
    }
}

pub use super::platform::this_arch;
pub(crate) use settle::check_links;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(fields: &str) -> Result<Definition, String> {
        let fields: Vec<&str> = fields.split_whitespace().collect();
        Definition::parse("pypy3.10-7.3.17", Family::PyPy, &fields)
    }

    #[test]
    fn downloads_per_architecture() {
        let sha = "a".repeat(64);
        let d = parse(&format!(
            "py=3.10 x86_64=https://h/pypy3.10-v7.3.17-linux64.tar.bz2#{sha} aarch64=https://h/pypy3.10-v7.3.17-aarch64.tar.bz2#{sha}"
        ))
        .unwrap();
        assert_eq!(d.python.as_deref(), Some("3.10"));
        let x = d.download_for("x86_64").unwrap();
        assert_eq!(x.file, "pypy3.10-v7.3.17-linux64.tar.bz2");
        assert_eq!(x.sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(
            d.download_for("s390x").unwrap_err().to_string(),
            "python-build has no build of it for s390x, only for x86_64, aarch64"
        );
    }

    #[test]
    fn excluded_definitions_say_why() {
        let dev = Definition::parse("3.14-dev", Family::CPython, &["git"]).unwrap();
        assert!(
            matches!(dev.download_for("x86_64"), Err(Unavailable::Excluded(why)) if why.contains("git branch"))
        );
        let sha = "b".repeat(64);
        let src = Definition::parse(
            "pypy3.10-7.3.17-src",
            Family::PyPy,
            &[
                "src",
                &format!("any=https://h/pypy3.10-v7.3.17-src.tar.bz2#{sha}"),
            ],
        )
        .unwrap();
        assert!(src
            .exclusion()
            .unwrap()
            .contains("install pypy3.10-7.3.17,"));
        let mac_only = Definition::parse("anaconda-1.5.1", Family::Anaconda, &[]).unwrap();
        assert!(mac_only
            .download_for("x86_64")
            .unwrap_err()
            .to_string()
            .contains("no Linux build"));
    }

    #[test]
    fn malformed_fields_are_refused() {
        assert!(parse("x86_64=https://h/x%2F..%2Fy.tar.bz2").is_err());
        assert!(parse("x86_64=ftp://h/a.tar.bz2").is_err());
        assert!(parse("x86_64=https://h/a.exe").is_err());
        assert!(parse("x86_64=https://h/a.tar.bz2#nothex").is_err());
        assert!(parse("py=3").is_err());
        assert!(parse("bogus").is_err());
        assert!(parse("x86_64=https://h/a.tar.bz2 x86_64=https://h/b.tar.bz2").is_err());
        assert!(Definition::parse("../x", Family::PyPy, &[]).is_err());
        assert_eq!(Family::parse("pypy"), Some(Family::PyPy));
        assert_eq!(Family::parse("nope"), None);
    }

    #[test]
    fn every_downloading_family_names_its_files_as_the_cache_knows_them() {
        for family in Family::ALL {
            let file = crate::layout::distribution_file(family.id(), "v1.0.tar.gz");
            assert!(SourceKind::Distribution.owns(&file), "{family}: {file}");
            assert!(crate::layout::is_cache_file(&file), "{family}: {file}");
        }
    }
}
