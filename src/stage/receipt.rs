//! The receipt ([`Receipt`]) an install through the pipeline writes into its prefix, and the
//! cache key of what an [`Artifact`] builds.

use std::path::{Path, PathBuf};

use super::Artifact;
use crate::identity::{Platform, Receipt, SourceArchive};

impl Receipt {
    /// The receipt for `artifact` built from the fetched `archives` (or, for a packed build,
    /// the sources and strap of the build it was packed from, naming the pack, with this
    /// install's options and details: its prefix, its Python).
    pub fn new(artifact: &dyn Artifact, archives: &[PathBuf]) -> Receipt {
        if let Some(packed) = artifact.packed() {
            return Receipt {
                kind: packed.kind.clone(),
                name: packed.name.clone(),
                sources: packed.sources.clone(),
                options: artifact.options(),
                details: artifact.details(),
                strap_version: packed.strap_version.clone(),
                date: utc_now(),
                key: Some(packed.key.clone()),
                from_pack: Some(SourceArchive {
                    file: packed.archive.file.clone(),
                    sha256: packed.archive.sha256.clone(),
                }),
            };
        }
        let sources = artifact
            .sources()
            .iter()
            .zip(archives)
            .filter_map(|(source, path)| {
                let file = path.file_name()?.to_string_lossy();
                source
                    .candidates
                    .iter()
                    .find(|w| w.file == file)
                    .map(|w| SourceArchive {
                        file: w.file.clone(),
                        sha256: w.sha256.clone(),
                    })
            })
            .collect();
        Receipt {
            kind: artifact.kind().to_owned(),
            name: artifact.name().to_owned(),
            sources,
            options: artifact.options(),
            details: artifact.details(),
            strap_version: env!("CARGO_PKG_VERSION").to_owned(),
            key: Some(artifact_key(artifact, &Platform::current())),
            from_pack: None,
            date: utc_now(),
        }
    }
}

/// The cache key of what `artifact` builds here, known before anything is fetched: its
/// sources count by the sha256 of every archive it accepts (a `.tar.xz` and a `.tgz` of the
/// same release build the same thing), and paths in its options and details count relative to
/// its own prefix (`{prefix}`) and strap root (`{root}`: a Boost.Python build against a strap
/// Python), since a build is relocatable: the same build for another root is the same build.
pub fn artifact_key(artifact: &dyn Artifact, platform: &Platform) -> String {
    let shas = artifact
        .sources()
        .iter()
        .flat_map(|s| s.candidates.iter().map(|w| w.sha256.clone()))
        .collect();
    let prefix = artifact.prefix().display().to_string();
    let relative = prefix.trim_start_matches('/').to_owned();
    let root = artifact
        .prefix()
        .parent()
        .and_then(Path::parent)
        .map(|root| format!("{}/", root.display()))
        .filter(|root| root != "//");
    let abstracted = |text: &str| {
        let text = text
            .replace(&prefix, "{prefix}")
            .replace(&relative, "{prefix}");
        match &root {
            Some(root) => text.replace(root, "{root}/"),
            None => text,
        }
    };
    let options: Vec<String> = artifact.options().iter().map(|o| abstracted(o)).collect();
    let details = serde_json::from_str(&abstracted(&artifact.details().to_string()))
        .unwrap_or(serde_json::Value::Null);
    crate::identity::key(
        artifact.kind(),
        artifact.name(),
        shas,
        &options,
        &details,
        platform,
        env!("CARGO_PKG_VERSION"),
    )
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    rfc3339(chrono::Utc::now())
}

/// An RFC 3339 UTC timestamp in whole seconds, `Z` for the zone.
fn rfc3339(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let at = |secs| rfc3339(chrono::DateTime::from_timestamp(secs, 0).unwrap());
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_746_245), "2026-11-27T02:24:05Z");
    }
}
