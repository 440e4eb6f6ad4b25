//! `strap bootstrap`: the plan of a manifest (`strap.toml`), then convergence — each pending
//! item's typed [`Action`] run by the handler of the strap command it stands for (the command
//! a user would type, shown in the plan), in dependency order (Pythons, the global version,
//! virtualenvs, Boost, recipes), going on past independent failures and reporting them all at
//! the end.

use std::io::Write;
use std::path::PathBuf;

use super::boost::BoostCommand;
use super::build_flags::BuildFlags;
use super::recipe::{run_printing, RecipeCommand, RunArgs};
use super::{dispatch, Command, Ctx};
use crate::boost::plan::{b2_value, Link, Variant};
use crate::bootstrap::manifest::{self, Before, Loaded, RecipeItem};
use crate::bootstrap::plan::{self, Action, BuildSettings, Item, Kind, State};
use crate::error::{printable, Reported, EXIT_FAILURE, EXIT_INTERRUPTED};
use crate::process::Cancel;
use crate::recipe::run::{Report, Status};

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
    /// Show what each recipe step's commands printed and each file's whole diff (as `strap
    /// recipe run --verbose`)
    #[arg(short, long)]
    pub verbose: bool,
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

/// How an item ended; for a recipe that ran, with its report (steps, diffs, output, log), which
/// `--json` shows in the item's outcome.
#[derive(Debug, serde::Serialize)]
struct Ended {
    /// How it ended (`result`, and `detail` for a failure or a skip).
    #[serde(flatten)]
    outcome: Outcome,
    /// A recipe's report, when it ran: its steps, summary and log beside `result`.
    #[serde(flatten)]
    recipe: Option<Report>,
}

impl From<Outcome> for Ended {
    fn from(outcome: Outcome) -> Ended {
        Ended {
            outcome,
            recipe: None,
        }
    }
}

/// How a recipe's step lines are indented under its item.
const STEP_INDENT: &str = "    ";

pub(super) fn run(ctx: &Ctx, args: BootstrapArgs, out: &mut dyn Write) -> Result<i32, Reported> {
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
            write_json(out, &loaded, &Vec::<serde_json::Value>::new())?;
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
            say!("{}", printable(&plan_line(item)));
        }
    }
    let pending = items
        .iter()
        .filter(|i| matches!(i.state, State::Pending(_)))
        .count();
    let invalid = items.iter().any(|i| matches!(i.state, State::Invalid(_)));
    if args.dry_run {
        if args.json {
            let plan: Vec<serde_json::Value> = items.iter().map(item_json).collect();
            write_json(out, &loaded, &plan)?;
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
    let outcomes = converge(ctx, &items, &cancel, args.verbose);
    if args.json {
        let results: Vec<serde_json::Value> = items
            .iter()
            .zip(&outcomes)
            .map(|(item, ended)| {
                let mut value = item_json(item);
                value["outcome"] = serde_json::to_value(ended).unwrap_or_default();
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

/// The plan's items of the kinds `--only` selects, in the order they run: recipes that ask to
/// run before the Pythons (`before = "python"`) first, the other recipes (checked by their dry
/// run) last.
fn plan_items(ctx: &Ctx, loaded: &Loaded, args: &BootstrapArgs) -> Result<Vec<Item>, Reported> {
    let items = plan::plan(&ctx.layout, loaded, &args.only)?;
    if !(args.only.is_empty() || args.only.contains(&Kind::Recipe)) {
        return Ok(items);
    }
    let (first, last): (Vec<&RecipeItem>, Vec<&RecipeItem>) =
        (loaded.manifest.recipe.iter()).partition(|recipe| recipe.before == Some(Before::Python));
    let recipes = |recipes: Vec<&RecipeItem>| -> Vec<Item> {
        (recipes.into_iter())
            .map(|recipe| recipe_item(ctx, loaded, recipe, args.sysroot.as_ref()))
            .collect()
    };
    let mut ordered = recipes(first);
    ordered.extend(items);
    ordered.extend(recipes(last));
    Ok(ordered)
}

/// An item as `--json` shows it: its kind, name and state, and the command that converges it.
fn item_json(item: &Item) -> serde_json::Value {
    let mut value = serde_json::to_value(item).unwrap_or_default();
    value["command"] = serde_json::to_value(render(&item.action)).unwrap_or_default();
    value
}

/// `{"manifest": PATH, "items": [...]}` on stdout.
fn write_json(
    out: &mut dyn Write,
    loaded: &Loaded,
    items: &impl serde::Serialize,
) -> Result<(), Reported> {
    let value = serde_json::json!({ "manifest": loaded.path, "items": items });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}

/// Says how the run ended (counts, then each item that failed or was skipped, control characters
/// shown escaped); returns the exit code: 130 when a signal stopped it, 1 when an item did not
/// converge, else 0.
fn summarize(items: &[Item], ended: &[Ended], pending: usize) -> i32 {
    let outcomes: Vec<&Outcome> = ended.iter().map(|e| &e.outcome).collect();
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
    for (item, outcome) in items.iter().zip(&outcomes) {
        let (label, why) = match outcome {
            Outcome::Failed(why) => ("failed", why),
            Outcome::Skipped(why) => ("skipped", why),
            _ => continue,
        };
        let line = format!("  {label}: {} {}: {why}", kind_name(item.kind), item.name);
        say!("{}", printable(&line));
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
    let actions: Vec<&Action> = items
        .iter()
        .filter(|item| matches!(item.state, State::Pending(_)))
        .filter(|item| match item.kind {
            Kind::Python => true,
            Kind::Boost => item
                .action
                .needs_python()
                .is_none_or(|python| plan::installed(&ctx.layout, python).is_some()),
            _ => false,
        })
        .map(|item| &item.action)
        .collect();
    if actions.len() < 2 {
        return;
    }
    tell!(
        "bootstrap: downloading for {} installs at once",
        actions.len()
    );
    std::thread::scope(|scope| {
        for action in actions {
            scope.spawn(move || execute(ctx, command(action, Mode::FetchOnly)));
        }
    });
}

/// Runs each pending item's command in order until a signal stops the run. An item whose
/// Python is not installed because every Python item serving it failed is skipped, naming them.
/// `verbose` is passed on to the recipe runs.
fn converge(ctx: &Ctx, items: &[Item], cancel: &Cancel, verbose: bool) -> Vec<Ended> {
    let mut outcomes: Vec<Ended> = Vec::new();
    for item in items {
        let ended = if cancel.is_cancelled() {
            Outcome::Interrupted.into()
        } else {
            match &item.state {
                State::Ok => Outcome::Ok.into(),
                State::Invalid(why) => Outcome::Failed(why.clone()).into(),
                State::Pending(_) => {
                    match missing_python(ctx, item, &items[..outcomes.len()], &outcomes) {
                        Some(why) => Outcome::Skipped(why).into(),
                        None => run_item(ctx, item, cancel, verbose),
                    }
                }
            }
        };
        outcomes.push(ended);
    }
    outcomes
}

/// Runs a pending item's command; how it ended. A recipe runs here as `strap recipe run` does,
/// its step lines and summary indented under the item.
fn run_item(ctx: &Ctx, item: &Item, cancel: &Cancel, verbose: bool) -> Ended {
    tell!("bootstrap: {}", printable(plan_line(item).trim_start()));
    let (result, recipe) = match command(&item.action, Mode::Converge) {
        Command::Recipe(RecipeCommand::Run(args)) => {
            let args = RunArgs { verbose, ..args };
            match run_printing(ctx, &args, &mut std::io::stderr(), STEP_INDENT) {
                Ok((code, report)) => (Ok(code), Some(report)),
                Err(e) => (Err(e), None),
            }
        }
        command => (execute(ctx, command), None),
    };
    if cancel.is_cancelled() {
        if let Err(e) = &result {
            super::print_reported(e);
        }
        return Ended {
            outcome: Outcome::Interrupted,
            recipe,
        };
    }
    let outcome = match result {
        Ok(0) => Outcome::Changed,
        Ok(code) => {
            // A run stops at the step that failed.
            let mut steps = recipe.iter().flat_map(|r| &r.steps);
            let step = steps.find(|s| s.status == Status::Failed);
            Outcome::Failed(step.map_or_else(
                || format!("exit {code}"),
                |s| format!("step {} › {} failed", s.recipe, s.step),
            ))
        }
        Err(e) => {
            super::print_reported(&e);
            Outcome::Failed(e.message)
        }
    };
    Ended { outcome, recipe }
}

/// Why `item` cannot run: the Python it needs is not installed and every Python item of the
/// manifest that would have installed it failed (`done` are the items before it, with their
/// `outcomes`). `None` when it can run (or should, to report its own error).
fn missing_python(ctx: &Ctx, item: &Item, done: &[Item], outcomes: &[Ended]) -> Option<String> {
    let python = item.action.needs_python()?;
    if plan::installed(&ctx.layout, python).is_some() {
        return None;
    }
    let serving: Vec<(&Item, &Ended)> = done
        .iter()
        .zip(outcomes)
        .filter(|(i, _)| match &i.action {
            Action::InstallPython { request, .. } => manifest::satisfies(request, python),
            _ => false,
        })
        .collect();
    let failed: Vec<String> = serving
        .iter()
        .filter_map(|(i, ended)| match (&i.state, &ended.outcome) {
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

/// Runs a strap command in this process (its stdout discarded; its progress and errors on
/// stderr).
fn execute(ctx: &Ctx, command: Command) -> Result<i32, Reported> {
    dispatch(ctx, command, &mut std::io::sink())
}

/// A recipe's item: its dry run decides whether it is ok or has changes pending. One that
/// is not ok and whose run would be refused (steps that need root this process cannot get) is
/// invalid for that reason, naming the steps.
fn recipe_item(ctx: &Ctx, loaded: &Loaded, recipe: &RecipeItem, sysroot: Option<&PathBuf>) -> Item {
    let action = plan::recipe_action(loaded, recipe, sysroot.map(PathBuf::as_path));
    let state = match execute(ctx, command(&action, Mode::Check)) {
        Ok(0) => State::Ok,
        checked => match (root_refusal(&action), checked) {
            (Some(refusal), _) => State::invalid(&refusal.message, refusal.hint),
            (None, Ok(code)) if code == super::recipe::EXIT_CHANGES_PENDING => {
                State::Pending("apply".to_owned())
            }
            (None, Ok(code)) => State::Invalid(format!("its checks failed (exit {code})")),
            (None, Err(e)) => State::invalid(&e, e.hint.clone()),
        },
    };
    let name = match (&recipe.name, &action) {
        (Some(name), _) => name.clone(),
        (None, Action::ApplyRecipe { recipe, .. }) => recipe.clone(),
        (None, _) => String::new(),
    };
    Item {
        kind: Kind::Recipe,
        name,
        state,
        action,
    }
}

/// Why the run of a recipe `action` would be refused before any step runs (steps that need
/// root this process cannot get), if it would.
fn root_refusal(action: &Action) -> Option<Reported> {
    match command(action, Mode::Converge) {
        Command::Recipe(RecipeCommand::Run(args)) => super::recipe::root_refusal(&args).err(),
        _ => None,
    }
}

/// How an action is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// To converge its item.
    Converge,
    /// An install only downloads what it needs (`--fetch-only`).
    FetchOnly,
    /// A recipe only runs its checks (`--dry-run --detailed-exitcode --json`).
    Check,
}

/// The strap command an action is, as the clap definitions hold it: what the command
/// [`render`] shows parses to (with [`Mode::Converge`]).
fn command(action: &Action, mode: Mode) -> Command {
    let build = |options: &BuildSettings| BuildFlags {
        jobs: options.jobs,
        mirror: options.mirrors.clone(),
        binary_mirror: options.binary_mirrors.clone(),
        fetch_only: mode == Mode::FetchOnly,
        ..BuildFlags::default()
    };
    match action {
        Action::InstallPython {
            request,
            options,
            prebuilt,
        } => Command::Install(super::install::InstallArgs {
            versions: vec![request.clone()],
            prebuilt: *prebuilt,
            build: build(options),
            ..Default::default()
        }),
        Action::SetGlobal { version } => Command::Global {
            versions: vec![version.clone()],
        },
        Action::CreateVirtualenv {
            python,
            name,
            requirements,
        } => Command::Virtualenv(super::virtualenv::VirtualenvArgs {
            python: Some(python.clone()),
            name: name.clone(),
            requirements: requirements.clone(),
        }),
        Action::InstallBoost {
            request,
            python,
            libraries,
            variants,
            links,
            options,
        } => Command::Boost(BoostCommand::Install(super::boost::InstallArgs {
            version: Some(request.clone()),
            python: python.clone(),
            with: libraries.clone(),
            variant: or_default(variants, Variant::default()),
            link: or_default(links, Link::default()),
            build: build(options),
            ..Default::default()
        })),
        Action::ApplyRecipe {
            recipe,
            vars,
            sysroot,
        } => {
            let check = mode == Mode::Check;
            Command::Recipe(RecipeCommand::Run(RunArgs {
                recipe: recipe.clone(),
                set: vars
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect(),
                sysroot: sysroot
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(super::recipe::DEFAULT_SYSROOT)),
                dry_run: check,
                detailed_exitcode: check,
                json: check,
                yes: !check,
                vars: None,
                verbose: false,
            }))
        }
    }
}

/// `values`, or the command's `default` when the manifest gives none.
fn or_default<T: Clone>(values: &[T], default: T) -> Vec<T> {
    if values.is_empty() {
        vec![default]
    } else {
        values.to_vec()
    }
}

/// The words of the strap command an action stands for, as the plan shows it
/// (`install 3.12 --mirror URL`).
fn render(action: &Action) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    // `--flag=VALUE` when the value would read as a flag (`-sys`), else two words.
    let flag = |words: &mut Vec<String>, name: &str, value: String| match value.starts_with('-') {
        true => words.push(format!("{name}={value}")),
        false => words.extend([name.to_owned(), value]),
    };
    let build = |words: &mut Vec<String>, options: &BuildSettings| {
        for mirror in &options.mirrors {
            words.extend(["--mirror".to_owned(), mirror.clone()]);
        }
        for mirror in &options.binary_mirrors {
            words.extend(["--binary-mirror".to_owned(), mirror.clone()]);
        }
        if let Some(jobs) = options.jobs {
            words.extend(["--jobs".to_owned(), jobs.to_string()]);
        }
    };
    match action {
        Action::InstallPython {
            request,
            options,
            prebuilt,
        } => {
            words.extend(["install".to_owned(), request.clone()]);
            if let Some(mode) = prebuilt {
                words.push(format!("--prebuilt={}", mode.name()));
            }
            build(&mut words, options);
        }
        Action::SetGlobal { version } => words.extend(["global".to_owned(), version.clone()]),
        Action::CreateVirtualenv {
            python,
            name,
            requirements,
        } => {
            words.extend(["virtualenv".to_owned(), python.clone(), name.clone()]);
            if let Some(file) = requirements {
                flag(&mut words, "--requirements", file.display().to_string());
            }
        }
        Action::InstallBoost {
            request,
            python,
            libraries,
            variants,
            links,
            options,
        } => {
            words.extend(["boost", "install"].map(String::from));
            words.push(request.clone());
            if let Some(python) = python {
                flag(&mut words, "--python", python.clone());
            }
            let variants: Vec<String> = variants.iter().map(b2_value).collect();
            let links: Vec<String> = links.iter().map(b2_value).collect();
            for (name, values) in [
                ("--with", libraries),
                ("--variant", &variants),
                ("--link", &links),
            ] {
                if !values.is_empty() {
                    flag(&mut words, name, values.join(","));
                }
            }
            build(&mut words, options);
        }
        Action::ApplyRecipe {
            recipe,
            vars,
            sysroot,
        } => {
            words.extend(["recipe", "run"].map(String::from));
            // A recipe file named `-x.toml` would read as a flag: it goes last, after `--`.
            let dashed = recipe.starts_with('-');
            if !dashed {
                words.push(recipe.clone());
            }
            for (name, value) in vars {
                flag(&mut words, "--set", format!("{name}={value}"));
            }
            if let Some(dir) = sysroot {
                flag(&mut words, "--sysroot", dir.display().to_string());
            }
            words.push("--yes".to_owned());
            if dashed {
                words.extend(["--".to_owned(), recipe.clone()]);
            }
        }
    }
    words
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
            format!("  (strap {})", shown_command(&render(&item.action))),
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;
    use crate::config::PrebuiltMode;

    /// Every kind of action, with and without its optional parts.
    fn actions() -> Vec<Action> {
        let options = BuildSettings {
            mirrors: vec![
                "file:///srv/m/{file}".into(),
                "http://127.0.0.1:1/{file}".into(),
            ],
            binary_mirrors: vec!["oci://127.0.0.1:5000/team/builds".into()],
            jobs: Some(3),
        };
        vec![
            Action::InstallPython {
                request: "3.12".into(),
                options: BuildSettings::default(),
                prebuilt: None,
            },
            Action::InstallPython {
                request: "3.11.2".into(),
                options: options.clone(),
                prebuilt: Some(PrebuiltMode::Only),
            },
            Action::SetGlobal {
                version: "3.12".into(),
            },
            Action::CreateVirtualenv {
                python: "3.12".into(),
                name: "proj".into(),
                requirements: None,
            },
            Action::CreateVirtualenv {
                python: "3.12".into(),
                name: "proj".into(),
                requirements: Some("/srv/project dir/requirements.txt".into()),
            },
            Action::InstallBoost {
                request: "1.86".into(),
                python: None,
                libraries: vec![],
                variants: vec![],
                links: vec![],
                options: BuildSettings::default(),
            },
            Action::InstallBoost {
                request: "1.86.0".into(),
                python: Some("3.12".into()),
                libraries: vec!["filesystem".into(), "python".into()],
                variants: vec![Variant::Release, Variant::Debug],
                links: vec![Link::Static],
                options,
            },
            Action::ApplyRecipe {
                recipe: "can".into(),
                vars: vec![],
                sysroot: None,
            },
            Action::ApplyRecipe {
                recipe: "/srv/recipes/my recipe.toml".into(),
                vars: vec![
                    ("interfaces".into(), "can0,can1".into()),
                    ("bitrate".into(), "250000".into()),
                ],
                sysroot: Some("/tmp/sysroot".into()),
            },
            Action::ApplyRecipe {
                recipe: "-x.toml".into(),
                vars: vec![("a".into(), "-1".into())],
                sysroot: Some("-sys".into()),
            },
        ]
    }

    /// The command the plan shows for an action is the command bootstrap runs for it: parsed
    /// by `strap`'s own parser, it is the same clap value.
    #[test]
    fn each_rendered_command_parses_back_to_its_action() {
        for action in actions() {
            let words = render(&action);
            let parsed = Cli::try_parse_from(std::iter::once("strap".to_owned()).chain(words))
                .unwrap_or_else(|e| panic!("{action:?}: {e}"))
                .command;
            let built = command(&action, Mode::Converge);
            match (parsed, built) {
                (Command::Install(a), Command::Install(b)) => assert_eq!(a, b),
                (Command::Global { versions: a }, Command::Global { versions: b }) => {
                    assert_eq!(a, b)
                }
                (Command::Virtualenv(a), Command::Virtualenv(b)) => assert_eq!(a, b),
                (
                    Command::Boost(BoostCommand::Install(a)),
                    Command::Boost(BoostCommand::Install(b)),
                ) => assert_eq!(a, b),
                (
                    Command::Recipe(RecipeCommand::Run(a)),
                    Command::Recipe(RecipeCommand::Run(b)),
                ) => assert_eq!(a, b),
                _ => panic!("{action:?}: parsed as another command"),
            }
        }
    }

    #[test]
    fn installs_only_fetch_and_recipes_only_check_when_asked() {
        let python = &actions()[1];
        match command(python, Mode::FetchOnly) {
            Command::Install(args) => assert!(args.build.fetch_only),
            _ => panic!("not an install"),
        }
        let recipe = &actions()[7];
        match command(recipe, Mode::Check) {
            Command::Recipe(RecipeCommand::Run(args)) => {
                assert!(args.dry_run && args.detailed_exitcode && args.json && !args.yes)
            }
            _ => panic!("not a recipe run"),
        }
    }
}
