//! Running external commands for builds and recipes: output to a log (and the terminal with
//! `echo`), optionally captured, a timeout, and cancellation passed in as a [`Cancel`] token.
//!
//! Every command runs under a small supervisor: a forked copy of strap that leads the command's
//! own process group and is told by the kernel (`PR_SET_PDEATHSIG`) when strap dies, even by
//! `kill -9`; it then kills the whole group, so `make` and its compilers never outlive strap.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A shared flag that asks running work to stop (Ctrl-C, SIGTERM, SIGHUP, or the caller).
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    own: Arc<AtomicBool>,
    /// The flags of the tokens this one is part of ([`Cancel::child`]).
    parents: Vec<Arc<AtomicBool>>,
}

impl Cancel {
    /// A token nothing cancels but [`Cancel::cancel`].
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// The process-wide token that turns true on SIGINT, SIGTERM or SIGHUP. The first call
    /// installs the handler; until then those signals keep their default effect.
    pub fn on_signals() -> Cancel {
        static TOKEN: OnceLock<Cancel> = OnceLock::new();
        TOKEN
            .get_or_init(|| {
                let token = Cancel::new();
                let flag = Arc::clone(&token.own);
                // Without a handler a signal simply stops strap; the next run cleans up.
                let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
                token
            })
            .clone()
    }

    /// A token for part of the work: cancelled with this one, or alone by [`Cancel::cancel`].
    pub fn child(&self) -> Cancel {
        let mut parents = self.parents.clone();
        parents.push(Arc::clone(&self.own));
        Cancel {
            own: Arc::default(),
            parents,
        }
    }

    /// Asks the work to stop.
    pub fn cancel(&self) {
        self.own.store(true, Ordering::SeqCst);
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        std::iter::once(&self.own)
            .chain(&self.parents)
            .any(|flag| flag.load(Ordering::SeqCst))
    }
}

/// A reader or writer that fails with an "interrupted" error once `cancel` turns true, so that a
/// long copy stops at its next read or write.
pub struct Interruptible<T> {
    pub inner: T,
    pub cancel: Cancel,
}

impl<T> Interruptible<T> {
    fn check(&self) -> io::Result<()> {
        if self.cancel.is_cancelled() {
            Err(io::Error::other("interrupted"))
        } else {
            Ok(())
        }
    }
}

impl<T: io::Read> io::Read for Interruptible<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check()?;
        self.inner.read(buf)
    }
}

impl<T: Write> Write for Interruptible<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

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
    #[error("`{command}` timed out after {}s", after.as_secs())]
    TimedOut { command: String, after: Duration },
    #[error("interrupted")]
    Interrupted,
    #[error("cannot run `{command}`: {source}")]
    Spawn { command: String, source: io::Error },
    #[error("cannot write the log {}: {source}", path.display())]
    Log { path: PathBuf, source: io::Error },
}

impl crate::error::Explain for RunError {
    fn exit_code(&self) -> i32 {
        match self {
            RunError::Interrupted => crate::error::EXIT_INTERRUPTED,
            _ => crate::error::EXIT_FAILURE,
        }
    }
}

/// A log file shared by the commands of one build or recipe run.
#[derive(Debug, Clone)]
pub struct Log {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl Log {
    /// Creates (truncates) the log file and its directory.
    pub fn create(path: &Path) -> Result<Log, RunError> {
        let log_err = |source| RunError::Log {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(log_err)?;
        }
        let file = File::create(path).map_err(log_err)?;
        Ok(Log {
            path: path.to_owned(),
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a line.
    pub fn note(&self, line: &str) {
        self.write_line(line.as_bytes());
    }

    fn write_line(&self, line: &[u8]) {
        if let Ok(mut file) = self.file.lock() {
            let _ = file.write_all(line);
            let _ = file.write_all(b"\n");
        }
    }

    /// The last `lines` lines, indented for an error report.
    pub fn tail(&self, lines: usize) -> String {
        let Ok(file) = File::open(&self.path) else {
            return String::new();
        };
        let mut last = VecDeque::with_capacity(lines);
        for line in BufReader::new(file).split(b'\n').map_while(Result::ok) {
            if last.len() == lines {
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

/// Lines of log shown when a command fails.
pub const TAIL_LINES: usize = 20;

/// What a finished command did.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    /// stdout and stderr interleaved, when captured.
    pub output: String,
}

impl Finished {
    /// True for exit status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

/// Called with each line a command prints (e.g. to show the last line of `make`).
pub type LineSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Runs commands: logged, supervised, cancellable.
#[derive(Clone)]
pub struct Runner {
    log: Log,
    cancel: Cancel,
    on_line: Option<LineSink>,
    groups_file: Option<PathBuf>,
    temp_dir: Option<PathBuf>,
}

/// How one command runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Stop the command after this long.
    pub timeout: Option<Duration>,
    /// Return its output (also logged either way).
    pub capture: bool,
}

impl Runner {
    /// A runner writing to `log`, stopping commands when `cancel` turns true.
    pub fn new(log: Log, cancel: Cancel) -> Runner {
        Runner {
            log,
            cancel,
            on_line: None,
            groups_file: None,
            temp_dir: None,
        }
    }

    /// Gives every command `dir` as `TMPDIR`, so the files a compiler leaves there when it is
    /// stopped go with the work directory holding `dir`.
    pub fn temp_dir(mut self, dir: PathBuf) -> Runner {
        self.temp_dir = Some(dir);
        self
    }

    /// Sees every output line.
    pub fn on_line(mut self, sink: LineSink) -> Runner {
        self.on_line = Some(sink);
        self
    }

    /// Records each command's process group in `file`, so that a later run can stop a group
    /// this process left behind (see [`kill_recorded_groups`]).
    pub fn record_groups(mut self, file: PathBuf) -> Runner {
        self.groups_file = Some(file);
        self
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The cancellation token.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// Runs `cmd` to completion and fails unless it exits 0.
    pub fn check(&self, cmd: &mut Command) -> Result<(), RunError> {
        self.check_within(cmd, Limits::default()).map(drop)
    }

    /// Runs `cmd` within `limits` and fails unless it exits 0.
    pub fn check_within(&self, cmd: &mut Command, limits: Limits) -> Result<Finished, RunError> {
        let shown = describe(cmd);
        let finished = self.run(cmd, limits)?;
        if finished.success() {
            return Ok(finished);
        }
        Err(RunError::Failed {
            command: shown,
            status: describe_status(finished.status),
            log: self.log.path.clone(),
            tail: self.log.tail(TAIL_LINES),
        })
    }

    /// Runs `cmd` to completion (any exit status) within `limits`.
    pub fn run(&self, cmd: &mut Command, limits: Limits) -> Result<Finished, RunError> {
        if self.cancel.is_cancelled() {
            return Err(RunError::Interrupted);
        }
        if let Some(dir) = &self.temp_dir {
            cmd.env("TMPDIR", dir);
        }
        let shown = describe(cmd);
        self.log.note(&format!("$ {shown}"));
        let spawn_err = |source| RunError::Spawn {
            command: shown.clone(),
            source,
        };
        let (reader, writer) = io::pipe().map_err(spawn_err)?;
        let writer_err = writer.try_clone().map_err(spawn_err)?;
        cmd.stdin(Stdio::null()).stdout(writer).stderr(writer_err);
        let mut child = supervised_spawn(cmd).map_err(spawn_err)?;
        // Drop our copies of the pipe's write end, or the reader would never see its end.
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        if let Some(file) = &self.groups_file {
            record_group(file, child.id());
        }
        let collected = self.collect_output(reader, limits.capture);
        let started = Instant::now();
        let stopped = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => return Err(spawn_err(e)),
            }
            if self.cancel.is_cancelled() {
                break Err(RunError::Interrupted);
            }
            if let Some(after) = limits.timeout.filter(|t| started.elapsed() > *t) {
                break Err(RunError::TimedOut {
                    command: shown.clone(),
                    after,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let status = match stopped {
            Ok(status) => status,
            Err(why) => {
                stop_group(&mut child);
                self.log.note(&format!("# {why}"));
                let _ = collected.finish();
                return Err(why);
            }
        };
        let output = collected.finish();
        self.log.note(&format!("# exit: {status}"));
        Ok(Finished { status, output })
    }

    fn collect_output(&self, stream: io::PipeReader, capture: bool) -> Collector {
        let log = self.log.clone();
        let sink = self.on_line.clone();
        let captured = Arc::new(Mutex::new(String::new()));
        let shared = Arc::clone(&captured);
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
                log.write_line(&line);
                let text = String::from_utf8_lossy(&line);
                if let Some(sink) = &sink {
                    sink(&text);
                }
                if capture {
                    if let Ok(mut out) = shared.lock() {
                        out.push_str(&text);
                        out.push('\n');
                    }
                }
            }
            let _ = done.send(());
        });
        Collector { captured, finished }
    }
}

/// The output a reader thread gathers.
struct Collector {
    captured: Arc<Mutex<String>>,
    finished: mpsc::Receiver<()>,
}

impl Collector {
    /// Waits for the end of the output — briefly: a background process the command started may
    /// hold the pipe open for ever — and returns what was captured.
    fn finish(self) -> String {
        let _ = self.finished.recv_timeout(Duration::from_secs(2));
        self.captured
            .lock()
            .map(|out| out.clone())
            .unwrap_or_default()
    }
}

/// Spawns `cmd` as the child of a supervisor that leads a new process group and kills that
/// group when strap dies or when the group is sent SIGTERM, SIGINT or SIGHUP.
fn supervised_spawn(cmd: &mut Command) -> io::Result<Child> {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // system calls (fork, prctl, sigaction, waitpid, kill, close, _exit); it allocates nothing.
    unsafe { cmd.pre_exec(|| supervise(libc::getppid())) };
    cmd.spawn()
}

/// In the forked child: fork the command, and stay behind as its supervisor. Returns (in the
/// command's process, which then execs) or never returns (in the supervisor).
fn supervise(strap: libc::pid_t) -> io::Result<()> {
    // SAFETY: plain system calls on this process; see `supervised_spawn`.
    unsafe {
        let command = libc::fork();
        if command < 0 {
            return Err(io::Error::last_os_error());
        }
        if command == 0 {
            return Ok(());
        }
        for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = kill_own_group as *const () as libc::sighandler_t;
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
        if libc::getppid() != strap {
            kill_own_group(0);
        }
        // The pipe through which std reports a failed exec must close when the command execs,
        // so the supervisor keeps no descriptor but stdin, stdout and stderr.
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            for fd in 3..1024 {
                libc::close(fd);
            }
        }
        let mut status = 0;
        while libc::waitpid(command, &mut status, 0) < 0 {
            if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                libc::_exit(127);
            }
        }
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            libc::signal(signal, libc::SIG_DFL);
            libc::kill(libc::getpid(), signal);
            libc::_exit(128 + signal);
        }
        libc::_exit(libc::WEXITSTATUS(status))
    }
}

/// The supervisor's signal handler: everything in its process group (itself included) dies.
extern "C" fn kill_own_group(_signal: libc::c_int) {
    // SAFETY: kill(2) is async-signal-safe.
    unsafe { libc::kill(0, libc::SIGKILL) };
}

/// Stops a supervised command and everything it started, then reaps it.
fn stop_group(child: &mut Child) {
    let group = -(child.id() as libc::pid_t);
    // SAFETY: kill(2) on a process group we created; no memory is involved.
    unsafe { libc::kill(group, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: as above.
    unsafe { libc::kill(group, libc::SIGKILL) };
    let _ = child.wait();
}

fn record_group(file: &Path, group: u32) {
    let appended = File::options()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| writeln!(f, "{group}"));
    // Only a safety net for `kill -9` of the supervisor too; failing to record is harmless.
    drop(appended);
}

/// Kills the process groups recorded in `file` whose leader still runs inside `dir` (its
/// working directory is there), so a leftover build tree is never removed under a live build.
pub fn kill_recorded_groups(file: &Path, dir: &Path) {
    let Ok(text) = crate::bounded::read_text(file) else {
        return;
    };
    for group in text
        .lines()
        .filter_map(|l| l.trim().parse::<libc::pid_t>().ok())
    {
        let cwd = std::fs::read_link(format!("/proc/{group}/cwd"));
        if group > 1 && cwd.is_ok_and(|cwd| cwd.starts_with(dir)) {
            // SAFETY: kill(2) on a group verified to belong to the leftover build.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
    }
}

/// True when a process with this pid exists (also when it belongs to another user).
pub fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid as u32 == std::process::id() {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A command as the user would type it (each word quoted for a shell where it needs it).
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| crate::shell::quote_posix(&a.to_string_lossy()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(dir: &Path, cancel: Cancel) -> Runner {
        Runner::new(Log::create(&dir.join("log")).unwrap(), cancel)
    }

    #[test]
    fn output_is_logged_and_captured_and_status_kept() {
        let dir = tempfile::tempdir().unwrap();
        let r = runner(dir.path(), Cancel::new());
        let done = r
            .run(
                Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
                Limits {
                    capture: true,
                    ..Limits::default()
                },
            )
            .unwrap();
        assert_eq!(done.status.code(), Some(3));
        assert!(done.output.contains("out\n") && done.output.contains("err\n"));
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
        assert!(log.contains("$ sh -c") && log.contains("# exit: exit status: 3"));
        let err = r.check(Command::new("sh").args(["-c", "echo boom; exit 1"]));
        assert!(matches!(err, Err(RunError::Failed { tail, .. }) if tail.contains("boom")));
    }

    #[test]
    fn a_timeout_stops_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let r = runner(dir.path(), Cancel::new());
        let marker = dir.path().join("survived");
        let pid_file = dir.path().join("pid");
        let script = format!(
            "(sleep 1; touch {}) & echo $! > {}; sleep 30",
            marker.display(),
            pid_file.display()
        );
        let err = r
            .run(
                Command::new("sh").args(["-c", &script]),
                Limits {
                    timeout: Some(Duration::from_millis(200)),
                    capture: false,
                },
            )
            .unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }));
        // The background process ends: killed with its group, or (the bug) after touching the
        // marker a second later.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z ")) {
            assert!(
                Instant::now() < deadline,
                "the background process never ended"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            !marker.exists(),
            "a process of the group outlived the timeout"
        );
    }

    #[test]
    fn cancellation_is_passed_in() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::new();
        let r = runner(dir.path(), cancel.clone());
        let trigger = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            trigger.cancel();
        });
        let err = r.check(Command::new("sleep").arg("30")).unwrap_err();
        assert!(matches!(err, RunError::Interrupted));
        assert!(matches!(
            r.check(&mut Command::new("true")),
            Err(RunError::Interrupted)
        ));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let dir = tempfile::tempdir().unwrap();
        let r = runner(dir.path(), Cancel::new());
        let err = r
            .check(&mut Command::new("/nonexistent/program"))
            .unwrap_err();
        assert!(matches!(err, RunError::Spawn { .. }), "{err}");
    }
}
