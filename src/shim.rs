//! The shim fast path: resolve the selected version and `exec` the real executable.
//!
//! No argument parsing, no config file, no network: read the version selection, find the file,
//! replace this process with it, so arguments, stdio, exit status and signals pass through untouched.
//! The one exception is a package install (`pip install`, `python -m pip uninstall`, …): strap
//! waits for it and rehashes afterwards, so the commands it added get shims (pyenv's pip-rehash).
//!
//! Nothing here prints: the CLI selects (and warns about what the selection ignored), then calls
//! [`exec_selected`], and prints the error when it returns one.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;

use crate::env_vars;
use crate::layout::{Flavor, Layout};
use crate::version::{self, Error, Result, Selection};
use crate::which::{self, Target};

/// Shims started through shims more often than this in a row are a loop.
const MAX_SHIM_DEPTH: u32 = 16;

/// How many shims in a row started this one, from `STRAP_SHIM_DEPTH`. A shim sets it to
/// `N:PID` for the program it executes ([`depth_value`]): `N` shims in a row, the last one in
/// process `PID`. Only a shim started in that same process (the program was itself a shim, or a
/// script that `exec`s one) or, after a package install's `N:^PID`, as a child of `PID` (the
/// install's program, run as a child) continues the count; any other process starting a shim (a
/// Python program running another one) starts again from 0, so only shim-to-shim starts count.
fn inherited_depth() -> u32 {
    let Some(value) = std::env::var_os(env_vars::STRAP_SHIM_DEPTH) else {
        return 0;
    };
    let Some((depth, pid)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return 0;
    };
    let continues = match pid.strip_prefix('^') {
        // SAFETY: `getppid` has no preconditions.
        Some(parent) => parent.parse() == Ok(unsafe { libc::getppid() }),
        None => pid.parse() == Ok(std::process::id()),
    };
    if continues {
        depth.parse().unwrap_or(0)
    } else {
        0
    }
}

/// How a package install (see [`changes_packages`]) runs: [`run_install`] then a rehash in
/// `strap`, [`hand_over_to_strap`] in the lean shim binary (which keeps the process-spawning and
/// rehash code out of it).
pub type InstallRunner = fn(&Layout, &Target, Command) -> Result<i32>;

/// Runs `command` from the versions `selection` selects, with `args`. Returns only on failure,
/// or with the exit code of a package install it waited for.
pub fn exec_selected(
    layout: &Layout,
    selection: &Selection,
    command: &str,
    args: impl IntoIterator<Item = OsString>,
    install: InstallRunner,
) -> Result<i32> {
    let depth = inherited_depth();
    if depth >= MAX_SHIM_DEPTH {
        return Err(Error::ShimLoop(command.to_owned()));
    }
    let target = which::find_command(layout, selection, command)?;
    let args: Vec<OsString> = args.into_iter().collect();
    let mut cmd = target_command(&target, &args);
    if layout.flavor() == Flavor::Pyenv {
        // As `pyenv exec`: what the program starts in turn keeps this selection.
        cmd.env(
            env_vars::PYENV_VERSION,
            version::forced_names(layout, selection).join(":"),
        );
    }
    let install_runs = changes_packages(command, &args);
    cmd.env(
        env_vars::STRAP_SHIM_DEPTH,
        depth_value(depth + 1, install_runs),
    );
    if install_runs {
        return install(layout, &target, cmd);
    }
    Err(exec_error(&target, cmd.exec()))
}

/// `STRAP_SHIM_DEPTH` for a program started by the `depth`-th shim in a row, this process (see
/// [`inherited_depth`]): `depth:PID` for a program this process becomes (`exec`), `depth:^PID`
/// for one it runs as a child (a package install, see [`run_and_rehash`]).
fn depth_value(depth: u32, as_child: bool) -> String {
    let child = if as_child { "^" } else { "" };
    format!("{depth}:{child}{}", std::process::id())
}

/// Runs a package install to completion (the caller rehashes after one that succeeded, so the
/// commands it added have shims). Ctrl-C and Ctrl-\ reach the child through the terminal; this
/// process only waits for it (as a shell does). The install succeeded or not, its exit code is
/// returned (0 only for success).
pub fn run_install(target: &Target, mut cmd: Command) -> Result<i32> {
    // Ignored from before the child starts (no window where Ctrl-C kills only this process); the
    // child gets back the dispositions this process had.
    // SAFETY: `signal` has no preconditions.
    let (int, quit) = unsafe {
        (
            libc::signal(libc::SIGINT, libc::SIG_IGN),
            libc::signal(libc::SIGQUIT, libc::SIG_IGN),
        )
    };
    // SAFETY: in the child, between fork and exec, `signal` is async-signal-safe (a `sigaction`
    // call) and the closure touches only the two copied values.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGINT, int);
            libc::signal(libc::SIGQUIT, quit);
            Ok(())
        });
    }
    let status = cmd.spawn().and_then(|mut child| child.wait());
    // Interruptible again while rehashing (it may wait for another rehash's lock).
    // SAFETY: as above.
    unsafe {
        libc::signal(libc::SIGINT, int);
        libc::signal(libc::SIGQUIT, quit);
    }
    let status = status.map_err(|e| exec_error(target, e))?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// For the lean shim: replaces this process with `strap --root ROOT exec COMMAND ARGS` (the
/// `strap` next to this executable), which runs the install and rehashes.
pub fn hand_over_to_strap(layout: &Layout, target: &Target, cmd: Command) -> Result<i32> {
    let exe = std::env::current_exe().map_err(|e| exec_error(target, e))?;
    let strap = exe.with_file_name("strap");
    let command = target.path.file_name().unwrap_or_default();
    let err = Command::new(&strap)
        .arg("--root")
        .arg(layout.root())
        .arg("exec")
        .arg(command)
        .args(cmd.get_args())
        .env_remove(env_vars::STRAP_FORCE_ARG0)
        .exec();
    Err(Error::Exec {
        path: strap,
        source: err,
    })
}

/// The command that runs `target`, its version's `bin/` first on `PATH` (as pyenv does, so the
/// programs it starts come from the same version).
fn target_command(target: &Target, args: &[OsString]) -> Command {
    let mut cmd = Command::new(&target.path);
    cmd.args(args);
    if target.version.is_some() {
        if let Some(bin) = target.path.parent() {
            let mut path = OsString::from(bin);
            if let Some(old) = std::env::var_os("PATH").filter(|p| !p.is_empty()) {
                path.push(":");
                path.push(old);
            }
            cmd.env("PATH", path);
        }
    }
    cmd
}

fn exec_error(target: &Target, source: std::io::Error) -> Error {
    Error::Exec {
        path: target.path.clone(),
        source,
    }
}

/// True for a command line that installs or removes packages: `pip`/`pip3`/`pip3.12` (and
/// `easy_install`) with an `install`, `uninstall` or `remove` argument, or `python… -m pip` with
/// one of those after it.
pub fn changes_packages(command: &str, args: &[OsString]) -> bool {
    // Any later argument (options may come first: `pip --log f install x`); a false positive
    // only costs a rehash.
    let subcommand_changes = |rest: &[OsString]| {
        rest.iter()
            .any(|a| a == "install" || a == "uninstall" || a == "remove")
    };
    if is_versioned("pip", command) {
        return subcommand_changes(args);
    }
    if is_versioned("easy_install", command) {
        return true;
    }
    if !command.starts_with("python") {
        return false;
    }
    let after_pip = args
        .windows(2)
        .position(|w| w[0] == "-m" && w[1] == "pip")
        .map(|i| i + 2)
        .or_else(|| args.iter().position(|a| a == "-mpip").map(|i| i + 1));
    after_pip.is_some_and(|start| subcommand_changes(&args[start..]))
}

/// `base`, `base2`, `base3` or `base3.N`.
fn is_versioned(base: &str, command: &str) -> bool {
    let Some(rest) = command.strip_prefix(base) else {
        return false;
    };
    let rest = rest.strip_prefix(['2', '3']).map_or(rest, |r| r);
    rest.is_empty()
        || rest
            .strip_prefix('.')
            .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::changes_packages;
    use std::ffi::OsString;

    fn args(text: &str) -> Vec<OsString> {
        text.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn package_changes_are_recognized() {
        assert!(changes_packages("pip", &args("install requests")));
        assert!(changes_packages("pip3", &args("-q uninstall -y requests")));
        assert!(changes_packages("pip3.12", &args("install .")));
        assert!(changes_packages("python", &args("-m pip install x")));
        assert!(changes_packages("python3.11", &args("-I -m pip remove x")));
        assert!(changes_packages("easy_install", &args("x")));
        assert!(!changes_packages("pip", &args("list")));
        assert!(!changes_packages("pip", &args("")));
        assert!(!changes_packages("pipx", &args("install x")));
        assert!(!changes_packages("pip3.x", &args("install x")));
        assert!(changes_packages("pip", &args("--log f install x")));
        assert!(!changes_packages("python", &args("-c pass install")));
        assert!(!changes_packages("python", &args("-m pip list")));
        assert!(!changes_packages("pytest", &args("-m pip install")));
    }
}
