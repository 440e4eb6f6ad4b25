//! `strap pack`: an installed version as a `.tar.zst` and its manifest, for other machines.

use std::io::Write;
use std::path::PathBuf;

use super::Ctx;
use crate::error::Reported;
use crate::pack::{self, Platform};
use crate::stage::Receipt;
use crate::version::{self, Origin, Resolved};

/// The flags of `strap pack`.
#[derive(clap::Args)]
pub struct PackArgs {
    /// An installed version (exact name or prefix)
    pub version: String,
    /// The archive to write (its manifest goes next to it, `.json` for `.tar.zst`); default:
    /// `<name>-<key>.tar.zst` in the current directory
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub(super) fn run(ctx: &Ctx, args: PackArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let (name, prefix) = match version::resolve(&ctx.layout, &args.version, &Origin::Argument)? {
        Resolved::Installed { name, prefix } => (name, prefix),
        Resolved::System => {
            return Err(Reported::failure(
                "the system Python is not a build strap can pack",
                "`strap versions --bare` lists the installed versions",
            )
            .into())
        }
    };
    let archive = match args.output {
        Some(path) => path,
        None => {
            let receipt = Receipt::read(&prefix)
                .ok_or_else(|| Reported::from(pack::PackError::NoReceipt(prefix.clone())))?;
            let key = pack::cache_key(&receipt, &Platform::current());
            let dir = ctx.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
            dir.join(pack::file_names(&name, &key).0)
        }
    };
    let manifest = manifest_path(&archive);
    let packed = pack::pack(&prefix, &archive, &manifest).map_err(Reported::from)?;
    writeln!(out, "{}", archive.display())?;
    say!(
        "strap: packed {} ({}, key {}) into {} ({}); manifest {}",
        packed.name,
        packed.platform.arch,
        &packed.key[..16],
        archive.display(),
        crate::clean::human_bytes(packed.archive.size),
        manifest.display()
    );
    Ok(())
}

/// The manifest next to an archive: `x.tar.zst` → `x.json`, anything else → `<file>.json`.
fn manifest_path(archive: &std::path::Path) -> PathBuf {
    let name = archive.file_name().unwrap_or_default().to_string_lossy();
    match name.strip_suffix(".tar.zst") {
        Some(stem) => archive.with_file_name(format!("{stem}.json")),
        None => archive.with_file_name(format!("{name}.json")),
    }
}
