//! pyenv's self-description: `commands`, `help` and `completions`, for the builtin commands (the
//! [`super::commands`] table) and for `pyenv-<name>` plugins on `PATH` (their leading comment block, read as
//! pyenv reads it).

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;

use super::commands::{self, find, Listed, COMMANDS};
use super::{Outcome, PyenvEnv};
use crate::error::Reported;

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
    for command in COMMANDS {
        if (sh && command.sh.is_some()) || (no_sh && command.run.is_some()) || (!sh && !no_sh) {
            names.insert(command.name.to_owned());
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
    let builtin = find(name)
        .filter(|command| !command.defers_to_plugin(env))
        .or_else(|| commands::find_sh(name));
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
/// command that is not a builtin. (`sh-<name>` completes as `<name>` when that has an `sh-`
/// variant, else nothing.)
pub(super) fn builtin_completions(
    env: &PyenvEnv,
    command: &str,
) -> Result<Option<Vec<String>>, Reported> {
    let Some(builtin) = find(command).or_else(|| commands::find_sh(command)) else {
        let plain_only = command.strip_prefix("sh-").and_then(find).is_some();
        return Ok(plain_only.then(Vec::new));
    };
    let layout = env.layout();
    let mut words: Vec<String> = builtin.words.iter().map(|w| (*w).to_owned()).collect();
    match builtin.listed {
        Some(Listed::Commands) => words.extend(command_names(env, false, false)),
        Some(Listed::Versions) => words.extend(super::query::version_names(layout, false, false)?),
        Some(Listed::Shims) => words.extend(crate::shims::list_shims(layout)?.iter().map(|s| {
            s.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })),
        Some(Listed::Known) => words.extend(super::query::known_versions()?),
        None => {}
    }
    Ok(Some(words))
}
