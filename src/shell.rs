//! Shell integration: the code `strap init` prints and the commands `strap shell` emits, for
//! bash, zsh and fish. The shell code itself lives in the repository's `shell/` files, included
//! here and filled in with [`fill`].

use std::path::Path;

/// A shell strap integrates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    /// The shell named by a path such as `$SHELL` (`/usr/bin/zsh` → zsh).
    pub fn from_path(path: &str) -> Option<Shell> {
        match Path::new(path).file_name()?.to_str()? {
            "bash" | "sh" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }

    /// The shell's name as users type it.
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// The startup file where the init line belongs.
    pub fn rc_file(self) -> &'static str {
        match self {
            Shell::Bash => "~/.bashrc",
            Shell::Zsh => "~/.zshrc",
            Shell::Fish => "~/.config/fish/config.fish",
        }
    }

    /// The line users add to their startup file.
    pub fn init_line(self) -> &'static str {
        match self {
            Shell::Bash => "eval \"$(strap init bash)\"",
            Shell::Zsh => "eval \"$(strap init zsh)\"",
            Shell::Fish => "strap init fish | source",
        }
    }

    /// The integration code: shims first on `PATH` (once), the `strap` function, completions.
    pub fn init_script(self, root: &Path, shims: &Path) -> String {
        let template = match self {
            Shell::Bash => include_str!("../shell/strap.bash"),
            Shell::Zsh => include_str!("../shell/strap.zsh"),
            Shell::Fish => include_str!("../shell/strap.fish"),
        };
        fill(
            template,
            &[
                ("ROOT", &self.quote(&root.to_string_lossy())),
                ("SHIMS", &self.quote(&shims.to_string_lossy())),
            ],
        )
    }

    /// Code that removes a variable from the current shell.
    pub fn unset_var(self, name: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => format!("unset {name}"),
            Shell::Fish => format!("set -e {name}"),
        }
    }

    /// `value` as one word (POSIX quoting through `shlex` for bash and zsh; fish's own rules).
    pub fn quote(self, value: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => quote_posix(value),
            Shell::Fish => format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'")),
        }
    }
}

/// Code that sets the shell's selection `var` (`STRAP_PYTHON_VERSION`, `PYENV_VERSION`) to
/// `quoted` (one shell word), keeping the previous value in the shell (not exported) variable
/// `<var>_OLD`, for `shell -` (pyenv's `PYENV_VERSION_OLD`). `shell` is a shell's name: `fish`,
/// `pwsh`, any other is POSIX.
pub fn set_keeping_old(shell: &str, var: &str, quoted: &str) -> String {
    match shell {
        "fish" => format!("set -gu {var}_OLD \"${var}\"\nset -gx {var} {quoted}"),
        "pwsh" => format!("$Env:{var}, $Env:{var}_OLD = {quoted}, $Env:{var}"),
        _ => format!("{var}_OLD=\"${{{var}-}}\"\nexport {var}={quoted}"),
    }
}

/// Code that unsets the shell's selection `var`, keeping its value in `<var>_OLD` (see
/// [`set_keeping_old`]).
pub fn unset_keeping_old(shell: &str, var: &str) -> String {
    match shell {
        "fish" => format!("set -gu {var}_OLD \"${var}\"\nset -e {var}"),
        "pwsh" => format!("$Env:{var}, $Env:{var}_OLD = $null, $Env:{var}"),
        _ => format!("{var}_OLD=\"${{{var}-}}\"\nunset {var}"),
    }
}

/// Code for `shell -`: swaps the shell's selection `var` with `<var>_OLD` (an empty `<var>_OLD`
/// unsets `var`); prints `not_set` (a message without quotes or `$`) and fails when there is no
/// `<var>_OLD`. Lines end with `\n`.
pub fn swap_with_old(shell: &str, var: &str, not_set: &str) -> String {
    let template = match shell {
        "fish" => include_str!("../shell/swap-old.fish"),
        "pwsh" => include_str!("../shell/swap-old.ps1"),
        _ => include_str!("../shell/swap-old.sh"),
    };
    fill(template, &[("VAR", var), ("NOT_SET", not_set)])
}

/// `template` with each `@NAME@` of `values` (`(NAME, value)`) replaced, in one pass (what a
/// value holds is never replaced); any other `@` is kept.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('@') {
        filled.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let found = values.iter().find(|(name, _)| {
            after
                .strip_prefix(name)
                .is_some_and(|tail| tail.starts_with('@'))
        });
        match found {
            Some((name, value)) => {
                filled.push_str(value);
                rest = &after[name.len() + 1..];
            }
            None => {
                filled.push('@');
                rest = after;
            }
        }
    }
    filled.push_str(rest);
    filled
}

/// Completion code for `strap completions SHELL` (which `strap init` loads): clap's generated
/// completion of commands and options, with strap's own completion of names around it: installed
/// versions after `global`, `local`, `shell` (and `system`), `uninstall` and `prefix`; catalog
/// versions after `install`; recipe names after `recipe run` and `recipe show`; installed Boost
/// builds after `boost prefix|env|uninstall` and releases after `boost install`. The names come
/// from strap itself at completion time (`versions --bare`, `install --list --bare`,
/// `recipe list --bare`, `boost list --bare`, `boost install --list --bare`), honouring a
/// `--root DIR` on the command line.
///
/// `value_options` are the options whose value is the next word (`--root`, `--mirror`…), so a
/// word after one of them is not taken for a name. Shells other than bash, zsh and fish get
/// clap's code unchanged; so does any shell if clap's code no longer has the expected shape (the
/// unit tests below catch that when clap_complete changes).
pub fn completion_script(
    shell: clap_complete::Shell,
    clap_code: &str,
    value_options: &[String],
) -> String {
    let patched = match shell {
        clap_complete::Shell::Bash => wrap_clap_function(
            clap_code,
            "\nif [[ \"${BASH_VERSINFO[0]}\" -eq 4",
            &fill(
                include_str!("../shell/strap-names.bash"),
                &[("VALUE_OPTIONS", &value_options.join("|"))],
            ),
        ),
        clap_complete::Shell::Zsh => wrap_clap_function(
            clap_code,
            "\nif [ \"$funcstack[1]\" = \"_strap\" ]; then",
            &fill(
                include_str!("../shell/strap-names.zsh"),
                &[("VALUE_OPTIONS", &value_options.join("|"))],
            ),
        ),
        clap_complete::Shell::Fish => Some(format!(
            "{clap_code}\n{}",
            fill(
                include_str!("../shell/strap-names.fish"),
                &[("VALUE_OPTIONS", &value_options.join(" "))],
            )
        )),
        _ => None,
    };
    patched.unwrap_or_else(|| clap_code.to_owned())
}

/// clap's `_strap` renamed `__strap_clap`, and `names` (which defines a new `_strap` that calls
/// it) inserted before clap's registration code `trailer`, so the registration (`complete -F
/// _strap`, `compdef _strap`, or zsh's autoloaded `_strap` file calling itself) picks up ours.
fn wrap_clap_function(clap_code: &str, trailer: &str, names: &str) -> Option<String> {
    const CLAP_FUNCTION: &str = "\n_strap() {\n";
    // A leading newline, so the function is found on the first line too.
    let code = format!("\n{clap_code}");
    if code.matches(CLAP_FUNCTION).count() != 1 {
        return None;
    }
    let at = code.rfind(trailer)?;
    let (body, registration) = code.split_at(at);
    let body = body.replacen(CLAP_FUNCTION, "\n__strap_clap() {\n", 1);
    Some(format!("{}\n{names}{registration}", &body[1..]))
}

/// `text` as one word for a POSIX shell (`sh -c`, bash, zsh), quoted only when it needs it.
pub fn quote_posix(text: &str) -> String {
    // The words Python's `shlex.quote` leaves alone (`--prefix=/opt/x`, `a,b`, `user@host`).
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_owned();
    }
    shlex::try_quote(text).map_or_else(
        // Only a NUL byte cannot be quoted; it cannot be in a package name either.
        |_| format!("'{}'", text.replace(['\0', '\''], "")),
        |q| q.into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::Shell;

    #[test]
    fn quoting_survives_hostile_values() {
        assert_eq!(Shell::Bash.quote("a'b; rm -rf /"), r#""a'b; rm -rf /""#);
        assert_eq!(Shell::Zsh.quote("$(x) `y`"), r"'$(x) `y`'");
        assert_eq!(Shell::Fish.quote(r"a'b\c"), r"'a\'b\\c'");
    }

    #[test]
    fn fill_replaces_named_placeholders_once_and_keeps_other_at_signs() {
        let filled = super::fill(
            "@A@ \"$@\" ${x[@]} @B@_OLD @C@",
            &[("A", "a@B@"), ("B", "b")],
        );
        assert_eq!(filled, "a@B@ \"$@\" ${x[@]} b_OLD @C@");
    }

    #[test]
    fn shell_detected_from_path() {
        assert_eq!(Shell::from_path("/usr/bin/zsh"), Some(Shell::Zsh));
        assert_eq!(Shell::from_path("/bin/bash"), Some(Shell::Bash));
        assert_eq!(Shell::from_path("/usr/bin/fish"), Some(Shell::Fish));
        assert_eq!(Shell::from_path("/bin/tcsh"), None);
    }
}
