//! Why a step or handler failed: each kind's checks and changes report one of these.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::missing::MissingCommand;
use crate::error::Io;
use crate::process::RunError;

/// A step (or handler) that could not check or change the system.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// A command that must succeed did not; with its output.
    #[error("`{command}` failed:\n{}", output.trim_end())]
    CommandFailed { command: String, output: String },
    #[error("timed out after {}s: {command}", after.as_secs())]
    TimedOut { command: String, after: Duration },
    /// Ctrl-C or SIGTERM: the command's process group was stopped.
    #[error("interrupted")]
    Interrupted,
    #[error("cannot run `{command}`: {source}")]
    CannotRun { command: String, source: io::Error },
    /// The shell exited 127: a command the script names is not found.
    #[error("cannot run `{script}`: {missing}", script = .0.script, missing = .0)]
    MissingCommand(MissingCommand),
    /// A check that cannot run because a command it needs is not found.
    #[error("cannot check: {0}")]
    CannotCheck(MissingCommand),
    #[error("this step needs root: run strap as root, or install sudo")]
    NeedsRoot,
    #[error(transparent)]
    Io(#[from] Io),
    #[error("{} is not valid JSON ({source}); refusing to overwrite it", path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{} holds JSON that is not an object; refusing to change it", path.display())]
    NotJsonObject { path: PathBuf },
    /// A templated setting whose value is not of the setting's type.
    #[error("`{field}` is '{value}', which is not {expected}")]
    BadValue {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error("fingerprint mismatch: the key from {url} has {found}, expected {expected}; not trusting it")]
    FingerprintMismatch {
        url: String,
        found: String,
        expected: String,
    },
    /// A check-only step whose check fails.
    #[error("check failed: {0}")]
    CheckFailed(String),
    /// A check-only step with `wait` whose check kept failing.
    #[error("check still failing after {}s: {check}", waited.as_secs())]
    StillFailing { check: String, waited: Duration },
    #[error("the step ran, but its check still fails{}", still_differs(.0))]
    StillDiffers(Option<String>),
    /// What the step needs is not on this machine (see [`super::kinds::State::Unavailable`]).
    #[error("{0}")]
    Unavailable(String),
    #[error("user '{0}' does not exist")]
    NoSuchUser(String),
    #[error(
        "CAN interface {interface} does not exist (is the adapter connected and its driver loaded? \
         for testing without hardware, set virtual = true): {}",
        output.trim()
    )]
    NoSuchInterface { interface: String, output: String },
    #[error("cannot read `ip -json` output for {interface}: {source}")]
    BadIpOutput {
        interface: String,
        source: serde_json::Error,
    },
    #[error(
        "no package manager found: the os-release ID '{id}' is no distribution strap knows, \
         and none of {tools} is on PATH"
    )]
    NoPackageManager { id: String, tools: String },
}

fn still_differs(diff: &Option<String>) -> String {
    diff.as_ref().map(|d| format!(":\n{d}")).unwrap_or_default()
}

impl StepError {
    /// The error of running `script` (as the user wrote it) through the process runner.
    pub(crate) fn from_run(script: &str, error: RunError) -> Self {
        match error {
            RunError::TimedOut { after, .. } => StepError::TimedOut {
                command: script.to_owned(),
                after,
            },
            RunError::Interrupted => StepError::Interrupted,
            RunError::Spawn { source, .. } => StepError::CannotRun {
                command: script.to_owned(),
                source,
            },
            RunError::Log { path, source } => Io::new("write the log", path, source).into(),
            RunError::Failed { tail, .. } => StepError::CommandFailed {
                command: script.to_owned(),
                output: tail,
            },
        }
    }
}
