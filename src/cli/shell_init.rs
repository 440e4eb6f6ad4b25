//! `strap init` and `strap completions`.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, Ctx};
use crate::error::{IoContext, Reported, UsageError};
use crate::shell::Shell;

pub(super) fn init(ctx: &Ctx, shell: Option<&str>, out: &mut dyn Write) -> Result<(), Reported> {
    let chosen = choose_shell(shell)?;
    if shell.is_none() {
        return instructions(chosen, out);
    }
    // The shims that always exist (`python`, `pip`…), so a pinned version that is not installed
    // is reported from the first command, even in a root that was never rehashed. Best effort:
    // a read-only root must not break the shell's start-up.
    if let Ok(exe) = super::shims::shim_executable() {
        let _ = crate::shims::ensure_always(&ctx.layout, &exe);
    }
    write!(
        out,
        "{}",
        chosen.init_script(ctx.layout.root(), &ctx.layout.shims_dir())
    )?;
    Ok(())
}

/// `strap init --pyenv [SHELL]`: links `$PYENV_ROOT/bin/pyenv` to this strap (never replacing a
/// real pyenv there) and prints, as comments, the startup-file lines that put it on `PATH` and run
/// `pyenv init`.
pub(super) fn init_pyenv(shell: Option<&str>, out: &mut dyn Write) -> Result<(), Reported> {
    // Without `$SHELL` (a container, a service) the lines are bash's, and say so.
    let shell = if shell.is_none_or(|s| s == "-") && login_shell().is_none() {
        Shell::Bash
    } else {
        choose_shell(shell)?
    };
    let layout = crate::layout::Layout::pyenv_from_env();
    let root = layout.root().to_owned();
    let link = layout.pyenv_command();
    let bin = link.parent().expect("bin/pyenv has a parent").to_owned();
    let strap = std::env::current_exe()
        .map_err(|e| Reported::caused_by("cannot find the path of the strap executable", &e))?;
    let points_here =
        |path: &std::path::Path| path.canonicalize().ok() == strap.canonicalize().ok();
    // A link strap made earlier (to a strap since moved, or gone) is replaced; anything else
    // there (a pyenv checkout's `bin/pyenv`) is left alone.
    let earlier_strap = std::fs::read_link(&link)
        .is_ok_and(|target| !link.exists() || target.file_name().is_some_and(|n| n == "strap"));
    if link.symlink_metadata().is_ok() && !points_here(&link) && !earlier_strap {
        return Err(UsageError::new(format!(
            "{} exists and is not strap (a pyenv installation?); strap does not replace it",
            link.display()
        ))
        .with_hint(
            "to let strap answer as pyenv anyway, link it from a directory earlier on PATH: \
             ln -s \"$(command -v strap)\" ~/.local/bin/pyenv",
        )
        .into());
    }
    if !points_here(&link) {
        std::fs::create_dir_all(&bin).io_context("create", &bin)?;
        let action = if earlier_strap {
            "replace the link"
        } else {
            "create the link"
        };
        crate::atomic_file::symlink(&strap, &link).io_context(action, &link)?;
    }
    let (rc, path_line, init_line) = match shell {
        Shell::Fish => (
            "~/.config/fish/config.fish",
            format!(
                "set -gx PYENV_ROOT {}\n#   fish_add_path $PYENV_ROOT/bin",
                crate::shell::quote_posix(&root.to_string_lossy())
            ),
            "pyenv init - fish | source",
        ),
        other => (
            other.rc_file(),
            format!(
                "export PYENV_ROOT={}\n#   export PATH=\"$PYENV_ROOT/bin:$PATH\"",
                crate::shell::quote_posix(&root.to_string_lossy())
            ),
            if other == Shell::Zsh {
                "eval \"$(pyenv init - zsh)\""
            } else {
                "eval \"$(pyenv init - bash)\""
            },
        ),
    };
    writeln!(
        out,
        "# strap answers as pyenv through {} -> {}",
        link.display(),
        strap.display()
    )?;
    writeln!(out, "# Add these lines to {rc}, then restart the shell:\n#")?;
    writeln!(out, "#   {path_line}\n#   {init_line}")?;
    Ok(())
}

/// The shell `strap init [SHELL]` is for: the one named (`-` or none: the one `$SHELL` names).
/// A shell strap does not integrate with, or an unset `$SHELL`, is a usage error: instructions
/// for another shell would not work in it.
fn choose_shell(name: Option<&str>) -> Result<Shell, UsageError> {
    let name_it = "name it: `strap init bash`, `strap init zsh` or `strap init fish`";
    let (name, from_env) = match name {
        None | Some("-") => match login_shell() {
            Some(path) => (path, " ($SHELL)"),
            None => {
                return Err(
                    UsageError::new("cannot tell your shell: $SHELL is not set").with_hint(name_it)
                )
            }
        },
        Some(name) => (name.to_owned(), ""),
    };
    Shell::from_path(&name).ok_or_else(|| {
        let error = UsageError::new(format!(
            "unsupported shell '{name}'{from_env}: strap integrates with bash, zsh and fish"
        ));
        if from_env.is_empty() {
            error
        } else {
            error.with_hint(name_it)
        }
    })
}

/// `$SHELL`, when set.
fn login_shell() -> Option<String> {
    std::env::var("SHELL").ok().filter(|s| !s.is_empty())
}

/// What to add where; every line is a comment, so evaluating it by mistake does nothing.
fn instructions(shell: Shell, out: &mut dyn Write) -> Result<(), Reported> {
    writeln!(
        out,
        "# Load strap in every new {} by adding this line to {}:",
        shell.name(),
        shell.rc_file()
    )?;
    writeln!(out, "#")?;
    writeln!(out, "#   {}", shell.init_line())?;
    writeln!(out, "#")?;
    writeln!(
        out,
        "# It puts the shims first on PATH, defines the `strap` function that"
    )?;
    writeln!(
        out,
        "# `strap shell` needs, and loads completions. Then restart the shell."
    )?;
    Ok(())
}

/// clap's completion of commands and options, plus strap's completion of names (installed and
/// catalog versions, recipes: see [`crate::shell::completion_script`]). `strap init` loads this.
pub(super) fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let mut command = Cli::command();
    let mut clap_code = Vec::new();
    clap_complete::generate(shell, &mut command, "strap", &mut clap_code);
    let code = crate::shell::completion_script(
        shell,
        &String::from_utf8_lossy(&clap_code),
        &value_options(&command),
    );
    // As `run` does for every command: a closed pipe (`strap completions bash | head`) is not an
    // error; any other write failure is (this command's dispatch takes no error back).
    if let Err(e) = out.write_all(code.as_bytes()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            tell!("error: cannot write the completion code: {e}");
            std::process::exit(crate::error::EXIT_FAILURE);
        }
    }
}

/// The commands whose words strap completes with names (`recipe` for `recipe run|show`).
const NAMED: [&str; 7] = [
    "global",
    "local",
    "shell",
    "uninstall",
    "prefix",
    "install",
    "recipe",
];

/// The options whose value is the next word (`--root`, `--mirror`…), among strap's own and those
/// of the commands that complete names: the word after one is its value, not a name.
fn value_options(command: &clap::Command) -> Vec<String> {
    let mut commands = vec![command];
    for sub in command.get_subcommands() {
        if NAMED.contains(&sub.get_name()) {
            commands.push(sub);
            commands.extend(sub.get_subcommands());
        }
    }
    let mut options: Vec<String> = commands
        .into_iter()
        .flat_map(|c| c.get_arguments())
        .filter(|arg| !arg.is_positional() && arg.get_action().takes_values())
        .flat_map(|arg| {
            let long = arg.get_long().map(|l| format!("--{l}"));
            let short = arg.get_short().map(|s| format!("-{s}"));
            long.into_iter().chain(short)
        })
        .collect();
    options.sort();
    options.dedup();
    options
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::{completions, value_options, Cli};

    fn code(shell: clap_complete::Shell) -> String {
        let mut out = Vec::new();
        completions(shell, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// clap's completion code still has the shape the name completion is woven into (this
    /// fails when an upgrade of clap_complete changes it).
    #[test]
    fn name_completion_wraps_clap_function_in_bash_and_zsh() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh] {
            // A leading newline, for a function on the first line.
            let code = format!("\n{}", code(shell));
            assert_eq!(code.matches("\n__strap_clap() {\n").count(), 1, "{shell}");
            assert_eq!(code.matches("\n_strap() {\n").count(), 1, "{shell}");
            assert!(code.contains("__strap_names"), "{shell}");
            assert!(!code.contains("@VALUE_OPTIONS@"), "{shell}");
            // Ours is defined before the registration that uses it.
            let ours = code.find("\n_strap() {\n").unwrap();
            let registration = code
                .rfind("complete -F _strap")
                .or_else(|| code.rfind("if [ \"$funcstack[1]\" = \"_strap\" ]"))
                .unwrap();
            assert!(ours < registration, "{shell}");
        }
        assert!(code(clap_complete::Shell::Zsh).starts_with("#compdef strap\n"));
        let fish = code(clap_complete::Shell::Fish);
        assert!(fish.contains("complete -c strap -n '__strap_name_context >/dev/null'"));
        assert!(!fish.contains("@VALUE_OPTIONS@"));
    }

    #[test]
    fn value_options_are_those_taking_the_next_word() {
        let options = value_options(&Cli::command());
        for option in [
            "--root",
            "--mirror",
            "--jobs",
            "--set",
            "--vars",
            "--sysroot",
        ] {
            assert!(options.iter().any(|o| o == option), "{option}: {options:?}");
        }
        for flag in ["--list", "--force", "--unset", "--dry-run", "-f"] {
            assert!(!options.iter().any(|o| o == flag), "{flag}: {options:?}");
        }
    }
}
