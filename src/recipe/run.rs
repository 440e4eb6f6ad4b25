//! Running a recipe: resolve `requires`, check every variable before anything runs, then each
//! step — skip when its `when` is false, check, change only what differs, check again — and the
//! notified handlers once at the end. Each step is reported as it finishes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::exec::{Exec, DEFAULT_TIMEOUT};
use super::model::{Recipe, Step, StepKind};
use super::steps::{self, State, StepEnv};
use super::vars::{substitute, Quoting, Value, Values};
use crate::os_release::OsRelease;

/// A step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Changed,
    Skipped,
    Failed,
}

impl Status {
    /// The word printed for it.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

/// One reported step (or handler).
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub recipe: String,
    pub step: String,
    pub status: Status,
    pub seconds: f64,
    /// What changed, or would change in a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Output worth showing: a failure's output, a message, a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// Counts per status.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub changed: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// A whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub recipe: String,
    pub dry_run: bool,
    pub steps: Vec<StepReport>,
    pub summary: Summary,
    pub log: PathBuf,
}

/// How to run.
pub struct RunOptions {
    pub dry_run: bool,
    pub sysroot: PathBuf,
    pub log_path: PathBuf,
}

/// A recipe ready to run, with its checked values.
pub struct Planned {
    pub recipe: Recipe,
    pub values: Values,
}

/// Resolves `recipe` and its `requires` (depth first, each once) with `overrides` (`--set`,
/// `--vars`) applied to every recipe that declares them; validates every value and the
/// supported systems. Nothing has run when this fails.
pub fn plan(
    recipe: Recipe,
    overrides: &[(String, String)],
    vars_file: Option<&toml::Table>,
    sysroot: &Path,
    find: &dyn Fn(&str) -> Result<Recipe, super::RecipeError>,
) -> Result<Vec<Planned>, String> {
    let facts = facts(sysroot);
    let mut planned = Vec::new();
    let mut stack = Vec::new();
    add(
        recipe,
        overrides,
        vars_file,
        &facts,
        find,
        &mut planned,
        &mut stack,
    )?;
    let declared = |name: &str| {
        planned
            .iter()
            .any(|p: &Planned| p.recipe.vars.contains_key(name))
    };
    let given = overrides.iter().map(|(k, _)| k.as_str()).chain(
        vars_file
            .into_iter()
            .flat_map(|t| t.keys().map(String::as_str)),
    );
    for name in given {
        if !declared(name) {
            return Err(format!(
                "recipe '{}' has no variable '{name}' (`strap recipe show {}` lists them)",
                planned.last().map_or("", |p| p.recipe.name.as_str()),
                planned.last().map_or("", |p| p.recipe.name.as_str())
            ));
        }
    }
    Ok(planned)
}

fn add(
    recipe: Recipe,
    overrides: &[(String, String)],
    vars_file: Option<&toml::Table>,
    facts: &Values,
    find: &dyn Fn(&str) -> Result<Recipe, super::RecipeError>,
    planned: &mut Vec<Planned>,
    stack: &mut Vec<String>,
) -> Result<(), String> {
    if planned.iter().any(|p| p.recipe.name == recipe.name) {
        return Ok(());
    }
    if stack.contains(&recipe.name) {
        return Err(format!(
            "recipes require each other in a cycle: {} -> {}",
            stack.join(" -> "),
            recipe.name
        ));
    }
    let values = values_for(&recipe, overrides, vars_file, facts)?;
    if !recipe.supported.is_empty() {
        let system = [&facts["distribution"], &facts["os_family"]].map(Value::to_string);
        if !recipe.supported.iter().any(|s| system.contains(s)) {
            return Err(format!(
                "recipe '{}' supports {}; this system is {} ({})",
                recipe.name,
                recipe.supported.join(", "),
                system[0],
                system[1]
            ));
        }
    }
    stack.push(recipe.name.clone());
    for requirement in &recipe.requires {
        if requirement.when.as_ref().is_none_or(|c| c.eval(&values)) {
            let required = find(&requirement.recipe).map_err(|e| e.to_string())?;
            add(required, overrides, vars_file, facts, find, planned, stack)?;
        }
    }
    stack.pop();
    planned.push(Planned { recipe, values });
    Ok(())
}

/// Defaults, then the vars file, then `--set`, each validated against its declaration.
fn values_for(
    recipe: &Recipe,
    overrides: &[(String, String)],
    vars_file: Option<&toml::Table>,
    facts: &Values,
) -> Result<Values, String> {
    let mut values = facts.clone();
    for (name, decl) in &recipe.vars {
        let bad = |m: String| format!("variable '{name}' of recipe '{}': {m}", recipe.name);
        let mut value = decl
            .from_toml(decl.default.as_ref().expect("checked at load"))
            .map_err(bad)?;
        if let Some(v) = vars_file.and_then(|t| t.get(name)) {
            value = decl.from_toml(v).map_err(bad)?;
        }
        if let Some((_, text)) = overrides.iter().rev().find(|(k, _)| k == name) {
            value = decl.parse_text(text).map_err(bad)?;
        }
        decl.validate(name, &value).map_err(bad)?;
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// Facts about the target system: from `<sysroot>/etc/os-release` (else `/etc/os-release`).
pub fn facts(sysroot: &Path) -> Values {
    use crate::python::preflight::{manager_for, PackageManager};
    let os = OsRelease::read(sysroot);
    let distribution = os.field("ID");
    let family = match manager_for(&os) {
        Some(PackageManager::Apt) => "debian".to_owned(),
        Some(PackageManager::Dnf | PackageManager::Yum) => "redhat".to_owned(),
        Some(PackageManager::Zypper) => "suse".to_owned(),
        Some(PackageManager::Pacman) => "arch".to_owned(),
        Some(PackageManager::Apk) => "alpine".to_owned(),
        _ => os.ids().last().cloned().unwrap_or_default(),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let mut facts = Values::new();
    facts.insert("distribution".into(), Value::Str(distribution));
    facts.insert("os_family".into(), Value::Str(family));
    facts.insert("codename".into(), Value::Str(os.field("VERSION_CODENAME")));
    facts.insert("arch".into(), Value::Str(arch.to_owned()));
    facts.insert("sysroot".into(), Value::Str(sysroot.display().to_string()));
    facts
}

/// Runs the planned recipes in order; `on_step` sees each report as it is made.
pub fn execute(
    planned: &[Planned],
    options: &RunOptions,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<Report, String> {
    let exec = Exec::new(&options.log_path)
        .map_err(|e| format!("cannot write the log {}: {e}", options.log_path.display()))?;
    let mut report = Report {
        recipe: planned
            .last()
            .map(|p| p.recipe.name.clone())
            .unwrap_or_default(),
        dry_run: options.dry_run,
        steps: Vec::new(),
        summary: Summary::default(),
        log: options.log_path.clone(),
    };
    let mut record = |r: StepReport, report: &mut Report| {
        match r.status {
            Status::Ok => report.summary.ok += 1,
            Status::Changed => report.summary.changed += 1,
            Status::Skipped => report.summary.skipped += 1,
            Status::Failed => report.summary.failed += 1,
        }
        on_step(&r);
        report.steps.push(r);
    };
    for p in planned {
        exec.note(&format!("# recipe {} ({})", p.recipe.name, p.recipe.source));
        let mut notified: Vec<&str> = Vec::new();
        for step in &p.recipe.steps {
            for (values, name) in instances(step, &p.values) {
                let started = Instant::now();
                let (status, diff, output) =
                    run_step(step, &values, options, &exec, report.summary.changed > 0);
                if status == Status::Changed {
                    notified.extend(step.notify.iter().map(String::as_str));
                }
                let failed = status == Status::Failed;
                record(
                    StepReport {
                        recipe: p.recipe.name.clone(),
                        step: name,
                        status,
                        seconds: started.elapsed().as_secs_f64(),
                        diff,
                        output,
                    },
                    &mut report,
                );
                if failed {
                    return Ok(report);
                }
            }
        }
        for handler in p
            .recipe
            .handlers
            .iter()
            .filter(|h| notified.contains(&h.name.as_str()))
        {
            let started = Instant::now();
            let (status, output) = if options.dry_run {
                (Status::Changed, Some("would run".to_owned()))
            } else {
                run_handler(&handler.run, handler.become_root, &p.values, &exec)
            };
            let failed = status == Status::Failed;
            record(
                StepReport {
                    recipe: p.recipe.name.clone(),
                    step: format!("handler: {}", handler.name),
                    status,
                    seconds: started.elapsed().as_secs_f64(),
                    diff: None,
                    output,
                },
                &mut report,
            );
            if failed {
                return Ok(report);
            }
        }
    }
    Ok(report)
}

/// The step once, or once per item of its `for_each` list (with `item` set).
fn instances(step: &Step, values: &Values) -> Vec<(Values, String)> {
    let name = |v: &Values| substitute(&step.name, v, Quoting::Raw);
    match step.for_each.as_ref().and_then(|list| values.get(list)) {
        Some(Value::List(items)) => items
            .iter()
            .map(|item| {
                let mut v = values.clone();
                v.insert("item".into(), Value::Str(item.clone()));
                let mut shown = name(&v);
                if !step.name.contains("item") {
                    shown = format!("{shown} ({item})");
                }
                (v, shown)
            })
            .collect(),
        _ => vec![(values.clone(), name(values))],
    }
}

/// Runs one step instance; `pending` says whether earlier steps changed (or, in a dry run, would
/// change) something.
fn run_step(
    step: &Step,
    values: &Values,
    options: &RunOptions,
    exec: &Exec,
    pending: bool,
) -> (Status, Option<String>, Option<String>) {
    if step.when.as_ref().is_some_and(|c| !c.eval(values)) {
        return (Status::Skipped, None, None);
    }
    exec.note(&format!("# step {}", step.name));
    let env = StepEnv {
        values,
        sysroot: &options.sysroot,
        exec,
        become_root: step.become_root,
        timeout: step.timeout.map_or(DEFAULT_TIMEOUT, Duration::from_secs),
    };
    let failed = |message: String| (Status::Failed, None, Some(message));
    let message = |kind: &StepKind| match kind {
        StepKind::Message { text } => Some(substitute(text, values, Quoting::Raw)),
        _ => None,
    };
    let diff = match steps::check(&step.kind, &env) {
        Ok(State::Ok) => return (Status::Ok, None, message(&step.kind)),
        Ok(State::Differs(diff)) => diff,
        Err(e) => return failed(e),
    };
    if let StepKind::Shell { run, check } = &step.kind {
        if run.is_empty() {
            let check = substitute(check.as_deref().unwrap_or_default(), values, Quoting::Shell);
            if options.dry_run && pending {
                // A verification cannot pass before the changes it verifies are made.
                return (
                    Status::Skipped,
                    None,
                    Some(format!(
                        "not checked until the pending changes are made: {check}"
                    )),
                );
            }
            return failed(format!("check failed: {check}"));
        }
    }
    if options.dry_run {
        return (Status::Changed, diff, None);
    }
    let output = match steps::apply(&step.kind, &env) {
        Ok(output) => output,
        Err(e) => return failed(e),
    };
    let verifiable = !matches!(&step.kind, StepKind::Shell { check: None, .. });
    if verifiable {
        match steps::check(&step.kind, &env) {
            Ok(State::Ok) => {}
            Ok(State::Differs(still)) => {
                return failed(format!(
                    "the step ran, but its check still fails{}",
                    still.map(|s| format!(":\n{s}")).unwrap_or_default()
                ))
            }
            Err(e) => return failed(e),
        }
    }
    let output = step
        .warn
        .as_ref()
        .map(|w| substitute(w, values, Quoting::Raw))
        .or_else(|| (!output.trim().is_empty()).then(|| output.trim_end().to_owned()));
    (Status::Changed, diff, output)
}

fn run_handler(
    commands: &[String],
    become_root: bool,
    values: &Values,
    exec: &Exec,
) -> (Status, Option<String>) {
    for command in commands {
        let script = substitute(command, values, Quoting::Shell);
        match exec.sh(&script, become_root, DEFAULT_TIMEOUT) {
            Ok(o) if o.success => {}
            Ok(o) => {
                return (
                    Status::Failed,
                    Some(format!("`{script}` failed:\n{}", o.output.trim_end())),
                )
            }
            Err(e) => return (Status::Failed, Some(e)),
        }
    }
    (Status::Changed, None)
}
