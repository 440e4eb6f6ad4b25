//! Commands that change the selection: global, local, shell (and the hidden sh-shell behind it).

use std::io::Write;

use super::Ctx;
use crate::env_vars::STRAP_SHELL;
use crate::error::{Io, Reported};
use crate::shell::{self, Shell};
use crate::version::{self, Origin, LOCAL_VERSION_FILE};

impl Ctx {
    /// Refuses names that are neither `system` nor resolvable to an installed version.
    fn check_installed(&self, names: &[String]) -> Result<(), Reported> {
        self.resolve_all(names, &Origin::Argument)?;
        Ok(())
    }
}

pub(super) fn global(ctx: &Ctx, names: &[String], out: &mut dyn Write) -> Result<(), Reported> {
    let file = ctx.layout.global_version_file();
    if names.is_empty() {
        let current = if file.is_file() {
            version::read_version_file(&file)?
        } else {
            Vec::new()
        };
        if current.is_empty() {
            writeln!(out, "system")?;
        }
        for name in current {
            writeln!(out, "{name}")?;
        }
        return Ok(());
    }
    ctx.check_installed(names)?;
    version::write_version_file(&file, names)?;
    Ok(())
}

pub(super) fn local(
    ctx: &Ctx,
    names: &[String],
    unset: bool,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let cwd = ctx
        .cwd
        .as_deref()
        .ok_or_else(|| Reported::message("the current directory is unknown (was it removed?)"))?;
    let here = cwd.join(LOCAL_VERSION_FILE);
    if unset {
        return match std::fs::remove_file(&here) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Io::new("remove", here, e).into()),
        };
    }
    if names.is_empty() {
        let file = version::find_local_version_file(cwd)
            .ok_or_else(|| Reported::message("no local version is configured for this directory; set one with `strap local <version>`"))?;
        for name in version::read_version_file(&file)? {
            writeln!(out, "{name}")?;
        }
        return Ok(());
    }
    ctx.check_installed(names)?;
    version::write_version_file(&here, names)?;
    Ok(())
}

/// `strap shell` reached without the shell function: show the shell's selection, or explain.
pub(super) fn shell(
    ctx: &Ctx,
    names: &[String],
    unset: bool,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    if names.is_empty() && !unset {
        return print_shell_version(ctx, out);
    }
    Err(Reported::message(format!(
        "`strap shell` changes the current shell, so it needs the shell integration; \
         add `eval \"$(strap init {})\"` to your shell's startup file",
        std::env::var(STRAP_SHELL)
            .ok()
            .and_then(|s| Shell::from_path(&s))
            .or_else(|| std::env::var("SHELL")
                .ok()
                .and_then(|s| Shell::from_path(&s)))
            .map_or("bash", Shell::name)
    )))
}

/// The shell's selection: the first of the root's version variables that is set
/// (`STRAP_PYTHON_VERSION`; `PYENV_VERSION` first in pyenv's root).
fn print_shell_version(ctx: &Ctx, out: &mut dyn Write) -> Result<(), Reported> {
    let current = ctx
        .layout
        .version_vars()
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .ok_or_else(|| {
            Reported::message(
                "no shell-specific version is configured; set one with `strap shell <version>`",
            )
        })?;
    writeln!(out, "{current}")?;
    Ok(())
}

/// Prints the code the shell function evaluates: set the shell's selection, unset it (`--unset`)
/// or go back to the previous one (`-`), as `pyenv shell` does: the previous value is kept in the
/// shell variable `STRAP_PYTHON_VERSION_OLD` (`PYENV_VERSION_OLD` in pyenv's root).
pub(super) fn sh_shell(
    ctx: &Ctx,
    shell: Shell,
    names: &[String],
    unset: bool,
    out: &mut dyn Write,
) -> Result<(), Reported> {
    let vars = ctx.layout.version_vars();
    let var = vars[0];
    if unset {
        writeln!(out, "{}", shell::unset_keeping_old(shell.name(), var))?;
        for other in &vars[1..] {
            writeln!(out, "{}", shell.unset_var(other))?;
        }
        return Ok(());
    }
    if names.is_empty() {
        let mut current = Vec::new();
        print_shell_version(ctx, &mut current)?;
        let text = String::from_utf8_lossy(&current);
        writeln!(out, "echo {}", shell.quote(text.trim_end()))?;
        return Ok(());
    }
    if names == ["-"] {
        let not_set =
            format!("strap: error: no previous shell version to go back to ({var}_OLD is not set)");
        out.write_all(shell::swap_with_old(shell.name(), var, &not_set).as_bytes())?;
        return Ok(());
    }
    ctx.check_installed(names)?;
    let value = names.join(":");
    // As pyenv: selecting what is selected keeps the previous selection for `shell -`.
    if std::env::var(var).ok().as_deref() != Some(value.as_str()) {
        writeln!(
            out,
            "{}",
            shell::set_keeping_old(shell.name(), var, &shell.quote(&value))
        )?;
    }
    Ok(())
}
