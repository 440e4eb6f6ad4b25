//! The terminal side of [`Reporter`], on stderr. On a terminal: one live display
//! (`indicatif::MultiProgress`) holding the running phase — a spinner, the seconds, and the last
//! line of the build's output, cut to the terminal's width — and the download bar with bytes,
//! speed and ETA. Finished phases and messages are printed above it as plain lines (a mark for
//! done, failed or interrupted, and the seconds), never padded or left half-drawn. Without a
//! terminal (CI logs) or with `--verbose`: one plain line when a phase starts and one when it
//! ends.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{
    MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike,
};

use crate::process::LineSink;
use crate::report::{PhaseEnd, Progress, Reporter};
use crate::stage::seconds;

/// Reports to stderr.
pub struct TerminalReporter {
    live: Option<MultiProgress>,
    _quiet_keys: Option<QuietControlKeys>,
    phase: RefCell<Option<Phase>>,
    /// The running phase's spinner, which build output lines are shown on.
    showing_output: Arc<Mutex<Option<ProgressBar>>>,
    /// Build output is copied to stderr, line by line (`--verbose`).
    verbose: bool,
}

/// The running phase.
struct Phase {
    name: String,
    started: Instant,
    spinner: Option<ProgressBar>,
}

impl TerminalReporter {
    /// A live display only on a terminal, and never while build output is shown (`verbose`).
    /// Every reporter of the process draws into the same display, so installs that download at
    /// the same time (`strap bootstrap`) show their bars together.
    pub fn new(verbose: bool) -> Self {
        static LIVE: std::sync::OnceLock<MultiProgress> = std::sync::OnceLock::new();
        let live = (std::io::stderr().is_terminal() && !verbose).then(|| {
            LIVE.get_or_init(|| {
                MultiProgress::with_draw_target(ProgressDrawTarget::term_like_with_hz(
                    Box::new(Stderr::default()),
                    20,
                ))
            })
            .clone()
        });
        TerminalReporter {
            _quiet_keys: live.as_ref().and_then(|_| QuietControlKeys::on_stdin()),
            live,
            phase: RefCell::new(None),
            showing_output: Arc::default(),
            verbose,
        }
    }

    /// Shows `text` on the running phase's spinner, when there is one.
    fn show_on_phase(&self, text: &str) {
        if let Some(spinner) = self
            .phase
            .borrow()
            .as_ref()
            .and_then(|p| p.spinner.as_ref())
        {
            spinner.set_message(text.to_owned());
        }
    }

    /// Prints a finished line above the live display (which is cleared while it is written, so
    /// the line is plain text, not padded to the terminal's width).
    fn println(&self, line: &str) {
        match &self.live {
            Some(live) => live.suspend(|| say!("{line}")),
            None => say!("{line}"),
        }
    }
}

/// The live display's terminal: stderr, buffered until each frame is flushed, and never failing
/// (indicatif panics on some write errors, and once the terminal has hung up every write fails
/// with EIO, while strap still has to clean up).
#[derive(Debug, Default)]
struct Stderr {
    frame: Mutex<Vec<u8>>,
}

impl Stderr {
    /// A cursor movement by `n` (none for 0: terminals read `CSI 0 A` as one line).
    fn move_by(&self, n: usize, direction: char) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(format!("\x1b[{n}{direction}").as_bytes())
    }

    fn put(&self, bytes: &[u8]) -> std::io::Result<()> {
        if let Ok(mut frame) = self.frame.lock() {
            frame.extend_from_slice(bytes);
        }
        Ok(())
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        terminal_size::terminal_size_of(std::io::stderr()).map_or(80, |(width, _)| width.0)
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.move_by(n, 'A')
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.move_by(n, 'B')
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.move_by(n, 'C')
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.move_by(n, 'D')
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(s.as_bytes())?;
        self.put(b"\n")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s.as_bytes())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.put(b"\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        if let Ok(mut frame) = self.frame.lock() {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&frame);
            let _ = err.flush();
            frame.clear();
        }
        Ok(())
    }
}

/// While the live display runs, the terminal does not echo control keys: a `^C` typed at the
/// end of a drawn line would push the display down a line, and the spinner's last frame would
/// stay on screen. Restored when the last one of the process is dropped.
struct QuietControlKeys;

/// How many [`QuietControlKeys`] are alive, and the terminal settings to restore after the last.
static QUIET: Mutex<(usize, Option<libc::termios>)> = Mutex::new((0, None));

impl QuietControlKeys {
    fn on_stdin() -> Option<QuietControlKeys> {
        let mut quiet = QUIET.lock().ok()?;
        if quiet.0 == 0 {
            // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios we own; failures leave it as is.
            unsafe {
                let mut saved: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                    return None;
                }
                let mut silent = saved;
                silent.c_lflag &= !libc::ECHOCTL;
                if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &silent) != 0 {
                    return None;
                }
                quiet.1 = Some(saved);
            }
        }
        quiet.0 += 1;
        Some(QuietControlKeys)
    }
}

impl Drop for QuietControlKeys {
    fn drop(&mut self) {
        let Ok(mut quiet) = QUIET.lock() else { return };
        quiet.0 -= 1;
        if quiet.0 == 0 {
            if let Some(saved) = quiet.1.take() {
                // SAFETY: restores the settings read by the first `on_stdin`.
                unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved) };
            }
        }
    }
}

/// `{secs}`: elapsed seconds with a decimal.
fn secs_key(state: &ProgressState, out: &mut dyn std::fmt::Write) {
    let _ = write!(out, "{}", seconds(state.elapsed()));
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix:<10.bold} {secs:>7}  {wide_msg:.dim}")
        .expect("valid template")
        .with_key("secs", secs_key)
}

impl Reporter for TerminalReporter {
    fn header(&self, text: &str) {
        self.println(&format!("==> {text}"));
    }

    fn phase_started(&self, name: &str, detail: &str) {
        self.phase_ended(PhaseEnd::Done);
        let spinner = self.live.as_ref().map(|live| {
            let bar = live.add(ProgressBar::new_spinner());
            bar.set_style(spinner_style());
            bar.set_prefix(name.to_owned());
            bar.set_message(detail.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if spinner.is_none() {
            say!("==> {name}: {detail}");
        }
        if let Ok(mut showing) = self.showing_output.lock() {
            showing.clone_from(&spinner);
        }
        *self.phase.borrow_mut() = Some(Phase {
            name: name.to_owned(),
            started: Instant::now(),
            spinner,
        });
    }

    fn phase_ended(&self, end: PhaseEnd) {
        let Some(phase) = self.phase.borrow_mut().take() else {
            return;
        };
        if let Ok(mut showing) = self.showing_output.lock() {
            *showing = None;
        }
        let took = seconds(phase.started.elapsed());
        let (mark, text) = match end {
            PhaseEnd::Done => ("✓", format!("done in {took}")),
            PhaseEnd::Failed => ("✗", format!("failed after {took}")),
            PhaseEnd::Interrupted => ("!", format!("interrupted after {took}")),
        };
        match phase.spinner {
            Some(spinner) => {
                spinner.finish_and_clear();
                self.println(&format!("{mark} {:<10} {text}", phase.name));
            }
            None => say!("    {} {text}", phase.name),
        }
    }

    fn output_sink(&self) -> Option<LineSink> {
        if self.verbose {
            return Some(Arc::new(|line: &str| say!("{line}")));
        }
        self.live.as_ref()?;
        let showing = Arc::clone(&self.showing_output);
        Some(Arc::new(move |line: &str| {
            let line = line.trim();
            if line.is_empty() {
                return;
            }
            if let Some(spinner) = showing.lock().ok().as_deref().and_then(Option::as_ref) {
                spinner.set_message(line.to_owned());
            }
        }))
    }

    fn message(&self, text: &str) {
        self.println(&format!("{}: {text}", super::Program::current().name()));
    }

    fn warning(&self, text: &str) {
        self.println(&format!(
            "{}: warning: {text}",
            super::Program::current().name()
        ));
    }

    /// Names the host on the running phase's spinner (a plain log says nothing until the
    /// download starts or the host is given up).
    fn waiting(&self, host: &str) {
        self.show_on_phase(&format!("waiting for {host}"));
    }

    fn download(&self, url: &str, total: Option<u64>, resumed: u64) -> Box<dyn Progress> {
        let resuming = if resumed > 0 {
            format!(" (resuming at {})", indicatif::HumanBytes(resumed))
        } else {
            String::new()
        };
        let Some(live) = &self.live else {
            let size = total
                .map(|t| format!(", {}", indicatif::HumanBytes(t)))
                .unwrap_or_default();
            say!("    downloading {url}{size}{resuming}");
            return Box::new(Plain);
        };
        // The URL goes on the phase's line (cut to the terminal's width); the bar's own line
        // stays about 45 columns wide plus the bar, which takes what is left.
        self.show_on_phase(&format!("{url}{resuming}"));
        let template = match total {
            Some(_) => {
                "  {bytes:>9}/{total_bytes:<9} {wide_bar:.cyan/blue} {speed:>11} eta {eta:<3}"
            }
            None => "  {bytes:>9} {speed:>11}",
        };
        let style = ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("━╸ ")
            .with_key(
                "speed",
                move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                    let text = average_speed(state.pos(), resumed, state.elapsed())
                        .map(|rate| format!("{}/s", indicatif::HumanBytes(rate as u64)))
                        .unwrap_or_default();
                    let _ = out.write_str(&text);
                },
            );
        let bar = live.add(match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        });
        bar.set_style(style);
        Box::new(Bar::starting_at(bar, resumed))
    }

    fn finished(&self, elapsed: Duration) {
        self.phase_ended(PhaseEnd::Done);
        self.println(&format!("    total {}", seconds(elapsed)));
    }
}

/// Bytes per second since the transfer started, counting only the bytes that arrived (not the
/// part of a resumed download already on disk); nothing in the first half second, when a
/// burst of buffered bytes would read as an absurd speed.
fn average_speed(position: u64, resumed: u64, elapsed: Duration) -> Option<f64> {
    let secs = elapsed.as_secs_f64();
    (secs >= 0.5).then(|| position.saturating_sub(resumed) as f64 / secs)
}

/// A live download bar.
struct Bar(ProgressBar);

impl Bar {
    /// A bar whose ETA counts only the bytes that arrive from now on, not the part of a resumed
    /// download that was already on disk.
    fn starting_at(bar: ProgressBar, resumed: u64) -> Bar {
        bar.set_position(resumed);
        bar.reset_eta();
        Bar(bar)
    }
}

impl Progress for Bar {
    fn set_position(&self, bytes: u64) {
        self.0.set_position(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Without a terminal, the phase lines say it all.
struct Plain;

impl Progress for Plain {
    fn set_position(&self, _: u64) {}
    fn finish(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_download_counts_only_new_bytes_in_its_speed() {
        // 100 kB in 2 s after resuming at 50 MB: 50 kB/s, not the 25 MB/s of all bytes on disk.
        let speed = average_speed(50_100_000, 50_000_000, Duration::from_secs(2));
        assert_eq!(speed, Some(50_000.0));
        assert_eq!(
            average_speed(1_000_000, 0, Duration::from_millis(100)),
            None
        );
    }

    #[test]
    fn the_eta_starts_from_the_resumed_position() {
        let bar = ProgressBar::with_draw_target(Some(100_000_000), ProgressDrawTarget::hidden());
        let bar = Bar::starting_at(bar, 50_000_000);
        for step in 1..=10 {
            std::thread::sleep(Duration::from_millis(20));
            bar.set_position(50_000_000 + step * 10_000);
        }
        // About 500 kB/s: far below the 250 MB/s the resumed part would suggest.
        assert!(bar.0.per_sec() < 5_000_000.0, "{}", bar.0.per_sec());
    }
}
