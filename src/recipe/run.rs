//! Running planned recipes: each step — skipped when its `when` is false — is checked, changed
//! only when it differs, and checked again; the notified handlers run once at the end. Each step
//! is reported as it finishes. A run stops at the first failure or when it is cancelled; a dry run
//! (checks only, nothing changes) goes on to the end, so that every step is reported.
//!
//! A check that cannot run because a command it needs is not found makes the step `unknown` in a
//! dry run (with the command, its package, and the commands the step would run); a run goes ahead
//! with the step's change and fails it if its check still cannot run afterwards.
//!
//! A step that is unavailable on this machine (a service where no service manager runs) is
//! `unknown` in a dry run too, saying why and what to do instead, but it is no pending change:
//! later steps are still checked, and `--detailed-exitcode` exits 1 for it (a run fails it).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::StepError;
use super::host::{Host, StepCtx, DEFAULT_TIMEOUT};
use super::kinds::State;
use super::model::Step;
use super::plan::Planned;
use super::service_manager::ServiceManager;
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
    /// A dry run could not tell: the check cannot run (a command it needs is not found), it
    /// fails now but a run would wait for it, or the step is unavailable on this machine (no
    /// service manager to run it; see [`StepReport::unavailable`]).
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
    /// Text for the reader: a `message` step's text, a step's warning, why a step was skipped,
    /// unknown or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    /// What the step's commands printed, whole: its change's output, or the output of the
    /// command that failed. Absent when they printed nothing (and for checks, whose output is
    /// only in the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<String>,
    /// The commands the step's change runs, as the recipe wrote them (values filled in): those
    /// it ran, or in a dry run those it would run. Kinds whose diff describes the change (files,
    /// packages, a service step that enables and starts) list none; a service step that
    /// restarts lists its restart.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) commands: Vec<String>,
    /// An `unknown` step of a dry run that cannot be done on this machine (a service where no
    /// service manager runs, CAN settings that cannot persist): a run would fail it; it is no
    /// pending change.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) unavailable: bool,
}

impl StepReport {
    /// A changed step in one line: each file's diff as its diff stat (`/etc/motd +1 -0`), the
    /// other lines of the diff as they are (`install docker.io`); without a diff, the commands
    /// that ran (the first line of each). None when there is neither.
    pub(crate) fn change_summary(&self) -> Option<String> {
        let parts = match &self.diff {
            Some(diff) => diff_summary(diff),
            None => self
                .commands
                .iter()
                .map(|command| {
                    let mut lines = command.lines();
                    let first = lines.next().unwrap_or_default();
                    match lines.next() {
                        Some(_) => format!("ran {first} …"),
                        None => format!("ran {first}"),
                    }
                })
                .collect(),
        };
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// The lines of a diff, each file's unified diff (`--- A`, `+++ B`, hunks) as `B +ADDED
/// -REMOVED`. A hunk is read by the line counts in its `@@ -a,b +c,d @@` header, so a removed
/// line that reads like a header is still counted.
fn diff_summary(diff: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut lines = diff.lines().peekable();
    while let Some(line) = lines.next() {
        let file = line
            .strip_prefix("--- ")
            .and(lines.peek())
            .and_then(|l| l.strip_prefix("+++ "));
        let Some(file) = file else {
            parts.push(line.to_owned());
            continue;
        };
        let file = file.to_owned();
        lines.next();
        let (mut added, mut removed) = (0, 0);
        while let Some((mut old, mut new)) = lines.peek().and_then(|l| hunk_counts(l)) {
            lines.next();
            while old + new > 0 {
                let Some(line) = lines.next() else { break };
                match line.chars().next() {
                    Some('+') => (added, new) = (added + 1, new.saturating_sub(1)),
                    Some('-') => (removed, old) = (removed + 1, old.saturating_sub(1)),
                    Some('\\') => {}
                    _ => (old, new) = (old.saturating_sub(1), new.saturating_sub(1)),
                }
            }
            // "\ No newline at end of file" after the hunk's last line.
            while lines.peek().is_some_and(|l| l.starts_with('\\')) {
                lines.next();
            }
        }
        parts.push(format!("{file} +{added} -{removed}"));
    }
    parts
}

/// The old and new line counts of a hunk header `@@ -a[,b] +c[,d] @@` (a count left out is 1).
fn hunk_counts(line: &str) -> Option<(usize, usize)> {
    let ranges = line.strip_prefix("@@ -")?.split(" @@").next()?;
    let (old, new) = ranges.split_once(" +")?;
    let count = |range: &str| match range.split_once(',') {
        Some((_, n)) => n.parse().ok(),
        None => range.parse::<usize>().ok().map(|_| 1),
    };
    Some((count(old)?, count(new)?))
}

/// Counts per status.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) ok: usize,
    pub(crate) changed: usize,
    /// Only dry runs have unknown steps; left out when there are none.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) unknown: usize,
    /// Of the unknown steps, those unavailable on this machine (a run would fail them); left out
    /// when there are none.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) unavailable: usize,
    pub(crate) skipped: usize,
    pub(crate) failed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// Steps that change, or may change, something (not those unavailable on this machine).
    pub(crate) fn pending(&self) -> usize {
        self.changed + self.unknown - self.unavailable
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
        self.summary.unavailable += usize::from(step.unavailable);
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
    message: Option<String>,
    output: Option<String>,
    commands: Vec<String>,
    unavailable: bool,
}

impl Outcome {
    fn new(status: Status) -> Outcome {
        Outcome {
            status,
            diff: None,
            message: None,
            output: None,
            commands: Vec::new(),
            unavailable: false,
        }
    }

    /// A step that says `message`.
    fn saying(status: Status, message: String) -> Outcome {
        Outcome {
            message: Some(message),
            ..Outcome::new(status)
        }
    }

    /// A failed step: the error, and the output of the command that failed apart from it.
    fn failed(error: StepError) -> Outcome {
        match error {
            StepError::CommandFailed { command, output } => Outcome {
                output: printed(&output),
                ..Outcome::saying(Status::Failed, format!("`{command}` failed"))
            },
            other => Outcome::saying(Status::Failed, other.to_string()),
        }
    }

    /// A step a dry run leaves for later: `reason`, with what was not checked.
    fn deferred(reason: String) -> Outcome {
        Outcome::saying(Status::Skipped, reason)
    }
}

/// Runs the planned recipes in order; `on_step` sees each report as it is made.
pub(crate) fn execute(
    planned: &[Planned],
    options: &RunOptions,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<Report, RunError> {
    let runner = Runner::new(options.log.clone(), options.cancel.clone());
    let host = Host::new(runner, ServiceManager::detect(&options.sysroot));
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

/// The steps (and handlers) of `planned` that `become` root and may run, as the run names them:
/// the steps whose `when` holds, and the handlers such a step notifies. A run as another user
/// needs `sudo` without a password for them.
pub(crate) fn steps_needing_root(planned: &[Planned]) -> Vec<String> {
    let mut names = Vec::new();
    for p in planned {
        let mut notified: Vec<&str> = Vec::new();
        for step in &p.recipe.steps {
            for (values, name) in instances(step, &p.values) {
                if step.when.as_ref().is_some_and(|c| !c.eval(&values)) {
                    continue;
                }
                notified.extend(step.notify.iter().map(String::as_str));
                if step.become_root {
                    names.push(format!("{}: {name}", p.recipe.name));
                }
            }
        }
        let handlers = p.recipe.handlers.iter();
        let handlers = handlers.filter(|h| h.become_root && notified.contains(&h.name.as_str()));
        names.extend(handlers.map(|h| format!("{}: handler: {}", p.recipe.name, h.name)));
    }
    names
}

/// Why this process cannot run commands as root, if it cannot: not root, and no `sudo`, or a
/// `sudo` that asks for a password (`sudo -n true` fails).
pub(crate) fn cannot_become_root() -> Option<&'static str> {
    if super::host::is_root() {
        return None;
    }
    if super::host::sudo().is_none() {
        return Some("strap is not running as root and there is no sudo");
    }
    let works = std::process::Command::new(super::host::sudo()?)
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
        Outcome::failed(e)
    });
    let failed = outcome.status == Status::Failed;
    let step = StepReport {
        recipe: recipe.to_owned(),
        step,
        status: outcome.status,
        seconds: started.elapsed().as_secs_f64(),
        diff: outcome.diff,
        message: outcome.message,
        output: outcome.output,
        commands: outcome.commands,
        unavailable: outcome.unavailable,
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
                message: step.kind.message(&ctx),
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
                unavailable: true,
                ..Outcome::saying(Status::Unknown, why)
            })
        }
        Ok(State::Unavailable(why)) => return Err(StepError::Unavailable(why)),
        Err(StepError::MissingCommand(missing)) if verifies_only => {
            return Err(StepError::CannotCheck(missing))
        }
        Err(StepError::MissingCommand(missing)) if dry_run => {
            return Ok(Outcome {
                commands: step.kind.commands(&ctx),
                ..Outcome::saying(Status::Unknown, format!("cannot check: {missing}"))
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
    let changed = Outcome {
        diff,
        output: printed(&step.kind.apply(&ctx)?),
        commands: step.kind.commands(&ctx),
        ..Outcome::new(Status::Changed)
    };
    let still = match verify.then(|| step.kind.check(&ctx)) {
        None | Some(Ok(State::Ok | State::Unchecked)) => None,
        Some(Ok(State::Differs(still))) => Some(StepError::StillDiffers(still)),
        Some(Ok(State::Unmet(check))) => Some(StepError::CheckFailed(check)),
        Some(Ok(State::Unavailable(why))) => Some(StepError::Unavailable(why)),
        Some(Err(StepError::MissingCommand(missing))) => Some(StepError::CannotCheck(missing)),
        Some(Err(e)) => Some(e),
    };
    // A change whose check fails afterwards failed; what it printed is kept.
    let (status, message) = match still {
        Some(e) => {
            if matches!(e, StepError::Interrupted) {
                return Err(e);
            }
            (Status::Failed, Some(e.to_string()))
        }
        None => (
            Status::Changed,
            step.warn
                .as_ref()
                .map(|w| substitute(w, values, Quoting::Raw)),
        ),
    };
    Ok(Outcome {
        status,
        message,
        ..changed
    })
}

/// Output worth keeping: None when it is blank, else without its trailing newlines.
fn printed(output: &str) -> Option<String> {
    (!output.trim().is_empty()).then(|| output.trim_end().to_owned())
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
        return Ok(Outcome::saying(Status::Unknown, reason));
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
                return Ok(Outcome::saying(
                    Status::Ok,
                    format!("passed after {waited}s"),
                ));
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::recipe::files;

    fn changed(diff: Option<&str>, commands: &[&str]) -> StepReport {
        StepReport {
            recipe: "r".into(),
            step: "s".into(),
            status: Status::Changed,
            seconds: 0.0,
            diff: diff.map(str::to_owned),
            message: None,
            output: None,
            commands: commands.iter().map(|c| c.to_string()).collect(),
            unavailable: false,
        }
    }

    #[test]
    fn a_files_diff_is_summed_up_as_its_diff_stat() {
        let path = Path::new("/etc/app.conf");
        let old = "a\n-- not a header\nc\nd\n";
        let new = "a\nb\nc\nd\ne\nf";
        let diff = files::unified_diff(path, old, new);
        assert!(diff.contains("\n--- not a header\n"), "{diff}");
        let step = changed(Some(&format!("{diff}mode 0644 -> 0600")), &[]);
        assert_eq!(
            step.change_summary().unwrap(),
            "/etc/app.conf +3 -1; mode 0644 -> 0600"
        );
        let new_file = files::unified_diff(path, "", "one\ntwo\n");
        assert_eq!(
            changed(Some(&new_file), &[]).change_summary().unwrap(),
            "/etc/app.conf +2 -0"
        );
    }

    #[test]
    fn other_diffs_are_kept_and_without_one_the_commands_are_shown() {
        let packages = changed(Some("install curl jq"), &["ignored"]);
        assert_eq!(packages.change_summary().unwrap(), "install curl jq");
        let repo = changed(Some("fetch the key into /k\nwrite /l: deb x"), &[]);
        assert_eq!(
            repo.change_summary().unwrap(),
            "fetch the key into /k; write /l: deb x"
        );
        let shell = changed(None, &["touch /a", "for x in 1 2; do\n  echo $x\ndone"]);
        assert_eq!(
            shell.change_summary().unwrap(),
            "ran touch /a; ran for x in 1 2; do …"
        );
        assert_eq!(changed(None, &[]).change_summary(), None);
    }
}
