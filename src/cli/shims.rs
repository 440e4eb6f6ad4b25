//! Commands that change what is installed or linked: rehash, shims, uninstall.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::Ctx;
use crate::error::Error;
use crate::lock::FileLock;
use crate::shims;

/// `strap rehash`: prints nothing on success (as pyenv's).
pub(super) fn rehash(ctx: &Ctx) -> anyhow::Result<()> {
    shims::rehash(&ctx.layout, &shim_executable()?)?;
    Ok(())
}

/// [`shims::shim_executable`], its failure explained.
pub(super) fn shim_executable() -> anyhow::Result<PathBuf> {
    shims::shim_executable().context("cannot find the path of the strap executable")
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

/// One version `uninstall` is about to remove: its directory name, and the argument that named it.
struct Doomed {
    name: String,
    requested: String,
}

/// Removes installed versions. Every argument is checked before anything is removed. An exact
/// name is removed (after a question on a terminal). A prefix (`3.11`) is resolved only when it
/// can be confirmed: on a terminal without `-f`, when it matches exactly one installed version, the
/// question names that version; without a terminal, or with `-f`, only exact names are removed
/// (as pyenv, which resolves prefixes everywhere except in `uninstall`): a script never removes a
/// version it did not name. `-f` also succeeds for names that are not installed.
pub(super) fn uninstall(ctx: &Ctx, names: &[String], force: bool) -> anyhow::Result<()> {
    let ask = !force && std::io::stdin().is_terminal();
    let installed = crate::version::installed_versions(&ctx.layout)?;
    let mut doomed: Vec<Doomed> = Vec::new();
    for requested in names {
        if let Some(d) = uninstall_target(ctx, requested, &installed, force, ask)? {
            if !doomed.iter().any(|other| other.name == d.name) {
                doomed.push(d);
            }
        }
    }
    let mut removed_any = false;
    for Doomed { name, requested } in doomed {
        let dir = ctx.layout.version_dir(&name);
        let _lock =
            FileLock::acquire(&ctx.layout.install_lock(crate::python::KIND, &name), |_| {
                tell!("waiting for another strap process working on {name}…");
            })?;
        if !dir.is_dir() {
            // Removed by another strap while this one waited.
            if force {
                continue;
            }
            return Err(not_installed(&name).into());
        }
        let selecting = selected_by(ctx, &name);
        if ask {
            let mut question = String::new();
            if requested != name {
                question.push_str(&format!("{requested} is {name}: "));
            }
            question.push_str(&format!("remove {}", dir.display()));
            if !selecting.is_empty() {
                let sources: Vec<String> = selecting.iter().map(|s| s.source.to_string()).collect();
                question.push_str(&format!(" (selected by {})", sources.join(", ")));
            }
            question.push('?');
            if !confirm(&question)? {
                tell!("kept {name}");
                continue;
            }
        }
        remove_version_dir(&dir)?;
        tell!("uninstalled {name}");
        removed_any = true;
        warn_still_selected(ctx, &name, &selecting);
    }
    if removed_any {
        shims::rehash(&ctx.layout, &shim_executable()?)?;
    }
    Ok(())
}

/// What `requested` asks `uninstall` to remove: `None` to skip it (`-f` and not installed).
fn uninstall_target(
    ctx: &Ctx,
    requested: &str,
    installed: &[String],
    force: bool,
    ask: bool,
) -> anyhow::Result<Option<Doomed>> {
    if requested == "system" {
        return Err(crate::error::UsageError::new(
            "'system' is the Python found on PATH outside strap, not a version strap manages; \
             strap cannot uninstall it",
        )
        .with_hint("`strap versions --bare` lists the versions strap can uninstall")
        .into());
    }
    if requested.is_empty() || requested.contains('/') || requested == "." || requested == ".." {
        return Err(crate::error::UsageError::new(format!(
            "invalid version name '{requested}': give a name `strap versions --bare` lists"
        ))
        .into());
    }
    let exact = |name: &str| {
        Some(Doomed {
            name: name.to_owned(),
            requested: requested.to_owned(),
        })
    };
    if ctx.layout.version_dir(requested).is_dir() {
        return Ok(exact(requested));
    }
    // The versions `strap local <requested>` could select (the newest would be chosen there).
    let matches: Vec<&str> = installed
        .iter()
        .map(String::as_str)
        .filter(|v| crate::version::newest_match(requested, [*v]).is_some())
        .collect();
    if force {
        if !matches.is_empty() {
            tell!(
                "warning: '{requested}' is not installed, nothing removed for it (-f removes \
                 exact names only; installed: {})",
                matches.join(", ")
            );
        }
        return Ok(None);
    }
    match matches.as_slice() {
        [] => Err(not_installed(requested).into()),
        [one] if ask => Ok(exact(one)),
        [one] => Err(crate::error::Reported::failure(
            format!(
                "version '{requested}' is not installed; it is a prefix of the installed {one}"
            ),
            format!(
                "without a terminal to confirm on, uninstall removes exact names only: \
                 `strap uninstall {one}`"
            ),
        )
        .into()),
        several => Err(crate::error::Reported::failure(
            format!(
                "'{requested}' matches several installed versions: {}",
                several.join(", ")
            ),
            format!(
                "name the one to remove, e.g. `strap uninstall {}`",
                several[several.len() - 1]
            ),
        )
        .into()),
    }
}

fn not_installed(name: &str) -> crate::error::Reported {
    crate::error::Reported::failure(
        format!("version '{name}' is not installed"),
        "`strap versions --bare` lists the installed versions",
    )
}

/// A place that selects a version.
enum SelectionSource {
    Env(&'static str),
    LocalFile(PathBuf),
    GlobalFile(PathBuf),
}

impl std::fmt::Display for SelectionSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectionSource::Env(var) => f.write_str(var),
            SelectionSource::LocalFile(path) | SelectionSource::GlobalFile(path) => {
                write!(f, "{}", path.display())
            }
        }
    }
}

/// A selection source whose `written` name resolves to the version being removed.
struct Selecting {
    source: SelectionSource,
    written: String,
}

/// Where `name` is selected from here: `STRAP_PYTHON_VERSION` (and `PYENV_VERSION` in pyenv's
/// root), every `.python-version` from the
/// current directory up, and the global file (each name resolved as the shims would).
fn selected_by(ctx: &Ctx, name: &str) -> Vec<Selecting> {
    use crate::version::{self, Origin, Resolved, LOCAL_VERSION_FILE};
    let selects = |written: &str| {
        matches!(
            version::resolve(&ctx.layout, written, &Origin::Argument),
            Ok(Resolved::Installed { name: found, .. }) if found == name
        )
    };
    let mut sources: Vec<(SelectionSource, Vec<String>)> = Vec::new();
    for var in ctx.layout.version_vars() {
        if let Some(value) = std::env::var_os(var) {
            let names = version::split_names(&value.to_string_lossy());
            sources.push((SelectionSource::Env(var), names));
        }
    }
    for dir in ctx.cwd.iter().flat_map(|cwd| cwd.ancestors()) {
        let file = dir.join(LOCAL_VERSION_FILE);
        if file.is_file() {
            if let Ok(names) = version::read_version_file(&file) {
                sources.push((SelectionSource::LocalFile(file), names));
            }
        }
    }
    let global = ctx.layout.global_version_file();
    if let Ok(names) = version::read_version_file(&global) {
        sources.push((SelectionSource::GlobalFile(global), names));
    }
    sources
        .into_iter()
        .filter_map(|(source, names)| {
            let written = names.into_iter().find(|w| selects(w))?;
            Some(Selecting { source, written })
        })
        .collect()
}

/// After removing `name`: says which selections named it and what they select now.
fn warn_still_selected(ctx: &Ctx, name: &str, selecting: &[Selecting]) {
    use crate::version::{self, Origin, Resolved};
    for Selecting { source, written } in selecting {
        let as_written = if written == name {
            String::new()
        } else {
            format!(" (as '{written}')")
        };
        if let Ok(Resolved::Installed { name: now, .. }) =
            version::resolve(&ctx.layout, written, &Origin::Argument)
        {
            tell!("warning: {source} selected {name}{as_written}; it now selects {now}");
            continue;
        }
        let fix = match source {
            SelectionSource::Env(_) => {
                "`strap shell <version>` selects another, `strap shell --unset` drops it".to_owned()
            }
            SelectionSource::LocalFile(path) if ctx.cwd.as_deref() == path.parent() => {
                "`strap local <version>` selects another".to_owned()
            }
            SelectionSource::LocalFile(path) => format!(
                "`strap local <version>` in {} selects another",
                path.parent().unwrap_or(path).display()
            ),
            SelectionSource::GlobalFile(_) => "`strap global <version>` selects another".to_owned(),
        };
        tell!(
            "warning: {source} still names {name}{as_written}, which is no longer installed; {fix}"
        );
    }
}

/// Moves the version aside first, so an interrupted removal never leaves a half-deleted version
/// under its own name (`strap cache clean` removes what such an interruption left).
pub(super) fn remove_version_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let doomed = dir.with_file_name(format!(".{name}.removing.{}", std::process::id()));
    std::fs::rename(dir, &doomed).map_err(|e| Error::io("remove", dir, e))?;
    std::fs::remove_dir_all(&doomed).map_err(|e| Error::io("remove", &doomed, e))?;
    Ok(())
}

/// Asks `question` on stderr; true for yes.
pub(super) fn confirm(question: &str) -> anyhow::Result<bool> {
    {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "strap: {question} [y/N] ");
        let _ = err.flush();
    }
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}
