//! Shell integration: the code `strap init` prints and the commands `strap shell` emits, for
//! bash, zsh and fish.

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
        template
            .replace("@ROOT@", &self.quote(&root.to_string_lossy()))
            .replace("@SHIMS@", &self.quote(&shims.to_string_lossy()))
    }

    /// Code that sets a variable in the current shell.
    pub fn set_var(self, name: &str, value: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => format!("export {name}={}", self.quote(value)),
            Shell::Fish => format!("set -gx {name} {}", self.quote(value)),
        }
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
    fn shell_detected_from_path() {
        assert_eq!(Shell::from_path("/usr/bin/zsh"), Some(Shell::Zsh));
        assert_eq!(Shell::from_path("/bin/bash"), Some(Shell::Bash));
        assert_eq!(Shell::from_path("/usr/bin/fish"), Some(Shell::Fish));
        assert_eq!(Shell::from_path("/bin/tcsh"), None);
    }
}
