//! The shim fast path: resolve the selected version and `exec` the real executable.
//!
//! No argument parsing, no config file, no network: read the version selection, find the file,
//! replace this process with it, so arguments, stdio, exit status and signals pass through untouched.

use std::convert::Infallible;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::env_vars;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::version;
use crate::which::{self, Target};

/// Shims started through shims more often than this in a row are a loop.
const MAX_SHIM_DEPTH: u32 = 16;

/// Runs `command` from the selected version with `args`; returns only on failure.
pub fn exec(
    layout: &Layout,
    command: &str,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Infallible> {
    let depth = std::env::var(env_vars::STRAP_SHIM_DEPTH)
        .ok()
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(0);
    if depth >= MAX_SHIM_DEPTH {
        return Err(Error::ShimLoop(command.to_owned()));
    }
    let cwd = std::env::current_dir().ok();
    let selection = version::select(layout, cwd.as_deref())?;
    let target = which::find_command(layout, &selection, command)?;
    Err(exec_target(&target, args, depth + 1))
}

/// Replaces the process with `target`, its version's `bin/` first on `PATH` (as pyenv does, so
/// the programs it starts come from the same version).
fn exec_target(target: &Target, args: impl IntoIterator<Item = OsString>, depth: u32) -> Error {
    let mut cmd = Command::new(&target.path);
    cmd.args(args)
        .env(env_vars::STRAP_SHIM_DEPTH, depth.to_string());
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
    Error::Exec {
        path: target.path.clone(),
        source: cmd.exec(),
    }
}
