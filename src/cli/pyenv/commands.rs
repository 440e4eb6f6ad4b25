//! pyenv mode's one command table: each builtin command's name, documentation (what `pyenv
//! commands`, `help` and `--help` show), how it runs (pyenv's own, or answered by strap's own
//! command), its `sh-<name>` variant and what it completes. Everything else about the builtins
//! (`dispatch`, pyenv's own command links, `commands`, `completions`) is read from here.

use std::ffi::OsString;
use std::io::Write;

use super::{docs, init, query, Outcome, PyenvEnv};

/// A builtin's code: (environment, arguments as text, the same arguments as given, stdout).
pub(super) type Handler = fn(&PyenvEnv, &[String], &[OsString], &mut dyn Write) -> Outcome;

/// How `pyenv <name>` runs.
pub(super) enum Run {
    /// One of pyenv's own commands (its `libexec/pyenv-<name>`, which plugins run directly).
    Own(Handler),
    /// python-build's `install`: `-l`/`--list` is answered here, the rest by `strap install`.
    Install,
    /// A plugin's command answered by strap's own command of that name on pyenv's root; with
    /// `defer_to_plugin`, an installed plugin that has it keeps it (pyenv-virtualenv's).
    Strap { defer_to_plugin: bool },
}

/// Words a command completes after its literal ones.
#[derive(Clone, Copy)]
pub(super) enum Listed {
    /// Every command name `pyenv commands` lists.
    Commands,
    /// The installed version names.
    Versions,
    /// The shims' names.
    Shims,
    /// Every version `pyenv install --list` knows.
    Known,
}

/// One builtin command.
pub(super) struct Command {
    pub name: &'static str,
    pub summary: &'static str,
    pub usage: &'static str,
    pub help: &'static str,
    /// How `pyenv <name>` runs; `None` for a command only the shell function runs (`shell`).
    pub run: Option<Run>,
    /// `pyenv sh-<name>`: the code the `pyenv` shell function evaluates (it changes the shell).
    pub sh: Option<Handler>,
    /// What `pyenv <name> --complete` prints: these words, then the listed ones.
    pub words: &'static [&'static str],
    pub listed: Option<Listed>,
}

const fn doc(
    name: &'static str,
    summary: &'static str,
    usage: &'static str,
    help: &'static str,
) -> Command {
    Command {
        name,
        summary,
        usage,
        help,
        run: None,
        sh: None,
        words: &[],
        listed: None,
    }
}

impl Command {
    const fn own(self, handler: Handler) -> Command {
        Command {
            run: Some(Run::Own(handler)),
            ..self
        }
    }

    const fn install(self) -> Command {
        Command {
            run: Some(Run::Install),
            ..self
        }
    }

    const fn strap(self, defer_to_plugin: bool) -> Command {
        Command {
            run: Some(Run::Strap { defer_to_plugin }),
            ..self
        }
    }

    const fn sh(self, handler: Handler) -> Command {
        Command {
            sh: Some(handler),
            ..self
        }
    }

    const fn completes(self, words: &'static [&'static str], listed: Option<Listed>) -> Command {
        Command {
            words,
            listed,
            ..self
        }
    }

    /// True when an installed plugin answers this command instead of strap (see
    /// [`Run::Strap`]'s `defer_to_plugin`): its script runs and its documentation shows.
    pub(super) fn defers_to_plugin(&self, env: &PyenvEnv) -> bool {
        matches!(
            self.run,
            Some(Run::Strap {
                defer_to_plugin: true
            })
        ) && env.plugin_provides(self.name)
    }

    /// True when `pyenv <name>` is one of pyenv's own commands.
    fn is_own(&self) -> bool {
        matches!(self.run, Some(Run::Own(_)))
    }
}

/// The builtin commands, as `pyenv commands` lists them.
pub(super) const COMMANDS: &[Command] = &[
    doc("--version", "Display the version of pyenv", "", "Displays the version number of pyenv and of strap, which answers as pyenv.")
        .own(|_, _, _, out| super::version(out)),
    doc("commands", "List all available pyenv commands", "Usage: pyenv commands [--sh|--no-sh]", "")
        .own(|env, args, _, out| docs::commands(env, args, out))
        .completes(&["--sh", "--no-sh"], None),
    doc("completions", "", "Usage: pyenv completions <command> [arg1 arg2...]", "")
        .own(|env, args, _, out| docs::completions(env, args, out))
        .completes(&[], Some(Listed::Commands)),
    doc("exec", "Run an executable with the selected Python version", "Usage: pyenv exec <command> [arg1 arg2...]", "Runs an executable by first preparing PATH so that the selected Python\nversion's `bin' directory is at the front.\n\nFor example, if the currently selected Python version is 2.7.6:\n  pyenv exec pip install -r requirements.txt\n\nis equivalent to:\n  PATH=\"$PYENV_ROOT/versions/2.7.6/bin:$PATH\" pip install -r requirements.txt\n\nA selected version that is not installed is an error (exit 127), never\nreplaced by the system's Python.")
        .own(|env, args, raw, _| query::exec(env, args, raw))
        .completes(&[], Some(Listed::Shims)),
    doc("global", "Set or show the global Python version(s)", "Usage: pyenv global <version> <version2> <..>", "Sets the global Python version(s). You can override the global version at\nany time by setting a directory-specific version with `pyenv local'\nor by setting the `PYENV_VERSION' environment variable.\n\n<version> can be specified multiple times and should be a version\ntag known to pyenv.  The special version string `system' will use\nyour default system Python.  Run `pyenv versions' for a list of\navailable Python versions.\n\nExample: To enable the python2.7 and python3.7 shims to find their\n         respective executables you could set both versions with:\n\n'pyenv global 3.7.0 2.7.15'")
        .own(|env, args, _, out| query::global(env, args, out))
        .completes(&["system"], Some(Listed::Versions)),
    doc("hooks", "List hook scripts for a given pyenv command", "Usage: pyenv hooks <command>", "Plugins' hook scripts (`pyenv.d/<command>/*.bash` in each directory of\nPYENV_HOOK_PATH); strap itself runs none: its rehash after `pip install'\nis built in.")
        .own(|env, args, _, out| query::hooks(env, args, out)),
    doc("help", "Display help for a command", "Usage: pyenv help [--usage] COMMAND", "Parses and displays help contents from a command's source file.")
        .own(|env, args, _, out| docs::help(env, args, out))
        .completes(&["--usage"], Some(Listed::Commands)),
    doc("init", "Configure the shell environment for pyenv", "Usage: eval \"$(pyenv init [-|--path] [--no-push-path] [--detect-shell] [--no-rehash] [<shell>])\"", "  -                    Initialize shims directory, print PYENV_SHELL variable, completions path\n                       and shell function\n  --path               Print shims path\n  --no-push-path       Do not push shim to the start of PATH if they're already there\n  --detect-shell       Detect the shell and print its profile files\n  --no-rehash          Add no rehash command to output")
        .own(|env, args, _, out| init::init(env, args, out))
        .completes(&["-", "--path", "--no-push-path", "--no-rehash", "--detect-shell", "bash", "fish", "ksh", "pwsh", "zsh"], None),
    doc("install", "Install a Python version using python-build", "Usage: pyenv install [-f] [-kvp] <version>...\n       pyenv install [-f] [-kvp] <definition-file>\n       pyenv install -l|--list\n       pyenv install --version", "  -l/--list          List all available versions\n  -f/--force         Install even if the version appears to be installed already\n  -s/--skip-existing Skip if the version appears to be installed already\n  --version          Show version of python-build\n\nstrap builds CPython from verified sources (see `strap install --help').")
        .install()
        .completes(&["--list", "--force", "--skip-existing", "--version"], Some(Listed::Known)),
    doc("latest", "Print the latest installed or known version with the given prefix", "Usage: pyenv latest [-k|--known] <prefix>", "  -k/--known      Select from all known versions instead of installed\n  -b/--bypass     (internal) On a resolution failure, do not print an error message\n                  but rather print the argument unchanged\n  -f/--force      (internal) Same as -b but also do not return a failure exit code")
        .own(|env, args, _, out| query::latest(env, args, out))
        .completes(&["--known"], None),
    doc("local", "Set or show the local application-specific Python version(s)", "Usage: pyenv local [-f|--force] [<version> [...]]\n       pyenv local --unset", "  -f/--force    Do not verify that the versions being set exist\n\nSets the local application-specific Python version(s) by writing the\nversion name to a file named `.python-version'.\n\nWhen you run a Python command, pyenv will look for a `.python-version'\nfile in the current directory and each parent directory. If no such\nfile is found in the tree, pyenv will use the global Python version\nspecified with `pyenv global'. A version specified with the\n`PYENV_VERSION' environment variable takes precedence over local\nand global versions.\n\n<version> can be specified multiple times and should be a version\ntag known to pyenv.  The special version string `system' will use\nyour default system Python.  Run `pyenv versions' for a list of\navailable Python versions.\n\nExample: To enable the python2.7 and python3.7 shims to find their\n         respective executables you could set both versions with:\n\n'pyenv local 3.7.0 2.7.15'")
        .own(|env, args, _, out| query::local(env, args, out))
        .completes(&["--unset", "system"], Some(Listed::Versions)),
    doc("prefix", "Display prefixes for Python versions", "Usage: pyenv prefix [<version>...]", "Displays the directories where the given Python versions are installed,\nseparated by colons. If no version is given, `pyenv prefix' displays the\nlocations of the currently selected versions.")
        .own(|env, args, _, out| query::prefix(env, args, out))
        .completes(&["system"], Some(Listed::Versions)),
    doc("rehash", "Rehash pyenv shims (run this after installing executables)", "", "")
        .own(|env, _, _, _| query::rehash(env))
        .sh(|_, _, _, out| init::sh_rehash(out)),
    doc("root", "Display the root directory where versions and shims are kept", "", "")
        .own(|env, _, _, out| query::root(env, out)),
    doc("shell", "Set or show the shell-specific Python version", "Usage: pyenv shell <version>...\n       pyenv shell -\n       pyenv shell --unset", "Sets a shell-specific Python version by setting the `PYENV_VERSION'\nenvironment variable in your shell. This version overrides local\napplication-specific versions and the global version.\n\n<version> should be a string matching a Python version known to pyenv.\nThe special version string `system' will use your default system Python.\nRun `pyenv versions' for a list of available Python versions.\n\nWhen `-` is passed instead of the version string, the previously set\nversion will be restored. With `--unset`, the `PYENV_VERSION`\nenvironment variable gets unset, restoring the environment to the\nstate before the first `pyenv shell` call.")
        .sh(|env, args, _, out| init::sh_shell(env, args, out))
        .completes(&["--unset", "system"], Some(Listed::Versions)),
    doc("shims", "List existing pyenv shims", "Usage: pyenv shims [--short]", "")
        .own(|env, args, _, out| query::shims(env, args, out))
        .completes(&["--short"], None),
    doc("uninstall", "Uninstall Python versions", "Usage: pyenv uninstall [-f|--force] <version> ...", "   -f  Attempt to remove the specified version without prompting\n       for confirmation. If the version does not exist, do not\n       display an error message.\n\nSee `pyenv versions` for a complete list of installed versions.")
        .strap(false)
        .completes(&[], Some(Listed::Versions)),
    doc("version", "Show the current Python version(s) and its origin", "Usage: pyenv version [--bare]", "    --bare    show just the version name. An alias to `pyenv version-name'")
        .own(|env, args, _, out| query::version(env, args, out))
        .completes(&["--bare"], None),
    doc("version-file", "Detect the file that sets the current pyenv version", "Usage: pyenv version-file [<dir>]", "")
        .own(|env, args, _, out| query::version_file(env, args, out)),
    doc("version-file-read", "", "Usage: pyenv version-file-read <file>", "")
        .own(|env, args, _, out| query::version_file_read(env, args, out)),
    doc("version-file-write", "", "Usage: pyenv version-file-write [-f|--force] <file> <version> [...]", "  -f/--force    Don't verify that the versions exist")
        .own(|env, args, _, _| query::version_file_write(env, args)),
    doc("version-name", "Show the current Python version", "Usage: pyenv version-name [-f|--force]", "  -f/--force    (Internal) If a version doesn't exist, print it as is rather than produce an error")
        .own(|env, args, _, out| query::version_name(env, args, out)),
    doc("version-origin", "Explain how the current Python version is set", "", "")
        .own(|env, _, _, out| query::version_origin(env, out)),
    doc("versions", "List all Python versions available to pyenv", "Usage: pyenv versions [--bare] [--skip-aliases] [--skip-envs] [--executables]", "Lists all Python versions found in `$PYENV_ROOT/versions/*'.\n\n  --bare          List just the names, one per line\n  --skip-aliases  Leave out links to other versions\n  --skip-envs     Leave out virtualenvs (`<version>/envs/<name>')\n  --executables   List the executables of every version instead")
        .own(|env, args, _, out| query::versions(env, args, out))
        .completes(&["--bare", "--skip-aliases", "--skip-envs"], None),
    doc("virtualenv", "Create a Python virtualenv using strap", "Usage: pyenv virtualenv [-r FILE] [<version>] <virtualenv-name>", "Creates versions/<version>/envs/<name>, selectable as <name>\n(see `strap virtualenv --help').")
        .strap(true),
    doc("virtualenv-delete", "Uninstall a specific Python virtualenv", "Usage: pyenv virtualenv-delete [-f|--force] <virtualenv-name>", "")
        .strap(true)
        .completes(&[], Some(Listed::Versions)),
    doc("virtualenvs", "List all Python virtualenvs found in `$PYENV_ROOT/versions/*'", "Usage: pyenv virtualenvs [--bare]", "")
        .strap(true)
        .completes(&["--bare"], None),
    doc("whence", "List all Python versions that contain the given executable", "Usage: pyenv whence [--path] <command>", "")
        .own(|env, args, _, out| query::whence(env, args, out))
        .completes(&["--path"], Some(Listed::Shims)),
    doc("which", "Display the full path to an executable", "Usage: pyenv which <command> [--nosystem] [--skip-advice]", "Displays the full path to the executable that pyenv will invoke when\nyou run the given command.\nUse --nosystem argument in case when you don't need to search command in the\nsystem environment.\nInternal switch --skip-advice used to skip printing an error message on a\nfailed search.")
        .own(|env, args, _, out| query::which(env, args, out))
        .completes(&[], Some(Listed::Shims)),
];

/// The builtin named `name` (`shell`, not `sh-shell`).
pub(super) fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|command| command.name == name)
}

/// The builtin whose `sh-<name>` variant `name` is (`sh-shell` is `shell`'s).
pub(super) fn find_sh(name: &str) -> Option<&'static Command> {
    name.strip_prefix("sh-")
        .and_then(find)
        .filter(|command| command.sh.is_some())
}

/// pyenv's own commands (its `libexec/pyenv-<command>` files, `sh-` variants included), which
/// plugins run directly.
pub(super) fn own_commands() -> impl Iterator<Item = String> {
    COMMANDS.iter().flat_map(|command| {
        let plain = command.is_own().then(|| command.name.to_owned());
        let sh = command.sh.map(|_| format!("sh-{}", command.name));
        plain.into_iter().chain(sh)
    })
}

/// True for one of [`own_commands`].
pub(super) fn is_own(name: &str) -> bool {
    find(name).is_some_and(Command::is_own) || find_sh(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_runs_and_is_documented() {
        for command in COMMANDS {
            let name = command.name;
            assert!(
                command.run.is_some() || command.sh.is_some(),
                "{name} does not run"
            );
            assert!(
                !command.summary.is_empty() || !command.usage.is_empty(),
                "{name} is not documented"
            );
            assert!(!name.starts_with("sh-"), "{name}: sh- names are variants");
            let listed = COMMANDS.iter().filter(|c| c.name == name).count();
            assert_eq!(listed, 1, "{name} is listed {listed} times");
        }
    }

    #[test]
    fn own_commands_are_pyenvs_libexec_commands_and_each_dispatches() {
        let own: std::collections::BTreeSet<String> = own_commands().collect();
        // pyenv 2.6.30's `libexec/pyenv-*` (python-build's and pyenv-virtualenv's are plugins).
        let libexec = [
            "--version",
            "commands",
            "completions",
            "exec",
            "global",
            "help",
            "hooks",
            "init",
            "latest",
            "local",
            "prefix",
            "rehash",
            "sh-rehash",
            "root",
            "sh-shell",
            "shims",
            "version",
            "version-file",
            "version-file-read",
            "version-file-write",
            "version-name",
            "version-origin",
            "versions",
            "whence",
            "which",
        ];
        assert_eq!(own, libexec.into_iter().map(String::from).collect());
        for name in own {
            assert!(is_own(&name), "{name}");
            let runs = find(&name).is_some_and(|c| matches!(c.run, Some(Run::Own(_))))
                || find_sh(&name).is_some_and(|c| c.sh.is_some());
            assert!(runs, "{name} does not dispatch");
        }
        for name in [
            "install",
            "uninstall",
            "virtualenv",
            "shell",
            "sh-install",
            "nope",
        ] {
            assert!(!is_own(name), "{name}");
        }
    }
}
