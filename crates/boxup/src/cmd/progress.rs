//! Transfer progress on stderr: an indicatif bar per file on a terminal,
//! plain lines otherwise (logs, CI, tests), nothing with `--quiet`.
//!
//! Plain lines are emitted at fixed points, not on a timer, so the output
//! of a given transfer is the same on every run: one line each time the
//! transfer crosses another 5% of the file (at most 20 per file), e.g.
//!
//! ```text
//! upload big.iso: 45% 460.80 MiB / 1.00 GiB, 312.40 MiB/s, 58/128 parts
//! ```
//!
//! `parts` counts whole parts' worth of bytes sent (or found already on
//! the server), which is what a reader of a log wants to know; it is not
//! an acknowledgement count.
//!
//! Files are transferred one at a time, so there is one bar at a time: a
//! finished (or stopped) bar stays on screen, and what is printed next
//! (the result on stdout, a note or how to resume on stderr) appears
//! below it. Notes printed while a bar runs go above it.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::common::{OutputArgs, bytes, errln, outln};

/// How many plain lines a transfer may print, at most (one per step).
const LINE_STEPS: u64 = 20;

const BAR_TEMPLATE: &str = "{prefix} [{bar:30.cyan/blue}] {percent:>3}% \
    {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bars,
    Lines,
    Quiet,
}

/// The bar slot of the command's reporter, for [`say_anywhere`].
static CURRENT: OnceLock<Arc<Mutex<Option<ProgressBar>>>> = OnceLock::new();

/// A message on stderr from code that has no [`Reporter`] at hand (the
/// client library's retry notices): above the running bar, if any.
pub(crate) fn say_anywhere(text: &str) {
    let bar = CURRENT.get().and_then(|c| {
        let current = c.lock().unwrap_or_else(|p| p.into_inner());
        current.clone().filter(|b| !b.is_finished())
    });
    match bar {
        Some(bar) => bar.println(text),
        None => errln!("{text}"),
    }
}

/// Where progress and notes go, for one command.
#[derive(Clone)]
pub(crate) struct Reporter {
    mode: Mode,
    /// The bar of the transfer in progress, if any.
    current: Arc<Mutex<Option<ProgressBar>>>,
}

impl Reporter {
    /// Bars when stderr is a terminal, lines when it is not.
    pub(crate) fn new(out: &OutputArgs) -> Reporter {
        let mode = if out.quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        };
        let current: Arc<Mutex<Option<ProgressBar>>> = Arc::default();
        let _ = CURRENT.set(current.clone());
        Reporter { mode, current }
    }

    /// A meter for one transfer of `total` bytes, labelled `VERB NAME`.
    pub(crate) fn start(&self, verb: &str, name: &str, total: u64) -> Arc<Meter> {
        let label = format!("{verb} {name}");
        let bar = (self.mode == Mode::Bars).then(|| {
            let style = ProgressStyle::with_template(BAR_TEMPLATE)
                .expect("a valid template")
                .progress_chars("=> ");
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(style)
                .with_prefix(label.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
            bar
        });
        Arc::new(Meter {
            label,
            total,
            lines: self.mode == Mode::Lines,
            bar,
            state: Mutex::new(LineState {
                step: 0,
                base: 0,
                part_size: 0,
                started: Instant::now(),
                stopped: false,
            }),
        })
    }

    /// The running bar, if one is being drawn.
    fn running(&self) -> Option<ProgressBar> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.clone().filter(|b| !b.is_finished())
    }

    /// A note on stderr (unless quiet), above a running bar.
    pub(crate) fn note(&self, text: &str) {
        if self.mode != Mode::Quiet {
            self.say(text);
        }
    }

    /// A message on stderr even with `--quiet` (how to resume, warnings).
    pub(crate) fn say(&self, text: &str) {
        match self.running() {
            Some(bar) => bar.println(text),
            None => errln!("{text}"),
        }
    }

    /// A result line on stdout, printed without tearing a running bar.
    pub(crate) fn out(&self, text: &str) {
        match self.running() {
            Some(bar) => bar.suspend(|| outln!("{text}")),
            None => outln!("{text}"),
        }
    }
}

struct LineState {
    /// The last 5% step printed.
    step: u64,
    /// Bytes already done when the transfer started (resumed).
    base: u64,
    part_size: u64,
    started: Instant,
    /// Finished or abandoned: late reports (from part tasks being torn
    /// down) must not redraw the bar.
    stopped: bool,
}

/// The progress of one transfer; callable from any thread.
pub(crate) struct Meter {
    label: String,
    total: u64,
    lines: bool,
    bar: Option<ProgressBar>,
    state: Mutex<LineState>,
}

impl Meter {
    fn state(&self) -> std::sync::MutexGuard<'_, LineState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Parts of `part_size` bytes, `resumed` bytes of which are already
    /// on the server (they do not count towards the rate).
    pub(crate) fn set_parts(&self, part_size: u64, resumed: u64) {
        let mut s = self.state();
        s.part_size = part_size;
        s.base = resumed;
        s.started = Instant::now();
        if let Some(bar) = &self.bar {
            bar.set_message(self.parts_text(part_size, 0));
            bar.reset_eta();
        }
    }

    /// `resumed` bytes were already there (they do not count towards the
    /// rate).
    pub(crate) fn set_resumed(&self, resumed: u64) {
        let mut s = self.state();
        s.base = resumed;
        s.started = Instant::now();
        if let Some(bar) = &self.bar {
            bar.set_position(resumed);
            bar.reset_eta();
        }
    }

    /// Bytes done so far (non-decreasing).
    pub(crate) fn update(&self, done: u64) {
        let mut s = self.state();
        if s.stopped {
            return;
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            if s.part_size > 0 {
                bar.set_message(self.parts_text(s.part_size, done));
            }
        }
        if !self.lines {
            return;
        }
        let step = match self.total {
            0 => LINE_STEPS,
            t => (u128::from(done) * u128::from(LINE_STEPS) / u128::from(t)) as u64,
        };
        if step <= s.step {
            return;
        }
        s.step = step;
        let elapsed = s.started.elapsed().as_secs_f64().max(1e-6);
        let rate = (done.saturating_sub(s.base) as f64 / elapsed) as u64;
        let percent = match self.total {
            0 => 100,
            t => u128::from(done) * 100 / u128::from(t),
        };
        let mut line = format!(
            "{}: {percent}% {} / {}, {}/s",
            self.label,
            bytes(done),
            bytes(self.total),
            bytes(rate)
        );
        if s.part_size > 0 {
            line.push_str(&format!(", {}", self.parts_text(s.part_size, done)));
        }
        errln!("{line}");
    }

    fn parts_text(&self, part_size: u64, done: u64) -> String {
        let total = self.total.div_ceil(part_size);
        let sent = if done >= self.total {
            total
        } else {
            done / part_size
        };
        format!("{sent}/{total} parts")
    }

    /// The transfer ended well: the bar stays, full; lines get a last one.
    pub(crate) fn finish(&self, summary: &str) {
        self.state().stopped = true;
        if let Some(bar) = &self.bar {
            bar.set_position(self.total);
            bar.finish();
        }
        if self.lines {
            errln!("{}: {summary}", self.label);
        }
    }

    /// The transfer stopped: the bar stays where it got to.
    pub(crate) fn abandon(&self) {
        self.state().stopped = true;
        if let Some(bar) = &self.bar {
            let parts = bar.message();
            let sep = if parts.is_empty() { "" } else { ", " };
            bar.abandon_with_message(format!("{parts}{sep}stopped"));
        }
    }

    /// Seconds since the transfer (re)started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.state().started.elapsed()
    }
}
