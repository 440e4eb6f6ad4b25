//! `strap bootstrap`: the plan of a manifest (`strap.toml`), then convergence — each pending
//! item by the same strap command a user would run (shown in the plan), in dependency order
//! (Pythons, the global version, virtualenvs, Boost, recipes), going on past independent
//! failures and reporting them all at the end.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::Parser;

use super::{dispatch, Cli, Ctx};
use crate::bootstrap::manifest::{self, Loaded, RecipeItem};
use crate::bootstrap::plan::{self, Item, Kind, State};
use crate::error::{Reported, EXIT_FAILURE, EXIT_INTERRUPTED};
use crate::process::Cancel;

/// The flags of `strap bootstrap`.
#[derive(clap::Args)]
pub struct BootstrapArgs {
    /// The manifest (default: strap.toml in the current directory or above)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 2 when changes are pending
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
    /// Machine-readable plan and results on stdout
    #[arg(long)]
    pub json: bool,
    /// Only these kinds of items (comma-separated)
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Kind>,
    /// Parallel build jobs (over the manifest's [settings] jobs)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Do not ask (strap bootstrap never prompts; accepted for CI scripts)
    #[arg(short, long)]
    pub yes: bool,
    /// Recipes write files under DIR instead of / (for tests and image builds)
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,
    /// Print the manifest's JSON Schema (for editors) and exit
    #[arg(long, exclusive = true)]
    pub schema: bool,
}

/// How a pending item ended.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "result", content = "detail")]
enum Outcome {
    Ok,
    Changed,
    Failed(String),
    /// Not run: the Python it needs is not there (why).
    Skipped(String),
    /// Stopped, or never started, by a signal.
    Interrupted,
}

pub(super) fn run(ctx: &Ctx, args: BootstrapArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    if args.schema {
        writeln!(out, "{}", manifest::schema())?;
        return Ok(0);
    }
    let loaded = load(ctx, &args)?;
    let cancel = Cancel::on_signals();
    let items = plan_items(ctx, &loaded, &args)?;
    if cancel.is_cancelled() {
        tell!("bootstrap: interrupted while planning; nothing was changed");
        return Ok(EXIT_INTERRUPTED);
    }
    if items.is_empty() {
        // The manifest declares something (checked when loaded): --only left none of it.
        if args.json {
            write_json(out, &loaded, &items)?;
        }
        let kinds: Vec<&str> = args.only.iter().map(|k| kind_name(*k)).collect();
        tell!(
            "bootstrap: {} has no {} items (--only); nothing to do",
            loaded.path.display(),
            kinds.join(" or ")
        );
        return Ok(0);
    }
    if !args.json {
        tell!("plan for {}:", loaded.path.display());
        for item in &items {
            say!("{}", plan_line(item));
        }
    }
    let pending = items
        .iter()
        .filter(|i| matches!(i.state, State::Pending(_)))
        .count();
    let invalid = items.iter().any(|i| matches!(i.state, State::Invalid(_)));
    if args.dry_run {
        if args.json {
            write_json(out, &loaded, &items)?;
        }
        return Ok(if invalid {
            crate::error::EXIT_FAILURE
        } else if pending > 0 && args.detailed_exitcode {
            super::recipe::EXIT_CHANGES_PENDING
        } else {
            0
        });
    }
    prefetch(ctx, &items);
    let outcomes = converge(ctx, &items, &cancel);
    if args.json {
        let results: Vec<serde_json::Value> = items
            .iter()
            .zip(&outcomes)
            .map(|(item, outcome)| {
                let mut value = serde_json::to_value(item).unwrap_or_default();
                value["outcome"] = serde_json::to_value(outcome).unwrap_or_default();
                value
            })
            .collect();
        write_json(out, &loaded, &results)?;
    }
    Ok(summarize(&items, &outcomes, pending))
}

/// The manifest `-f` names, or the nearest `strap.toml`, with `--jobs` over its jobs.
fn load(ctx: &Ctx, args: &BootstrapArgs) -> Result<Loaded, Reported> {
    let path = match &args.file {
        Some(file) => file.clone(),
        None => {
            let cwd = ctx.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
            manifest::find(&cwd)?
        }
    };
    let mut loaded = manifest::load(&path)?;
    if let Some(jobs) = args.jobs {
        let jobs = crate::settings::check_jobs(jobs, "--jobs")?;
        loaded.manifest.settings.jobs = Some(toml::Spanned::new(0..0, jobs));
    }
    Ok(loaded)
}

/// The plan's items of the kinds `--only` selects, recipes (checked by their dry run) last.
fn plan_items(ctx: &Ctx, loaded: &Loaded, args: &BootstrapArgs) -> Result<Vec<Item>, Reported> {
    let mut items = plan::plan(&ctx.layout, loaded, &args.only)?;
    if args.only.is_empty() || args.only.contains(&Kind::Recipe) {
        for recipe in &loaded.manifest.recipe {
            items.push(recipe_item(ctx, loaded, recipe, args.sysroot.as_ref()));
        }
    }
    Ok(items)
}

/// `{"manifest": PATH, "items": [...]}` on stdout.
fn write_json(
    out: &mut dyn Write,
    loaded: &Loaded,
    items: &impl serde::Serialize,
) -> anyhow::Result<()> {
    let value = serde_json::json!({ "manifest": loaded.path, "items": items });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}

/// Says how the run ended (counts, then each item that failed or was skipped); returns the exit
/// code: 130 when a signal stopped it, 1 when an item did not converge, else 0.
fn summarize(items: &[Item], outcomes: &[Outcome], pending: usize) -> i32 {
    let count = |wanted: fn(&Outcome) -> bool| outcomes.iter().filter(|o| wanted(o)).count();
    let ok = count(|o| matches!(o, Outcome::Ok));
    let undone = count(|o| matches!(o, Outcome::Interrupted));
    let unconverged = count(|o| matches!(o, Outcome::Failed(_) | Outcome::Skipped(_)));
    if pending == 0 && unconverged == 0 {
        let all = match ok {
            1 => "the one item is".to_owned(),
            n => format!("all {n} items are"),
        };
        tell!("bootstrap: {all} ok; nothing to do, nothing downloaded");
        return 0;
    }
    tell!(
        "bootstrap: {}{ok} ok, {} changed, {} failed{}{}",
        if undone > 0 { "interrupted; " } else { "" },
        count(|o| matches!(o, Outcome::Changed)),
        count(|o| matches!(o, Outcome::Failed(_))),
        match count(|o| matches!(o, Outcome::Skipped(_))) {
            0 => String::new(),
            n => format!(", {n} skipped"),
        },
        match undone {
            0 => String::new(),
            n => format!(", {n} left undone (run it again to finish)"),
        },
    );
    for (item, outcome) in items.iter().zip(outcomes) {
        let (label, why) = match outcome {
            Outcome::Failed(why) => ("failed", why),
            Outcome::Skipped(why) => ("skipped", why),
            _ => continue,
        };
        say!("  {label}: {} {}: {why}", kind_name(item.kind), item.name);
    }
    if undone > 0 {
        EXIT_INTERRUPTED
    } else if unconverged > 0 {
        EXIT_FAILURE
    } else {
        0
    }
}

/// Downloads what the pending installs need all at once (one display), so the builds that
/// follow, one after another, find it in the cache. A Boost build whose Python is not installed
/// yet fetches its own sources later (its plan asks that Python). Failures here are left to the
/// installs to report.
fn prefetch(ctx: &Ctx, items: &[Item]) {
    let commands: Vec<Vec<String>> = items
        .iter()
        .filter(|item| matches!(item.state, State::Pending(_)))
        .filter(|item| match item.kind {
            Kind::Python => true,
            Kind::Boost => item
                .needs_python
                .as_deref()
                .is_none_or(|python| plan::installed(&ctx.layout, python).is_some()),
            _ => false,
        })
        .map(|item| {
            let mut command = item.command.clone();
            command.push("--fetch-only".to_owned());
            command
        })
        .collect();
    if commands.len() < 2 {
        return;
    }
    tell!(
        "bootstrap: downloading for {} installs at once",
        commands.len()
    );
    std::thread::scope(|scope| {
        for command in &commands {
            scope.spawn(move || run_command(ctx, command));
        }
    });
}

/// Runs each pending item's command in order until a signal stops the run. An item whose
/// Python is not installed because every Python item serving it failed is skipped, naming them.
fn converge(ctx: &Ctx, items: &[Item], cancel: &Cancel) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    for item in items {
        let outcome = if cancel.is_cancelled() {
            Outcome::Interrupted
        } else {
            match &item.state {
                State::Ok => Outcome::Ok,
                State::Invalid(why) => Outcome::Failed(why.clone()),
                State::Pending(_) => {
                    match missing_python(ctx, item, &items[..outcomes.len()], &outcomes) {
                        Some(why) => Outcome::Skipped(why),
                        None => run_item(ctx, item, cancel),
                    }
                }
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// Runs a pending item's command; how it ended.
fn run_item(ctx: &Ctx, item: &Item, cancel: &Cancel) -> Outcome {
    tell!("bootstrap: {}", plan_line(item).trim_start());
    let result = run_command(ctx, &item.command);
    if cancel.is_cancelled() {
        if let Err(e) = &result {
            super::report_anyhow(e);
        }
        return Outcome::Interrupted;
    }
    match result {
        Ok(0) => Outcome::Changed,
        Ok(code) => Outcome::Failed(format!("exit {code}")),
        Err(e) => {
            super::report_anyhow(&e);
            Outcome::Failed(format!("{e:#}"))
        }
    }
}

/// Why `item` cannot run: the Python it needs is not installed and every Python item of the
/// manifest that would have installed it failed (`done` are the items before it, with their
/// `outcomes`). `None` when it can run (or should, to report its own error).
fn missing_python(ctx: &Ctx, item: &Item, done: &[Item], outcomes: &[Outcome]) -> Option<String> {
    let python = item.needs_python.as_deref()?;
    if plan::installed(&ctx.layout, python).is_some() {
        return None;
    }
    let serving: Vec<(&Item, &Outcome)> = done
        .iter()
        .zip(outcomes)
        .filter(|(i, _)| i.kind == Kind::Python && manifest::satisfies(&i.command[1], python))
        .collect();
    let failed: Vec<String> = serving
        .iter()
        .filter_map(|(i, outcome)| match (&i.state, outcome) {
            (State::Invalid(_), _) => Some(format!("python {} is invalid", i.name)),
            (_, Outcome::Failed(_) | Outcome::Skipped(_)) => {
                Some(format!("python {} failed", i.name))
            }
            _ => None,
        })
        .collect();
    (!failed.is_empty() && failed.len() == serving.len())
        .then(|| format!("Python {python} is not installed: {}", failed.join(", ")))
}

/// Runs `strap ARGS` in this process (its stdout discarded; its progress and errors on stderr).
fn run_command(ctx: &Ctx, args: &[String]) -> anyhow::Result<i32> {
    let argv = std::iter::once(OsString::from("strap")).chain(args.iter().map(OsString::from));
    let cli = Cli::try_parse_from(argv).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(dispatch(ctx, cli.command, &mut std::io::sink())?)
}

/// A recipe's item: its dry run decides whether it is ok or has changes pending.
fn recipe_item(ctx: &Ctx, loaded: &Loaded, recipe: &RecipeItem, sysroot: Option<&PathBuf>) -> Item {
    let target = match (&recipe.name, &recipe.path) {
        (Some(name), _) => name.clone(),
        (None, Some(path)) => loaded.dir().join(path).display().to_string(),
        (None, None) => String::new(),
    };
    let mut command = vec!["recipe".to_owned(), "run".to_owned(), target.clone()];
    for (name, value) in &recipe.vars {
        command.extend(["--set".to_owned(), format!("{name}={}", set_value(value))]);
    }
    if let Some(dir) = sysroot {
        command.extend(["--sysroot".to_owned(), dir.display().to_string()]);
    }
    let mut check = command.clone();
    check.extend(["--dry-run", "--detailed-exitcode", "--json"].map(String::from));
    let state = match run_command(ctx, &check) {
        Ok(0) => State::Ok,
        Ok(code) if code == super::recipe::EXIT_CHANGES_PENDING => {
            State::Pending("apply".to_owned())
        }
        Ok(code) => State::Invalid(format!("its checks failed (exit {code})")),
        Err(e) => State::Invalid(format!("{e:#}")),
    };
    command.push("--yes".to_owned());
    Item {
        kind: Kind::Recipe,
        name: recipe.name.clone().unwrap_or(target),
        state,
        command,
        needs_python: None,
    }
}

/// A variable as `--set` takes it: lists comma-separated, the rest as written.
fn set_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Array(items) => items.iter().map(set_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Python => "python",
        Kind::Global => "global",
        Kind::Virtualenv => "virtualenv",
        Kind::Boost => "boost",
        Kind::Recipe => "recipe",
    }
}

/// `  ok        python      3.12.7` / `  install   python      3.11 (strap install 3.11)`.
fn plan_line(item: &Item) -> String {
    let (state, detail) = match &item.state {
        State::Ok => ("ok".to_owned(), String::new()),
        State::Pending(what) => (
            what.split(' ').next().unwrap_or(what).to_owned(),
            format!("  (strap {})", shown_command(&item.command)),
        ),
        State::Invalid(why) => ("invalid".to_owned(), format!("  ({why})")),
    };
    format!(
        "  {state:<9} {:<10} {}{detail}",
        kind_name(item.kind),
        item.name
    )
}

/// A command as a shell would take it.
fn shown_command(args: &[String]) -> String {
    args.iter()
        .map(|a| crate::shell::quote_posix(a))
        .collect::<Vec<_>>()
        .join(" ")
}
