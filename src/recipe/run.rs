//! Running planned recipes: each step — skipped when its `when` is false — is checked, changed
//! only when it differs, and checked again; the notified handlers run once at the end. Each step
//! is reported as it finishes. A run stops at the first failure or when it is cancelled; a dry run
//! (checks only, nothing changes) goes on to the end, so that every step is reported.
//!
//! A check that cannot run because a command it needs is not found makes the step `unknown` in a
//! dry run (with the command, its package, and the commands the step would run); a run goes ahead
//! with the step's change and fails it if its check still cannot run afterwards.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::StepError;
use super::host::{Host, StepCtx, DEFAULT_TIMEOUT};
use super::kinds::State;
use super::model::Step;
use super::plan::Planned;
use super::vars::{substitute, Quoting, Value, Values};
use crate::process::{Cancel, Log, RunError, Runner};

/// What a dry run says of a step it does not check because earlier steps would change the system.
const NOT_CHECKED: &str = "not checked until the pending changes are made";

/// A step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Ok,
    Changed,
    /// A dry run could not tell: the check cannot run (a command it needs is not found).
    Unknown,
    Skipped,
    Failed,
}

impl Status {
    /// The word printed for it.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Unknown => "unknown",
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
    /// In a dry run, the commands the step would run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) commands: Vec<String>,
}

/// Counts per status.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) ok: usize,
    pub(crate) changed: usize,
    /// Only dry runs have unknown steps; left out when there are none.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) unknown: usize,
    pub(crate) skipped: usize,
    pub(crate) failed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// Steps that change, or may change, something.
    pub(crate) fn pending(&self) -> usize {
        self.changed + self.unknown
    }
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
            Status::Unknown => &mut self.summary.unknown,
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
    /// Where every command and its output go.
    pub(crate) log: Log,
    /// Stops the running command (its whole process group) and the run.
    pub(crate) cancel: Cancel,
}

/// What one step (or handler) did.
struct Outcome {
    status: Status,
    diff: Option<String>,
    output: Option<String>,
    commands: Vec<String>,
}

impl Outcome {
    fn new(status: Status) -> Outcome {
        Outcome {
            status,
            diff: None,
            output: None,
            commands: Vec::new(),
        }
    }

    /// A step a dry run leaves for later: `reason`, with what was not checked.
    fn deferred(reason: String) -> Outcome {
        Outcome {
            output: Some(reason),
            ..Outcome::new(Status::Skipped)
        }
    }
}

/// Runs the planned recipes in order; `on_step` sees each report as it is made.
pub(crate) fn execute(
    planned: &[Planned],
    options: &RunOptions,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<Report, RunError> {
    let host = Host::new(Runner::new(options.log.clone(), options.cancel.clone()));
    if options.dry_run {
        host.note("# dry run: checks only");
    }
    let mut report = Report {
        recipe: planned
            .last()
            .map(|p| p.recipe.name.clone())
            .unwrap_or_default(),
        dry_run: options.dry_run,
        steps: Vec::new(),
        summary: Summary::default(),
        log: options.log.path().to_owned(),
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
            let pending = report.summary.pending() > 0;
            let outcome = run_step(step, &name, &values, options, &host, pending);
            if matches!(&outcome, Ok(o) if o.status == Status::Changed) {
                notified.extend(step.notify.iter().map(String::as_str));
            }
            let keep_going = record(&mut report, &p.recipe.name, name, started, outcome, on_step);
            if !keep_going && (!options.dry_run || report.interrupted) {
                return Ok(report);
            }
        }
        let handlers = p.recipe.handlers.iter();
        for handler in handlers.filter(|h| notified.contains(&h.name.as_str())) {
            let started = Instant::now();
            let name = format!("handler: {}", handler.name);
            let pending = report.summary.pending() > 0;
            let outcome = run_step(handler, &name, &p.values, options, &host, pending);
            let keep_going = record(&mut report, &p.recipe.name, name, started, outcome, on_step);
            if !keep_going && (!options.dry_run || report.interrupted) {
                return Ok(report);
            }
        }
    }
    Ok(report)
}

/// The steps (and handlers) of `planned` that `become` root and would run (their `when` holds),
/// as the run names them: a run as another user needs `sudo` without a password for them.
pub(crate) fn steps_needing_root(planned: &[Planned]) -> Vec<String> {
    let mut names = Vec::new();
    for p in planned {
        for step in p.recipe.steps.iter().filter(|s| s.become_root) {
            for (values, name) in instances(step, &p.values) {
                if step.when.as_ref().is_none_or(|c| c.eval(&values)) {
                    names.push(format!("{}: {name}", p.recipe.name));
                }
            }
        }
        let handlers = p.recipe.handlers.iter().filter(|h| h.become_root);
        names.extend(handlers.map(|h| format!("{}: handler: {}", p.recipe.name, h.name)));
    }
    names
}

/// Why this process cannot run commands as root, if it cannot: not root, and no `sudo`, or a
/// `sudo` that asks for a password (`sudo -n true` fails).
pub(crate) fn cannot_become_root() -> Option<&'static str> {
    // SAFETY: geteuid has no preconditions and touches no memory.
    if unsafe { libc::geteuid() } == 0 {
        return None;
    }
    if crate::which::find_on_path("sudo").is_none() {
        return Some("strap is not running as root and there is no sudo");
    }
    let works = std::process::Command::new("sudo")
        .args(["-n", "true"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!works)
        .then_some("strap is not running as root and sudo asks for a password (sudo -n true fails)")
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
        commands: outcome.commands,
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

/// Runs one step instance, `name` as reported; `pending` says whether earlier steps changed (or,
/// in a dry run, would or might change) something.
fn run_step(
    step: &Step,
    name: &str,
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
    host.note(&format!("# step {name}"));
    let ctx = StepCtx {
        values,
        sysroot: &options.sysroot,
        host,
        become_root: step.become_root,
        timeout: step.timeout.unwrap_or(DEFAULT_TIMEOUT),
    };
    let dry_run = options.dry_run;
    // What the step says of the system holds only once the pending changes are made.
    if dry_run && pending && step.kind.reports_on_result() {
        let not_shown = "not shown until the pending changes are made";
        return Ok(Outcome::deferred(not_shown.to_owned()));
    }
    let verifies_only = step.kind.verifies_only();
    let (diff, verify) = match step.kind.check(&ctx) {
        Ok(State::Ok) => {
            return Ok(Outcome {
                output: step.kind.message(&ctx),
                ..Outcome::new(Status::Ok)
            })
        }
        // A verification cannot pass before the changes it verifies are made, nor run before
        // they install its command.
        Ok(State::Unmet(check)) if dry_run && pending => {
            return Ok(Outcome::deferred(format!("{NOT_CHECKED}: {check}")))
        }
        Err(StepError::MissingCommand(missing)) if dry_run && pending && verifies_only => {
            return Ok(Outcome::deferred(format!(
                "{NOT_CHECKED}: {}",
                missing.script
            )))
        }
        Ok(State::Unmet(check)) => return verify_waiting(step, &ctx, dry_run, check),
        // Not on this machine (no service manager): a dry run cannot tell, a run fails.
        Ok(State::Unavailable(why)) if dry_run => {
            return Ok(Outcome {
                output: Some(why),
                ..Outcome::new(Status::Unknown)
            })
        }
        Ok(State::Unavailable(why)) => return Err(StepError::Unavailable(why)),
        Err(StepError::MissingCommand(missing)) if verifies_only => {
            return Err(StepError::CannotCheck(missing))
        }
        Err(StepError::MissingCommand(missing)) if dry_run => {
            return Ok(Outcome {
                output: Some(format!("cannot check: {missing}")),
                commands: step.kind.commands(&ctx),
                ..Outcome::new(Status::Unknown)
            });
        }
        // A run makes the change; the check afterwards tells whether it can run now.
        Err(StepError::MissingCommand(_)) => (None, true),
        // A check that fails outright while earlier changes are pending (a CAN interface whose
        // modules are not loaded yet) may well pass once they are made.
        Err(e) if dry_run && pending && !matches!(e, StepError::Interrupted) => {
            return Ok(Outcome::deferred(format!("{NOT_CHECKED}: {e}")))
        }
        Err(e) => return Err(e),
        Ok(State::Differs(diff)) => (diff, true),
        Ok(State::Unchecked) => (None, false),
    };
    if dry_run {
        return Ok(Outcome {
            diff,
            commands: step.kind.commands(&ctx),
            ..Outcome::new(Status::Changed)
        });
    }
    let output = step.kind.apply(&ctx)?;
    if verify {
        match step.kind.check(&ctx) {
            Ok(State::Ok | State::Unchecked) => {}
            Ok(State::Differs(still)) => return Err(StepError::StillDiffers(still)),
            Ok(State::Unmet(check)) => return Err(StepError::CheckFailed(check)),
            Ok(State::Unavailable(why)) => return Err(StepError::Unavailable(why)),
            Err(StepError::MissingCommand(missing)) => return Err(StepError::CannotCheck(missing)),
            Err(e) => return Err(e),
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
        commands: Vec::new(),
    })
}

/// A verification whose `check` failed: a run retries it for the step's `wait`, once a second; a
/// dry run says that a run would wait.
fn verify_waiting(
    step: &Step,
    ctx: &StepCtx<'_>,
    dry_run: bool,
    check: String,
) -> Result<Outcome, StepError> {
    let Some(wait) = step.kind.wait(ctx)?.filter(|w| !w.is_zero()) else {
        return Err(StepError::CheckFailed(check));
    };
    if dry_run {
        let reason = format!(
            "the check fails now; a run waits up to {}s for it: {check}",
            wait.as_secs()
        );
        return Ok(Outcome {
            output: Some(reason),
            ..Outcome::new(Status::Unknown)
        });
    }
    let started = Instant::now();
    loop {
        let next = Instant::now() + Duration::from_secs(1);
        while Instant::now() < next {
            if ctx.host.cancelled() {
                return Err(StepError::Interrupted);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        match step.kind.check(ctx)? {
            State::Ok => {
                let waited = started.elapsed().as_secs();
                return Ok(Outcome {
                    output: Some(format!("passed after {waited}s")),
                    ..Outcome::new(Status::Ok)
                });
            }
            _ if started.elapsed() >= wait => {
                return Err(StepError::StillFailing {
                    check,
                    waited: started.elapsed(),
                })
            }
            _ => {}
        }
    }
}
