//! `strap cache clean`: what was (or would be) removed goes to stdout, one line each; what was
//! left and why, and the total, to stderr.

use std::io::Write;
use std::time::Duration;

use super::Ctx;
use crate::clean::{self, What};
use crate::error::Reported;
use indicatif::HumanBytes;

/// The subcommands of `strap cache`.
#[derive(clap::Subcommand)]
pub enum CacheCommand {
    /// Remove what no running strap holds: lock files, logs, downloaded source archives and
    /// packed builds (and partial downloads), build trees of dead installs (not those kept with
    /// --keep), half-removed versions. Only names strap makes are removed; links are not followed
    #[command(
        after_help = "Examples:\n  strap cache clean --dry-run\n  strap cache clean --older-than 30"
    )]
    Clean {
        /// Only what was last modified more than DAYS days ago
        #[arg(long, value_name = "DAYS")]
        older_than: Option<u64>,
        /// List what would be removed; remove nothing
        #[arg(long)]
        dry_run: bool,
    },
}

pub(super) fn run(ctx: &Ctx, command: CacheCommand, out: &mut dyn Write) -> Result<i32, Reported> {
    let CacheCommand::Clean {
        older_than,
        dry_run,
    } = command;
    let options = clean::Options {
        older_than: older_than.map(|days| Duration::from_secs(days.saturating_mul(86_400))),
        dry_run,
    };
    let report = clean::clean(&ctx.layout, options).map_err(crate::error::Reported::from)?;
    let verb = if dry_run { "would remove" } else { "removed" };
    for entry in &report.removed {
        writeln!(
            out,
            "{verb} {} ({})",
            entry.path.display(),
            HumanBytes(entry.bytes)
        )?;
    }
    out.flush()?;
    for skipped in &report.skipped {
        tell!("left {}: {}", skipped.path.display(), skipped.why);
    }
    for (path, why) in &report.failed {
        tell!("warning: cannot remove {}: {why}", path.display());
    }
    let mut counts: Vec<(What, usize)> = Vec::new();
    for entry in &report.removed {
        match counts.iter_mut().find(|(what, _)| *what == entry.what) {
            Some((_, n)) => *n += 1,
            None => counts.push((entry.what, 1)),
        }
    }
    counts.sort();
    let listed: Vec<String> = counts
        .iter()
        .map(|(what, n)| format!("{n} {}", what.noun(*n)))
        .collect();
    let recent = match (report.recent, older_than) {
        (0, _) | (_, None) => String::new(),
        (n, Some(days)) => format!(
            "; left {n} {} modified in the last {days} day{}",
            if n == 1 { "entry" } else { "entries" },
            if days == 1 { "" } else { "s" }
        ),
    };
    if report.removed.is_empty() {
        tell!("nothing to clean{recent}");
    } else if dry_run {
        tell!(
            "would free {} ({}){recent}; nothing was removed (--dry-run)",
            HumanBytes(report.bytes()),
            listed.join(", ")
        );
    } else {
        tell!(
            "freed {} ({}){recent}",
            HumanBytes(report.bytes()),
            listed.join(", ")
        );
    }
    Ok(if report.failed.is_empty() {
        0
    } else {
        crate::error::EXIT_FAILURE
    })
}
