//! Running build commands: output to a log file (and the terminal with `--verbose`), the last
//! lines kept for error reports, and cancellation on Ctrl-C or SIGTERM that stops the whole
//! process group of the command.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

/// Lines of log shown when a command fails.
pub const TAIL_LINES: usize = 20;

/// Why a command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("`{command}` failed ({status}); the last lines of {}:\n{tail}", log.display())]
    Failed {
        command: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("interrupted")]
    Interrupted,
    #[error("cannot run `{command}`: {source}")]
    Spawn { command: String, source: io::Error },
    #[error("cannot write the build log {}: {source}", path.display())]
    Log { path: PathBuf, source: io::Error },
}

/// Set by the signal handler; every running command is stopped when it turns true.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C/SIGTERM handler (once). Until then the signals keep their default effect.
pub fn watch_for_interrupts() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // If a handler cannot be installed, Ctrl-C simply stops strap; the next run cleans up.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
}

/// True once Ctrl-C or SIGTERM arrived (after [`watch_for_interrupts`]).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Runs commands for one build, all writing to the same log.
pub struct Runner {
    log_path: PathBuf,
    log: Arc<Mutex<File>>,
    verbose: bool,
}

impl Runner {
    /// Creates (truncates) the log file.
    pub fn new(log_path: &Path, verbose: bool) -> Result<Self, RunError> {
        let log_err = |source| RunError::Log {
            path: log_path.to_owned(),
            source,
        };
        if let Some(dir) = log_path.parent() {
            std::fs::create_dir_all(dir).map_err(log_err)?;
        }
        let file = File::create(log_path).map_err(log_err)?;
        Ok(Runner {
            log_path: log_path.to_owned(),
            log: Arc::new(Mutex::new(file)),
            verbose,
        })
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Appends a line to the log.
    pub fn note(&self, line: &str) {
        if let Ok(mut log) = self.log.lock() {
            let _ = writeln!(log, "{line}");
        }
    }

    /// Runs `cmd` to completion; its output goes to the log.
    pub fn run(&self, cmd: &mut Command) -> Result<(), RunError> {
        if interrupted() {
            return Err(RunError::Interrupted);
        }
        let shown = describe(cmd);
        self.note(&format!("$ {shown}"));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, so that cancelling stops make's compilers too.
        std::os::unix::process::CommandExt::process_group(cmd, 0);
        let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
            command: shown.clone(),
            source,
        })?;
        let copiers = [
            child.stdout.take().map(|s| self.copy_output(s)),
            child.stderr.take().map(|s| self.copy_output(s)),
        ];
        let status = wait_or_cancel(&mut child);
        for copier in copiers.into_iter().flatten() {
            let _ = copier.join();
        }
        let status = status.map_err(|source| RunError::Spawn {
            command: shown.clone(),
            source,
        })?;
        self.note(&format!("# exit: {status}"));
        if interrupted() {
            return Err(RunError::Interrupted);
        }
        if status.success() {
            return Ok(());
        }
        Err(RunError::Failed {
            command: shown,
            status: describe_status(status),
            log: self.log_path.clone(),
            tail: self.tail(),
        })
    }

    fn copy_output(&self, stream: impl Read + Send + 'static) -> std::thread::JoinHandle<()> {
        let log = Arc::clone(&self.log);
        let verbose = self.verbose;
        std::thread::spawn(move || {
            for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
                if verbose {
                    let _ = writeln!(io::stderr(), "{}", String::from_utf8_lossy(&line));
                }
                if let Ok(mut log) = log.lock() {
                    let _ = log.write_all(&line);
                    let _ = log.write_all(b"\n");
                }
            }
        })
    }

    /// The last [`TAIL_LINES`] lines of the log.
    pub fn tail(&self) -> String {
        let Ok(file) = File::open(&self.log_path) else {
            return String::new();
        };
        let mut last = VecDeque::with_capacity(TAIL_LINES);
        for line in BufReader::new(file).split(b'\n').map_while(Result::ok) {
            if last.len() == TAIL_LINES {
                last.pop_front();
            }
            last.push_back(String::from_utf8_lossy(&line).into_owned());
        }
        last.into_iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn wait_or_cancel(child: &mut Child) -> io::Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if interrupted() {
            let group = -(child.id() as libc::pid_t);
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
            unsafe { libc::kill(group, libc::SIGTERM) };
            std::thread::sleep(Duration::from_millis(300));
            unsafe { libc::kill(group, libc::SIGKILL) };
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}
