//! The shell side of pyenv mode: `init` (the code dotfiles `eval`), `sh-shell` and `sh-rehash`
//! (what the `pyenv` shell function evaluates), in the form pyenv emits them, so dotfiles and
//! tools that read or `eval` them keep working.

use std::io::Write;

use super::{Outcome, PyenvEnv};
use crate::error::IoContext;
use crate::{env_vars, shell};

/// What `pyenv init` was asked for.
#[derive(PartialEq, Eq)]
enum Mode {
    Help,
    Print,
    Path,
    DetectShell,
}

/// `pyenv init [-|--path|--detect-shell] [--no-push-path] [--no-rehash] [SHELL]`.
pub(super) fn init(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let mut mode = Mode::Help;
    let (mut no_push_path, mut no_rehash, mut shell) = (false, false, None);
    for arg in args {
        match arg.as_str() {
            "-" => mode = Mode::Print,
            "--path" => mode = Mode::Path,
            "--detect-shell" => mode = Mode::DetectShell,
            "--no-push-path" => no_push_path = true,
            "--no-rehash" => no_rehash = true,
            other => shell = Some(other.to_owned()),
        }
    }
    let shell = shell.unwrap_or_else(detect_shell);
    let shims = env.layout().shims_dir().display().to_string();
    let mut code = String::new();
    match mode {
        Mode::Help => {
            say!("{}", instructions(&shell));
            return Ok(1);
        }
        Mode::DetectShell => {
            let (profile, rc) = profile_files(&shell).unwrap_or(("", ""));
            writeln!(
                out,
                "PYENV_SHELL_DETECT={shell}\nPYENV_PROFILE_DETECT={profile}\nPYENV_RC_DETECT={rc}"
            )?;
            return Ok(0);
        }
        Mode::Path => {
            push_path(&mut code, &shell, &shims, no_push_path);
            push_rehash(&mut code, &shell, no_rehash);
        }
        Mode::Print => {
            for dir in [env.layout().shims_dir(), env.layout().versions_dir()] {
                std::fs::create_dir_all(&dir).io_context("create", dir)?;
            }
            push_path(&mut code, &shell, &shims, no_push_path);
            code.push_str(&match shell.as_str() {
                "fish" => format!("set -gx PYENV_SHELL {shell}\n"),
                "pwsh" => format!("$Env:PYENV_SHELL=\"{shell}\"\n"),
                _ => format!("export PYENV_SHELL={shell}\n"),
            });
            code.push_str(match shell.as_str() {
                "bash" => include_str!("../../../shell/pyenv-completion.bash"),
                "zsh" => include_str!("../../../shell/pyenv-completion.zsh"),
                "fish" => include_str!("../../../shell/pyenv-completion.fish"),
                _ => "",
            });
            push_rehash(&mut code, &shell, no_rehash);
            push_shell_function(&mut code, &shell, &super::docs::sh_commands(env));
        }
    }
    out.write_all(code.as_bytes())?;
    Ok(0)
}

/// The shell that started `pyenv init`: the parent process's program (a `/bin/sh` script gets
/// `sh`), else `$SHELL`; its base name without a leading `-` (login shells) or a `-suffix`.
fn detect_shell() -> String {
    let parent = std::os::unix::process::parent_id();
    let from_parent = std::fs::read(format!("/proc/{parent}/cmdline"))
        .ok()
        .and_then(|cmdline| {
            let first = cmdline.split(|b| *b == 0 || *b == b' ').next()?.to_vec();
            String::from_utf8(first).ok()
        })
        .filter(|s| !s.is_empty());
    let program = from_parent
        .map(|p| p.trim_start_matches('-').to_owned())
        .filter(|p| !p.is_empty())
        .or_else(|| std::env::var("SHELL").ok())
        .unwrap_or_default();
    let base = program.rsplit('/').next().unwrap_or_default();
    base.split('-').next().unwrap_or_default().to_owned()
}

/// The login and interactive startup files of a shell, as pyenv names them.
fn profile_files(shell: &str) -> Option<(&'static str, &'static str)> {
    Some(match shell {
        "bash" => (
            if dirs::home_dir().is_some_and(|h| h.join(".bash_profile").exists()) {
                "~/.bash_profile"
            } else {
                "~/.profile"
            },
            "~/.bashrc",
        ),
        "zsh" => ("~/.zprofile", "~/.zshrc"),
        "pwsh" => (
            "~/.config/powershell/profile.ps1",
            "~/.config/powershell/profile.ps1",
        ),
        "ksh" | "ksh93" | "mksh" => ("~/.profile", "~/.profile"),
        _ => return None,
    })
}

/// What `pyenv init` without `-` prints (to stderr; it exits 1).
fn instructions(shell: &str) -> String {
    match shell {
        "fish" => include_str!("../../../shell/pyenv-init-help.fish").to_owned(),
        "pwsh" => include_str!("../../../shell/pyenv-init-help.ps1").to_owned(),
        _ => {
            let startup_files = match profile_files(shell) {
                Some((profile, rc)) if profile == rc => format!("{profile} :\n"),
                Some((profile, rc)) => {
                    let explained = if shell == "bash" {
                        "~/.bash_profile if it exists, otherwise ~/.profile"
                    } else {
                        profile
                    };
                    format!(
                        "\n# {explained} (for login shells)\n# and {rc} (for interactive shells) :\n"
                    )
                }
                None => "\n# your shell's login startup file (for login shells)\n\
                         # and your shell's interactive startup file (for interactive shells) :\n"
                    .to_owned(),
            };
            shell::fill(
                include_str!("../../../shell/pyenv-init-help.sh"),
                &[("WHERE", &startup_files), ("SHELL", shell)],
            )
        }
    }
}

/// The lines that put the shims first on `PATH` (removing other copies first, unless
/// `--no-push-path`, which only adds them when they are missing).
fn push_path(code: &mut String, shell: &str, shims: &str, no_push_path: bool) {
    let template = match (shell, no_push_path) {
        ("fish", true) => include_str!("../../../shell/pyenv-path-if-missing.fish"),
        ("pwsh", true) => include_str!("../../../shell/pyenv-path-if-missing.ps1"),
        (_, true) => include_str!("../../../shell/pyenv-path-if-missing.sh"),
        ("fish", false) => include_str!("../../../shell/pyenv-path.fish"),
        ("pwsh", false) => include_str!("../../../shell/pyenv-path.ps1"),
        (_, false) => include_str!("../../../shell/pyenv-path.sh"),
    };
    code.push_str(&shell::fill(template, &[("SHIMS", shims)]));
}

fn push_rehash(code: &mut String, shell: &str, no_rehash: bool) {
    if !no_rehash {
        code.push_str(if shell == "pwsh" {
            "& pyenv rehash\n"
        } else {
            "command pyenv rehash\n"
        });
    }
}

/// The `pyenv` shell function: `pyenv shell` and `pyenv rehash` evaluate what `pyenv sh-…` prints;
/// every other command runs the program.
fn push_shell_function(code: &mut String, shell: &str, sh_commands: &[String]) {
    let text = match shell {
        "fish" => shell::fill(
            include_str!("../../../shell/pyenv-function.fish"),
            &[("SH_COMMANDS", &sh_commands.join(" "))],
        ),
        "pwsh" => shell::fill(
            include_str!("../../../shell/pyenv-function.ps1"),
            &[("SH_COMMANDS", &sh_commands.join(" "))],
        ),
        _ => {
            let (function, local) = if matches!(shell, "ksh" | "ksh93" | "mksh") {
                ("function pyenv {", "typeset")
            } else {
                ("pyenv() {", "local")
            };
            shell::fill(
                include_str!("../../../shell/pyenv-function.sh"),
                &[
                    ("FUNCTION", function),
                    ("LOCAL", local),
                    ("SH_COMMANDS", &sh_commands.join("|")),
                ],
            )
        }
    };
    code.push_str(&text);
}

/// The shell `pyenv sh-…` emits code for: `PYENV_SHELL`, else `$SHELL`'s base name.
fn current_shell() -> String {
    let shell = std::env::var(env_vars::PYENV_SHELL)
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("SHELL").ok())
        .unwrap_or_default();
    shell.rsplit('/').next().unwrap_or_default().to_owned()
}

/// `pyenv sh-rehash`: rehash, then make the shell forget the paths it remembered.
pub(super) fn sh_rehash(out: &mut dyn Write) -> Outcome {
    let shell = current_shell();
    match shell.as_str() {
        "pwsh" => writeln!(out, "& (get-command pyenv -commandtype application) rehash")?,
        "fish" => writeln!(out, "command pyenv rehash")?,
        _ => writeln!(out, "command pyenv rehash\nhash -r 2>/dev/null || true")?,
    }
    Ok(0)
}

/// `pyenv sh-shell [VERSION...|-|--unset]`: the code that sets, restores or unsets
/// `PYENV_VERSION` in the calling shell.
pub(super) fn sh_shell(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let shell = current_shell();
    let current = std::env::var(env_vars::PYENV_VERSION).unwrap_or_default();
    match args.first().map(String::as_str) {
        None | Some("") => {
            if current.is_empty() {
                say!("pyenv: no shell-specific version configured");
                return Ok(1);
            }
            writeln!(out, "echo \"$PYENV_VERSION\"")?;
        }
        Some("--unset") => writeln!(
            out,
            "{}",
            shell::unset_keeping_old(&shell, env_vars::PYENV_VERSION)
        )?,
        Some("-") => {
            let drive = if shell == "pwsh" { "Env:" } else { "" };
            let not_set = format!("pyenv: {drive}PYENV_VERSION_OLD is not set");
            let code = shell::swap_with_old(&shell, env_vars::PYENV_VERSION, &not_set);
            out.write_all(code.as_bytes())?
        }
        Some(_) => {
            if super::query::prefixes(env, args).is_err() {
                writeln!(out, "false")?;
                return Ok(1);
            }
            let version = args.join(":");
            if version != current {
                // pyenv's quoting, as scripts that read this code expect it.
                let quoted = format!("\"{version}\"");
                writeln!(
                    out,
                    "{}",
                    shell::set_keeping_old(&shell, env_vars::PYENV_VERSION, &quoted)
                )?;
            }
        }
    }
    Ok(0)
}
