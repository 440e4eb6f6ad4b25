//! Running a recipe's shell commands: `sh -c`, output captured (stdout and stderr interleaved),
//! a timeout that stops the whole process group, `sudo` for steps that need root, and a log.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default bound for one command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    pub success: bool,
    pub output: String,
}

/// Runs commands and logs each with its output and exit status.
pub struct Exec {
    log: Mutex<File>,
    is_root: bool,
}

impl Exec {
    /// Creates the log file.
    pub fn new(log_path: &Path) -> std::io::Result<Exec> {
        if let Some(dir) = log_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Exec {
            log: Mutex::new(File::create(log_path)?),
            // SAFETY: geteuid has no preconditions and touches no memory.
            is_root: unsafe { libc::geteuid() } == 0,
        })
    }

    /// Appends a line to the log.
    pub fn note(&self, line: &str) {
        if let Ok(mut log) = self.log.lock() {
            let _ = writeln!(log, "{line}");
        }
    }

    /// Runs `script` with `sh -c`; with `become_root` through `sudo -n` when not root.
    pub fn sh(
        &self,
        script: &str,
        become_root: bool,
        timeout: Duration,
    ) -> Result<Outcome, String> {
        let mut cmd = if become_root && !self.is_root {
            if crate::which::find_on_path("sudo").is_none() {
                return Err("this step needs root: run strap as root, or install sudo".to_owned());
            }
            let mut c = Command::new("sudo");
            c.args(["-n", "--", "/bin/sh", "-c", script]);
            c
        } else {
            let mut c = Command::new("/bin/sh");
            c.args(["-c", script]);
            c
        };
        self.note(&format!("$ {script}"));
        let (reader, writer) = std::io::pipe().map_err(|e| format!("cannot create a pipe: {e}"))?;
        let writer_err = writer
            .try_clone()
            .map_err(|e| format!("cannot create a pipe: {e}"))?;
        cmd.stdin(Stdio::null()).stdout(writer).stderr(writer_err);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot run sh: {e}"))?;
        drop(cmd);
        let collector = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut reader = reader;
            let _ = reader.read_to_end(&mut out);
            out
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() > timeout || crate::runner::interrupted() => {
                    // SAFETY: signals the child's own process group; no memory is involved.
                    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("cannot wait for sh: {e}")),
            }
        };
        let output = String::from_utf8_lossy(&collector.join().unwrap_or_default()).into_owned();
        self.note(output.trim_end());
        match status {
            Some(status) => {
                self.note(&format!("# exit: {status}"));
                Ok(Outcome {
                    success: status.success(),
                    output,
                })
            }
            None if crate::runner::interrupted() => Err("interrupted".to_owned()),
            None => {
                self.note("# timed out");
                Err(format!("timed out after {}s: {script}", timeout.as_secs()))
            }
        }
    }
}
