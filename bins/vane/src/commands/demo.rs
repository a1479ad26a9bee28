//! `vane demo`.

use std::fmt::Write as _;

use anyhow::Result;
use vane_pipeline::demo::{DemoReport, fixtures_dir, run_demo};

use crate::args::demo::DemoArgs;
use crate::commands::info::table;
use crate::output::Render;

pub(crate) fn run(a: DemoArgs) -> Result<DemoReport> {
    let fixtures = fixtures_dir(a.fixtures.as_deref())?;
    eprintln!(
        "vane demo: training seed 001's GBDT and seed 000's HRM on the bundled candles (seconds in a release build)"
    );
    Ok(run_demo(&a.dir, &fixtures)?)
}

impl Render for DemoReport {
    fn human(&self) -> String {
        let mut s = format!(
            "vane demo: bundled real candles from {} (provenance: SOURCES.md there)\n\n1. import\n",
            self.fixtures.display()
        );
        for i in &self.imports {
            let r = &i.report;
            let _ = writeln!(s, "   {:<16} -> {} ({} rows, {} new)", i.file, r.path.display(), r.total, r.added);
        }
        s.push_str("\n2. resample SOLUSDT 15m -> 1h, 4h\n");
        for (to, n) in &self.resampled {
            let _ = writeln!(s, "   SOLUSDT {:<3} {n} bars", to.as_str());
        }
        let _ = writeln!(s, "\n3. data report ({})", self.store_dir.display());
        s.push_str(&table(&self.store_dir, &self.store));
        s.push_str(
            "\n4. train seed 001 (v1 features, fixed-horizon labels H = 6, θ by walk-forward macro-F1, GBDT with the symbol as a categorical, min_conf by net edge)\n",
        );
        s.push_str(&self.train.human());
        s.push_str("\n5. predict the last closed bar\n");
        for p in &self.predictions {
            let _ = writeln!(s, "   {}", serde_json::to_string(p).unwrap_or_default());
        }
        s.push_str(
            "\n6. a sequence model: seed 000's HRM (64/64, high period 10) over 30-bar windows of v1 features, seed 002's trainer (quick_experiment, 3 epochs)\n",
        );
        let m = &self.sequence.metrics;
        let _ = writeln!(
            s,
            "   {} params, {} training / {} validation windows; best epoch {}: validation loss {:.4}, accuracy {:.3}, macro-F1 {:.3}",
            m.param_count, m.n_train, m.n_valid, m.best_epoch, m.val_loss, m.val_accuracy, m.val_macro_f1
        );
        if let Some(wf) = &self.sequence.walk_forward {
            let _ = writeln!(s, "   walk-forward ({} windows, out of sample): {}", wf.k, wf.verdict.text);
            if let Some(n) = &wf.ece_noise {
                let _ = writeln!(s, "   calibration check: {}", n.text());
            }
            if let Some(c) = &wf.calibration {
                let _ = writeln!(
                    s,
                    "   calibration (calibration.json, applied by predict): {} — {}",
                    c.chosen.name(),
                    c.reason
                );
            }
        }
        let items = &self.sequence.checklist.items;
        let passed = items.iter().filter(|i| i.ok).count();
        let _ = writeln!(s, "   seed 002 checklist: {passed}/{} pass; {}", items.len(), self.sequence.dir.display());
        let c = &self.sequence.checklist;
        if !c.targets.is_empty() {
            let met: Vec<String> =
                c.targets.iter().map(|t| format!("{} {}", t.metric, if t.met { "met" } else { "not met" })).collect();
            let _ = writeln!(s, "   seed 002 targets: {}", met.join(", "));
        }
        for w in &c.warnings {
            let _ = writeln!(s, "   warning: {w}");
        }
        let _ = writeln!(s, "\nartifacts: {}", self.models_dir.display());
        s
    }
}
