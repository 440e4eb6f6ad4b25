//! pyenv's version commands in pyenv mode: `version*`, `versions`, `global`, `local`, `prefix`,
//! `latest`, `which`, `whence`, `exec`, `rehash`, `shims`, `install --list`, with pyenv's
//! arguments, output and exit codes, over strap's selection and resolution rules.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::words::{self, not_installed};
use super::{Outcome, PyenvEnv};
use crate::error::{Io, Reported};
use crate::layout::Layout;
use crate::version::{self, Origin, Resolved, Selection, LOCAL_VERSION_FILE};
use crate::which;

/// Prints a command's usage line to stderr; returns 1 (as pyenv does for bad arguments).
fn usage(command: &str) -> i32 {
    say!("{}", super::commands::find(command).map_or("", |d| d.usage));
    1
}

/// The selection as pyenv sees it (`PYENV_VERSION`, `PYENV_DIR`, the nearest version file, the
/// global file).
fn selection(env: &PyenvEnv) -> Result<Selection, Reported> {
    Ok(env.ctx.selection()?)
}

/// pyenv's `version-name`: each selected name resolved (exact, without `python-`, newest match);
/// a missing one is reported (or, with `force`, kept as written without `python-`).
fn resolved_names(env: &PyenvEnv, selection: &Selection, force: bool) -> (Vec<String>, bool) {
    if force {
        return (version::forced_names(env.layout(), selection), true);
    }
    let mut names = Vec::new();
    let mut all_found = true;
    for (requested, resolved) in version::resolve_names(env.layout(), selection) {
        match resolved {
            Some(name) => names.push(name),
            None => {
                say!("{}", not_installed(requested, &selection.origin));
                all_found = false;
            }
        }
    }
    (names, all_found)
}

pub(super) fn version_name(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let force = args.iter().any(|a| a == "-f" || a == "--force");
    let selection = selection(env)?;
    let (names, all_found) = resolved_names(env, &selection, force);
    writeln!(out, "{}", names.join(":"))?;
    Ok(if all_found { 0 } else { 1 })
}

pub(super) fn version(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let mut bare = false;
    for arg in args {
        match arg.as_str() {
            "--bare" => bare = true,
            _ => return Ok(usage("version")),
        }
    }
    let selection = selection(env)?;
    let (names, all_found) = resolved_names(env, &selection, false);
    for name in names {
        if bare {
            writeln!(out, "{name}")?;
        } else {
            writeln!(out, "{name} (set by {})", selection.origin)?;
        }
    }
    Ok(if all_found { 0 } else { 1 })
}

pub(super) fn version_origin(env: &PyenvEnv, out: &mut dyn Write) -> Outcome {
    writeln!(out, "{}", selection(env)?.origin)?;
    Ok(0)
}

/// `pyenv version-file [DIR]`: the nearest `.python-version` from DIR (none: exit 1, silently);
/// without DIR from `PYENV_DIR`, then the current directory, else the global file.
pub(super) fn version_file(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    if let Some(dir) = args.first().filter(|d| !d.is_empty()) {
        let start = version::logical_absolute(Path::new(dir));
        let Some(file) = version::find_local_version_file(&start) else {
            return Ok(1);
        };
        // Found in DIR itself: named as DIR was given (pyenv prints `../.python-version`).
        if file.parent() == Some(&start) {
            writeln!(out, "{dir}/{LOCAL_VERSION_FILE}")?;
        } else {
            writeln!(out, "{}", file.display())?;
        }
        return Ok(0);
    }
    let (file, _) = version::version_file(env.layout(), env.ctx.cwd.as_deref());
    writeln!(out, "{}", file.display())?;
    Ok(0)
}

/// `pyenv version-file-read FILE`: its names, `:`-separated; a name that would leave `versions/`
/// is skipped with a warning; exit 1 when it names nothing.
pub(super) fn version_file_read(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let Some(file) = args.first().filter(|f| !f.is_empty()) else {
        return Ok(1);
    };
    let names = read_names(env.layout(), Path::new(file), file);
    if names.is_empty() {
        return Ok(1);
    }
    writeln!(out, "{}", names.join(":"))?;
    Ok(0)
}

/// The safe names in a version file (nothing when it cannot be read); `shown` is how warnings
/// name the file.
fn read_names(layout: &Layout, file: &Path, shown: &str) -> Vec<String> {
    let names = version::read_version_file(file).unwrap_or_default();
    names
        .into_iter()
        .filter(|name| {
            let safe = version::stays_inside_versions(layout, name);
            if !safe {
                say!("pyenv: invalid version `{name}' ignored in `{shown}'");
            }
            safe
        })
        .collect()
}

/// `pyenv version-file-write [-f] FILE VERSION...`.
pub(super) fn version_file_write(env: &PyenvEnv, args: &[String]) -> Outcome {
    let (force, args) = strip_force(args);
    match args.split_first() {
        Some((file, versions))
            if !file.is_empty() && versions.first().is_some_and(|v| !v.is_empty()) =>
        {
            write_version_file(env, Path::new(file), versions, force)
        }
        _ => Ok(usage("version-file-write")),
    }
}

/// Leading `-f`/`--force` flags.
fn strip_force(args: &[String]) -> (bool, &[String]) {
    let count = args
        .iter()
        .take_while(|a| *a == "-f" || *a == "--force")
        .count();
    (count > 0, &args[count..])
}

/// Writes `versions` to `file` after checking that each is installed (unless `force`).
fn write_version_file(env: &PyenvEnv, file: &Path, versions: &[String], force: bool) -> Outcome {
    if !force && prefixes(env, versions).is_err() {
        return Ok(1);
    }
    version::write_version_file(file, versions)?;
    Ok(0)
}

pub(super) fn global(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let root = env.layout().root();
    if args.first().is_some_and(|a| !a.is_empty()) {
        return write_version_file(env, &env.layout().global_version_file(), args, false);
    }
    let names = ["version", "global", "default"]
        .iter()
        .map(|file| {
            read_names(
                env.layout(),
                &root.join(file),
                &root.join(file).display().to_string(),
            )
        })
        .find(|names| !names.is_empty())
        .unwrap_or_else(|| vec!["system".to_owned()]);
    for name in names {
        writeln!(out, "{name}")?;
    }
    Ok(0)
}

/// `pyenv local [-f] [VERSION...|--unset]`: the current directory's file (`PYENV_DIR` is ignored).
pub(super) fn local(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let (force, args) = strip_force(args);
    let cwd = env.ctx.cwd.clone().unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("--unset") => {
            match std::fs::remove_file(cwd.join(LOCAL_VERSION_FILE)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Io::new("remove", cwd.join(LOCAL_VERSION_FILE), e).into())
                }
                _ => {}
            }
            Ok(0)
        }
        Some(first) if !first.is_empty() => {
            write_version_file(env, &cwd.join(LOCAL_VERSION_FILE), args, force)
        }
        _ => {
            let Some(file) = version::find_local_version_file(&cwd) else {
                say!("pyenv: no local version configured for this directory");
                return Ok(1);
            };
            let names = read_names(env.layout(), &file, &file.display().to_string());
            for name in &names {
                writeln!(out, "{name}")?;
            }
            // An empty file: pyenv's `version-file-read` fails, and so does `local`.
            Ok(if names.is_empty() { 1 } else { 0 })
        }
    }
}

/// The prefix of each of `versions` (as `pyenv prefix` finds them); the first failure is
/// printed in pyenv's words and returned as `Err(exit code)`.
pub(super) fn prefixes(env: &PyenvEnv, versions: &[String]) -> Result<Vec<PathBuf>, i32> {
    let layout = env.layout();
    let names: Vec<String> = versions
        .iter()
        .flat_map(|v| version::split_names(v))
        .collect();
    let mut found = Vec::new();
    for name in names {
        if name == "system" {
            let Some(python) = system_python(layout) else {
                say!("pyenv: system version not found in PATH");
                return Err(1);
            };
            found.push(system_prefix(&python));
            continue;
        }
        match version::resolve(layout, &name, &Origin::Argument) {
            Ok(Resolved::Installed { prefix, .. }) => found.push(prefix),
            _ => {
                say!("pyenv: version `{name}' not installed");
                return Err(1);
            }
        }
    }
    Ok(found)
}

/// The system's Python as pyenv looks for it: `python`, else `python3`, else `python2` on `PATH`
/// outside the shims.
fn system_python(layout: &Layout) -> Option<PathBuf> {
    which::find_first_on_system_path(layout, &["python", "python3", "python2"])
}

/// The prefix of a system executable: its directory without `/bin` or `/sbin` (`/` at the top).
fn system_prefix(executable: &Path) -> PathBuf {
    let dir = executable.parent().unwrap_or(Path::new("/"));
    let prefix = match dir.file_name().and_then(|n| n.to_str()) {
        Some("bin" | "sbin") => dir.parent().unwrap_or(Path::new("/")),
        _ => dir,
    };
    if prefix.as_os_str().is_empty() {
        PathBuf::from("/")
    } else {
        prefix.to_owned()
    }
}

pub(super) fn prefix(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let from_env = std::env::var(crate::env_vars::PYENV_VERSION).unwrap_or_default();
    let versions = if args.first().is_some_and(|a| !a.is_empty()) {
        args.to_vec()
    } else if !from_env.is_empty() {
        vec![from_env]
    } else {
        let selection = selection(env)?;
        let (names, all_found) = resolved_names(env, &selection, false);
        if !all_found {
            return Ok(1);
        }
        names
    };
    match prefixes(env, &versions) {
        Ok(found) => {
            let shown: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
            writeln!(out, "{}", shown.join(":"))?;
            Ok(0)
        }
        Err(code) => Ok(code),
    }
}

/// `pyenv latest [-k] [-b] [-f] PREFIX`: the newest installed (or, with `-k`, known) version the
/// prefix selects; a name that exists as it is is itself.
pub(super) fn latest(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let (mut known, mut bypass, mut force) = (false, false, false);
    let mut rest = args;
    while let Some((flag, tail)) = rest.split_first() {
        match flag.as_str() {
            "-k" | "--known" => known = true,
            "-b" | "--bypass" => bypass = true,
            "-f" | "--force" => (bypass, force) = (true, true),
            _ => break,
        }
        rest = tail;
    }
    let prefix = rest.first().cloned().unwrap_or_default();
    if prefix.is_empty() && !known && env.layout().versions_dir().is_dir() {
        // pyenv's quirk: `versions/` itself "exists", so an empty prefix is printed as it is.
        writeln!(out)?;
        return Ok(0);
    }
    let candidates = if known {
        known_versions()?
    } else {
        if version::stays_inside_versions(env.layout(), &prefix)
            && env.layout().version_dir(&prefix).is_dir()
        {
            writeln!(out, "{prefix}")?;
            return Ok(0);
        }
        version_names(env.layout(), true, false)?
    };
    let found = if candidates.contains(&prefix) {
        Some(prefix.as_str())
    } else {
        version::newest_match(&prefix, candidates.iter().map(String::as_str))
    };
    match found {
        Some(found) => {
            writeln!(out, "{found}")?;
            Ok(0)
        }
        None => {
            if bypass {
                writeln!(out, "{prefix}")?;
            } else {
                let which = if known { "known" } else { "installed" };
                say!("pyenv: no {which} versions match the prefix `{prefix}'");
            }
            Ok(if force { 0 } else { 1 })
        }
    }
}

/// Every name python-build's catalog lists, in its order (`pyenv install --list`).
pub(super) fn known_versions() -> Result<Vec<String>, Reported> {
    Ok(crate::python::catalog::Catalog::from_env()?.listing())
}

/// `pyenv install --list`, in pyenv's format.
pub(super) fn install_list(out: &mut dyn Write) -> Outcome {
    writeln!(out, "Available versions:")?;
    for name in known_versions()? {
        writeln!(out, "  {name}")?;
    }
    Ok(0)
}

/// The names under `versions/` as `pyenv versions --bare` lists them: every directory (links
/// included, dot names too, strap's own removal leftovers excluded), version-sorted; then each
/// one's virtualenvs (`3.12.7/envs/NAME`) unless `skip_envs`.
pub(super) fn version_names(
    layout: &Layout,
    skip_envs: bool,
    skip_aliases: bool,
) -> Result<Vec<String>, Reported> {
    Ok(version::listed_versions(layout, skip_envs, skip_aliases)?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// `pyenv versions [--bare] [--skip-aliases] [--skip-envs] [--executables]`.
pub(super) fn versions(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let (mut bare, mut skip_aliases, mut skip_envs) = (false, false, false);
    for arg in args {
        match arg.as_str() {
            "--executables" => return executables(env.layout(), out),
            "--bare" => bare = true,
            "--skip-aliases" => skip_aliases = true,
            "--skip-envs" => skip_envs = true,
            _ => return Ok(usage("versions")),
        }
    }
    let entries = version::listed_versions(env.layout(), skip_envs, skip_aliases)?;
    if bare {
        for (name, _) in entries {
            writeln!(out, "{name}")?;
        }
        return Ok(0);
    }
    let selection = selection(env)?;
    // Selected versions that are not installed are named on stderr, as pyenv does.
    let (current, _) = resolved_names(env, &selection, false);
    let has_system = system_python(env.layout()).is_some();
    let system = has_system.then(|| ("system".to_owned(), PathBuf::from("/")));
    let mut listed = 0;
    for (name, path) in system.into_iter().chain(entries) {
        let shown = match std::fs::read_link(&path) {
            Ok(target) if name != "system" => format!("{name} --> {}", target.display()),
            _ => name.clone(),
        };
        if current.contains(&name) {
            writeln!(out, "* {shown} (set by {})", selection.origin)?;
        } else {
            writeln!(out, "  {shown}")?;
        }
        listed += 1;
    }
    if listed == 0 {
        say!("Warning: no Python detected on the system");
        return Ok(1);
    }
    Ok(0)
}

/// `pyenv versions --executables`: the names in every version's and virtualenv's `bin/`.
fn executables(layout: &Layout, out: &mut dyn Write) -> Outcome {
    for name in crate::shims::executable_names(layout)? {
        writeln!(out, "{}", name.to_string_lossy())?;
    }
    Ok(0)
}

/// Finds `command` for pyenv's `which` and `exec`; a failure is printed in pyenv's words and
/// returned as `Err(exit code)`.
fn locate(
    env: &PyenvEnv,
    command: &str,
    system: bool,
    skip_advice: bool,
) -> Result<Result<which::Target, i32>, Reported> {
    let selection = selection(env)?;
    match which::find_command_in(env.layout(), &selection, command, system) {
        Ok(target) => Ok(Ok(target)),
        Err(err) => {
            let (text, code) = words::render(&err, skip_advice);
            say!("{}", text.trim_end_matches('\n'));
            Ok(Err(code))
        }
    }
}

/// `pyenv which COMMAND [--nosystem] [--skip-advice]`.
pub(super) fn which(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let Some(command) = args.first().filter(|c| !c.is_empty()) else {
        return Ok(usage("which"));
    };
    let system = !args.iter().any(|a| a == "--nosystem");
    let skip_advice = args.iter().any(|a| a == "--skip-advice");
    match locate(env, command, system, skip_advice)? {
        Ok(target) => {
            writeln!(out, "{}", target.path.display())?;
            Ok(0)
        }
        Err(code) => Ok(code),
    }
}

/// `pyenv whence [--path] COMMAND`: the versions (or paths) that have it; exit 1 when none.
pub(super) fn whence(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let (paths, args) = match args.split_first() {
        Some((flag, rest)) if flag == "--path" => (true, rest),
        _ => (false, args),
    };
    let Some(command) = args.first().filter(|c| !c.is_empty()) else {
        return Ok(usage("whence"));
    };
    let mut found = false;
    for (name, prefix) in version::listed_versions(env.layout(), false, false)? {
        let path = prefix.join("bin").join(command);
        if which::is_executable(&path) {
            found = true;
            if paths {
                writeln!(out, "{}", path.display())?;
            } else {
                writeln!(out, "{name}")?;
            }
        }
    }
    Ok(if found { 0 } else { 1 })
}

/// `pyenv exec COMMAND ARGS...`: runs it from the selected version (pip installs rehash after);
/// `raw` holds the arguments as given (not necessarily UTF-8), passed on untouched.
pub(super) fn exec(env: &PyenvEnv, args: &[String], raw: &[std::ffi::OsString]) -> Outcome {
    let Some(command) = args.first() else {
        return Ok(usage("exec"));
    };
    let selection = selection(env)?;
    match crate::shim::exec_selected(
        env.layout(),
        &selection,
        command,
        raw.iter().skip(1).cloned(),
        super::super::run_and_rehash,
    ) {
        Ok(code) => Ok(code),
        Err(err) => Ok(super::report_error(&err)),
    }
}

/// `pyenv rehash`: prints nothing on success.
pub(super) fn rehash(env: &PyenvEnv) -> Outcome {
    let shims = env.layout().shims_dir();
    if shims.is_dir() && !writable(&shims) {
        say!("pyenv: cannot rehash: {} isn't writable", shims.display());
        return Ok(1);
    }
    super::super::shims::rehash(&env.ctx)?;
    Ok(0)
}

/// `pyenv root`.
pub(super) fn root(env: &PyenvEnv, out: &mut dyn Write) -> Outcome {
    writeln!(out, "{}", env.layout().root().display())?;
    Ok(0)
}

/// `pyenv hooks COMMAND`: the hook scripts plugins provide for COMMAND, `*.bash` in
/// `<dir>/COMMAND/` for each directory of `PYENV_HOOK_PATH` (links resolved), in order.
pub(super) fn hooks(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let Some(command) = args.first().filter(|c| !c.is_empty()) else {
        return Ok(usage("hooks"));
    };
    for dir in std::env::split_paths(&env.hook_path()) {
        let Ok(entries) = std::fs::read_dir(dir.join(command)) else {
            continue;
        };
        let mut scripts: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "bash"))
            .collect();
        scripts.sort();
        for script in scripts {
            let real = script.canonicalize().unwrap_or(script);
            writeln!(out, "{}", real.display())?;
        }
    }
    Ok(0)
}

/// True when this process may create files in `dir` (as `[ -w DIR ]` tests it).
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
    unsafe { libc::access(path.as_ptr(), libc::W_OK) == 0 }
}

/// `pyenv shims [--short]`: strap's own listing.
pub(super) fn shims(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let short = args.iter().any(|a| a == "--short");
    crate::cli::shims::list(&env.ctx, short, out)?;
    Ok(0)
}
