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

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::process::LineSink;
use crate::report::{PhaseEnd, Progress, Reporter};
use crate::stage::seconds;

/// Reports to stderr.
pub struct TerminalReporter {
    live: Option<MultiProgress>,
    phase: RefCell<Option<Phase>>,
    /// The running phase's spinner, which build output lines are shown on.
    showing_output: Arc<Mutex<Option<ProgressBar>>>,
}

/// The running phase.
struct Phase {
    name: String,
    started: Instant,
    spinner: Option<ProgressBar>,
}

impl TerminalReporter {
    /// A live display only on a terminal, and never while build output is shown (`verbose`).
    pub fn new(verbose: bool) -> Self {
        let live = (std::io::stderr().is_terminal() && !verbose)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        TerminalReporter {
            live,
            phase: RefCell::new(None),
            showing_output: Arc::default(),
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
        self.println(&format!("strap: {text}"));
    }

    fn warning(&self, text: &str) {
        self.println(&format!("strap: warning: {text}"));
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
        let bar = live.add(match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        });
        bar.set_style(
            ProgressStyle::with_template(
                "  {bytes:>10}/{total_bytes:<10} {bar:24.cyan/blue} {binary_bytes_per_sec:>12} eta {eta:<4} {wide_msg:.dim}",
            )
            .expect("valid template")
            .progress_chars("━╸ "),
        );
        bar.set_message(format!("{url}{resuming}"));
        Box::new(Bar::starting_at(bar, resumed))
    }

    fn finished(&self, elapsed: Duration) {
        self.phase_ended(PhaseEnd::Done);
        self.println(&format!("    total {}", seconds(elapsed)));
    }
}

/// A live download bar.
struct Bar(ProgressBar);

impl Bar {
    /// A bar whose speed and ETA count only the bytes that arrive from now on, not the part of
    /// a resumed download that was already on disk.
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
        let bar = ProgressBar::with_draw_target(Some(100_000_000), ProgressDrawTarget::hidden());
        let bar = Bar::starting_at(bar, 50_000_000);
        for step in 1..=10 {
            std::thread::sleep(Duration::from_millis(20));
            bar.set_position(50_000_000 + step * 10_000);
        }
        // 100 kB in about 0.2 s: far below the 250 MB/s the resumed part would suggest.
        assert!(bar.0.per_sec() < 5_000_000.0, "{}", bar.0.per_sec());
    }
}
