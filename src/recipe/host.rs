//! The system a recipe changes, as its steps see it: shell commands run through the shared
//! process runner (logged, timed out, cancellable; `sudo -n` for steps that `become` root when
//! strap is not root), and the step's values filled into commands (quoted) and texts (as is).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::error::StepError;
use super::missing::MissingCommand;
use super::service_manager::Detected;
use super::vars::{substitute, Quoting, Value, Values};
use crate::process::{Finished, Limits, Runner};

/// Default bound for one command.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// True when strap runs as root (its effective user).
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and touches no memory.
    let euid = unsafe { libc::geteuid() };
    euid == 0
}

/// The `sudo` on PATH that runs a step that `become`s root when strap is not root.
pub(crate) fn sudo() -> Option<PathBuf> {
    crate::which::find_on_path("sudo")
}

/// Runs the shell commands of one recipe run.
pub(crate) struct Host {
    runner: Runner,
    is_root: bool,
    service_manager: Detected,
}

impl Host {
    /// Runs commands through `runner` (its log and cancellation token), on a machine run by
    /// `service_manager` (detected once for the run).
    pub(crate) fn new(runner: Runner, service_manager: Detected) -> Host {
        Host {
            runner,
            is_root: is_root(),
            service_manager,
        }
    }

    /// The service manager that runs the machine, or what runs in its place.
    pub(crate) fn service_manager(&self) -> &Detected {
        &self.service_manager
    }

    /// Appends a line to the log.
    pub(crate) fn note(&self, line: &str) {
        self.runner.log().note(line);
    }

    /// True once the run was asked to stop (Ctrl-C, SIGTERM).
    pub(crate) fn cancelled(&self) -> bool {
        self.runner.cancel().is_cancelled()
    }

    /// Runs `script` with `sh -c` within `timeout`, output captured; with `become_root` through
    /// `sudo -n` when strap is not root. A script that failed because a command it names is not
    /// found (it exited 127, or failed after the shell said so) is an error whatever the caller
    /// expected of its status.
    pub(crate) fn sh(
        &self,
        script: &str,
        become_root: bool,
        timeout: Duration,
    ) -> Result<Finished, StepError> {
        let mut cmd = if become_root && !self.is_root {
            let Some(sudo) = sudo() else {
                return Err(StepError::NeedsRoot);
            };
            let mut c = Command::new(sudo);
            c.args(["-n", "--", "/bin/sh", "-c", script]);
            c
        } else {
            let mut c = Command::new("/bin/sh");
            c.args(["-c", script]);
            c
        };
        let limits = Limits {
            timeout: Some(timeout),
            capture: true,
        };
        let finished = self
            .runner
            .run(&mut cmd, limits)
            .map_err(|e| StepError::from_run(script, e))?;
        match MissingCommand::detect(script, &finished) {
            Some(missing) => Err(StepError::MissingCommand(missing)),
            None => Ok(finished),
        }
    }

    /// Runs a script that must exit 0; returns its output.
    pub(crate) fn must(
        &self,
        script: &str,
        become_root: bool,
        timeout: Duration,
    ) -> Result<String, StepError> {
        let finished = self.sh(script, become_root, timeout)?;
        if finished.success() {
            Ok(finished.output)
        } else {
            Err(StepError::CommandFailed {
                command: script.to_owned(),
                output: finished.output,
            })
        }
    }
}

/// What one step instance works with: its values, the sysroot, and the host to run commands on.
pub(crate) struct StepCtx<'a> {
    pub(crate) values: &'a Values,
    pub(crate) sysroot: &'a Path,
    pub(crate) host: &'a Host,
    pub(crate) become_root: bool,
    pub(crate) timeout: Duration,
}

impl StepCtx<'_> {
    /// A command template with the values filled in as quoted shell words.
    pub(crate) fn cmd(&self, template: &str) -> String {
        substitute(template, self.values, Quoting::Shell)
    }

    /// A text template with the values filled in as they are.
    pub(crate) fn raw(&self, template: &str) -> String {
        substitute(template, self.values, Quoting::Raw)
    }

    /// A path template, inside the sysroot.
    pub(crate) fn path(&self, template: &str) -> PathBuf {
        let raw = self.raw(template);
        self.sysroot.join(raw.trim_start_matches('/'))
    }

    /// The value of a variable or fact.
    pub(crate) fn var(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Runs a ready-made script as the step says (as root with `become`).
    pub(crate) fn sh(&self, script: &str) -> Result<Finished, StepError> {
        self.host.sh(script, self.become_root, self.timeout)
    }

    /// Runs a ready-made script without `become`: for queries anyone may make.
    pub(crate) fn query(&self, script: &str) -> Result<Finished, StepError> {
        self.host.sh(script, false, self.timeout)
    }

    /// True when a query ([`StepCtx::query`]) exits 0.
    pub(crate) fn query_succeeds(&self, script: &str) -> Result<bool, StepError> {
        Ok(self.query(script)?.success())
    }

    /// True when a ready-made script exits 0.
    pub(crate) fn succeeds(&self, script: &str) -> Result<bool, StepError> {
        Ok(self.sh(script)?.success())
    }

    /// Runs a ready-made script that must exit 0; returns its output.
    pub(crate) fn must(&self, script: &str) -> Result<String, StepError> {
        self.host.must(script, self.become_root, self.timeout)
    }
}
