//! `strap virtualenv`, `virtualenvs`, `virtualenv-delete`: pyenv-virtualenv's commands.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::shims::Removal;
use super::{Ctx, Program};
use crate::error::Reported;
use crate::process::Cancel;
use crate::version::{self, Origin, Resolved};
use crate::virtualenv::{self, Created, Taken, VirtualenvError};

/// The flags of `strap virtualenv`.
#[derive(clap::Args, Debug, PartialEq)]
pub struct VirtualenvArgs {
    /// The installed version to make it from (default: the selected one)
    #[arg(value_name = "PYTHON")]
    pub python: Option<String>,
    /// Its name
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Install these requirements into it (`pip install -r FILE`)
    #[arg(short, long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
}

/// Makes a virtualenv; one that is already there (from the same Python) is left as it is, its
/// requirements installed, and that is a success, so two runs at once both succeed.
pub(super) fn create(ctx: &Ctx, args: VirtualenvArgs) -> Result<(), Reported> {
    let name = args.name;
    let python_request = match args.python {
        None => {
            refuse_a_version_as_the_only_argument(ctx, &name)?;
            selected_python(ctx)?
        }
        Some(python) => python,
    };
    let (python, _) = installed_python(ctx, &python_request)?;
    let requirements = args.requirements.map(|file| absolute(ctx, file));
    let created = virtualenv::create(
        &ctx.layout,
        &python,
        &name,
        requirements.as_deref(),
        &Cancel::on_signals(),
        super::shims::waiting(&name),
    )
    .map_err(Reported::from)?;
    super::shims::rehash(ctx)?;
    let select = Program::current().command(&format!("local {name}"));
    match created {
        Created::Made(env) => tell!(
            "created virtualenv {} from {} in {} (select it with: {select})",
            env.name,
            env.python,
            env.path.display(),
        ),
        Created::Existing(env) => tell!(
            "virtualenv {} (from {}) is already in {}{} (select it with: {select})",
            env.name,
            env.python,
            env.path.display(),
            if requirements.is_some() {
                "; its requirements are installed"
            } else {
                ""
            },
        ),
    }
    Ok(())
}

/// `strap virtualenv 3.12.7`: as in pyenv-virtualenv, one argument is the new virtualenv's
/// name (made from the selected version); when it names an installed version, the user most
/// likely meant to make a virtualenv from it.
fn refuse_a_version_as_the_only_argument(ctx: &Ctx, name: &str) -> Result<(), Reported> {
    if virtualenv::taken(&ctx.layout, name) != Some(Taken::Version) {
        return Ok(());
    }
    let error = VirtualenvError::Exists {
        name: name.to_owned(),
        taken: Taken::Version,
    };
    Err(Reported {
        hint: Some(format!(
            "with one argument, `{}` makes a virtualenv named NAME from the selected version; \
             to make one from {name}, name it too: `{}`",
            Program::current().command("virtualenv NAME"),
            Program::current().command(&format!("virtualenv {name} NAME")),
        )),
        ..Reported::of(&error)
    })
}

/// The installed version `request` names, as (name, prefix).
pub(super) fn installed_python(ctx: &Ctx, request: &str) -> Result<(String, PathBuf), Reported> {
    match version::resolve(&ctx.layout, request, &Origin::Argument)? {
        Resolved::Installed { name, prefix } => Ok((name, prefix)),
        Resolved::System => Err(Reported::failure(
            "virtualenvs are made from an installed version, not the system Python",
            format!(
                "install one first ({}), or use python3 -m venv",
                Program::current().command("install 3.12")
            ),
        )),
    }
}

fn selected_python(ctx: &Ctx) -> Result<String, Reported> {
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

pub(super) fn list(ctx: &Ctx, bare: bool, json: bool, out: &mut dyn Write) -> Result<(), Reported> {
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
             `{}` removes the link",
            link.name,
            link.target.display(),
            Program::current().command(&format!("virtualenv-delete {}", link.name))
        );
    }
}

/// `virtualenv-delete`: removes a virtualenv (`NAME` or `PYTHON/envs/NAME`) and its link, after
/// a question ([`super::shims::asks`]); declined: exit 1.
pub(super) fn delete(ctx: &Ctx, name: &str, force: bool) -> Result<i32, Reported> {
    match remove(ctx, name, force, super::shims::asks(force))? {
        Removal::Removed => {
            super::shims::rehash(ctx)?;
            Ok(0)
        }
        Removal::Skipped => Ok(0),
        Removal::Declined => super::shims::declined(&format!("the virtualenv {name}")),
    }
}

/// Removes the virtualenv `name` and its link, after a question when `ask`, and says what
/// selected it; with `force`, one that does not exist is skipped.
pub(super) fn remove(ctx: &Ctx, name: &str, force: bool, ask: bool) -> Result<Removal, Reported> {
    let found = match virtualenv::find(&ctx.layout, name) {
        Err(VirtualenvError::NotFound(_)) if force => return Ok(Removal::Skipped),
        found => found.map_err(Reported::from)?,
    };
    let shown = found
        .path()
        .map_or(String::new(), |path| format!(" ({})", path.display()));
    let selecting = super::shims::selected_by(ctx, &found.name);
    if ask {
        let mut question = format!("remove the virtualenv {name}{shown}");
        super::shims::push_selecting(&mut question, &selecting);
        if !super::shims::confirm(&question) {
            return Ok(Removal::Declined);
        }
    }
    match virtualenv::delete(&ctx.layout, name, super::shims::waiting(&found.name)) {
        Err(VirtualenvError::NotFound(_)) if force => return Ok(Removal::Skipped),
        removed => removed.map_err(Reported::from)?,
    };
    tell!("removed virtualenv {name}{shown}");
    super::shims::warn_still_selected(ctx, &found.name, &selecting);
    Ok(Removal::Removed)
}

/// How `strap versions` shows a link under `versions/` (`proj --> /…/3.11.2/envs/proj`).
pub(super) fn link_target(path: &Path) -> Option<PathBuf> {
    path.is_symlink().then(|| std::fs::read_link(path).ok())?
}
