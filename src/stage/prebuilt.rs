//! A packed build ([`crate::pack`]) installed instead of building: the same pipeline with the
//! pack as its source, unpacking and relocation as its build, and the packed kind's own
//! verification. Found in the build cache (`<cache>/builds/`), which every source build fills.

use std::path::{Path, PathBuf};

use super::{Artifact, Build, Source, StageError};
use crate::binary::{BinaryMirror, Found};
use crate::fetch::{Fetcher, Wanted};
use crate::pack::{Manifest, Platform};
use crate::report::Reporter;

/// The directory of the build cache under the download cache.
pub const BUILDS_DIR: &str = "builds";

/// A packed build of `inner`.
pub struct Prebuilt<'a> {
    inner: &'a dyn Artifact,
    manifest: Manifest,
    sources: Vec<Source>,
    /// Where the pack came from, for the header (`the build cache`, a binary mirror).
    from: String,
    /// The binary mirror its archive is downloaded from (else it is in the build cache).
    remote: Option<(&'a BinaryMirror, Found)>,
}

impl<'a> Prebuilt<'a> {
    /// The packed build of `inner` with `key` in the build cache under `cache_dir` (downloaded
    /// there from `from`): `None` when there is none, an error saying why when its manifest
    /// does not fit (see [`Manifest::refusal`]).
    pub fn cached(
        inner: &'a dyn Artifact,
        cache_dir: &Path,
        key: &str,
        from: &str,
    ) -> Option<Result<Prebuilt<'a>, String>> {
        let (archive, manifest_file) = crate::pack::file_names(inner.kind(), inner.name(), key);
        let path = cache_dir.join(BUILDS_DIR).join(manifest_file);
        let text = crate::bounded::read_text(&path).ok()?;
        let manifest: Manifest = match serde_json::from_str(&text) {
            Ok(manifest) => manifest,
            Err(e) => return Some(Err(format!("{}: {e}", path.display()))),
        };
        let refusal = manifest
            .refusal(inner.kind(), inner.name(), key, &Platform::current())
            .or_else(|| {
                (manifest.archive.file != archive)
                    .then(|| format!("its archive is {}, not {archive}", manifest.archive.file))
            });
        if let Some(why) = refusal {
            return Some(Err(why));
        }
        Some(Ok(Prebuilt {
            inner,
            sources: vec![Source {
                candidates: vec![Wanted {
                    // Found by the fetcher's cache lookup, and checked against its sha256.
                    file: format!("{BUILDS_DIR}/{archive}"),
                    sha256: manifest.archive.sha256.clone(),
                    size: Some(manifest.archive.size),
                    urls: Vec::new(),
                }],
            }],
            manifest,
            from: from.to_owned(),
            remote: None,
        }))
    }

    /// The pack of `inner` that `mirror` has (see [`BinaryMirror::lookup`]); its download is
    /// the pipeline's download phase.
    pub fn remote(inner: &'a dyn Artifact, mirror: &'a BinaryMirror, found: Found) -> Prebuilt<'a> {
        Prebuilt {
            inner,
            sources: vec![Source {
                candidates: vec![Wanted {
                    file: format!("{BUILDS_DIR}/{}", found.manifest.archive.file),
                    sha256: found.manifest.archive.sha256.clone(),
                    size: Some(found.manifest.archive.size),
                    urls: Vec::new(),
                }],
            }],
            manifest: found.manifest.clone(),
            from: mirror.to_string(),
            remote: Some((mirror, found)),
        }
    }
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
            "{} from {} (key {})",
            self.inner.title(),
            self.from,
            &self.manifest.key[..16]
        )
    }

    fn prefix(&self) -> &Path {
        self.inner.prefix()
    }

    /// Not run: a packed build needs no build prerequisites (see [`super::staged_install`]).
    fn preflight(&self) -> Result<Vec<String>, StageError> {
        Ok(Vec::new())
    }

    fn sources(&self) -> &[Source] {
        &self.sources
    }

    fn fetch(
        &self,
        fetcher: &mut Fetcher,
        reporter: &dyn Reporter,
    ) -> Result<Vec<PathBuf>, StageError> {
        match &self.remote {
            Some((mirror, found)) => Ok(vec![mirror.download(found, fetcher, reporter)?]),
            None => Ok(vec![
                fetcher.fetch(&self.sources[0].candidates, reporter)?.0,
            ]),
        }
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
