//! `strap virtualenv`, `virtualenvs`, `virtualenv-delete`: pyenv-virtualenv's commands.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::Ctx;
use crate::error::Reported;
use crate::version::{self, Origin, Resolved};
use crate::virtualenv;

/// The flags of `strap virtualenv`.
#[derive(clap::Args)]
pub struct VirtualenvArgs {
    /// The installed version to make it from (default: the selected one), then its NAME
    #[arg(required = true, num_args = 1..=2, value_names = ["PYTHON", "NAME"])]
    pub args: Vec<String>,
    /// Install these requirements into it (`pip install -r FILE`)
    #[arg(short, long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
}

pub(super) fn create(ctx: &Ctx, args: VirtualenvArgs) -> anyhow::Result<()> {
    let (python_request, name) = match args.args.as_slice() {
        [name] => (selected_python(ctx)?, name.clone()),
        [python, name] => (python.clone(), name.clone()),
        _ => unreachable!("clap takes one or two"),
    };
    let (python, prefix) = installed_python(ctx, &python_request)?;
    let requirements = args.requirements.map(|file| absolute(ctx, file));
    let env = virtualenv::create(
        &ctx.layout,
        &python,
        &prefix,
        &name,
        requirements.as_deref(),
    )
    .map_err(Reported::from)?;
    super::shims::rehash(ctx)?;
    tell!(
        "created virtualenv {} from {} in {} (select it with: strap local {})",
        env.name,
        env.python,
        env.path.display(),
        env.name
    );
    Ok(())
}

/// The installed version `request` names, as (name, prefix).
pub(super) fn installed_python(ctx: &Ctx, request: &str) -> anyhow::Result<(String, PathBuf)> {
    match version::resolve(&ctx.layout, request, &Origin::Argument)? {
        Resolved::Installed { name, prefix } => Ok((name, prefix)),
        Resolved::System => Err(Reported::failure(
            "virtualenvs are made from an installed version, not the system Python",
            "install one first (strap install 3.12), or use python3 -m venv",
        )
        .into()),
    }
}

fn selected_python(ctx: &Ctx) -> anyhow::Result<String> {
    let selection = ctx.selection()?;
    Ok(selection
        .names
        .first()
        .cloned()
        .unwrap_or_else(|| "system".to_owned()))
}

fn absolute(ctx: &Ctx, file: PathBuf) -> PathBuf {
    match &ctx.cwd {
        Some(cwd) if file.is_relative() => cwd.join(file),
        _ => file,
    }
}

pub(super) fn list(ctx: &Ctx, bare: bool, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let envs = virtualenv::list(&ctx.layout);
    let dangling = virtualenv::dangling(&ctx.layout);
    if json {
        let value = serde_json::json!({ "virtualenvs": envs, "broken_links": dangling });
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)?;
        return Ok(());
    }
    for env in &envs {
        if bare {
            writeln!(out, "{}", env.name)?;
        } else {
            let broken = if env.python_found {
                ""
            } else {
                " (broken: no bin/python)"
            };
            writeln!(
                out,
                "  {} (from {}) {}{broken}",
                env.name,
                env.python,
                env.path.display()
            )?;
        }
    }
    warn_dangling(&dangling);
    Ok(())
}

/// Warns about virtualenv links whose Python was uninstalled.
pub(super) fn warn_dangling(dangling: &[virtualenv::Dangling]) {
    for link in dangling {
        tell!(
            "warning: {} points to {}, which is gone (its Python was uninstalled); \
             `strap virtualenv-delete {}` removes the link",
            link.name,
            link.target.display(),
            link.name
        );
    }
}

pub(super) fn delete(ctx: &Ctx, name: &str, force: bool) -> anyhow::Result<()> {
    if !force
        && std::io::stdin().is_terminal()
        && !super::shims::confirm(&format!("remove the virtualenv {name}?"))?
    {
        return Ok(());
    }
    match virtualenv::delete(&ctx.layout, name) {
        Ok(env) => {
            super::shims::rehash(ctx)?;
            tell!("removed virtualenv {} ({})", env.name, env.path.display());
            Ok(())
        }
        Err(virtualenv::VirtualenvError::NotFound(_)) if force => Ok(()),
        Err(e) => Err(Reported::from(e).into()),
    }
}

/// How `strap versions` shows a link under `versions/` (`proj --> /…/3.11.2/envs/proj`).
pub(super) fn link_target(path: &Path) -> Option<PathBuf> {
    path.is_symlink().then(|| std::fs::read_link(path).ok())?
}
