//! `strap pack` and `strap push` (and their `strap boost` twins): an installed build as a
//! `.tar.zst` and its manifest, written to a file or uploaded to a binary mirror.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::progress::TerminalReporter;
use super::Ctx;
use crate::binary::{BinaryMirror, PackId};
use crate::error::Reported;
use crate::identity::Platform;
use crate::layout::{short_key, BUILDS_DIR};
use crate::pack::{self, Manifest};
use crate::process::Cancel;
use crate::version::{self, Origin, Resolved};

/// The flags of `strap pack` and `strap boost pack`.
#[derive(clap::Args)]
pub struct PackArgs {
    /// An installed build (exact name or prefix)
    pub version: String,
    /// The archive to write (its manifest goes next to it, `.json` for `.tar.zst`), or a
    /// directory to write `<kind>-<name>-<key>.tar.zst` into; default: the current directory
    #[arg(short, long, value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,
}

/// The flags of `strap push` and `strap boost push`.
#[derive(clap::Args)]
pub struct PushArgs {
    /// An installed build (exact name or prefix)
    pub version: String,
    /// The binary mirror: file:///DIR, https://HOST/DIR (HTTP PUT) or oci://REGISTRY/REPO
    #[arg(long, value_name = "URL")]
    pub to: String,
}

/// The prefix of the installed Python `request` names.
pub(super) fn python_prefix(ctx: &Ctx, request: &str) -> Result<PathBuf, Reported> {
    match version::resolve(&ctx.layout, request, &Origin::Argument)? {
        Resolved::Installed { prefix, .. } => Ok(prefix),
        Resolved::System => Err(Reported::failure(
            "the system Python is not a build strap can pack",
            "`strap versions --bare` lists the installed versions",
        )),
    }
}

/// Packs the install at `prefix` into `output` (a file, or a directory that gets the pack's
/// standard name, like `cp`'s target; default: the current directory); prints the archive's
/// path.
pub(super) fn pack(
    ctx: &Ctx,
    prefix: &Path,
    output: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let archive = match output {
        Some(dir) if names_a_directory(&dir) => dir.join(standard_file_name(prefix)?),
        Some(file) => file,
        None => {
            let dir = ctx.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
            dir.join(standard_file_name(prefix)?)
        }
    };
    let manifest = manifest_path(&archive);
    let packed =
        pack::pack(prefix, &archive, &manifest, &Cancel::on_signals()).map_err(Reported::from)?;
    writeln!(out, "{}", archive.display())?;
    tell!(
        "packed {} {} ({}, key {}) into {} ({}); manifest {}",
        packed.kind,
        packed.name,
        packed.platform.arch,
        short_key(&packed.key),
        archive.display(),
        indicatif::HumanBytes(packed.archive.size),
        manifest.display()
    );
    Ok(())
}

/// Uploads the pack of the install at `prefix` to the binary mirror `to` (packing it into the
/// build cache first unless it is there); prints where it went.
pub(super) fn push(
    ctx: &Ctx,
    prefix: &Path,
    to: &str,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let mirror = BinaryMirror::parse(to, "--to").map_err(Reported::from)?;
    let stall_timeout = crate::settings::stall_timeout().map_err(Reported::from)?;
    // Held to the end, so no install, uninstall or `strap cache clean` touches the install or
    // its pack while it is packed and uploaded.
    let receipt = pack::receipt(prefix)?;
    let _lock = crate::lock::FileLock::acquire(
        &ctx.layout.install_lock(&receipt.kind, &receipt.name),
        |_| tell!("waiting for another strap process using {}", receipt.name),
    )?;
    let cancel = Cancel::on_signals();
    let (archive, manifest) = cached_pack(ctx, prefix, &cancel)?;
    let reporter = TerminalReporter::new(false);
    let location = mirror
        .push(&archive, &manifest, &reporter, stall_timeout, &cancel)
        .map_err(|e| {
            let message = format!(
                "cannot push {} {} to {mirror}: {e}",
                manifest.kind, manifest.name
            );
            Reported {
                message,
                ..Reported::of(&e)
            }
        })?;
    writeln!(out, "{location}")?;
    tell!(
        "pushed {} {} (key {}, {}) to {location}",
        manifest.kind,
        manifest.name,
        short_key(&manifest.key),
        indicatif::HumanBytes(manifest.archive.size)
    );
    Ok(())
}

/// The pack of the install at `prefix` in the build cache, made now when it is not there (or
/// its archive no longer matches its manifest); the caller holds the install's lock.
fn cached_pack(ctx: &Ctx, prefix: &Path, cancel: &Cancel) -> Result<(PathBuf, Manifest), Reported> {
    let receipt = pack::receipt(prefix)?;
    let key = receipt.key(&Platform::current());
    let id = PackId {
        kind: &receipt.kind,
        name: &receipt.name,
        key: &key,
    };
    let builds = ctx.layout.cache_dir().join(BUILDS_DIR);
    let (archive_file, manifest_file) = crate::layout::pack_files(id.kind, id.name, id.key);
    let (archive, manifest) = (builds.join(archive_file), builds.join(manifest_file));
    let cached = crate::bounded::read_text(&manifest)
        .ok()
        .and_then(|text| Manifest::from_json(text.as_bytes()).ok())
        .filter(|m| m.key == key)
        .filter(|m| {
            crate::fetch::sha256_file(&archive).is_ok_and(|sha256| sha256 == m.archive.sha256)
        });
    if let Some(cached) = cached {
        return Ok((archive, cached));
    }
    std::fs::create_dir_all(&builds)?;
    let packed = pack::pack(prefix, &archive, &manifest, cancel).map_err(Reported::from)?;
    Ok((archive, packed))
}

/// The archive name of the install at `prefix`'s pack: `<kind>-<name>-<key16>.tar.zst`.
fn standard_file_name(prefix: &Path) -> Result<String, Reported> {
    let receipt = pack::receipt(prefix)?;
    let key = receipt.key(&Platform::current());
    Ok(crate::layout::pack_files(&receipt.kind, &receipt.name, &key).0)
}

/// True for an existing directory, or a path written as one (`out/`).
fn names_a_directory(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().as_encoded_bytes().ends_with(b"/")
}

/// The manifest next to an archive: `x.tar.zst` → `x.json`, anything else → `<file>.json`.
fn manifest_path(archive: &Path) -> PathBuf {
    let name = archive.file_name().unwrap_or_default().to_string_lossy();
    match name.strip_suffix(".tar.zst") {
        Some(stem) => archive.with_file_name(format!("{stem}.json")),
        None => archive.with_file_name(format!("{name}.json")),
    }
}
