//! Read-only commands: versions, version, version-name, version-origin, version-file, latest,
//! prefix, which, whence.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Ctx;
use crate::error::Reported;
use crate::version::Error;
use crate::version::{self, Origin, Resolved, Selection};
use crate::which;

impl Ctx {
    /// The current selection (warning about what it ignored).
    pub(super) fn selection(&self) -> Result<Selection, Error> {
        let selection = version::select(&self.layout, self.cwd.as_deref())?;
        super::pyenv::warn_ignored(&selection);
        Ok(selection)
    }

    /// The current selection with every name resolved (an unresolvable name is an error).
    pub(super) fn resolved_selection(&self) -> Result<(Vec<Resolved>, Origin), Error> {
        let selection = self.selection()?;
        let resolved = self.resolve_all(&selection.names, &selection.origin)?;
        Ok((resolved, selection.origin))
    }

    /// Resolves each of `names` (given by `origin`).
    pub(super) fn resolve_all(
        &self,
        names: &[String],
        origin: &Origin,
    ) -> Result<Vec<Resolved>, Error> {
        names
            .iter()
            .map(|name| version::resolve(&self.layout, name, origin))
            .collect()
    }
}

fn display_name(resolved: &Resolved) -> &str {
    match resolved {
        Resolved::System => "system",
        Resolved::Installed { name, .. } => name,
    }
}

#[derive(Serialize)]
struct VersionEntry {
    name: String,
    prefix: Option<PathBuf>,
    selected: bool,
    origin: Option<String>,
    /// For a link under `versions/` (a virtualenv's name): what it points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<PathBuf>,
    /// `prebuilt` for an install of a prebuilt CPython (python-build-standalone's).
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'static str>,
}

/// The names `strap versions` lists, as pyenv does: each installed version (a link shown with
/// its target), followed by its virtualenvs as `<version>/envs/<name>` unless `skip_envs`.
fn listed_versions(ctx: &Ctx, skip_envs: bool) -> Result<Vec<(String, PathBuf)>, Reported> {
    let envs = if skip_envs {
        Vec::new()
    } else {
        crate::virtualenv::list(&ctx.layout)
    };
    let mut listed = Vec::new();
    for name in version::installed_versions(&ctx.layout)? {
        let prefix = ctx.layout.version_dir(&name);
        listed.push((name.clone(), prefix));
        for env in envs.iter().filter(|env| env.python == name) {
            listed.push((format!("{name}/envs/{}", env.name), env.path.clone()));
        }
    }
    Ok(listed)
}

pub(super) fn versions(
    ctx: &Ctx,
    bare: bool,
    json: bool,
    skip_envs: bool,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let installed = listed_versions(ctx, skip_envs)?;
    super::virtualenv::warn_dangling(&crate::virtualenv::dangling(&ctx.layout));
    if bare {
        for (name, _) in &installed {
            writeln!(out, "{name}")?;
        }
        return Ok(());
    }
    let selection = ctx.selection()?;
    let mut selected = Vec::new();
    for name in &selection.names {
        match version::resolve(&ctx.layout, name, &selection.origin) {
            Ok(resolved) => selected.push(display_name(&resolved).to_owned()),
            Err(err) => tell!("warning: {err}"),
        }
    }
    let origin = selection.origin.to_string();
    let system_prefix = system_python_prefix(ctx);
    let entries: Vec<VersionEntry> = system_prefix
        .map(|prefix| ("system".to_owned(), prefix))
        .into_iter()
        .chain(installed)
        .map(|(name, prefix)| {
            let is_selected = selected.contains(&name);
            VersionEntry {
                selected: is_selected,
                origin: is_selected.then(|| origin.clone()),
                link: super::virtualenv::link_target(&prefix),
                source: crate::python::prebuilt::artifact::is_prebuilt(&prefix)
                    .then_some(crate::python::prebuilt::artifact::SOURCE),
                name,
                prefix: Some(prefix),
            }
        })
        .collect();
    if json {
        serde_json::to_writer_pretty(&mut *out, &entries)?;
        writeln!(out)?;
        return Ok(());
    }
    for entry in &entries {
        let mut shown = match &entry.link {
            Some(target) => format!("{} --> {}", entry.name, target.display()),
            None => entry.name.clone(),
        };
        if let Some(source) = entry.source {
            shown.push_str(&format!(" ({source})"));
        }
        match &entry.origin {
            Some(origin) => writeln!(out, "* {shown} (set by {origin})")?,
            None => writeln!(out, "  {shown}")?,
        }
    }
    Ok(())
}

/// One selected version in `strap version --json`.
#[derive(Serialize)]
struct SelectedEntry<'a> {
    /// The installed version (or `system`).
    name: &'a str,
    /// The name as the selection wrote it (`3.12` for 3.12.7).
    requested: &'a str,
    /// Its prefix; `null` for `system` when there is no system Python.
    prefix: Option<PathBuf>,
    origin: String,
}

pub(super) fn version(ctx: &Ctx, json: bool, out: &mut dyn Write) -> Result<(), Reported> {
    let selection = ctx.selection()?;
    let resolved = ctx.resolve_all(&selection.names, &selection.origin)?;
    let origin = selection.origin.to_string();
    if json {
        let entries: Vec<SelectedEntry<'_>> = resolved
            .iter()
            .zip(&selection.names)
            .map(|(r, requested)| SelectedEntry {
                name: display_name(r),
                requested,
                prefix: match r {
                    Resolved::System => system_python_prefix(ctx),
                    Resolved::Installed { prefix, .. } => Some(prefix.clone()),
                },
                origin: origin.clone(),
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &entries)?;
        writeln!(out)?;
        return Ok(());
    }
    for r in &resolved {
        writeln!(out, "{} (set by {origin})", display_name(r))?;
    }
    Ok(())
}

pub(super) fn version_name(ctx: &Ctx, out: &mut dyn Write) -> Result<(), Reported> {
    let (resolved, _) = ctx.resolved_selection()?;
    let names: Vec<&str> = resolved.iter().map(display_name).collect();
    writeln!(out, "{}", names.join(":"))?;
    Ok(())
}

pub(super) fn version_origin(ctx: &Ctx, out: &mut dyn Write) -> Result<(), Reported> {
    writeln!(out, "{}", ctx.selection()?.origin)?;
    Ok(())
}

pub(super) fn version_file(
    ctx: &Ctx,
    dir: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let start = match dir {
        Some(dir) => {
            if !dir.is_dir() {
                let message = format!("{} is not a directory", dir.display());
                return Err(Reported::message(message));
            }
            Some(dir)
        }
        None => ctx.cwd.clone(),
    };
    let file = start
        .as_deref()
        .and_then(version::find_local_version_file)
        .unwrap_or_else(|| ctx.layout.global_version_file());
    writeln!(out, "{}", file.display())?;
    Ok(())
}

/// `strap latest PREFIX`: the newest installed version PREFIX selects; a name installed as it
/// is (`versions/PREFIX`) is itself, as in pyenv.
pub(super) fn latest(ctx: &Ctx, prefix: &str, out: &mut dyn Write) -> Result<(), Reported> {
    if !prefix.is_empty()
        && version::stays_inside_versions(&ctx.layout, prefix)
        && ctx.layout.version_dir(prefix).is_dir()
    {
        writeln!(out, "{prefix}")?;
        return Ok(());
    }
    let installed = version::installed_versions(&ctx.layout)?;
    let newest = version::newest_match(prefix, installed.iter().map(String::as_str))
        .ok_or_else(|| Error::NoMatch(prefix.to_owned()))?;
    writeln!(out, "{newest}")?;
    Ok(())
}

pub(super) fn prefix(ctx: &Ctx, names: &[String], out: &mut dyn Write) -> Result<(), Reported> {
    let resolved = if names.is_empty() {
        ctx.resolved_selection()?.0
    } else {
        ctx.resolve_all(names, &Origin::Argument)?
    };
    let mut prefixes = Vec::new();
    for r in resolved {
        prefixes.push(match r {
            Resolved::System => system_python_prefix(ctx).ok_or_else(|| {
                Reported::message(
                    "no system Python: neither python3 nor python is on PATH outside the shims",
                )
            })?,
            Resolved::Installed { prefix, .. } => prefix,
        });
    }
    let joined: Vec<String> = prefixes.iter().map(|p| p.display().to_string()).collect();
    writeln!(out, "{}", joined.join(":"))?;
    Ok(())
}

/// `strap which --json`.
#[derive(Serialize)]
struct WhichEntry<'a> {
    command: &'a str,
    path: &'a Path,
    /// The version providing it, or `system`.
    version: &'a str,
    /// Where the selection that chose it was set; `null` when the command came from the system
    /// because no selected version has it.
    origin: Option<String>,
}

pub(super) fn which(
    ctx: &Ctx,
    command: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let selection = ctx.selection()?;
    let target = which::find_command(&ctx.layout, &selection, command)?;
    if !json {
        writeln!(out, "{}", target.path.display())?;
        return Ok(());
    }
    let version = target.version.as_deref().unwrap_or("system");
    let selected = ctx
        .resolve_all(&selection.names, &selection.origin)?
        .iter()
        .any(|r| display_name(r) == version);
    let entry = WhichEntry {
        command,
        path: &target.path,
        version,
        origin: selected.then(|| selection.origin.to_string()),
    };
    serde_json::to_writer_pretty(&mut *out, &entry)?;
    writeln!(out)?;
    Ok(())
}

pub(super) fn whence(
    ctx: &Ctx,
    command: &str,
    full_path: bool,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let versions = which::versions_with_command(&ctx.layout, command)?;
    if versions.is_empty() {
        let message = format!("no installed version provides '{command}'");
        return Err(Reported::message(message));
    }
    for v in versions {
        if full_path {
            writeln!(
                out,
                "{}",
                ctx.layout
                    .version_dir(&v)
                    .join("bin")
                    .join(command)
                    .display()
            )?;
        } else {
            writeln!(out, "{v}")?;
        }
    }
    Ok(())
}

/// The prefix of the system Python (`/usr` for `/usr/bin/python3`), if there is one.
fn system_python_prefix(ctx: &Ctx) -> Option<PathBuf> {
    which::find_first_on_system_path(&ctx.layout, &["python3", "python"])
        .and_then(|exe| exe.parent().and_then(Path::parent).map(Path::to_path_buf))
}
