//! The terminal side of [`Reporter`]: phases with elapsed time, download progress bars on a
//! terminal and a few plain lines otherwise (CI logs), all on stderr.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::report::{Progress, Reporter};

/// Reports to stderr.
pub struct TerminalReporter {
    animated: bool,
    current: RefCell<Option<(String, Instant, Option<ProgressBar>)>>,
}

impl TerminalReporter {
    /// Spinners and bars only on a terminal, and never while build output is shown (`verbose`).
    pub fn new(verbose: bool) -> Self {
        TerminalReporter {
            animated: std::io::stderr().is_terminal() && !verbose,
            current: RefCell::new(None),
        }
    }

    fn println(&self, line: &str) {
        match self
            .current
            .borrow()
            .as_ref()
            .and_then(|(_, _, bar)| bar.as_ref())
        {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl Reporter for TerminalReporter {
    fn phase(&self, name: &str, detail: &str) {
        self.phase_done();
        let bar = self.animated.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("valid template"),
            );
            bar.set_message(format!("{name}: {detail}"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            eprintln!("==> {name}: {detail}");
        }
        *self.current.borrow_mut() = Some((name.to_owned(), Instant::now(), bar));
    }

    fn phase_done(&self) {
        if let Some((name, started, bar)) = self.current.borrow_mut().take() {
            let line = format!("    {name} done in {:.1}s", started.elapsed().as_secs_f64());
            match bar {
                Some(bar) => bar.finish_with_message(format!("{name} done")),
                None => eprintln!("{line}"),
            }
        }
    }

    fn message(&self, text: &str) {
        self.println(&format!("strap: {text}"));
    }

    fn warning(&self, text: &str) {
        self.println(&format!("strap: warning: {text}"));
    }

    fn download(&self, url: &str, total: Option<u64>, start: u64) -> Box<dyn Progress> {
        let resumed = if start > 0 {
            format!(" (resuming at {} bytes)", start)
        } else {
            String::new()
        };
        if !self.animated {
            let size = total
                .map(|t| format!(", {:.1} MB", t as f64 / 1e6))
                .unwrap_or_default();
            eprintln!("    downloading {url}{size}{resumed}");
            return Box::new(PlainProgress {
                started: Instant::now(),
            });
        }
        let bar = ProgressBar::new(total.unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template(
                "  {bytes}/{total_bytes} {bar:30} {bytes_per_sec} eta {eta} {msg}",
            )
            .expect("valid template"),
        );
        bar.set_position(start);
        bar.set_message(format!("{url}{resumed}"));
        Box::new(BarProgress(bar))
    }
}

struct BarProgress(ProgressBar);

impl Progress for BarProgress {
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

struct PlainProgress {
    started: Instant,
}

impl Progress for PlainProgress {
    fn advance(&self, _: u64) {}
    fn finish(&self) {
        eprintln!(
            "    downloaded in {:.1}s",
            self.started.elapsed().as_secs_f64()
        );
    }
}
