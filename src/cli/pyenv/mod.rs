//! pyenv mode: strap started as `pyenv` (a link `pyenv -> strap`) answers pyenv's commands with
//! pyenv's arguments, output, wording and exit codes, on pyenv's root (`PYENV_ROOT`, `~/.pyenv`).
//!
//! Arguments are parsed here as pyenv's own scripts parse them (loosely, positionally), not by
//! clap: scripts depend on those quirks. Commands strap does not have as builtins are looked up as
//! `pyenv-<command>` executables on `PATH` (pyenv's plugin protocol) and run with pyenv's
//! environment; building commands (`install`, `uninstall`, `virtualenv`, …) run strap's own.

mod commands;
mod docs;
mod init;
mod install;
mod query;
mod words;

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

pub use words::report_error;
pub(super) use words::{reported, warn_ignored};

use super::Ctx;
use crate::env_vars;
use crate::error::Reported;
use crate::layout::{self, Layout};
use commands::Run;

/// True for one of pyenv's own commands (see [`commands::own_commands`]).
pub fn is_own_command(name: &str) -> bool {
    commands::is_own(name)
}

/// The pyenv release whose commands and behaviour this mode follows.
const PYENV_COMPAT_VERSION: &str = "2.6.30";

/// A command's outcome: its exit code (messages are already printed).
type Outcome = Result<i32, Reported>;

/// Runs `pyenv ARGS` (`argv0` is the path strap was started through); returns the exit code.
pub fn run(argv0: &OsStr, args: impl Iterator<Item = OsString>) -> i32 {
    let mut raw: Vec<OsString> = args.collect();
    if raw.first().is_some_and(|a| a == "--debug") {
        raw.remove(0);
    }
    // Parsed as text; what is passed on to other programs (`exec`, plugins) stays as given.
    let args: Vec<String> = raw
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env = match PyenvEnv::from_env(argv0) {
        Ok(env) => env,
        Err(message) => return fail(&message),
    };
    let mut out = super::Stdout::new();
    let code = match dispatch(&env, &args, &raw, &mut out) {
        Ok(code) => code,
        Err(_) if out.closed => 0,
        Err(err) => words::report(&err),
    };
    match out.flush() {
        Ok(()) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Err(e) => fail(&format!("cannot write output: {e}")),
    }
}

/// Prints `pyenv: MESSAGE` to stderr; returns 1.
fn fail(message: &str) -> i32 {
    say!("pyenv: {message}");
    1
}

/// What pyenv computes before running any command: the root, the directory version files are
/// looked up from, and where its own commands live.
pub(super) struct PyenvEnv {
    ctx: Ctx,
    /// `PYENV_DIR`, made absolute (default: the current directory).
    dir: PathBuf,
    /// The directory `pyenv` was started from (its `libexec/`): first on `PATH` for plugins.
    libexec: Option<PathBuf>,
}

impl PyenvEnv {
    fn from_env(argv0: &OsStr) -> Result<PyenvEnv, String> {
        let cwd = std::env::current_dir().ok();
        let dir = match std::env::var_os(env_vars::PYENV_DIR).filter(|d| !d.is_empty()) {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if !dir.is_dir() {
                    return Err(format!(
                        "cannot change working directory to `{}'",
                        dir.display()
                    ));
                }
                crate::version::logical_absolute(&dir)
            }
            None => cwd.clone().unwrap_or_default(),
        };
        // A bare name was found on `PATH` by whoever started it.
        let started_as = Path::new(argv0);
        let started_as = if started_as.components().count() > 1 {
            Some(started_as.to_owned())
        } else {
            crate::which::find_on_path(&argv0.to_string_lossy())
        };
        let libexec = started_as
            .as_deref()
            .and_then(Path::parent)
            .and_then(|p| std::path::absolute(p).ok());
        Ok(PyenvEnv {
            ctx: Ctx {
                layout: Layout::pyenv_from_env(),
                cwd,
            },
            dir,
            libexec,
        })
    }

    fn layout(&self) -> &Layout {
        &self.ctx.layout
    }

    /// `PATH` as pyenv's commands see it: pyenv's own directory, then each plugin's `bin/`.
    fn command_path(&self) -> OsString {
        self.command_path_with(None)
    }

    /// [`PyenvEnv::command_path`] with `links` (see [`PyenvEnv::command_links`]) right after
    /// pyenv's own directory.
    fn command_path_with(&self, links: Option<PathBuf>) -> OsString {
        let mut dirs: Vec<PathBuf> = self.libexec.iter().cloned().chain(links).collect();
        // pyenv prepends each in turn, so the last one ends up first.
        dirs.extend(self.layout().plugin_dirs("bin").into_iter().rev());
        let old = std::env::var_os("PATH").unwrap_or_default();
        let mut path = std::env::join_paths(&dirs).unwrap_or_default();
        if !old.is_empty() {
            if !path.is_empty() {
                path.push(":");
            }
            path.push(old);
        }
        path
    }

    /// `PYENV_HOOK_PATH` as pyenv exports it to plugins: the inherited value, the root's
    /// `pyenv.d`, the one next to pyenv's `libexec/`, the system-wide directories, and each
    /// plugin's `etc/pyenv.d`. (strap itself runs no hooks: its pip rehash is built in.)
    fn hook_path(&self) -> OsString {
        let root = self.layout().root();
        let mut dirs: Vec<PathBuf> = std::env::var_os("PYENV_HOOK_PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        dirs.push(self.layout().hooks_dir());
        if let Some(prefix) = self.libexec.as_deref().and_then(Path::parent) {
            if prefix != root {
                dirs.push(prefix.join(layout::HOOKS_DIR));
            }
        }
        for system in [
            "/usr/etc/pyenv.d",
            "/usr/local/etc/pyenv.d",
            "/etc/pyenv.d",
            "/usr/lib/pyenv/hooks",
        ] {
            dirs.push(PathBuf::from(system));
        }
        dirs.extend(
            self.layout()
                .plugin_dirs(&format!("etc/{}", layout::HOOKS_DIR)),
        );
        // Once each: pyenv's commands run by a plugin inherit the extended value.
        let mut seen = std::collections::HashSet::new();
        let dirs: Vec<PathBuf> = dirs
            .into_iter()
            .filter(|d| !d.as_os_str().is_empty() && seen.insert(d.clone()))
            .collect();
        std::env::join_paths(dirs).unwrap_or_default()
    }

    /// True when a plugin under `$PYENV_ROOT/plugins/` has `bin/pyenv-<name>`.
    fn plugin_provides(&self, name: &str) -> bool {
        self.layout()
            .plugin_dirs("bin")
            .iter()
            .any(|bin| crate::which::is_executable(&bin.join(format!("pyenv-{name}"))))
    }

    /// An external `pyenv-<name>` command on pyenv's `PATH`.
    fn external_command(&self, name: &str) -> Option<PathBuf> {
        self.find_in_command_path(name, crate::which::is_executable)
    }

    /// The file of `pyenv-<name>`: an executable one, else (as bash's `command -v` finds it) a
    /// plain file; for reading its documentation.
    fn command_file(&self, name: &str) -> Option<PathBuf> {
        self.external_command(name)
            .or_else(|| self.find_in_command_path(name, Path::is_file))
    }

    fn find_in_command_path(&self, name: &str, accept: impl Fn(&Path) -> bool) -> Option<PathBuf> {
        let file = format!("pyenv-{name}");
        std::env::split_paths(&self.command_path())
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join(&file))
            .find(|candidate| accept(candidate))
    }

    /// Replaces this process with an external command, in pyenv's environment.
    fn exec_external(&self, path: &Path, args: &[OsString]) -> Outcome {
        let err = self.plugin_command(path).args(args).exec();
        Err(Reported::message(format!(
            "cannot run {}: {err}",
            path.display()
        )))
    }

    /// A plugin's command in pyenv's environment: `PYENV_ROOT`, `PYENV_DIR`, `PYENV_HOOK_PATH`,
    /// and a `PATH` where pyenv's own commands exist as `pyenv-<command>` executables (plugins
    /// call them directly: `pyenv-version-name`, `pyenv-prefix`, `pyenv-hooks`, …).
    fn plugin_command(&self, path: &Path) -> std::process::Command {
        let path_var = self.command_path_with(self.command_links());
        let mut cmd = std::process::Command::new(path);
        cmd.env(env_vars::PYENV_ROOT, self.layout().root())
            .env(env_vars::PYENV_DIR, &self.dir)
            .env("PATH", path_var)
            .env("PYENV_HOOK_PATH", self.hook_path());
        cmd
    }

    /// `<root>/.strap-libexec/`: a link `pyenv-<command>` to strap for each of pyenv's own
    /// commands (strap started as `pyenv-<command>` runs `pyenv <command>`), made on first use
    /// and kept current; `None` when it cannot be made (a read-only root).
    fn command_links(&self) -> Option<PathBuf> {
        let dir = self.layout().command_links_dir();
        let strap = std::env::current_exe().ok()?;
        std::fs::create_dir_all(&dir).ok()?;
        for name in commands::own_commands() {
            let link = dir.join(format!("pyenv-{name}"));
            if std::fs::read_link(&link).is_ok_and(|target| target == strap) {
                continue;
            }
            crate::atomic_file::symlink(&strap, &link).ok()?;
        }
        Some(dir)
    }
}

/// Runs one pyenv command line (`raw`: the same arguments, as given).
fn dispatch(env: &PyenvEnv, args: &[String], raw: &[OsString], out: &mut dyn Write) -> Outcome {
    let Some((command, rest)) = args.split_first() else {
        let mut text = Vec::new();
        writeln!(text, "{}", version_line())?;
        docs::help(env, &[], &mut text)?;
        io::stderr().write_all(&text)?;
        return Ok(1);
    };
    match command.as_str() {
        "-v" | "--version" => return version(out),
        "-h" | "--help" => return docs::help(env, &[], out),
        _ => {}
    }
    if rest.first().is_some_and(|a| a == "--help") {
        let plain = commands::find(command).is_some_and(|c| c.run.is_some())
            || env.external_command(command).is_some();
        let sh = commands::find_sh(command).is_some()
            || (command.starts_with("sh-") && env.external_command(command).is_some());
        if sh {
            writeln!(out, "pyenv help \"{command}\"")?;
            return Ok(0);
        }
        if plain {
            return docs::help(env, std::slice::from_ref(command), out);
        }
    }
    if rest.first().is_some_and(|a| a == "--complete") {
        if let Some(words) = docs::builtin_completions(env, command)? {
            for word in words {
                writeln!(out, "{word}")?;
            }
            return Ok(0);
        }
    }
    let raw_rest = &raw[1..];
    if let Some(code) = builtin(env, command, rest, raw_rest, out)? {
        return Ok(code);
    }
    match env.external_command(command) {
        Some(path) => env.exec_external(&path, raw_rest),
        None if command == "shell" => Ok(fail(
            "shell integration not enabled. Run `pyenv init' for instructions.",
        )),
        None => Ok(fail(&format!("no such command `{command}'"))),
    }
}

/// Runs a builtin command (see [`commands::COMMANDS`]); `None` when `command` is not one.
fn builtin(
    env: &PyenvEnv,
    command: &str,
    args: &[String],
    raw: &[OsString],
    out: &mut dyn Write,
) -> Result<Option<i32>, Reported> {
    if let Some(sh) = commands::find_sh(command).and_then(|c| c.sh) {
        return sh(env, args, raw, out).map(Some);
    }
    let Some(found) = commands::find(command) else {
        return Ok(None);
    };
    let code = match &found.run {
        None => return Ok(None),
        Some(Run::Own(handler)) => handler(env, args, raw, out)?,
        Some(Run::Install)
            if args
                .iter()
                .any(|a| ["-l", "--list", "-L", "--list-all"].contains(&a.as_str())) =>
        {
            query::install_list(out)?
        }
        Some(Run::Install) if args.iter().any(|a| a == "--version") => {
            writeln!(out, "{}", compat_version_line("python-build"))?;
            0
        }
        Some(Run::Strap { .. }) if found.defers_to_plugin(env) => return Ok(None),
        Some(Run::Install | Run::Strap { .. }) => strap_command(env, command, args, out)?,
    };
    Ok(Some(code))
}

/// Runs one of strap's own commands on pyenv's root (`pyenv install 3.12` is `strap install 3.12`).
fn strap_command(env: &PyenvEnv, command: &str, args: &[String], out: &mut dyn Write) -> Outcome {
    let words = std::iter::once(command).chain(args.iter().map(String::as_str));
    match super::parse_command(words) {
        Ok(parsed) => {
            if let super::Command::Install(install) = &parsed {
                // With no version given and none selected, pyenv-install shows its usage.
                if install.versions.is_empty()
                    && crate::pins::nothing_selected(&env.ctx.selection()?).is_some()
                {
                    return usage_error(env, command);
                }
                let missing = install::definition_not_found(
                    &install.versions,
                    install.debug,
                    install.sha256.as_deref(),
                )?;
                if let Some(code) = missing {
                    return Ok(code);
                }
            }
            super::dispatch(&env.ctx, parsed, out)
        }
        // As pyenv's commands answer arguments they do not take: their help, on stderr, exit 1
        // (after what was wrong, unless an argument is simply missing).
        Err(err) if err.use_stderr() => {
            if err.kind() != clap::error::ErrorKind::MissingRequiredArgument {
                if let Some(what) = err.render().to_string().lines().next() {
                    say!("pyenv: {}", what.strip_prefix("error: ").unwrap_or(what));
                }
            }
            usage_error(env, command)
        }
        Err(_) => docs::help(env, &[command.to_owned()], out),
    }
}

/// A command's help on stderr, exit 1: pyenv's answer to arguments a command does not take.
fn usage_error(env: &PyenvEnv, command: &str) -> Outcome {
    let mut usage = Vec::new();
    docs::help(env, &[command.to_owned()], &mut usage)?;
    io::stderr().write_all(&usage)?;
    Ok(1)
}

/// `pyenv --version`.
fn version(out: &mut dyn Write) -> Outcome {
    writeln!(out, "{}", version_line())?;
    Ok(0)
}

/// `pyenv 2.6.30 (strap 0.1.0)`: the pyenv release this mode follows, and strap's own version.
fn version_line() -> String {
    compat_version_line("pyenv")
}

/// `PROGRAM 2.6.30 (strap 0.1.0)` (`pyenv install --version` is python-build's line).
fn compat_version_line(program: &str) -> String {
    format!(
        "{program} {PYENV_COMPAT_VERSION} (strap {})",
        env!("CARGO_PKG_VERSION")
    )
}
