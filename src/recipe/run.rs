//! Running planned recipes: each step — skipped when its `when` is false — is checked, changed
//! only when it differs, and checked again; the notified handlers run once at the end. Each step
//! is reported as it finishes. The run stops at the first failure or when it is cancelled.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::error::StepError;
use super::host::{Host, StepCtx, DEFAULT_TIMEOUT};
use super::kinds::State;
use super::model::{Handler, Step};
use super::plan::Planned;
use super::vars::{substitute, Quoting, Value, Values};
use crate::process::{Cancel, Log, RunError, Runner};

/// A step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Ok,
    Changed,
    Skipped,
    Failed,
}

impl Status {
    /// The word printed for it.
    pub(crate) fn word(self) -> &'static str {
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
pub(crate) struct StepReport {
    pub(crate) recipe: String,
    pub(crate) step: String,
    pub(crate) status: Status,
    pub(crate) seconds: f64,
    /// What changed, or would change in a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) diff: Option<String>,
    /// Output worth showing: a failure's output, a message, a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<String>,
}

/// Counts per status.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) ok: usize,
    pub(crate) changed: usize,
    pub(crate) skipped: usize,
    pub(crate) failed: usize,
}

/// A whole run.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) recipe: String,
    pub(crate) dry_run: bool,
    pub(crate) steps: Vec<StepReport>,
    pub(crate) summary: Summary,
    pub(crate) log: PathBuf,
    /// Stopped by Ctrl-C or SIGTERM.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) interrupted: bool,
}

impl Report {
    fn record(&mut self, step: StepReport, on_step: &mut dyn FnMut(&StepReport)) {
        let count = match step.status {
            Status::Ok => &mut self.summary.ok,
            Status::Changed => &mut self.summary.changed,
            Status::Skipped => &mut self.summary.skipped,
            Status::Failed => &mut self.summary.failed,
        };
        *count += 1;
        on_step(&step);
        self.steps.push(step);
    }
}

/// How to run.
pub(crate) struct RunOptions {
    pub(crate) dry_run: bool,
    pub(crate) sysroot: PathBuf,
    pub(crate) log_path: PathBuf,
    /// Stops the running command (its whole process group) and the run.
    pub(crate) cancel: Cancel,
}

/// What one step (or handler) did.
struct Outcome {
    status: Status,
    diff: Option<String>,
    output: Option<String>,
}

impl Outcome {
    fn new(status: Status) -> Outcome {
        Outcome {
            status,
            diff: None,
            output: None,
        }
    }
}

/// Runs the planned recipes in order; `on_step` sees each report as it is made.
pub(crate) fn execute(
    planned: &[Planned],
    options: &RunOptions,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<Report, RunError> {
    let log = Log::create(&options.log_path)?;
    let host = Host::new(Runner::new(log, options.cancel.clone()));
    let mut report = Report {
        recipe: planned
            .last()
            .map(|p| p.recipe.name.clone())
            .unwrap_or_default(),
        dry_run: options.dry_run,
        steps: Vec::new(),
        summary: Summary::default(),
        log: options.log_path.clone(),
        interrupted: false,
    };
    for p in planned {
        host.note(&format!("# recipe {} ({})", p.recipe.name, p.recipe.source));
        let mut notified: Vec<&str> = Vec::new();
        let steps = p.recipe.steps.iter().flat_map(|step| {
            instances(step, &p.values)
                .into_iter()
                .map(move |(values, name)| (step, values, name))
        });
        for (step, values, name) in steps {
            let started = Instant::now();
            let pending = report.summary.changed > 0;
            let outcome = run_step(step, &values, options, &host, pending);
            if matches!(&outcome, Ok(o) if o.status == Status::Changed) {
                notified.extend(step.notify.iter().map(String::as_str));
            }
            if !record(&mut report, &p.recipe.name, name, started, outcome, on_step) {
                return Ok(report);
            }
        }
        let handlers = p.recipe.handlers.iter();
        for handler in handlers.filter(|h| notified.contains(&h.name.as_str())) {
            let started = Instant::now();
            let outcome = run_handler(handler, &p.values, options.dry_run, &host);
            let name = format!("handler: {}", handler.name);
            if !record(&mut report, &p.recipe.name, name, started, outcome, on_step) {
                return Ok(report);
            }
        }
    }
    Ok(report)
}

/// Reports a step's outcome; false when the run must stop.
fn record(
    report: &mut Report,
    recipe: &str,
    step: String,
    started: Instant,
    outcome: Result<Outcome, StepError>,
    on_step: &mut dyn FnMut(&StepReport),
) -> bool {
    let outcome = outcome.unwrap_or_else(|e| {
        report.interrupted |= matches!(e, StepError::Interrupted);
        Outcome {
            output: Some(e.to_string()),
            ..Outcome::new(Status::Failed)
        }
    });
    let failed = outcome.status == Status::Failed;
    let step = StepReport {
        recipe: recipe.to_owned(),
        step,
        status: outcome.status,
        seconds: started.elapsed().as_secs_f64(),
        diff: outcome.diff,
        output: outcome.output,
    };
    report.record(step, on_step);
    !failed
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
    host: &Host,
    pending: bool,
) -> Result<Outcome, StepError> {
    if host.cancelled() {
        return Err(StepError::Interrupted);
    }
    if step.when.as_ref().is_some_and(|c| !c.eval(values)) {
        return Ok(Outcome::new(Status::Skipped));
    }
    host.note(&format!("# step {}", step.name));
    let ctx = StepCtx {
        values,
        sysroot: &options.sysroot,
        host,
        become_root: step.become_root,
        timeout: step.timeout.unwrap_or(DEFAULT_TIMEOUT),
    };
    let (diff, verify) = match step.kind.check(&ctx)? {
        State::Ok => {
            return Ok(Outcome {
                output: step.kind.message(&ctx),
                ..Outcome::new(Status::Ok)
            })
        }
        // A verification cannot pass before the changes it verifies are made.
        State::Unmet(check) if options.dry_run && pending => {
            return Ok(Outcome {
                output: Some(format!(
                    "not checked until the pending changes are made: {check}"
                )),
                ..Outcome::new(Status::Skipped)
            })
        }
        State::Unmet(check) => return Err(StepError::CheckFailed(check)),
        State::Differs(diff) => (diff, true),
        State::Unchecked => (None, false),
    };
    if options.dry_run {
        return Ok(Outcome {
            diff,
            ..Outcome::new(Status::Changed)
        });
    }
    let output = step.kind.apply(&ctx)?;
    if verify {
        match step.kind.check(&ctx)? {
            State::Ok | State::Unchecked => {}
            State::Differs(still) => return Err(StepError::StillDiffers(still)),
            State::Unmet(check) => return Err(StepError::CheckFailed(check)),
        }
    }
    let output = step
        .warn
        .as_ref()
        .map(|w| substitute(w, values, Quoting::Raw))
        .or_else(|| (!output.trim().is_empty()).then(|| output.trim_end().to_owned()));
    Ok(Outcome {
        status: Status::Changed,
        diff,
        output,
    })
}

fn run_handler(
    handler: &Handler,
    values: &Values,
    dry_run: bool,
    host: &Host,
) -> Result<Outcome, StepError> {
    if dry_run {
        return Ok(Outcome {
            output: Some("would run".to_owned()),
            ..Outcome::new(Status::Changed)
        });
    }
    for command in &handler.run {
        let script = substitute(command, values, Quoting::Shell);
        host.must(&script, handler.become_root, DEFAULT_TIMEOUT)?;
    }
    Ok(Outcome::new(Status::Changed))
}
