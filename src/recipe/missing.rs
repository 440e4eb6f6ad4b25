//! A command that a step's script needs but the machine lacks: the shell exits 127, or the script
//! fails after the shell said "not found" (`lsmod | grep -q can` fails with grep's status). Which
//! command it is comes from that message, else (when the script hides its errors) from the
//! commands the script names that are not on `PATH`; the package that provides it from a small
//! table of the tools recipes use (Debian and Ubuntu names).

use std::fmt;
use std::path::Path;

use regex::Regex;

use crate::process::Finished;

/// The exit status of `sh -c` when a command is not found.
const EXIT_NOT_FOUND: i32 = 127;

/// Tools recipes run, and the Debian/Ubuntu package that provides each.
const PACKAGES: &[(&str, &str)] = &[
    ("lsmod", "kmod"),
    ("modprobe", "kmod"),
    ("modinfo", "kmod"),
    ("rmmod", "kmod"),
    ("ip", "iproute2"),
    ("ss", "iproute2"),
    ("tc", "iproute2"),
    ("bridge", "iproute2"),
    ("systemctl", "systemd"),
    ("journalctl", "systemd"),
    ("networkctl", "systemd"),
    ("docker", "docker.io or docker-ce"),
    ("curl", "curl"),
    ("wget", "wget"),
    ("gpg", "gpg"),
    ("dpkg-query", "dpkg"),
    ("dpkg", "dpkg"),
    ("apt-get", "apt"),
    ("candump", "can-utils"),
    ("cansend", "can-utils"),
    ("cangen", "can-utils"),
    ("usermod", "passwd"),
    ("useradd", "passwd"),
    ("groupadd", "passwd"),
    ("sudo", "sudo"),
    ("jq", "jq"),
    ("git", "git"),
];

/// Where system tools live that an ordinary user's `PATH` often lacks.
const SBIN_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// A script that could not run because a command it names is not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingCommand {
    /// The script as it ran.
    pub(crate) script: String,
    /// The command that was not found, when it can be told.
    pub(crate) command: Option<String>,
}

impl MissingCommand {
    /// What `script` lacked, when it finished as `finished` because a command was not found.
    pub(crate) fn detect(script: &str, finished: &Finished) -> Option<MissingCommand> {
        let command = if finished.status.code() == Some(EXIT_NOT_FOUND) {
            from_message(&finished.output, any_not_found()).or_else(|| {
                command_words(script)
                    .into_iter()
                    .find(|word| !is_available(word))
            })
        } else if !finished.success() {
            Some(from_message(&finished.output, shell_not_found())?)
        } else {
            return None;
        };
        Some(MissingCommand {
            script: script.to_owned(),
            command,
        })
    }

    /// The package that provides the command, when the table knows it.
    pub(crate) fn package(&self) -> Option<&'static str> {
        let command = self.command.as_deref()?;
        PACKAGES
            .iter()
            .find(|(tool, _)| *tool == command)
            .map(|(_, package)| *package)
    }
}

/// "`lsmod` not found (it comes with the kmod package)".
impl fmt::Display for MissingCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(command) = &self.command else {
            return f.write_str("a command it runs was not found (the shell exited 127)");
        };
        let sbin = SBIN_DIRS
            .iter()
            .find(|dir| Path::new(dir).join(command).is_file());
        match (sbin, self.package()) {
            (Some(dir), _) => write!(f, "`{command}` not found on PATH (it is in {dir})"),
            (None, Some(package)) => {
                write!(
                    f,
                    "`{command}` not found (it comes with the {package} package)"
                )
            }
            (None, None) => write!(f, "`{command}` not found"),
        }
    }
}

/// Any "X: not found" line: dash's `sh: 1: lsmod: not found`, bash's `sh: line 1: lsmod: command
/// not found`, sudo's `sudo: lsmod: command not found`.
fn any_not_found() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?m)([^\s:]+): (?:command )?not found\s*$").expect("valid regex")
    })
}

/// Only the shell's own "not found" line (a failing script may print other "not found"s).
fn shell_not_found() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?m)^(?:\S*/)?(?:sh|bash|dash): (?:(?:line )?\d+: )?([^\s:]+): (?:command )?not found\s*$",
        )
        .expect("valid regex")
    })
}

/// The command the last matching line names.
fn from_message(output: &str, re: &Regex) -> Option<String> {
    re.captures_iter(output).last().map(|c| c[1].to_owned())
}

/// Shell words before the command: keywords and the wrappers whose operand is the command.
const PREFIXES: &[&str] = &[
    "!", "{", "}", "if", "then", "else", "elif", "fi", "while", "until", "do", "done", "esac",
    "time", "exec", "command", "nohup", "env", "sudo",
];

/// Builtins: a simple command that starts with one runs nothing to look up.
const BUILTINS: &[&str] = &[
    "test", "[", "[[", "echo", "printf", "true", "false", "exit", "return", "cd", "export", "set",
    "unset", "read", ":", ".", "source", "eval", "local", "shift", "trap", "wait", "umask",
    "getopts", "type", "hash", "kill", "pwd", "break", "continue", "readonly", "alias", "ulimit",
];

/// The commands a script runs, as far as a simple reading tells: the first word of each simple
/// command, after keywords and `NAME=value` assignments. `for … in …` and `case … in` lines,
/// builtins, and words built from expansions are passed over.
fn command_words(script: &str) -> Vec<String> {
    let mut words = Vec::new();
    let separators: &[char] = &[';', '&', '|', '(', ')', '`', '\n'];
    for segment in script.split(separators) {
        let mut tokens = segment.split_whitespace().peekable();
        if matches!(tokens.peek(), Some(&"for" | &"case")) {
            continue;
        }
        let is_assignment = |t: &str| t.contains('=') && !t.starts_with(['=', '-']);
        let Some(word) = tokens.find(|t| !PREFIXES.contains(t) && !is_assignment(t)) else {
            continue;
        };
        let word = word.trim_matches(['"', '\'']);
        let plain = !word.is_empty()
            && !word.starts_with('-')
            && !BUILTINS.contains(&word)
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-/".contains(c));
        if plain && !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
    }
    words
}

/// True when `command` can be started: a path to an executable, or a name on `PATH`.
fn is_available(command: &str) -> bool {
    if command.contains('/') {
        return Path::new(command).is_file();
    }
    crate::which::find_on_path(command).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shells_message_names_the_command() {
        for output in [
            "sh: 1: lsmod: not found\n",
            "/bin/sh: line 1: lsmod: command not found\n",
            "sudo: lsmod: command not found",
        ] {
            let found = from_message(output, any_not_found());
            assert_eq!(found.as_deref(), Some("lsmod"), "{output}");
        }
        let other = "Device \"can0\" does not exist.\n";
        assert_eq!(from_message(other, any_not_found()), None);
        // A failing script names a missing command only through the shell's own message.
        let dash = "Module Size\nsh: 1: lsmod: not found\n";
        let found = from_message(dash, shell_not_found());
        assert_eq!(found.as_deref(), Some("lsmod"));
        let found = from_message("/bin/sh: line 3: ip: command not found", shell_not_found());
        assert_eq!(found.as_deref(), Some("ip"));
        let tool = "E: package foo: not found\n";
        assert_eq!(from_message(tool, shell_not_found()), None);
    }

    #[test]
    fn a_script_that_hides_its_errors_is_read_for_its_commands() {
        assert_eq!(
            command_words("for m in can can_raw; do lsmod | grep -q \"^$m \" || exit 1; done"),
            ["lsmod", "grep"]
        );
        assert_eq!(
            command_words("DEBIAN_FRONTEND=noninteractive apt-get remove -y x && test -f /y"),
            ["apt-get"]
        );
        assert_eq!(
            command_words("! dpkg-query -W x 2>/dev/null | grep -q ok; $(which y)"),
            ["dpkg-query", "grep", "which"]
        );
        let script = "nosuch-tool-for-strap --version >/dev/null 2>&1 && true";
        let finished = |code: i32, output: &str| Finished {
            status: std::os::unix::process::ExitStatusExt::from_raw(code << 8),
            output: output.to_owned(),
        };
        let missing = MissingCommand::detect(script, &finished(127, "")).unwrap();
        assert_eq!(missing.command.as_deref(), Some("nosuch-tool-for-strap"));
        assert_eq!(MissingCommand::detect(script, &finished(1, "")), None);
        assert_eq!(MissingCommand::detect(script, &finished(0, "")), None);
    }

    #[test]
    fn known_tools_name_their_package() {
        let missing = |command: &str| MissingCommand {
            script: String::new(),
            command: Some(command.to_owned()),
        };
        assert_eq!(missing("modprobe").package(), Some("kmod"));
        assert_eq!(missing("systemctl").package(), Some("systemd"));
        assert_eq!(missing("nosuch-tool-for-strap").package(), None);
        assert_eq!(
            missing("nosuch-tool-for-strap").to_string(),
            "`nosuch-tool-for-strap` not found"
        );
        let unknown = MissingCommand {
            script: "x".into(),
            command: None,
        };
        assert!(unknown.to_string().contains("exited 127"), "{unknown}");
    }
}
