//! A directory of packs: `<stem>.json` manifests next to their archives, on this machine
//! (`file://`) or served over HTTP(S) (any static file server; uploads by HTTP `PUT`, as
//! WebDAV-style stores such as Artifactory or Nexus raw repositories take them).

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::{BinaryError, PackId};
use crate::fetch::{FetchError, Fetcher, Wanted};
use crate::pack::Manifest;
use crate::report::Reporter;

/// The manifest of `id` in the directory `base`.
pub(super) fn lookup(
    base: &url::Url,
    id: PackId<'_>,
    fetcher: &mut Fetcher,
) -> Result<Manifest, BinaryError> {
    let (_, manifest_file) = id.file_names();
    let manifest_url = join(base, &manifest_file)?;
    let bytes = fetcher
        .small_file(manifest_url.as_str())
        .map_err(|e| match e {
            e if e.is_not_found() => BinaryError::NotThere,
            e => BinaryError::Mirror(format!("{manifest_url}: {e}")),
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| BinaryError::Refused(format!("{manifest_url} is not a pack manifest: {e}")))
}

/// Downloads `remote_file` from the directory `base` into the build cache as `manifest`'s
/// archive, checked against its sha256.
pub(super) fn download(
    base: &url::Url,
    remote_file: &str,
    manifest: &Manifest,
    fetcher: &mut Fetcher,
    reporter: &dyn Reporter,
) -> Result<(), BinaryError> {
    let wanted = Wanted {
        file: crate::layout::build_cache_file(&manifest.archive.file),
        sha256: manifest.archive.sha256.clone(),
        size: Some(manifest.archive.size),
        urls: vec![join(base, remote_file)?.to_string()],
    };
    match fetcher.fetch(&[wanted], reporter) {
        Ok(_) => Ok(()),
        Err(FetchError::Interrupted) => Err(BinaryError::Interrupted),
        Err(FetchError::Io {
            action,
            path,
            source,
        }) => Err(BinaryError::Local {
            action,
            path,
            source,
        }),
        Err(FetchError::AllMirrorsFailed { attempts, .. }) => Err(BinaryError::Mirror(
            attempts
                .iter()
                .map(|(url, why)| format!("{url}: {why}"))
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Err(e) => Err(BinaryError::Mirror(e.to_string())),
    }
}

/// Uploads the pack into the directory `base`: the archive first, the manifest last (so a
/// reader never finds a manifest without its archive).
pub(super) fn push(
    base: &url::Url,
    archive: &Path,
    manifest: &Manifest,
    reporter: &dyn Reporter,
    stall_timeout: Duration,
) -> Result<String, BinaryError> {
    let (archive_file, manifest_file) = PackId::of(manifest).file_names();
    let manifest_url = join(base, &manifest_file)?;
    if base.scheme() == "file" {
        let dir = base
            .to_file_path()
            .map_err(|()| BinaryError::Mirror(format!("{base} is not a local path")))?;
        fs::create_dir_all(&dir).map_err(BinaryError::local("create", &dir))?;
        let target = dir.join(&archive_file);
        let part = dir.join(format!(".{archive_file}.part"));
        fs::copy(archive, &part)
            .and_then(|_| fs::rename(&part, &target))
            .map_err(|e| {
                let _ = fs::remove_file(&part);
                BinaryError::Local {
                    action: "copy the archive to",
                    path: target.clone(),
                    source: e,
                }
            })?;
        super::write_manifest(manifest, &dir.join(&manifest_file))?;
        return Ok(manifest_url.to_string());
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .connect_timeout(stall_timeout)
        .user_agent(concat!("strap/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| BinaryError::Mirror(e.to_string()))?;
    let size = fs::metadata(archive)
        .map_err(BinaryError::local("read", archive))?
        .len();
    let file =
        crate::bounded::open_regular(archive).map_err(BinaryError::local("read", archive))?;
    let archive_url = join(base, &archive_file)?;
    reporter.message(&format!(
        "uploading {} ({}) to {archive_url}",
        archive.display(),
        crate::clean::human_bytes(size)
    ));
    put(
        &client,
        &archive_url,
        reqwest::blocking::Body::sized(file, size),
    )?;
    let text = serde_json::to_string_pretty(manifest).expect("a manifest serializes") + "\n";
    put(&client, &manifest_url, text.into())?;
    Ok(manifest_url.to_string())
}

/// One `PUT`, with the URL's user and password (else `STRAP_REGISTRY_USER` and
/// `STRAP_REGISTRY_PASSWORD`) as basic authentication.
fn put(
    client: &reqwest::blocking::Client,
    url: &url::Url,
    body: reqwest::blocking::Body,
) -> Result<(), BinaryError> {
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    let mut request = client.put(bare.as_str()).body(body);
    if !url.username().is_empty() {
        request = request.basic_auth(url.username(), url.password());
    } else if let Some((user, password)) = super::oci::credentials_from_env() {
        request = request.basic_auth(user, Some(password));
    }
    let response = request
        .send()
        .map_err(|e| BinaryError::Mirror(format!("{bare}: {e}")))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(BinaryError::Mirror(format!(
            "{bare}: HTTP {} to the upload",
            response.status()
        )))
    }
}

/// `base` joined with a plain file name.
fn join(base: &url::Url, file: &str) -> Result<url::Url, BinaryError> {
    base.join(file)
        .map_err(|e| BinaryError::Mirror(format!("{base}{file}: {e}")))
}
