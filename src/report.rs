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
    /// Where the running phase's command output goes, line by line, when the display shows it.
    fn output_sink(&self) -> Option<LineSink>;
    /// Something the user should know.
    fn message(&self, text: &str);
    /// Something went wrong but work goes on (e.g. a mirror failed, the next is tried).
    fn warning(&self, text: &str);
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

/// A reporter that shows nothing (tests, and callers with their own display).
#[derive(Debug, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn header(&self, _: &str) {}
    fn phase_started(&self, _: &str, _: &str) {}
    fn phase_ended(&self, _: PhaseEnd) {}
    fn output_sink(&self) -> Option<LineSink> {
        None
    }
    fn message(&self, _: &str) {}
    fn warning(&self, _: &str) {}
    fn download(&self, _: &str, _: Option<u64>, _: u64) -> Box<dyn Progress> {
        Box::new(Silent)
    }
    fn finished(&self, _: Duration) {}
}

impl Progress for Silent {
    fn set_position(&self, _: u64) {}
    fn finish(&self) {}
}
