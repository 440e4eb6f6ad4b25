//! pyenv's self-description: `commands`, `help` and `completions`, for the builtin commands (the
//! table below) and for `pyenv-<name>` plugins on `PATH` (their leading comment block, read as
//! pyenv reads it).

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;

use super::{Outcome, PyenvEnv};
use crate::error::Reported;

/// One builtin command's documentation.
pub(super) struct Doc {
    pub name: &'static str,
    /// Run through the shell function (`pyenv-sh-<name>`): it changes the shell.
    pub sh: bool,
    /// Also a plain command (`rehash` is both `pyenv-rehash` and `pyenv-sh-rehash`).
    pub plain: bool,
    pub summary: &'static str,
    pub usage: &'static str,
    pub help: &'static str,
}

const fn doc(
    name: &'static str,
    summary: &'static str,
    usage: &'static str,
    help: &'static str,
) -> Doc {
    Doc {
        name,
        sh: false,
        plain: true,
        summary,
        usage,
        help,
    }
}

/// The builtin commands, as `pyenv commands` lists them.
pub(super) const DOCS: &[Doc] = &[
    doc("--version", "Display the version of pyenv", "", "Displays the version number of pyenv and of strap, which answers as pyenv."),
    doc("commands", "List all available pyenv commands", "Usage: pyenv commands [--sh|--no-sh]", ""),
    doc("completions", "", "Usage: pyenv completions <command> [arg1 arg2...]", ""),
    doc("exec", "Run an executable with the selected Python version", "Usage: pyenv exec <command> [arg1 arg2...]", "Runs an executable by first preparing PATH so that the selected Python\nversion's `bin' directory is at the front.\n\nFor example, if the currently selected Python version is 2.7.6:\n  pyenv exec pip install -r requirements.txt\n\nis equivalent to:\n  PATH=\"$PYENV_ROOT/versions/2.7.6/bin:$PATH\" pip install -r requirements.txt\n\nA selected version that is not installed is an error (exit 127), never\nreplaced by the system's Python."),
    doc("global", "Set or show the global Python version(s)", "Usage: pyenv global <version> <version2> <..>", "Sets the global Python version(s). You can override the global version at\nany time by setting a directory-specific version with `pyenv local'\nor by setting the `PYENV_VERSION' environment variable.\n\n<version> can be specified multiple times and should be a version\ntag known to pyenv.  The special version string `system' will use\nyour default system Python.  Run `pyenv versions' for a list of\navailable Python versions.\n\nExample: To enable the python2.7 and python3.7 shims to find their\n         respective executables you could set both versions with:\n\n'pyenv global 3.7.0 2.7.15'"),
    doc("hooks", "List hook scripts for a given pyenv command", "Usage: pyenv hooks <command>", "Plugins' hook scripts (`pyenv.d/<command>/*.bash` in each directory of\nPYENV_HOOK_PATH); strap itself runs none: its rehash after `pip install'\nis built in."),
    doc("help", "Display help for a command", "Usage: pyenv help [--usage] COMMAND", "Parses and displays help contents from a command's source file."),
    doc("init", "Configure the shell environment for pyenv", "Usage: eval \"$(pyenv init [-|--path] [--no-push-path] [--detect-shell] [--no-rehash] [<shell>])\"", "  -                    Initialize shims directory, print PYENV_SHELL variable, completions path\n                       and shell function\n  --path               Print shims path\n  --no-push-path       Do not push shim to the start of PATH if they're already there\n  --detect-shell       Detect the shell and print its profile files\n  --no-rehash          Add no rehash command to output"),
    doc("install", "Install a Python version using python-build", "Usage: pyenv install [-f] [-kvp] <version>...\n       pyenv install [-f] [-kvp] <definition-file>\n       pyenv install -l|--list", "  -l/--list          List all available versions\n  -f/--force         Install even if the version appears to be installed already\n  -s/--skip-existing Skip if the version appears to be installed already\n\nstrap builds CPython from verified sources (see `strap install --help')."),
    doc("latest", "Print the latest installed or known version with the given prefix", "Usage: pyenv latest [-k|--known] <prefix>", "  -k/--known      Select from all known versions instead of installed\n  -b/--bypass     (internal) On a resolution failure, do not print an error message\n                  but rather print the argument unchanged\n  -f/--force      (internal) Same as -b but also do not return a failure exit code"),
    doc("local", "Set or show the local application-specific Python version(s)", "Usage: pyenv local [-f|--force] [<version> [...]]\n       pyenv local --unset", "  -f/--force    Do not verify that the versions being set exist\n\nSets the local application-specific Python version(s) by writing the\nversion name to a file named `.python-version'.\n\nWhen you run a Python command, pyenv will look for a `.python-version'\nfile in the current directory and each parent directory. If no such\nfile is found in the tree, pyenv will use the global Python version\nspecified with `pyenv global'. A version specified with the\n`PYENV_VERSION' environment variable takes precedence over local\nand global versions.\n\n<version> can be specified multiple times and should be a version\ntag known to pyenv.  The special version string `system' will use\nyour default system Python.  Run `pyenv versions' for a list of\navailable Python versions.\n\nExample: To enable the python2.7 and python3.7 shims to find their\n         respective executables you could set both versions with:\n\n'pyenv local 3.7.0 2.7.15'"),
    doc("prefix", "Display prefixes for Python versions", "Usage: pyenv prefix [<version>...]", "Displays the directories where the given Python versions are installed,\nseparated by colons. If no version is given, `pyenv prefix' displays the\nlocations of the currently selected versions."),
    Doc {
        sh: true,
        ..doc("rehash", "Rehash pyenv shims (run this after installing executables)", "", "")
    },
    doc("root", "Display the root directory where versions and shims are kept", "", ""),
    Doc {
        sh: true,
        plain: false,
        ..doc("shell", "Set or show the shell-specific Python version", "Usage: pyenv shell <version>...\n       pyenv shell -\n       pyenv shell --unset", "Sets a shell-specific Python version by setting the `PYENV_VERSION'\nenvironment variable in your shell. This version overrides local\napplication-specific versions and the global version.\n\n<version> should be a string matching a Python version known to pyenv.\nThe special version string `system' will use your default system Python.\nRun `pyenv versions' for a list of available Python versions.\n\nWhen `-` is passed instead of the version string, the previously set\nversion will be restored. With `--unset`, the `PYENV_VERSION`\nenvironment variable gets unset, restoring the environment to the\nstate before the first `pyenv shell` call.")
    },
    doc("shims", "List existing pyenv shims", "Usage: pyenv shims [--short]", ""),
    doc("uninstall", "Uninstall Python versions", "Usage: pyenv uninstall [-f|--force] <version> ...", "   -f  Attempt to remove the specified version without prompting\n       for confirmation. If the version does not exist, do not\n       display an error message."),
    doc("version", "Show the current Python version(s) and its origin", "Usage: pyenv version [--bare]", "    --bare    show just the version name. An alias to `pyenv version-name'"),
    doc("version-file", "Detect the file that sets the current pyenv version", "Usage: pyenv version-file [<dir>]", ""),
    doc("version-file-read", "", "Usage: pyenv version-file-read <file>", ""),
    doc("version-file-write", "", "Usage: pyenv version-file-write [-f|--force] <file> <version> [...]", "  -f/--force    Don't verify that the versions exist"),
    doc("version-name", "Show the current Python version", "Usage: pyenv version-name [-f|--force]", "  -f/--force    (Internal) If a version doesn't exist, print it as is rather than produce an error"),
    doc("version-origin", "Explain how the current Python version is set", "", ""),
    doc("versions", "List all Python versions available to pyenv", "Usage: pyenv versions [--bare] [--skip-aliases] [--skip-envs] [--executables]", "Lists all Python versions found in `$PYENV_ROOT/versions/*'.\n\n  --bare          List just the names, one per line\n  --skip-aliases  Leave out links to other versions\n  --skip-envs     Leave out virtualenvs (`<version>/envs/<name>')\n  --executables   List the executables of every version instead"),
    doc("virtualenv", "Create a Python virtualenv using strap", "Usage: pyenv virtualenv [-r FILE] [<version>] <virtualenv-name>", "Creates versions/<version>/envs/<name>, selectable as <name>\n(see `strap virtualenv --help')."),
    doc("virtualenv-delete", "Uninstall a specific Python virtualenv", "Usage: pyenv virtualenv-delete [-f|--force] <virtualenv-name>", ""),
    doc("virtualenvs", "List all Python virtualenvs found in `$PYENV_ROOT/versions/*'", "Usage: pyenv virtualenvs [--bare]", ""),
    doc("whence", "List all Python versions that contain the given executable", "Usage: pyenv whence [--path] <command>", ""),
    doc("which", "Display the full path to an executable", "Usage: pyenv which <command> [--nosystem] [--skip-advice]", "Displays the full path to the executable that pyenv will invoke when\nyou run the given command.\nUse --nosystem argument in case when you don't need to search command in the\nsystem environment.\nInternal switch --skip-advice used to skip printing an error message on a\nfailed search."),
];

/// pyenv's own commands (its `libexec/pyenv-<command>` files), which plugins run directly.
pub(super) const PYENV_OWN_COMMANDS: &[&str] = &[
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
    "root",
    "sh-rehash",
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

/// The builtin named `name` (`shell`, not `sh-shell`).
pub(super) fn find(name: &str) -> Option<&'static Doc> {
    DOCS.iter().find(|doc| doc.name == name)
}

/// `pyenv commands [--sh|--no-sh]`: the builtins and every `pyenv-<name>` on `PATH`.
pub(super) fn commands(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let (sh, no_sh) = match args.first().map(String::as_str) {
        Some("--sh") => (true, false),
        Some("--no-sh") => (false, true),
        _ => (false, false),
    };
    for name in command_names(env, sh, no_sh) {
        writeln!(out, "{name}")?;
    }
    Ok(0)
}

/// The command names `pyenv commands` lists, sorted.
fn command_names(env: &PyenvEnv, sh: bool, no_sh: bool) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for doc in DOCS {
        if (sh && doc.sh) || (no_sh && doc.plain) || (!sh && !no_sh) {
            names.insert(doc.name.to_owned());
        }
    }
    for dir in std::env::split_paths(&env.command_path()) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = file.strip_prefix("pyenv-") else {
                continue;
            };
            if !crate::which::is_executable(&entry.path()) {
                continue;
            }
            let shell_name = name.strip_prefix("sh-");
            match (sh, no_sh, shell_name) {
                (true, _, Some(short)) => names.insert(short.to_owned()),
                (false, true, None) => names.insert(name.to_owned()),
                (false, false, short) => names.insert(short.unwrap_or(name).to_owned()),
                _ => false,
            };
        }
    }
    names
}

/// The commands the `pyenv` shell function evaluates (`pyenv commands --sh`).
pub(super) fn sh_commands(env: &PyenvEnv) -> Vec<String> {
    command_names(env, true, false).into_iter().collect()
}

/// Documentation of a command: (summary, usage, extended help).
struct Text {
    summary: String,
    usage: String,
    help: String,
}

fn text_of(env: &PyenvEnv, name: &str) -> Option<Text> {
    let builtin = find(name).or_else(|| name.strip_prefix("sh-").and_then(find).filter(|d| d.sh));
    if let Some(doc) = builtin {
        return Some(Text {
            summary: doc.summary.to_owned(),
            usage: doc.usage.to_owned(),
            help: doc.help.to_owned(),
        });
    }
    let path = env
        .command_file(name)
        .or_else(|| env.command_file(&format!("sh-{name}")))?;
    Some(parse_comment_block(
        &crate::bounded::read(&path, crate::bounded::SMALL_FILE_LIMIT).ok()?,
    ))
}

/// `pyenv help [--usage] [COMMAND]`.
pub(super) fn help(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let (usage_only, args) = match args.split_first() {
        Some((first, rest)) if first == "--usage" => (true, rest),
        _ => (false, args),
    };
    match args.first().map(String::as_str) {
        None | Some("pyenv") => {
            writeln!(out, "Usage: pyenv <command> [<args>]")?;
            if usage_only {
                return Ok(1);
            }
            writeln!(out, "\nSome useful pyenv commands are:")?;
            for name in command_names(env, false, false) {
                if let Some(text) = text_of(env, &name).filter(|t| !t.summary.is_empty()) {
                    writeln!(out, "   {name:<9}   {}", text.summary)?;
                }
            }
            writeln!(
                out,
                "\nSee `pyenv help <command>' for information on a specific command.\n\
                 For full documentation, see: https://github.com/pyenv/pyenv#readme"
            )?;
            Ok(0)
        }
        Some(name) => {
            let Some(text) = text_of(env, name) else {
                say!("pyenv: no such command `{name}'");
                return Ok(1);
            };
            if usage_only {
                if !text.usage.is_empty() {
                    writeln!(out, "{}", text.usage)?;
                }
                return Ok(0);
            }
            if text.usage.is_empty() && text.summary.is_empty() {
                say!("Sorry, this command isn't documented yet.");
                return Ok(1);
            }
            if text.usage.is_empty() {
                writeln!(out, "Usage: pyenv {name}")?;
            } else {
                writeln!(out, "{}", text.usage)?;
            }
            let help = if text.help.is_empty() {
                &text.summary
            } else {
                &text.help
            };
            if !help.is_empty() {
                writeln!(out, "\n{help}\n")?;
            }
            Ok(0)
        }
    }
}

/// Reads a command's documentation as pyenv's `help` does: the comment block at the top of the
/// file (after the `#!` line); `Summary:` is one line, `Usage:` goes on while lines are blank or
/// indented by seven spaces, the rest is extended help.
fn parse_comment_block(bytes: &[u8]) -> Text {
    let source = String::from_utf8_lossy(bytes);
    let mut text = Text {
        summary: String::new(),
        usage: String::new(),
        help: String::new(),
    };
    let mut reading_usage = false;
    for line in source.lines() {
        if !line.starts_with('#') {
            break;
        }
        let Some(line) = line.strip_prefix("# ").or((line == "#").then_some("")) else {
            continue;
        };
        if let Some(summary) = line.strip_prefix("Summary:") {
            text.summary = summary.trim_start().to_owned();
        } else if line.starts_with("Usage:") {
            reading_usage = true;
            push_line(&mut text.usage, line);
        } else if reading_usage && (line.trim().is_empty() || line.starts_with("       ")) {
            push_line(&mut text.usage, line);
        } else {
            reading_usage = false;
            push_line(&mut text.help, line);
        }
    }
    text.usage = trim_newlines(&text.usage);
    text.help = trim_newlines(&text.help);
    text
}

fn push_line(text: &mut String, line: &str) {
    text.push('\n');
    text.push_str(line);
}

fn trim_newlines(text: &str) -> String {
    text.trim_matches('\n').to_owned()
}

/// `pyenv completions COMMAND [ARGS]`: `--help`, then what the command completes.
pub(super) fn completions(env: &PyenvEnv, args: &[String], out: &mut dyn Write) -> Outcome {
    let Some((command, rest)) = args.split_first() else {
        say!("{}", find("completions").map_or("", |d| d.usage));
        return Ok(1);
    };
    let words = builtin_completions(env, command)?;
    let path = env
        .external_command(command)
        .or_else(|| env.external_command(&format!("sh-{command}")));
    if words.is_none() && path.is_none() {
        return Ok(1);
    }
    writeln!(out, "--help")?;
    if let Some(words) = words {
        for word in words {
            writeln!(out, "{word}")?;
        }
        out.flush()?;
        return Ok(0);
    }
    if let Some(path) = path.filter(|p| supports_completion(p)) {
        out.flush()?;
        let err = env
            .plugin_command(&path)
            .arg("--complete")
            .args(rest)
            .exec();
        return Err(Reported::message(format!(
            "cannot run {}: {err}",
            path.display()
        )));
    }
    Ok(0)
}

/// True when a plugin says it completes (`# Provide pyenv completions`).
fn supports_completion(path: &Path) -> bool {
    crate::bounded::read(path, crate::bounded::SMALL_FILE_LIMIT).is_ok_and(|bytes| {
        String::from_utf8_lossy(&bytes).lines().any(|line| {
            let lower = line.to_ascii_lowercase();
            ["#", "%", "--", "//"].iter().any(|mark| {
                lower
                    .strip_prefix(mark)
                    .is_some_and(|rest| rest.trim_start() == "provide pyenv completions")
            })
        })
    })
}

/// The words a builtin completes (what `pyenv <command> --complete` prints); `None` for a
/// command that is not a builtin.
pub(super) fn builtin_completions(
    env: &PyenvEnv,
    command: &str,
) -> Result<Option<Vec<String>>, Reported> {
    let layout = env.layout();
    let versions =
        || -> Result<Vec<String>, Reported> { super::query::version_names(layout, false, false) };
    let shims = || -> Result<Vec<String>, Reported> {
        Ok(crate::shims::list_shims(layout)?
            .iter()
            .map(|s| {
                s.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect())
    };
    let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    let with = |mut head: Vec<String>, tail: Vec<String>| {
        head.extend(tail);
        head
    };
    Ok(Some(match command {
        "commands" => words(&["--sh", "--no-sh"]),
        "completions" | "help" => with(
            if command == "help" {
                words(&["--usage"])
            } else {
                Vec::new()
            },
            command_names(env, false, false).into_iter().collect(),
        ),
        "exec" | "which" => shims()?,
        "whence" => with(words(&["--path"]), shims()?),
        "global" | "prefix" => with(words(&["system"]), versions()?),
        "local" | "shell" | "sh-shell" => with(words(&["--unset", "system"]), versions()?),
        "uninstall" | "virtualenv-delete" => versions()?,
        "init" => words(&[
            "-",
            "--path",
            "--no-push-path",
            "--no-rehash",
            "--detect-shell",
            "bash",
            "fish",
            "ksh",
            "pwsh",
            "zsh",
        ]),
        "version" => words(&["--bare"]),
        "versions" => words(&["--bare", "--skip-aliases", "--skip-envs"]),
        "install" => with(
            words(&["--list", "--force", "--skip-existing"]),
            super::query::known_versions()?,
        ),
        "latest" => words(&["--known"]),
        "shims" => words(&["--short"]),
        "virtualenvs" => words(&["--bare"]),
        _ if find(command.strip_prefix("sh-").unwrap_or(command)).is_some() => Vec::new(),
        _ => return Ok(None),
    }))
}
