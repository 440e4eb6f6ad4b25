//! `strap init` and `strap completions`.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, Ctx};
use crate::error::UsageError;
use crate::shell::Shell;

pub(super) fn init(ctx: &Ctx, shell: Option<&str>, out: &mut dyn Write) -> anyhow::Result<()> {
    let detected = || {
        std::env::var("SHELL")
            .ok()
            .and_then(|s| Shell::from_path(&s))
    };
    let shell = match shell {
        None => return instructions(detected().unwrap_or(Shell::Bash), out),
        Some("-") => detected().ok_or_else(|| {
            UsageError::new("cannot tell your shell from $SHELL")
                .with_hint("name it: `strap init bash`, `strap init zsh` or `strap init fish`")
        })?,
        Some(name) => Shell::from_path(name).ok_or_else(|| {
            UsageError::new(format!(
                "unsupported shell '{name}': strap integrates with bash, zsh and fish"
            ))
        })?,
    };
    write!(
        out,
        "{}",
        shell.init_script(ctx.layout.root(), &ctx.layout.shims_dir())
    )?;
    Ok(())
}

/// What to add where; every line is a comment, so evaluating it by mistake does nothing.
fn instructions(shell: Shell, out: &mut dyn Write) -> anyhow::Result<()> {
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

pub(super) fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "strap", out);
}
