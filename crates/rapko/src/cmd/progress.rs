//! The terminal progress display: one bar for package downloads (count and bytes) and a
//! line per architecture for the build phases. Only made when stderr is a terminal.

use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rapko_build::{Phase, Reporter};
use rapko_config::Arch;

pub struct TerminalProgress {
    multi: MultiProgress,
    /// Packages done and packages in the batch.
    counts: Mutex<(usize, usize)>,
    downloads: Mutex<Option<ProgressBar>>,
    phases: Mutex<Vec<(Arch, ProgressBar)>>,
}

impl TerminalProgress {
    pub fn new() -> TerminalProgress {
        TerminalProgress {
            multi: MultiProgress::new(),
            counts: Mutex::new((0, 0)),
            downloads: Mutex::new(None),
            phases: Mutex::new(Vec::new()),
        }
    }

    fn with_downloads(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.downloads.lock()
            && let Some(bar) = guard.as_ref()
        {
            f(bar);
        }
    }
}

impl rapko_repo::Progress for TerminalProgress {
    fn batch(&self, count: usize, bytes: u64) {
        let bar = self.multi.add(ProgressBar::new(bytes));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix("fetch");
        bar.set_message(format!("0/{count} packages"));
        if let Ok(mut c) = self.counts.lock() {
            *c = (0, count);
        }
        bar.set_length(bytes);
        if let Ok(mut d) = self.downloads.lock() {
            *d = Some(bar);
        }
    }

    fn advanced(&self, _package: &str, bytes: u64) {
        self.with_downloads(|b| b.inc(bytes));
    }

    fn finished(&self, _package: &str, _outcome: rapko_repo::Outcome) {
        let Ok(mut c) = self.counts.lock() else {
            return;
        };
        c.0 += 1;
        let (done, total) = *c;
        self.with_downloads(|b| b.set_message(format!("{done}/{total} packages")));
    }
}

impl Reporter for TerminalProgress {
    fn phase(&self, arch: Arch, phase: Phase) {
        let Ok(mut phases) = self.phases.lock() else {
            return;
        };
        let bar = match phases.iter().find(|(a, _)| *a == arch) {
            Some((_, bar)) => bar.clone(),
            None => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_prefix(arch.to_string());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix}: {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(100));
                phases.push((arch, bar.clone()));
                bar
            }
        };
        match phase {
            Phase::Resolve => bar.set_message("resolving"),
            Phase::Fetch => bar.set_message("fetching"),
            Phase::Install => bar.set_message("installing"),
            Phase::Write => bar.set_message("writing layers"),
            Phase::Done => bar.finish_with_message("done"),
        }
    }
}
