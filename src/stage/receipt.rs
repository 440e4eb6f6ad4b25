//! The receipt in every installed prefix (`strap-receipt.json`): what was installed, from which
//! verified sources, with which options, by which strap, when.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Artifact;

/// The receipt's file name inside the prefix.
pub const RECEIPT_FILE: &str = "strap-receipt.json";

/// One source archive the install was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceArchive {
    pub file: String,
    pub sha256: String,
}

/// What an install records about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub kind: String,
    pub name: String,
    pub sources: Vec<SourceArchive>,
    pub options: Vec<String>,
    /// Kind-specific facts ([`Artifact::details`]).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    pub strap_version: String,
    /// When it was built (UTC, RFC 3339).
    pub date: String,
    /// The build cache key ([`crate::pack::artifact_key`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The packed build it was installed from, when it was not built here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_pack: Option<SourceArchive>,
}

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
            key: Some(crate::pack::artifact_key(
                artifact,
                &crate::pack::Platform::current(),
            )),
            from_pack: None,
            date: utc_now(),
        }
    }

    /// The receipt of the install at `prefix`, if it has a readable one.
    pub fn read(prefix: &Path) -> Option<Receipt> {
        let text = crate::bounded::read_text(&prefix.join(RECEIPT_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes it into `prefix`, whole, and never through a link (an unpacked build may bring
    /// one; see [`crate::atomic_file`]).
    pub fn write(&self, prefix: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        crate::atomic_file::write(&prefix.join(RECEIPT_FILE), (text + "\n").as_bytes())
    }
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
