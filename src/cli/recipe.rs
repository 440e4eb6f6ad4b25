//! `strap recipe list | show | run`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::Ctx;
use crate::error::{Reported, UsageError, EXIT_FAILURE, EXIT_INTERRUPTED};
use crate::process::{Cancel, Log};
use crate::recipe::plan::{self, Overrides};
use crate::recipe::run::{self, Report, RunOptions, Status, StepReport};
use crate::recipe::{self, Recipe};

/// `strap recipe` subcommands.
#[derive(clap::Subcommand)]
pub enum RecipeCommand {
    /// List the available recipes (yours in $XDG_CONFIG_HOME/strap/recipes/, then the built-ins)
    #[command(after_help = "Examples:\n  strap recipe list\n  strap recipe list --bare")]
    List {
        /// Only the names that `strap recipe run` accepts, one a line (for shell completion)
        #[arg(long)]
        bare: bool,
    },
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
#[derive(clap::Args, Debug, PartialEq)]
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
    /// With --dry-run: exit 2 when changes are pending, 1 when a step cannot be done on this
    /// machine (a service where no service manager runs)
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
    /// Machine-readable report on stdout
    #[arg(long)]
    pub json: bool,
    /// Write files under DIR instead of / (for tests and image builds)
    #[arg(long, value_name = "DIR", default_value = DEFAULT_SYSROOT)]
    pub sysroot: PathBuf,
    /// Do not ask for confirmation (asked when stdin is a terminal, after the checks)
    #[arg(short, long)]
    pub yes: bool,
    /// Show what each step's commands printed and each file's whole diff (without it, a
    /// changed step is one line; a failed step's output is always shown)
    #[arg(short, long)]
    pub verbose: bool,
}

/// Where a recipe writes files without `--sysroot`.
pub(super) const DEFAULT_SYSROOT: &str = "/";

/// Exit code of `--dry-run --detailed-exitcode` when changes are pending.
pub(super) const EXIT_CHANGES_PENDING: i32 = 2;

pub(super) fn run(ctx: &Ctx, command: RecipeCommand, out: &mut dyn Write) -> Result<i32, Reported> {
    match command {
        RecipeCommand::List { bare: true } => {
            for name in recipe::names() {
                writeln!(out, "{name}")?;
            }
            Ok(0)
        }
        RecipeCommand::List { bare: false } => {
            for (name, entry) in recipe::list() {
                match entry {
                    Ok(r) => writeln!(out, "{name:<10} {}  [{}]", r.description, r.source)?,
                    Err(e) => tell!("warning: {e}"),
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

fn show(r: &Recipe, out: &mut dyn Write) -> Result<(), Reported> {
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
        writeln!(
            out,
            "  {name} ({}, default {default}){rule}",
            decl.kind.name()
        )?;
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
    let ci: Vec<_> = r.vars.iter().filter(|(_, d)| !d.ci.is_empty()).collect();
    if !ci.is_empty() {
        writeln!(out, "\nIn CI (a job's container runs no service manager):")?;
        for (name, decl) in ci {
            writeln!(out, "  {name}: {}", decl.ci)?;
        }
    }
    Ok(())
}

fn run_recipe(ctx: &Ctx, args: RunArgs, out: &mut dyn Write) -> Result<i32, Reported> {
    let (code, report) = run_printing(ctx, &args, out, "")?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    }
    Ok(code)
}

/// Runs a recipe as `strap recipe run ARGS` does, printing to `out` each step's lines as it
/// finishes and then the summary line, each line after `indent` (nothing with `--json`); the
/// exit code and the report.
pub(super) fn run_printing(
    ctx: &Ctx,
    args: &RunArgs,
    out: &mut dyn Write,
    indent: &str,
) -> Result<(i32, Report), Reported> {
    let shown = Shown {
        dry_run: args.dry_run,
        timed: true,
        verbose: args.verbose,
    };
    let mut print_error = None;
    let (code, report) = apply(ctx, args, &mut |step| {
        if !args.json && print_error.is_none() {
            print_error = print_lines(out, &step_lines(step, shown), indent).err();
        }
    })?;
    if let Some(e) = print_error {
        return Err(e.into());
    }
    if !args.json {
        print_lines(out, &[summary_line(&report)], indent)?;
    }
    Ok((code, report))
}

/// Runs a recipe as `strap recipe run ARGS` does (its checks, the question on a terminal, the
/// run), each step to `on_step` as it finishes; the exit code and the report.
fn apply(
    ctx: &Ctx,
    args: &RunArgs,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<(i32, Report), Reported> {
    let planned = prepare(args)?;
    let names: Vec<&str> = planned.iter().map(|p| p.recipe.name.as_str()).collect();
    let log_path = ctx.layout.log_file(&format!(
        "recipe-{}",
        names.last().copied().unwrap_or_default()
    ));
    let log = Log::create(&log_path)?;
    let cancel = Cancel::on_signals();
    if !args.dry_run {
        refuse_without_root(&planned)?;
    }
    if !args.dry_run && !args.yes && std::io::stdin().is_terminal() {
        let checks = RunOptions {
            dry_run: true,
            sysroot: args.sysroot.clone(),
            log: log.clone(),
            cancel: cancel.clone(),
        };
        let preview = run::execute(&planned, &checks, &mut |_| {})?;
        if preview.interrupted {
            return Err(nothing_changed("interrupted", EXIT_INTERRUPTED));
        }
        if preview.summary.pending() > 0 {
            let question = Question {
                names: &names,
                sysroot: &args.sysroot,
                preview: &preview,
            };
            match question.ask(&cancel)? {
                Answer::Yes => log.note("# confirmed"),
                Answer::No => return Err(nothing_changed("cancelled", EXIT_FAILURE)),
                Answer::Interrupted => {
                    return Err(nothing_changed("interrupted", EXIT_INTERRUPTED))
                }
            }
        }
    }
    let options = RunOptions {
        dry_run: args.dry_run,
        sysroot: args.sysroot.clone(),
        log,
        cancel,
    };
    let report = run::execute(&planned, &options, on_step)?;
    let code = if report.interrupted {
        EXIT_INTERRUPTED
    } else if report.summary.failed > 0 {
        1
    } else if args.dry_run && args.detailed_exitcode && report.summary.unavailable > 0 {
        // A run would fail the step that cannot be done here.
        1
    } else if args.dry_run && args.detailed_exitcode && report.summary.pending() > 0 {
        EXIT_CHANGES_PENDING
    } else {
        0
    };
    Ok((code, report))
}

/// The recipe ARGS names, with the recipes it requires, planned with its variables (`--set`,
/// `--vars`) for `--sysroot`.
fn prepare(args: &RunArgs) -> Result<Vec<plan::Planned>, Reported> {
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
        let text = crate::bounded::read_text(path)
            .map_err(|e| Reported::caused_by(format!("cannot read {}", path.display()), &e))?;
        let table = text.parse::<toml::Table>().map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| crate::config::line_of(&text, s.start));
            Reported::message(format!("{}:{line}: {}", path.display(), e.message()))
        })?;
        overrides.file = Some((path.clone(), table));
    }
    if !args.sysroot.is_dir() {
        let message = format!("--sysroot {} is not a directory", args.sysroot.display());
        return Err(UsageError::new(message).into());
    }
    plan::plan(recipe, &overrides, &args.sysroot, &recipe::find).map_err(Reported::from)
}

/// Why a run of the recipe ARGS names (not a dry run) would be refused before any step runs:
/// it cannot be planned, or steps need root this process cannot get (as
/// [`refuse_without_root`] says it).
pub(super) fn root_refusal(args: &RunArgs) -> Result<(), Reported> {
    refuse_without_root(&prepare(args)?)
}

/// Refuses a run whose steps need root that this process cannot get, before any step runs.
fn refuse_without_root(planned: &[plan::Planned]) -> Result<(), Reported> {
    let needing = run::steps_needing_root(planned);
    let Some(why) = (!needing.is_empty())
        .then(run::cannot_become_root)
        .flatten()
    else {
        return Ok(());
    };
    Err(Reported::failure(
        format!(
            "these steps need root: {}; {why}; nothing was changed",
            needing.join(", ")
        ),
        "run strap as root (in CI, a job or container that runs as root), or give this user \
         passwordless sudo; `--dry-run` checks without changing anything",
    ))
}

fn nothing_changed(what: &str, exit_code: i32) -> Reported {
    Reported {
        message: format!("{what}; nothing was changed"),
        hint: None,
        exit_code,
    }
}

/// The answer to the confirmation.
enum Answer {
    Yes,
    No,
    Interrupted,
}

/// Asking before a run changes anything: the changes the checks found, then `[y/N]`.
struct Question<'a> {
    names: &'a [&'a str],
    sysroot: &'a Path,
    preview: &'a Report,
}

impl Question<'_> {
    /// Writes the question to the terminal (never to stdout, which may be piped) and reads the
    /// answer from stdin, which is a terminal.
    fn ask(&self, cancel: &Cancel) -> Result<Answer, Reported> {
        let Some(mut terminal) = terminal() else {
            return Err(Reported::message(
                "cannot ask for confirmation: no terminal to write to; pass --yes".to_string(),
            ));
        };
        let mut text = format!(
            "{}: recipe {} on {} — the checks found:\n",
            super::Program::current().name(),
            self.names.join(" + "),
            self.sysroot.display()
        );
        for step in &self.preview.steps {
            let worth_showing = match step.status {
                Status::Changed | Status::Unknown | Status::Failed => true,
                Status::Skipped => step.message.is_some(),
                Status::Ok => false,
            };
            if worth_showing {
                let shown = Shown {
                    dry_run: true,
                    timed: false,
                    verbose: false,
                };
                for line in step_lines(step, shown) {
                    text.push_str(&format!("  {line}\n"));
                }
            }
        }
        let s = self.preview.summary;
        text.push_str(&format!(
            "{}: {} to change{}{}; {} ok. Make these changes? [y/N] ",
            super::Program::current().name(),
            count(s.changed, "step"),
            if s.unknown > 0 {
                format!(", {} unknown", count(s.unknown, "step"))
            } else {
                String::new()
            },
            if s.failed > 0 {
                format!(", {} failed", count(s.failed, "check"))
            } else {
                String::new()
            },
            s.ok
        ));
        terminal.write_all(text.as_bytes())?;
        terminal.flush()?;
        let answer = read_answer(cancel)?;
        if answer.as_ref().is_none_or(String::is_empty) {
            // Ctrl-C or end of input (Ctrl-D): end the prompt's line.
            let _ = terminal.write_all(b"\n");
        }
        let Some(answer) = answer else {
            return Ok(Answer::Interrupted);
        };
        Ok(match answer.trim() {
            "y" | "Y" | "yes" | "Yes" => Answer::Yes,
            _ => Answer::No,
        })
    }
}

/// "1 step", "3 steps".
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The terminal to ask on: the controlling terminal, else stderr when it is one, else the
/// terminal stdin reads from.
fn terminal() -> Option<Box<dyn Write>> {
    let open = |path: &str| std::fs::OpenOptions::new().write(true).open(path).ok();
    if let Some(tty) = open("/dev/tty") {
        return Some(Box::new(tty));
    }
    if std::io::stderr().is_terminal() {
        return Some(Box::new(std::io::stderr()));
    }
    open("/proc/self/fd/0").map(|f| Box::new(f) as Box<dyn Write>)
}

/// A line from stdin; None when Ctrl-C (or SIGTERM) came first. Waits with `poll`, because the
/// signal handler does not interrupt a blocking read.
fn read_answer(cancel: &Cancel) -> std::io::Result<Option<String>> {
    loop {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let mut fds = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `fds` is one valid pollfd that lives across the call.
        let ready = unsafe { libc::poll(&mut fds, 1, 100) };
        if ready < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if ready > 0 {
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            return Ok((!cancel.is_cancelled()).then_some(answer));
        }
    }
}

/// How much of a step to show.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shown {
    /// The step was only checked: its diff and the commands it would run are shown.
    pub(super) dry_run: bool,
    /// With the time it took.
    pub(super) timed: bool,
    /// With the whole diff and what its commands printed (`--verbose`).
    pub(super) verbose: bool,
}

/// A step's lines as a run prints them, control characters shown escaped: the status, recipe and step (with the time it took when
/// `timed`) and, for a step a run changed, what changed in one line; then its whole diff (in a
/// dry run, or `verbose`), its message, what its commands printed (`verbose`, or when the step
/// failed), and the commands a dry run would run.
pub(super) fn step_lines(step: &StepReport, shown: Shown) -> Vec<String> {
    let word = match (step.status, shown.dry_run) {
        (Status::Changed, true) => "would change".to_owned(),
        (status, _) => status.word().to_owned(),
    };
    let mut head = format!("{word:<12} {} › {}", step.recipe, step.step);
    if shown.timed {
        head.push_str(&format!(" ({:.1}s)", step.seconds));
    }
    if let Some(summary) = (step.status == Status::Changed && !shown.dry_run)
        .then(|| step.change_summary())
        .flatten()
    {
        head.push_str(&format!(": {summary}"));
    }
    let failed = step.status == Status::Failed;
    let texts = [
        (&step.diff, shown.dry_run || shown.verbose),
        (&step.message, true),
        (&step.output, shown.verbose || failed),
    ];
    let mut lines = vec![head];
    for text in texts
        .iter()
        .filter(|(_, show)| *show)
        .filter_map(|(t, _)| t.as_ref())
    {
        lines.extend(text.lines().map(|line| format!("             | {line}")));
    }
    for command in step.commands.iter().filter(|_| shown.dry_run) {
        for (i, line) in command.lines().enumerate() {
            let lead = if i == 0 { "would run: " } else { "           " };
            lines.push(format!("             | {lead}{line}"));
        }
    }
    // What steps and their commands print must not drive the terminal (escape sequences).
    lines
        .into_iter()
        .map(|line| crate::error::printable(&line).into_owned())
        .collect()
}

/// Writes `lines`, each after `indent`, and flushes (a step is shown as it finishes).
pub(super) fn print_lines(
    out: &mut dyn Write,
    lines: &[String],
    indent: &str,
) -> std::io::Result<()> {
    for line in lines {
        writeln!(out, "{indent}{line}")?;
    }
    out.flush()
}

/// `ok=4 changed=1 skipped=2 failed=0   (log: …)`, after `dry run: ` for a dry run.
pub(super) fn summary_line(report: &Report) -> String {
    let s = report.summary;
    let unknown = if s.unknown > 0 {
        format!(" unknown={}", s.unknown)
    } else {
        String::new()
    };
    format!(
        "{}ok={} changed={}{unknown} skipped={} failed={}   (log: {})",
        if report.dry_run { "dry run: " } else { "" },
        s.ok,
        s.changed,
        s.skipped,
        s.failed,
        report.log.display()
    )
}
