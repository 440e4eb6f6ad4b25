//! Commands that change what is installed or linked: rehash, shims, uninstall.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::Ctx;
use crate::error::Error;
use crate::lock::FileLock;
use crate::shims;

pub(super) fn rehash(ctx: &Ctx) -> anyhow::Result<()> {
    let report = shims::rehash(&ctx.layout, &shim_executable()?)?;
    if !report.created.is_empty() || !report.removed.is_empty() {
        say!(
            "strap: {} shims ({} created, {} removed)",
            report.total,
            report.created.len(),
            report.removed.len()
        );
    }
    Ok(())
}

/// What shims link to: the lean `strap-shim` installed next to this executable, else `strap`
/// itself (which takes the shim path too when started under another name).
pub(super) fn shim_executable() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the path of the strap executable")?;
    let lean = exe.with_file_name("strap-shim");
    Ok(if crate::which::is_executable(&lean) {
        lean
    } else {
        exe
    })
}

pub(super) fn list(ctx: &Ctx, short: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    for shim in shims::list_shims(&ctx.layout)? {
        if short {
            writeln!(
                out,
                "{}",
                shim.file_name().unwrap_or_default().to_string_lossy()
            )?;
        } else {
            writeln!(out, "{}", shim.display())?;
        }
    }
    Ok(())
}

pub(super) fn uninstall(ctx: &Ctx, names: &[String], force: bool) -> anyhow::Result<()> {
    let mut removed_any = false;
    for name in names {
        anyhow::ensure!(
            !name.is_empty() && !name.contains('/') && name != "." && name != "..",
            "invalid version name '{name}': give the exact name `strap versions --bare` lists"
        );
        let dir = ctx.layout.version_dir(name);
        let _lock = FileLock::acquire(&ctx.layout.install_lock(crate::python::KIND, name), |_| {
            say!("strap: waiting for another strap process working on {name}…");
        })?;
        if !dir.is_dir() {
            if force {
                continue;
            }
            anyhow::bail!(Error::VersionNotInstalled {
                name: name.clone(),
                origin: crate::version::Origin::Argument,
            });
        }
        if !force
            && std::io::stdin().is_terminal()
            && !confirm(&format!("remove {} ?", dir.display()))?
        {
            say!("strap: kept {name}");
            continue;
        }
        remove_version_dir(&dir)?;
        say!("strap: uninstalled {name}");
        removed_any = true;
    }
    if removed_any {
        shims::rehash(&ctx.layout, &shim_executable()?)?;
    }
    Ok(())
}

/// Moves the version aside first, so an interrupted removal never leaves a half-deleted version
/// under its own name.
fn remove_version_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let doomed = dir.with_file_name(format!(".{name}.removing.{}", std::process::id()));
    std::fs::rename(dir, &doomed).map_err(|e| Error::io("remove", dir, e))?;
    std::fs::remove_dir_all(&doomed).map_err(|e| Error::io("remove", &doomed, e))?;
    Ok(())
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("strap: {question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}
