//! Commands that change what is installed or linked: rehash, shims, uninstall.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;

use super::Ctx;
use super::Program;
use crate::error::{IoContext, Reported};
use crate::shims;
use crate::version::{self, Origin, Resolved};
use crate::virtualenv;

/// `strap rehash`: prints nothing on success (as pyenv's).
pub(super) fn rehash(ctx: &Ctx) -> Result<(), Reported> {
    shims::rehash(&ctx.layout, &shim_executable()?)?;
    Ok(())
}

/// [`shims::shim_executable`], its failure explained.
pub(super) fn shim_executable() -> Result<PathBuf, Reported> {
    shims::shim_executable()
        .map_err(|e| Reported::caused_by("cannot find the path of the strap executable", &e))
}

pub(super) fn list(ctx: &Ctx, short: bool, out: &mut dyn Write) -> Result<(), Reported> {
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

/// One thing `uninstall` is about to remove: a version (with its virtualenvs) or a virtualenv
/// (with its link).
struct Doomed {
    /// The version's directory name, or the virtualenv as named (`proj`, `3.11.2/envs/proj`).
    name: String,
    /// The argument that named it.
    requested: String,
    virtualenv: bool,
}

/// What became of one thing to remove.
pub(super) enum Removal {
    Removed,
    /// Gone already (`-f`).
    Skipped,
    /// The user said no.
    Declined,
}

/// Removes installed versions and virtualenvs. Every argument is checked before anything is
/// removed. A version goes with its virtualenvs (`<version>/envs/*`) and their links; a
/// virtualenv (`NAME` or `<version>/envs/NAME`) with its link, as pyenv-virtualenv's uninstall
/// hook does. An exact name is removed after a question ([`asks`]); declined, strap goes on with
/// the others and exits 1, pyenv mode stops there and exits 1, as pyenv does. A prefix (`3.11`)
/// is resolved only when it can be confirmed: by strap on a terminal without `-f`, when it
/// matches exactly one installed version, the question names that version; otherwise (and
/// always in pyenv mode, as pyenv) only exact names are removed: a script never removes a
/// version it did not name. `-f` also succeeds for names that are not installed.
pub(super) fn uninstall(ctx: &Ctx, names: &[String], force: bool) -> Result<i32, Reported> {
    let ask = asks(force);
    let resolve_prefixes = ask && Program::current() == Program::Strap;
    let installed = crate::version::installed_versions(&ctx.layout)?;
    let mut doomed: Vec<Doomed> = Vec::new();
    for requested in names {
        if let Some(d) = uninstall_target(ctx, requested, &installed, force, resolve_prefixes)? {
            if !doomed.iter().any(|other| other.name == d.name) {
                doomed.push(d);
            }
        }
    }
    let mut removed_any = false;
    let mut declined = Vec::new();
    for d in &doomed {
        let removal = if d.virtualenv {
            super::virtualenv::remove(ctx, &d.name, force, ask)?
        } else {
            uninstall_version(ctx, d, force, ask)?
        };
        match removal {
            Removal::Removed => removed_any = true,
            Removal::Skipped => {}
            Removal::Declined => declined.push(d.name.as_str()),
        }
        if !declined.is_empty() && Program::current() == Program::Pyenv {
            break;
        }
    }
    if removed_any {
        shims::rehash(&ctx.layout, &shim_executable()?)?;
    }
    match declined.as_slice() {
        [] => Ok(0),
        kept => self::declined(&kept.join(", ")),
    }
}

/// The end of a command after a "no" to its question: exit 1; strap says what it `kept`
/// (`cancelled; kept 3.11.2`), pyenv mode says nothing, as pyenv.
pub(super) fn declined(kept: &str) -> Result<i32, Reported> {
    match Program::current() {
        Program::Strap => Err(Reported::message(format!("cancelled; kept {kept}"))),
        Program::Pyenv => Ok(crate::error::EXIT_FAILURE),
    }
}

/// Removes the version `d` and its virtualenvs' links.
fn uninstall_version(ctx: &Ctx, d: &Doomed, force: bool, ask: bool) -> Result<Removal, Reported> {
    let name = &d.name;
    let dir = ctx.layout.version_dir(name);
    let _lock = virtualenv::lock_entry(&ctx.layout, name, waiting(name))?;
    if !dir.is_dir() {
        // Removed by another strap while this one waited.
        if force {
            return Ok(Removal::Skipped);
        }
        return Err(not_installed(name));
    }
    let envs = virtualenv::of_python(&ctx.layout, name);
    let selecting = selected_by(ctx, name);
    if ask {
        let mut question = String::new();
        if d.requested != *name {
            question.push_str(&format!("{} is {name}: ", d.requested));
        }
        question.push_str(&format!("remove {}", dir.display()));
        question.push_str(&with_virtualenvs(&envs));
        push_selecting(&mut question, &selecting);
        if !confirm(&question) {
            return Ok(Removal::Declined);
        }
    }
    remove_version_dir(&dir)?;
    for env in &envs {
        virtualenv::unlink(&ctx.layout, env, waiting(&env.name))?;
    }
    say_uninstalled(name, &envs);
    warn_still_selected(ctx, name, &selecting);
    Ok(Removal::Removed)
}

/// Ends a question with what selects the thing it asks about, and `?`.
pub(super) fn push_selecting(question: &mut String, selecting: &[Selecting]) {
    if !selecting.is_empty() {
        let sources: Vec<String> = selecting.iter().map(|s| source_name(&s.source)).collect();
        question.push_str(&format!(" (selected by {})", sources.join(", ")));
    }
    question.push('?');
}

/// What to say while another process holds `name`'s lock.
pub(super) fn waiting(name: &str) -> impl FnOnce(&std::path::Path) + '_ {
    move |_| tell!("waiting for another strap process working on {name}…")
}

/// ` and its virtualenvs a, b` (nothing without any): how the question and the report name
/// the virtualenvs that go with a version.
fn with_virtualenvs(envs: &[virtualenv::Virtualenv]) -> String {
    if envs.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
    format!(" and its virtualenvs {}", names.join(", "))
}

/// `strap: uninstalled 3.11.2 and its virtualenvs a, b`; `pyenv: 3.11.2 uninstalled` in
/// pyenv's words (pyenv-virtualenv's hook names no virtualenv either).
fn say_uninstalled(name: &str, envs: &[virtualenv::Virtualenv]) {
    match Program::current() {
        Program::Strap => tell!("uninstalled {name}{}", with_virtualenvs(envs)),
        Program::Pyenv => tell!("{name} uninstalled"),
    }
}

/// What `requested` asks `uninstall` to remove: `None` to skip it (`-f` and not installed).
fn uninstall_target(
    ctx: &Ctx,
    requested: &str,
    installed: &[String],
    force: bool,
    resolve_prefixes: bool,
) -> Result<Option<Doomed>, Reported> {
    let program = Program::current();
    if requested == "system" {
        return Err(crate::error::UsageError::new(
            "'system' is the Python found on PATH outside strap, not a version strap manages; \
             strap cannot uninstall it",
        )
        .with_hint(format!(
            "`{}` lists the versions strap can uninstall",
            program.command("versions --bare")
        ))
        .into());
    }
    let doomed = |name: &str, virtualenv: bool| {
        Some(Doomed {
            name: name.to_owned(),
            requested: requested.to_owned(),
            virtualenv,
        })
    };
    if virtualenv::is_virtualenv_name(&ctx.layout, requested) {
        return match virtualenv::find(&ctx.layout, requested) {
            Ok(_) => Ok(doomed(requested, true)),
            Err(virtualenv::VirtualenvError::NotFound(_)) if force => Ok(None),
            Err(virtualenv::VirtualenvError::NotFound(_)) => Err(not_installed(requested)),
            Err(e) => Err(e.into()),
        };
    }
    if requested.is_empty() || requested.contains('/') || requested == "." || requested == ".." {
        return Err(crate::error::UsageError::new(format!(
            "invalid version name '{requested}': give a name `{}` lists",
            program.command("versions --bare")
        ))
        .into());
    }
    if ctx.layout.version_dir(requested).is_dir() {
        return Ok(doomed(requested, false));
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
        [one] if resolve_prefixes => Ok(doomed(one, false)),
        [one] if program == Program::Strap => Err(Reported::failure(
            format!(
                "version '{requested}' is not installed; it is a prefix of the installed {one}"
            ),
            format!(
                "without a terminal to confirm on, uninstall removes exact names only: \
                 `strap uninstall {one}`"
            ),
        )),
        several @ [_, _, ..] if program == Program::Strap => Err(Reported::failure(
            format!(
                "'{requested}' matches several installed versions: {}",
                several.join(", ")
            ),
            format!(
                "name the one to remove, e.g. `strap uninstall {}`",
                several[several.len() - 1]
            ),
        )),
        _ => Err(not_installed(requested)),
    }
}

/// A version (or virtualenv) that is not installed, in the words of the program strap answers
/// as (pyenv's: ``version `3.9' not installed``).
fn not_installed(name: &str) -> Reported {
    let program = Program::current();
    match program {
        Program::Strap => Reported::failure(
            format!("version '{name}' is not installed"),
            format!(
                "`{}` lists the installed versions",
                program.command("versions --bare")
            ),
        ),
        Program::Pyenv => Reported::message(format!("version `{name}' not installed")),
    }
}

/// How a message names a place that selects versions: the variable, or the file.
fn source_name(origin: &Origin) -> String {
    match origin {
        Origin::Env(var) => (*var).to_owned(),
        other => other.to_string(),
    }
}

/// A place that selects versions whose `written` name resolves to the version being removed.
pub(super) struct Selecting {
    source: Origin,
    written: String,
}

/// Where `name` is selected from here ([`crate::version::sources`]: the version variables,
/// every `.python-version` from the current directory up, the global file), each name
/// resolved as the shims would.
pub(super) fn selected_by(ctx: &Ctx, name: &str) -> Vec<Selecting> {
    let selects = |written: &str| {
        matches!(
            version::resolve(&ctx.layout, written, &Origin::Argument),
            Ok(Resolved::Installed { name: found, .. }) if found == name
        )
    };
    version::sources(&ctx.layout, ctx.cwd.as_deref())
        .into_iter()
        .filter_map(|(source, names)| {
            let written = names.into_iter().find(|w| selects(w))?;
            Some(Selecting { source, written })
        })
        .collect()
}

/// After removing `name`: says which selections named it and what they select now.
pub(super) fn warn_still_selected(ctx: &Ctx, name: &str, selecting: &[Selecting]) {
    for Selecting { source, written } in selecting {
        let shown = source_name(source);
        let as_written = if written == name {
            String::new()
        } else {
            format!(" (as '{written}')")
        };
        if let Ok(Resolved::Installed { name: now, .. }) =
            version::resolve(&ctx.layout, written, &Origin::Argument)
        {
            tell!("warning: {shown} selected {name}{as_written}; it now selects {now}");
            continue;
        }
        let command = |words: &str| Program::current().command(words);
        let fix = match source {
            Origin::Env(_) => format!(
                "`{}` selects another, `{}` drops it",
                command("shell <version>"),
                command("shell --unset")
            ),
            Origin::LocalFile(path) if ctx.cwd.as_deref() == path.parent() => {
                format!("`{}` selects another", command("local <version>"))
            }
            Origin::LocalFile(path) => format!(
                "`{}` in {} selects another",
                command("local <version>"),
                path.parent().unwrap_or(path).display()
            ),
            Origin::GlobalFile(_) | Origin::Argument => {
                format!("`{}` selects another", command("global <version>"))
            }
        };
        tell!(
            "warning: {shown} still names {name}{as_written}, which is no longer installed; {fix}"
        );
    }
}

/// Moves the version aside first, so an interrupted removal never leaves a half-deleted version
/// under its own name (`strap cache clean` removes what such an interruption left).
pub(super) fn remove_version_dir(dir: &std::path::Path) -> Result<(), Reported> {
    let doomed = crate::layout::removing_dir(dir);
    std::fs::rename(dir, &doomed).io_context("remove", dir)?;
    std::fs::remove_dir_all(&doomed).io_context("remove", &doomed)?;
    Ok(())
}

/// True when a removal is confirmed first: never with `-f`; strap asks only on a terminal (a
/// script is never blocked by a question), pyenv mode always, as pyenv reads the answer from
/// stdin whatever it is (`echo y | pyenv uninstall 3.12.7`).
pub(super) fn asks(force: bool) -> bool {
    !force && (Program::current() == Program::Pyenv || std::io::stdin().is_terminal())
}

/// Asks `question` and reads the answer from stdin: true for yes; no answer (end of input) is
/// no. The question goes to stderr when stdin is a terminal (as bash's `read -p` shows pyenv's):
/// `strap: QUESTION [y/N] `, `pyenv: QUESTION (y/N) `.
pub(super) fn confirm(question: &str) -> bool {
    let program = Program::current();
    if std::io::stdin().is_terminal() {
        let choices = match program {
            Program::Strap => "[y/N]",
            Program::Pyenv => "(y/N)",
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}: {question} {choices} ", program.name());
        let _ = err.flush();
    }
    // One line, bounded: stdin may be anything (`< /dev/zero`).
    let mut answer = Vec::new();
    let _ = std::io::stdin()
        .lock()
        .take(MAX_ANSWER)
        .read_until(b'\n', &mut answer);
    let answer = String::from_utf8_lossy(&answer);
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES")
}

/// The longest answer to a question that is read.
const MAX_ANSWER: u64 = 256;
