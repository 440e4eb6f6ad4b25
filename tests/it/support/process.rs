//! Processes the tests start and watch: signals (through `kill(2)`, not the `kill` program, which
//! a minimal system may lack), polling an observable condition with a deadline instead of sleeping
//! a fixed time, a child's stderr read while it runs, and the processes a build left running.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a test waits for something another process is about to do before it gives up: only a
/// guard against a hang, never a measure of speed.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Sends `sig` (`libc::SIGINT`, …) to process `pid`.
pub fn signal(pid: u32, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("a pid fits pid_t");
    // SAFETY: kill(2) only sends a signal; no memory is involved.
    let sent = unsafe { libc::kill(pid, sig) };
    assert_eq!(
        sent,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// Sends `sig` to every process of the process group `group`, as a terminal does on Ctrl-C.
pub fn signal_group(group: u32, sig: libc::c_int) {
    let group = libc::pid_t::try_from(group).expect("a group id fits pid_t");
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    let sent = unsafe { libc::kill(-group, sig) };
    assert_eq!(
        sent,
        0,
        "kill(-{group}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// `cmd` started with SIGINT at its default action, as from a terminal, even when the tests run
/// with it ignored (started in the background by a shell without job control).
pub fn with_default_sigint(mut cmd: std::process::Command) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: signal(2) is async-signal-safe, and the child runs nothing else before exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    cmd
}

/// Polls `done` every 20 ms until it holds (true) or `limit` has passed (false).
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Waits (up to [`PATIENCE`]) until `done` holds while `child` runs; otherwise kills `child` and
/// fails the test with "`what` never happened".
pub fn wait_while_running(child: &mut Child, what: &str, done: impl FnMut() -> bool) {
    if !wait_until(PATIENCE, done) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} never happened");
    }
}

/// Waits (up to [`PATIENCE`]) for `child` to end; kills it and fails the test with `what` when it
/// does not.
pub fn wait_for_exit(child: &mut Child, what: &str) -> ExitStatus {
    if !wait_until(PATIENCE, || child.try_wait().unwrap().is_some()) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what}");
    }
    child.wait().unwrap()
}

/// A child whose stderr is read while it runs, so a test can wait for a line of it.
pub struct Watched {
    pub child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Watched {
    /// Starts reading the stderr of `child` (spawned with `Stdio::piped()` for stderr).
    pub fn new(mut child: Child) -> Watched {
        let mut pipe = child.stderr.take().expect("stderr piped");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Watched {
            child,
            stderr,
            reader,
        }
    }

    /// Waits (up to [`PATIENCE`]) until stderr contains `text`; kills the child and fails the
    /// test otherwise.
    pub fn wait_for_stderr(&mut self, text: &str) {
        let stderr = Arc::clone(&self.stderr);
        let shown = || String::from_utf8_lossy(&stderr.lock().unwrap()).contains(text);
        wait_while_running(&mut self.child, &format!("stderr showing {text:?}"), shown);
    }

    /// Waits for the child to end; returns its status and whole stderr.
    pub fn finish(self) -> (ExitStatus, String) {
        let Watched {
            mut child,
            stderr,
            reader,
        } = self;
        let status = child.wait().unwrap();
        reader.join().unwrap();
        let stderr = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
        (status, stderr)
    }
}

/// Processes whose working directory is under `dir` (a build's `make`, `sleep`, …).
pub fn processes_in(dir: &Path) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
        })
        .collect()
}

/// Waits (up to [`PATIENCE`]) for every process under `dir` to be gone; returns those left.
pub fn wait_for_no_processes_in(dir: &Path) -> Vec<u32> {
    wait_until(PATIENCE, || processes_in(dir).is_empty());
    processes_in(dir)
}
