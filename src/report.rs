//! The boundary between long-running work (downloads, builds) and the terminal: the core calls a
//! [`Reporter`]; the CLI decides how it looks (progress bars on a terminal, plain lines otherwise).

/// Receives progress from fetches and builds.
pub trait Reporter {
    /// A phase (download, unpack, configure, compile, install, verify) begins.
    fn phase(&self, name: &str, detail: &str);
    /// The current phase finished.
    fn phase_done(&self);
    /// Something the user should know.
    fn message(&self, text: &str);
    /// Something went wrong but work goes on (e.g. a mirror failed, the next is tried).
    fn warning(&self, text: &str);
    /// A download starts: `total` bytes when known, `start` already on disk.
    fn download(&self, url: &str, total: Option<u64>, start: u64) -> Box<dyn Progress>;
}

/// Progress of one transfer.
pub trait Progress {
    fn advance(&self, bytes: u64);
    fn finish(&self);
}
