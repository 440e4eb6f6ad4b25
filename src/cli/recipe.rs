//! `strap recipe list | show | run`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::Ctx;
use crate::error::{Reported, UsageError, EXIT_INTERRUPTED};
use crate::process::Cancel;
use crate::recipe::plan::{self, Overrides};
use crate::recipe::run::{self, Report, RunOptions, Status, StepReport};
use crate::recipe::{self, Recipe};

/// `strap recipe` subcommands.
#[derive(clap::Subcommand)]
pub enum RecipeCommand {
    /// List the available recipes (yours in $XDG_CONFIG_HOME/strap/recipes/, then the built-ins)
    #[command(after_help = "Example:\n  strap recipe list")]
    List,
    /// Show a recipe's variables (with defaults and rules) and steps
    #[command(after_help = "Example:\n  strap recipe show can")]
    Show {
        /// A recipe name or a path to a recipe file
        recipe: String,
    },
    /// Run a recipe: check each step, change only what differs
    #[command(
        after_help = "Examples:\n  strap recipe run docker --set users=alice,bob\n  strap recipe run can --set interfaces=can0,can1 --set bitrate=250000\n  strap recipe run ./my-recipe.toml --dry-run --detailed-exitcode\n  strap recipe run jenkins --set mode=container --json"
    )]
    Run(RunArgs),
}

/// The flags of `strap recipe run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// A recipe name or a path to a recipe file
    pub recipe: String,
    /// Set a variable (repeatable); lists are comma-separated
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Read variables from a TOML file
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
    /// Only run the checks and show what would change
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 2 when changes are pending
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
    /// Machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
    /// Write files under DIR instead of / (for tests and image builds)
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub sysroot: PathBuf,
    /// Do not ask for confirmation on a terminal
    #[arg(short, long)]
    pub yes: bool,
}

/// Exit code of `--dry-run --detailed-exitcode` when changes are pending.
const EXIT_CHANGES_PENDING: i32 = 2;

pub(super) fn run(ctx: &Ctx, command: RecipeCommand, out: &mut dyn Write) -> anyhow::Result<i32> {
    match command {
        RecipeCommand::List => {
            for entry in recipe::list() {
                match entry {
                    Ok(r) => writeln!(out, "{:<10} {}  [{}]", r.name, r.description, r.source)?,
                    Err(e) => say!("strap: warning: {e}"),
                }
            }
            Ok(0)
        }
        RecipeCommand::Show { recipe } => {
            show(&recipe::find(&recipe)?, out)?;
            Ok(0)
        }
        RecipeCommand::Run(args) => run_recipe(ctx, args, out),
    }
}

fn show(r: &Recipe, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{} — {}\n  from {}", r.name, r.description, r.source)?;
    if !r.supported.is_empty() {
        writeln!(out, "  supports: {}", r.supported.join(", "))?;
    }
    for req in &r.requires {
        writeln!(
            out,
            "  requires: {}{}",
            req.recipe,
            if req.when.is_some() {
                " (conditionally)"
            } else {
                ""
            }
        )?;
    }
    writeln!(out, "\nvariables:")?;
    for (name, decl) in &r.vars {
        let default = decl
            .default
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default();
        let mut rule = String::new();
        if let Some(p) = &decl.pattern {
            rule = format!(" /{p}/");
        }
        if let Some(c) = &decl.choices {
            rule = format!(" one of {}", c.join("|"));
        }
        writeln!(out, "  {name} ({:?}, default {default}){rule}", decl.kind)?;
        if !decl.description.is_empty() {
            writeln!(out, "      {}", decl.description)?;
        }
    }
    writeln!(out, "\nsteps:")?;
    for (i, step) in r.steps.iter().enumerate() {
        let when = step.when.as_ref().map(|_| " (conditional)").unwrap_or("");
        writeln!(
            out,
            "  {:>2}. {} [{}]{when}",
            i + 1,
            step.name,
            step.kind_name
        )?;
    }
    if !r.handlers.is_empty() {
        writeln!(out, "\nhandlers:")?;
        for h in &r.handlers {
            writeln!(out, "  {}", h.name)?;
        }
    }
    Ok(())
}

fn run_recipe(ctx: &Ctx, args: RunArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let recipe = recipe::find(&args.recipe)?;
    let mut overrides = Overrides::default();
    for kv in &args.set {
        let Some((name, value)) = kv.split_once('=') else {
            return Err(UsageError::new(format!(
                "--set {kv}: expected NAME=VALUE (`strap recipe show {}` lists the variables)",
                args.recipe
            ))
            .into());
        };
        overrides
            .set
            .push((name.trim().to_owned(), value.to_owned()));
    }
    if let Some(path) = &args.vars {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let table = text.parse::<toml::Table>().map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| crate::config::line_of(&text, s.start));
            anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
        })?;
        overrides.file = Some((path.clone(), table));
    }
    if !args.sysroot.is_dir() {
        let message = format!("--sysroot {} is not a directory", args.sysroot.display());
        return Err(UsageError::new(message).into());
    }
    let planned =
        plan::plan(recipe, &overrides, &args.sysroot, &recipe::find).map_err(Reported::from)?;
    if !args.dry_run
        && !args.yes
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
    {
        let names: Vec<&str> = planned.iter().map(|p| p.recipe.name.as_str()).collect();
        eprint!(
            "strap: run {} on {}? [y/N] ",
            names.join(" + "),
            args.sysroot.display()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            anyhow::bail!("cancelled; nothing was changed");
        }
    }
    let options = RunOptions {
        dry_run: args.dry_run,
        sysroot: args.sysroot.clone(),
        log_path: ctx.layout.log_file(&format!(
            "recipe-{}",
            planned.last().map_or("", |p| p.recipe.name.as_str())
        )),
        cancel: Cancel::on_signals(),
    };
    let json = args.json;
    let mut print_error = None;
    let report = run::execute(&planned, &options, &mut |step| {
        if !json {
            if let Err(e) = print_step(out, step, args.dry_run) {
                print_error = Some(e);
            }
        }
    })?;
    if let Some(e) = print_error {
        return Err(e.into());
    }
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print_summary(out, &report)?;
    }
    Ok(if report.interrupted {
        EXIT_INTERRUPTED
    } else if report.summary.failed > 0 {
        1
    } else if args.dry_run && args.detailed_exitcode && report.summary.changed > 0 {
        EXIT_CHANGES_PENDING
    } else {
        0
    })
}

fn print_step(out: &mut dyn Write, step: &StepReport, dry_run: bool) -> std::io::Result<()> {
    let word = match (step.status, dry_run) {
        (Status::Changed, true) => "would change".to_owned(),
        (status, _) => status.word().to_owned(),
    };
    writeln!(
        out,
        "{word:<12} {} › {} ({:.1}s)",
        step.recipe, step.step, step.seconds
    )?;
    for text in step.diff.iter().chain(step.output.iter()) {
        for line in text.lines() {
            writeln!(out, "             | {line}")?;
        }
    }
    out.flush()
}

fn print_summary(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let s = report.summary;
    writeln!(
        out,
        "{}ok={} changed={} skipped={} failed={}   (log: {})",
        if report.dry_run { "dry run: " } else { "" },
        s.ok,
        s.changed,
        s.skipped,
        s.failed,
        report.log.display()
    )
}
