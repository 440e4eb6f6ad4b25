//! Which Boost archives a planned install fetches, each with the checksum it must have:
//! `--sha256` for either format, else the archive the catalog pins, else — a release the
//! catalog lacks — the `<archive>.json` sidecar a mirror publishes next to it.

use super::plan::Plan;
use crate::error::Explain;
use crate::fetch::mirror::{self, Placeholders};
use crate::fetch::{Fetcher, Wanted};
use crate::python::catalog::pin_override_warning;

/// The archives to fetch, and what the user should be warned about (a `--sha256` that is not
/// the catalog's pin; a checksum from the same mirror as the archive).
#[derive(Debug)]
pub struct Archives {
    pub wanted: Vec<Wanted>,
    pub warnings: Vec<String>,
}

/// A release the catalog lacks, for which no mirror publishes a checksum.
#[derive(Debug, thiserror::Error)]
#[error(
    "Boost {version} is not in strap's catalog and no mirror publishes a checksum for it:{}",
    tried.iter().map(|t| format!("\n  {t}")).collect::<String>()
)]
pub struct NoChecksum {
    pub version: String,
    /// Each sidecar asked, and why it did not do.
    pub tried: Vec<String>,
}

impl Explain for NoChecksum {
    fn hint(&self) -> Option<String> {
        Some(
            "give the archive's sha256 with --sha256 HEX, or add the release to a catalog of \
             your own (STRAP_BOOST_CATALOG)"
                .to_owned(),
        )
    }
}

/// The archives `plan` needs from `mirrors` (templates), `sha256` being `--sha256`
/// (lowercase); sidecars are read with `fetcher`.
pub fn archives(
    plan: &Plan,
    sha256: Option<&str>,
    mirrors: &[String],
    fetcher: &mut Fetcher,
) -> Result<Archives, NoChecksum> {
    let version = plan.version.to_string();
    let files = plan.version.archive_files();
    let wanted = |file: &str, sha: &str| Wanted {
        file: file.to_owned(),
        sha256: sha.to_owned(),
        size: None,
        archives: Some(mirror::Archives::Sources),
        urls: mirrors
            .iter()
            .map(|m| mirror::expand(m, &Placeholders::source(&version, file, sha)))
            .collect(),
    };
    let mut warnings = Vec::new();
    let wanted = match (sha256, &plan.pinned) {
        (Some(pin), catalog) => {
            let pins: Vec<(&str, &str)> = catalog
                .iter()
                .map(|(file, sha)| (file.as_str(), sha.as_str()))
                .collect();
            warnings.extend(pin_override_warning(pin, &pins));
            files.iter().map(|f| wanted(f, pin)).collect()
        }
        (None, Some((file, pin))) => vec![wanted(file, pin)],
        (None, None) => {
            let mut found = Vec::new();
            let mut tried = Vec::new();
            for file in &files {
                if let Some((sha, url)) = sidecar(&version, file, mirrors, fetcher, &mut tried) {
                    warnings.push(format!(
                        "Boost {version} is not in strap's catalog: {file} is checked against \
                         the sha256 published next to it ({url}); a checksum from the same \
                         mirror guards against corruption, not tampering (pin it with --sha256 \
                         or STRAP_BOOST_CATALOG)"
                    ));
                    found.push(wanted(file, &sha));
                }
            }
            if found.is_empty() {
                return Err(NoChecksum { version, tried });
            }
            found
        }
    };
    Ok(Archives { wanted, warnings })
}

/// The sha256 in `<archive URL>.json` on the first mirror that has it, and that URL; each
/// sidecar that did not do is added to `tried` with why.
fn sidecar(
    version: &str,
    file: &str,
    mirrors: &[String],
    fetcher: &mut Fetcher,
    tried: &mut Vec<String>,
) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Sidecar {
        sha256: String,
    }
    for template in mirrors.iter().filter(|m| !m.contains("{sha256}")) {
        let url = format!(
            "{}.json",
            mirror::expand(template, &Placeholders::source(version, file, ""))
        );
        match fetcher.small_file(&url) {
            Ok(body) => match serde_json::from_slice::<Sidecar>(&body)
                .ok()
                .and_then(|s| crate::sha256::parse(&s.sha256))
            {
                Some(sha256) => return Some((sha256, url)),
                None => tried.push(format!("{url}: not a {{\"sha256\": …}} checksum file")),
            },
            Err(why) => tried.push(format!("{url}: {why}")),
        }
    }
    None
}
