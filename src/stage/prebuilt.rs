//! A packed build ([`crate::pack`]) installed instead of building: the same pipeline with the
//! pack as its source, unpacking and relocation as its build, and the packed kind's own
//! verification. Found in the build cache (`<cache>/builds/`), which every source build fills.

use std::path::{Path, PathBuf};

use super::miss::{Defect, Fault, Unusable};
use super::{Artifact, Build, Source, StageError};
use crate::binary::{BinaryMirror, Found, PackId};
use crate::error::IoContext;
use crate::fetch::{FetchError, FetchSettings, Fetcher, Wanted};
use crate::identity::{runs_here, Platform};
use crate::layout::{build_cache_file, BUILDS_DIR};
use crate::lock::{FileLock, TryLock};
use crate::pack::Manifest;
use crate::report::Reporter;

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
    /// there from `from`): `None` when there is none; why not when it cannot be used (its
    /// manifest does not fit, see [`Manifest::refusal`], or its archive is missing).
    pub(super) fn cached(
        inner: &'a dyn Artifact,
        cache_dir: &Path,
        key: &str,
        from: &str,
    ) -> Option<Result<Prebuilt<'a>, Unusable>> {
        let (archive, manifest_file) = crate::layout::pack_files(inner.kind(), inner.name(), key);
        let builds = cache_dir.join(BUILDS_DIR);
        let path = builds.join(manifest_file);
        let text = crate::bounded::read_text(&path).ok()?;
        let bad = |defect: Defect| {
            Some(Err(Unusable {
                defect,
                fault: Fault::Pack,
            }))
        };
        let manifest = match Manifest::from_json(text.as_bytes()) {
            Ok(manifest) => manifest,
            Err(error) => return bad(Defect::Manifest { path, error }),
        };
        let here = Platform::current();
        let refusal = manifest
            .refusal(inner.kind(), inner.name(), key, &here)
            .or_else(|| {
                (manifest.archive.file != archive)
                    .then(|| format!("its archive is {}, not {archive}", manifest.archive.file))
            });
        if let Some(why) = refusal {
            let defect = Defect::Refused(why);
            if !runs_here(&manifest.platform, &here) {
                let fault = Fault::NotForHere;
                return Some(Err(Unusable { defect, fault }));
            }
            return bad(defect);
        }
        if !std::fs::symlink_metadata(builds.join(&archive)).is_ok_and(|m| m.is_file()) {
            return bad(Defect::Refused(format!("its archive {archive} is missing")));
        }
        Some(Ok(Prebuilt {
            inner,
            sources: vec![Source {
                candidates: vec![Wanted {
                    // Found by the fetcher's cache lookup, and checked against its sha256.
                    file: build_cache_file(&archive),
                    sha256: manifest.archive.sha256.clone(),
                    size: Some(manifest.archive.size),
                    archives: None,
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
                    file: build_cache_file(&found.manifest.archive.file),
                    sha256: found.manifest.archive.sha256.clone(),
                    size: Some(found.manifest.archive.size),
                    archives: None,
                    urls: Vec::new(),
                }],
            }],
            manifest: found.manifest.clone(),
            from: mirror.to_string(),
            remote: Some((mirror, found)),
        }
    }
}

/// Removes the pack `id` (archive and manifest) from the build cache, after it was refused;
/// true when it is gone. Left when another strap process is downloading it anew meanwhile.
pub(super) fn discard(id: PackId<'_>, settings: &FetchSettings) -> bool {
    let (archive, manifest) = crate::layout::pack_files(id.kind, id.name, id.key);
    let lock = (settings.locks_dir).join(crate::layout::download_lock_name(&build_cache_file(
        &archive,
    )));
    let Ok(TryLock::Acquired(_lock)) = FileLock::try_acquire(&lock, true) else {
        return false;
    };
    let builds = settings.cache_dir.join(BUILDS_DIR);
    [archive, manifest]
        .iter()
        .all(|file| match std::fs::remove_file(builds.join(file)) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        })
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
            crate::layout::short_key(&self.manifest.key)
        )
    }

    fn prefix(&self) -> &Path {
        self.inner.prefix()
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
            None => match fetcher.fetch(&self.sources[0].candidates, reporter) {
                Ok((archive, _)) => Ok(vec![archive]),
                // Nowhere to download it from: the cached archive did not match (and was set
                // aside), or went away.
                Err(FetchError::AllMirrorsFailed { attempts, .. }) if attempts.is_empty() => {
                    Err(StageError::Verify {
                        what: self.name().to_owned(),
                        why: "its archive in the build cache is not the one its manifest \
                              names (sha256 mismatch)"
                            .to_owned(),
                        hint: None,
                    })
                }
                Err(e) => Err(e.into()),
            },
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
                    std::fs::create_dir_all(parent).io_context("create", parent)?;
                }
                std::fs::rename(&unpacked, &staged_prefix)
                    .io_context("move into the staging area", &unpacked)?;
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
