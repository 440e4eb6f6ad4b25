//! A packed build ([`crate::pack`]) installed instead of building: the same pipeline with the
//! pack as its source, unpacking and relocation as its build, and the packed kind's own
//! verification. Found in the build cache (`<cache>/builds/`), which every source build fills.

use std::path::{Path, PathBuf};

use super::{Artifact, Build, Source, StageError};
use crate::fetch::Wanted;
use crate::pack::{Manifest, Platform};

/// The directory of the build cache under the download cache.
pub const BUILDS_DIR: &str = "builds";

/// A packed build of `inner`.
pub struct Prebuilt<'a> {
    inner: &'a dyn Artifact,
    manifest: Manifest,
    sources: Vec<Source>,
}

impl<'a> Prebuilt<'a> {
    /// The cached build of `inner` with `key` in `cache_dir`, when there is a usable one.
    pub fn cached(inner: &'a dyn Artifact, cache_dir: &Path, key: &str) -> Option<Prebuilt<'a>> {
        let (archive, manifest_file) = crate::pack::file_names(inner.name(), key);
        let text = std::fs::read_to_string(cache_dir.join(BUILDS_DIR).join(manifest_file)).ok()?;
        let manifest: Manifest = serde_json::from_str(&text).ok()?;
        let usable = manifest.key == key
            && manifest.kind == inner.kind()
            && manifest.name == inner.name()
            && runs_here(&manifest.platform, &Platform::current());
        (usable && manifest.archive.file == archive).then(|| Prebuilt {
            inner,
            sources: vec![Source {
                candidates: vec![Wanted {
                    // Found by the fetcher's cache lookup, and checked against its sha256.
                    file: format!("{BUILDS_DIR}/{archive}"),
                    sha256: manifest.archive.sha256.clone(),
                    urls: Vec::new(),
                }],
            }],
            manifest,
        })
    }
}

/// True when a build made on `built` runs on `here`: same architecture, OS and C library, and
/// a C library at least as new.
pub fn runs_here(built: &Platform, here: &Platform) -> bool {
    let newer_or_same = match (&built.libc_version, &here.libc_version) {
        (Some(needed), Some(have)) => version_parts(needed) <= version_parts(have),
        (None, _) => true,
        (Some(_), None) => false,
    };
    built.arch == here.arch && built.os == here.os && built.libc == here.libc && newer_or_same
}

fn version_parts(version: &str) -> Vec<u64> {
    version.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

impl Artifact for Prebuilt<'_> {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn title(&self) -> String {
        format!(
            "{} from the build cache (key {})",
            self.inner.title(),
            &self.manifest.key[..16]
        )
    }

    fn prefix(&self) -> &Path {
        self.inner.prefix()
    }

    fn preflight(&self) -> Result<Vec<String>, StageError> {
        Ok(Vec::new())
    }

    fn sources(&self) -> &[Source] {
        &self.sources
    }

    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let unpacked = build.sources[0].clone();
        let staged_prefix: PathBuf = build.staged_prefix();
        let old = self.manifest.prefix.display().to_string();
        let new = self.prefix().display().to_string();
        build.phases.run(
            "relocate",
            &format!("built for {old}, installed in {new}"),
            || {
                if let Some(parent) = staged_prefix.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| StageError::io("create", parent, e))?;
                }
                std::fs::rename(&unpacked, &staged_prefix)
                    .map_err(|e| StageError::io("move into the staging area", &unpacked, e))?;
                if old != new {
                    crate::relocate::relocate(&staged_prefix, &old, &new).map_err(|e| {
                        StageError::Verify {
                            what: self.name().to_owned(),
                            why: e.to_string(),
                            hint: Some("install it from source with --no-binary".to_owned()),
                        }
                    })?;
                }
                Ok(())
            },
        )
    }

    fn verify_detail(&self) -> String {
        self.inner.verify_detail()
    }

    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        self.inner.verify(build)
    }

    fn options(&self) -> Vec<String> {
        self.inner.options()
    }

    fn details(&self) -> serde_json::Value {
        self.inner.details()
    }

    fn packed(&self) -> Option<&Manifest> {
        Some(&self.manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_runs_where_the_c_library_is_as_new_or_newer() {
        let platform = |arch: &str, libc: &str, version: Option<&str>| Platform {
            arch: arch.into(),
            os: "linux".into(),
            libc: libc.into(),
            libc_version: version.map(str::to_owned),
        };
        let here = platform("x86_64", "glibc", Some("2.36"));
        assert!(runs_here(&platform("x86_64", "glibc", Some("2.31")), &here));
        assert!(runs_here(&platform("x86_64", "glibc", Some("2.36")), &here));
        assert!(!runs_here(
            &platform("x86_64", "glibc", Some("2.39")),
            &here
        ));
        assert!(!runs_here(
            &platform("x86_64", "glibc", Some("2.100")),
            &here
        ));
        assert!(!runs_here(
            &platform("aarch64", "glibc", Some("2.31")),
            &here
        ));
        assert!(!runs_here(&platform("x86_64", "musl", None), &here));
    }
}
