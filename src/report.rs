//! The boundary between long-running work (downloads, builds) and the terminal: the core calls a
//! [`Reporter`]; the CLI decides how it looks (a live display on a terminal, plain lines in CI).
//! The staged-install pipeline owns the phases: it starts each one and says how it ended.

use std::time::Duration;

use crate::process::LineSink;

/// How a phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseEnd {
    Done,
    Failed,
    Interrupted,
}

/// Receives progress from fetches and builds.
pub trait Reporter {
    /// What is being installed, before the first phase (e.g. `CPython 3.13.13t (for 3.13t)`).
    fn header(&self, text: &str);
    /// A phase (preflight, download, unpack, configure, compile, install, verify) begins.
    fn phase_started(&self, name: &str, detail: &str);
    /// The running phase ended.
    fn phase_ended(&self, end: PhaseEnd);
    /// Where build commands send their output lines, to show them on the running phase (`None`
    /// when the display does not show output).
    fn output_sink(&self) -> Option<LineSink>;
    /// Something the user should know.
    fn message(&self, text: &str);
    /// Something went wrong but work goes on (e.g. a mirror failed, the next is tried).
    fn warning(&self, text: &str);
    /// A request to `host` was sent and its answer is awaited (a download starts once it comes).
    fn waiting(&self, host: &str);
    /// A download starts: `total` bytes when known, `resumed` already on disk.
    fn download(&self, url: &str, total: Option<u64>, resumed: u64) -> Box<dyn Progress>;
    /// The whole install finished (successfully or not) after `elapsed`.
    fn finished(&self, elapsed: Duration);
}

/// Progress of one transfer.
pub trait Progress {
    /// `bytes` are on disk now (the resumed part included).
    fn set_position(&self, bytes: u64);
    /// The transfer ended (completely or not).
    fn finish(&self);
}
