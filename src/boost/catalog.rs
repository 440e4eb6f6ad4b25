//! The Boost release catalog embedded in the binary (`releases.tsv`, a copy of the pins in the
//! shared data: version, archive file, upstream sha256 of the `.tar.bz2`), or a file of the same
//! format named by `STRAP_BOOST_CATALOG`; and what a version request (`1.86`, `1.86.0`, `latest`)
//! means against it.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use crate::python::catalog::{catalog_lines, overlay, CatalogError};

/// A Boost version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BoostVersion(pub u32, pub u32, pub u32);

impl BoostVersion {
    /// Parses `1.86.0` (all three parts).
    pub fn parse(text: &str) -> Option<BoostVersion> {
        match crate::dotted::parse_canonical(text)?.as_slice() {
            [a, b, c] => Some(BoostVersion(*a, *b, *c)),
            _ => None,
        }
    }

    /// The archives of this release, in order of preference (`boost_1_86_0.tar.bz2`, then
    /// `.tar.gz`).
    pub fn archive_files(self) -> Vec<String> {
        crate::layout::SourceKind::Boost.archives(&self.to_string())
    }

    /// `BOOST_VERSION` as `boost/version.hpp` defines it (`108600`).
    pub fn number(self) -> u32 {
        self.0 * 100_000 + self.1 * 100 + self.2
    }
}

impl fmt::Display for BoostVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// True when `version` is `prefix` or under it (`1.8` is not a prefix of 1.81.0).
pub fn is_under(prefix: &str, version: BoostVersion) -> bool {
    crate::dotted::is_under(prefix, &version.to_string(), &['.'])
}

/// One release and its pinned archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: BoostVersion,
    pub file: String,
    pub sha256: String,
}

/// What a version request resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// A release the catalog pins.
    Known(&'a Release),
    /// A full version the catalog lacks (its checksum must come from `--sha256` or the
    /// mirror's sidecar).
    Unlisted(BoostVersion),
}

impl Resolved<'_> {
    /// The version requested.
    pub fn version(&self) -> BoostVersion {
        match self {
            Resolved::Known(release) => release.version,
            Resolved::Unlisted(version) => *version,
        }
    }
}

/// A version request the catalog cannot satisfy.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("'{0}' is not a Boost version (expected e.g. 1.86.0, 1.86 or latest)")]
    Malformed(String),
    #[error("no known Boost release matches '{request}'")]
    Unknown {
        request: String,
        nearest: Vec<String>,
    },
}

impl crate::error::Explain for RequestError {
    fn hint(&self) -> Option<String> {
        match self {
            RequestError::Malformed(_) => None,
            RequestError::Unknown { nearest, .. } => Some(format!(
                "nearest known: {}; `strap boost install --list` lists them all (a full version \
                 the catalog lacks, such as 1.93.0, is accepted with its checksum)",
                nearest.join(", ")
            )),
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            RequestError::Malformed(_) => crate::error::EXIT_USAGE,
            RequestError::Unknown { .. } => crate::error::EXIT_FAILURE,
        }
    }
}

/// The format of a catalog line, as the hint of a malformed one shows it.
const LINE_FORMAT: &str = "a Boost catalog line is `VERSION FILE SHA256` (e.g. `1.86.0 \
    boost_1_86_0.tar.bz2 <64 hex digits>`, tab- or space-separated); blank lines and lines \
    starting with # are skipped";

/// All known releases, oldest first.
#[derive(Debug, Clone)]
pub struct BoostCatalog {
    releases: Vec<Release>,
}

impl BoostCatalog {
    /// The catalog compiled into strap.
    pub fn embedded() -> &'static BoostCatalog {
        static CATALOG: OnceLock<BoostCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            BoostCatalog::parse("the embedded Boost catalog", include_str!("releases.tsv"))
                .expect("the embedded Boost catalog is well-formed (tested)")
        })
    }

    /// The embedded catalog with the releases of the file `STRAP_BOOST_CATALOG` names laid over
    /// it (see [`BoostCatalog::from_file`]); the embedded one alone without the variable.
    pub fn from_env() -> Result<std::borrow::Cow<'static, BoostCatalog>, CatalogError> {
        match std::env::var_os(crate::env_vars::STRAP_BOOST_CATALOG).filter(|p| !p.is_empty()) {
            Some(path) => Ok(std::borrow::Cow::Owned(BoostCatalog::from_file(
                Path::new(&path),
            )?)),
            None => Ok(std::borrow::Cow::Borrowed(BoostCatalog::embedded())),
        }
    }

    /// The embedded catalog with a catalog file's releases over it: a release of the file
    /// replaces the embedded one of the same version, the others are added.
    pub fn from_file(path: &Path) -> Result<BoostCatalog, CatalogError> {
        let text = crate::bounded::read_text(path).map_err(|source| CatalogError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file = BoostCatalog::parse(&path.display().to_string(), &text)?;
        let mut releases = overlay(&BoostCatalog::embedded().releases, file.releases, |r| {
            r.version
        });
        releases.sort_by_key(|r| r.version);
        Ok(BoostCatalog { releases })
    }

    /// Parses catalog text: `#` comments, blank lines, and `VERSION FILE SHA256` lines
    /// (tab- or space-separated).
    pub fn parse(source_name: &str, text: &str) -> Result<BoostCatalog, CatalogError> {
        let mut releases = Vec::new();
        for line in catalog_lines(source_name, text, LINE_FORMAT) {
            let bad = |message: String| line.malformed(message);
            match line.fields.as_slice() {
                [version, file, sha256] => {
                    let version = BoostVersion::parse(version)
                        .ok_or_else(|| bad(format!("'{version}' is not a version like 1.86.0")))?;
                    if !version.archive_files().iter().any(|f| f == file) {
                        return Err(bad(format!(
                            "the archive of {version} is {}, not '{file}'",
                            version.archive_files().join(" or ")
                        )));
                    }
                    let sha256 = crate::sha256::parse(sha256).ok_or_else(|| {
                        bad(format!("'{sha256}' is not a sha256 (64 hex digits)"))
                    })?;
                    releases.push(Release {
                        version,
                        file: (*file).to_owned(),
                        sha256,
                    });
                }
                _ => {
                    return Err(bad(
                        "expected three fields: version, archive file, sha256".to_owned()
                    ))
                }
            }
        }
        releases.sort_by_key(|r| r.version);
        releases.dedup_by_key(|r| r.version);
        Ok(BoostCatalog { releases })
    }

    /// All releases, oldest first.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// The release of exactly `version`.
    pub fn find(&self, version: BoostVersion) -> Option<&Release> {
        self.releases.iter().find(|r| r.version == version)
    }

    /// Resolves `latest`, `1.86` (the newest 1.86.x) or `1.86.0` (a release the catalog may lack).
    pub fn resolve(&self, request: &str) -> Result<Resolved<'_>, RequestError> {
        if request == "latest" {
            return self
                .releases
                .last()
                .map(Resolved::Known)
                .ok_or_else(|| self.unknown(request));
        }
        if let Some(version) = BoostVersion::parse(request) {
            return Ok(self
                .find(version)
                .map_or(Resolved::Unlisted(version), Resolved::Known));
        }
        let is_prefix =
            crate::dotted::parse_canonical::<u32>(request).is_some_and(|parts| parts.len() == 2);
        if !is_prefix {
            return Err(RequestError::Malformed(request.to_owned()));
        }
        match self.releases.iter().rfind(|r| is_under(request, r.version)) {
            Some(release) => Ok(Resolved::Known(release)),
            None => Err(self.unknown(request)),
        }
    }

    /// The releases under a prefix of whole components (`1.8` matches 1.8.x, not 1.81.0).
    pub fn matching<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl DoubleEndedIterator<Item = &'a Release> + 'a {
        self.releases
            .iter()
            .filter(move |r| is_under(prefix, r.version))
    }

    fn unknown(&self, request: &str) -> RequestError {
        RequestError::Unknown {
            request: request.to_owned(),
            nearest: self.nearest(request),
        }
    }

    /// Up to three releases nearest to `request`: those sharing its longest prefix, newest first.
    pub fn nearest(&self, request: &str) -> Vec<String> {
        let mut prefix = request;
        loop {
            let found: Vec<String> = self
                .matching(prefix)
                .rev()
                .take(3)
                .map(|r| r.version.to_string())
                .collect();
            if !found.is_empty() || prefix.is_empty() {
                return if found.is_empty() {
                    self.releases
                        .iter()
                        .rev()
                        .take(3)
                        .map(|r| r.version.to_string())
                        .collect()
                } else {
                    found
                };
            }
            prefix = prefix.rfind('.').map_or("", |i| &prefix[..i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_is_the_shared_pin_list() {
        let catalog = BoostCatalog::embedded();
        assert_eq!(catalog.releases().len(), 39);
        assert_eq!(
            catalog.releases()[0].version.to_string(),
            "1.55.0",
            "oldest first"
        );
        let r181 = catalog.find(BoostVersion(1, 81, 0)).unwrap();
        assert_eq!(r181.file, "boost_1_81_0.tar.bz2");
        assert_eq!(
            r181.sha256,
            "71feeed900fbccca04a3b4f2f84a7c217186f28a940ed8b7ed4725986baf99fa"
        );
    }

    #[test]
    fn requests_resolve_to_releases() {
        let catalog = BoostCatalog::embedded();
        let v = |r: &str| catalog.resolve(r).map(|r| r.version().to_string());
        assert_eq!(v("1.81").unwrap(), "1.81.0");
        assert_eq!(v("1.81.0").unwrap(), "1.81.0");
        assert_eq!(v("latest").unwrap(), "1.92.0");
        assert!(matches!(
            catalog.resolve("1.93.0"),
            Ok(Resolved::Unlisted(BoostVersion(1, 93, 0)))
        ));
        assert!(matches!(
            catalog.resolve("1.99"),
            Err(RequestError::Unknown { .. })
        ));
        for bad in ["1", "1.x", "1.81.0.1", "../1.81", "01.81.0", ""] {
            assert!(
                matches!(catalog.resolve(bad), Err(RequestError::Malformed(_))),
                "{bad}"
            );
        }
        assert_eq!(catalog.nearest("1.99"), ["1.92.0", "1.91.0", "1.90.0"]);
        assert_eq!(catalog.matching("1.8").count(), 0, "whole components only");
        assert_eq!(catalog.matching("1").count(), 39);
    }

    #[test]
    fn malformed_catalogs_name_the_line() {
        let err = BoostCatalog::parse("c.tsv", "# x\n1.81.0 boost_1_81_0.tar.bz2 abc\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.tsv:2: "), "{err}");
        let err = BoostCatalog::parse(
            "c.tsv",
            &format!("1.81.0 boost_1_80_0.tar.bz2 {}\n", "a".repeat(64)),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("boost_1_81_0.tar.bz2"), "{err}");
    }
}
