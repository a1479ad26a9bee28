//! `vane train`: a [`Job`] from the config and `--set` overrides, dispatched to seed 001's GBDT
//! pipeline or the sequence-model trainer; each session recorded in the runs registry
//! ([`record_run`]).

use std::fmt::Write as _;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::{Value, json};
use vane_artifact::runs::HistoryRow;
use vane_core::Timestamp;
use vane_market_data::ParquetStore;
use vane_models::train::{EpochRecord, TrainObserver};
use vane_pipeline::sequence::{SequenceReport, train_sequence};
use vane_pipeline::{Job, TrainReport, train};

use crate::args::train::TrainArgs;
use crate::commands::pg_pipeline::{Materialised, PgRunWrite, materialise, write_sequence_run};
use crate::commands::runs::{RecordedRun, RunOutcome, RunStart, plots_in, record_run};
use crate::output::Render;
use vane_pipeline::artifacts::{EARLIER_BASE_RATE, GBDT, GBDT_CALIBRATED, MAJORITY};

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Trained {
    Gbdt(Box<TrainReport>),
    Sequence(Box<SequenceReport>),
}

/// The train report and the run it was recorded as.
#[derive(Serialize)]
pub(crate) struct TrainOutput {
    #[serde(flatten)]
    trained: Trained,
    /// The run in the registry (absent with `--no-run-record`).
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<RecordedRun>,
    /// With `--database-url`: what the run wrote to PostgreSQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<PgRunWrite>,
}

/// `value` (an object) with `"cli": cli` added.
fn with_cli(value: Value, cli: Value) -> Value {
    match value {
        Value::Object(mut m) => {
            m.insert("cli".into(), cli);
            Value::Object(m)
        }
        other => json!({ "config": other, "cli": cli }),
    }
}

pub(crate) fn run(a: TrainArgs, quiet: bool) -> Result<TrainOutput> {
    // A config that does not parse or validate fails here, before a run is started.
    let mut job = Job::read(a.config.as_deref(), &a.set)?;
    job.set_symbols(&a.symbols)?;
    if let Some(iv) = a.interval {
        match &mut job {
            Job::Gbdt(c) => c.interval = iv,
            Job::Sequence(j) => j.data.interval = iv,
        }
    }
    // `--database-url`: the job's series from raw_market_data, materialised into a temporary
    // parquet store the pipeline reads (docs/postgres.md).
    let mut pg = match &a.pg.database_url {
        Some(url) => Some(crate::commands::db::open(Some(url))?),
        None => None,
    };
    let materialised: Option<Materialised> = match &pg {
        Some(db) => {
            let (symbols, interval) = match &job {
                Job::Gbdt(c) => (c.symbols.clone(), c.interval),
                Job::Sequence(j) => (j.data.symbols.clone(), j.data.interval),
            };
            Some(materialise(db, a.exchange.as_deref(), &symbols, interval)?)
        }
        None => None,
    };
    let store = materialised.as_ref().map_or_else(|| ParquetStore::new(&a.data.data_dir), Materialised::store);
    let mut cli = json!({
        "config_file": a.config,
        "data_dir": a.data.data_dir,
        "artifacts_dir": a.artifacts_dir,
        "permute_labels": a.permute_labels,
    });
    if let Some(db) = &pg {
        cli["database"] = json!({ "server": db.server(), "database": db.database() });
    }
    match job {
        Job::Gbdt(mut cfg) => {
            if a.device.is_some()
                || !a.devices.is_empty()
                || a.preset.is_some()
                || a.resume
                || a.days.is_some()
                || a.walk_forward.is_some()
            {
                bail!(
                    "--device, --devices, --preset, --resume, --days and --walk-forward apply to sequence models (model.kind = hrm | cnn-lstm | tft)"
                );
            }
            cfg.per_symbol |= a.per_symbol;
            let mut cli = cli;
            cli["mode"] = json!(a.mode);
            let start = RunStart {
                verb: "train".into(),
                model: "gbdt".into(),
                symbols: cfg.symbols.iter().map(|s| s.as_str().to_string()).collect(),
                interval: Some(cfg.interval.as_str().to_string()),
                config: with_cli(serde_json::to_value(&cfg)?, cli),
            };
            let (report, run) = record_run(
                &a.record,
                start,
                || Ok(train(&store, &a.artifacts_dir, &cfg, a.mode, a.permute_labels)?),
                gbdt_outcome,
            )?;
            Ok(TrainOutput { trained: Trained::Gbdt(Box::new(report)), run, database: None })
        }
        Job::Sequence(mut job) => {
            if let Some(p) = a.preset {
                job.train.entry("preset").or_insert_with(|| p.as_str().into());
            }
            if let Some(d) = a.device {
                job.device = d;
            }
            if !a.devices.is_empty() {
                job.devices = a.devices.clone();
            }
            job.data.permute_labels |= a.permute_labels;
            if a.days.is_some() {
                job.data.days = a.days;
            }
            if let Some(k) = a.walk_forward {
                job.data.walk_forward = k;
            }
            let mut cli = cli;
            cli["resume"] = json!(a.resume);
            let config = with_cli(serde_json::to_value(&job)?, cli);
            let db_config = config.clone();
            let start = RunStart {
                verb: "train".into(),
                model: job.model.kind.as_str().to_string(),
                symbols: job.data.symbols.iter().map(|s| s.as_str().to_string()).collect(),
                interval: Some(job.data.interval.as_str().to_string()),
                config: config.clone(),
            };
            let mut progress = Progress { bar: None, quiet };
            let result = record_run(
                &a.record,
                start,
                || Ok(train_sequence(&store, &a.artifacts_dir, &job, &[], a.resume, &mut progress)?),
                |r| sequence_outcome(r, config),
            );
            if let Some(b) = &progress.bar {
                b.finish_and_clear();
            }
            let (report, run) = result?;
            let database = match (&mut pg, &materialised) {
                (Some(db), Some(m)) => {
                    let model = report.dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                    let run_id =
                        run.as_ref().map_or_else(|| format!("{model}_{}", Timestamp::now().0), |r| r.id.clone());
                    Some(write_sequence_run(db, m, &job, &report, &db_config, &run_id)?)
                }
                _ => None,
            };
            Ok(TrainOutput { trained: Trained::Sequence(Box::new(report)), run, database })
        }
    }
}

/// Seed 001's GBDT run in the registry: the first model's pooled out-of-sample scores of the
/// shipped (calibrated) GBDT, the verdict against the base rate, the mean net return of its
/// decisions after costs, and every model folder's plots.
fn gbdt_outcome(r: &TrainReport) -> RunOutcome {
    let m = &r.metrics;
    let mut o = RunOutcome::default();
    let mut put = |k: &str, v: f64| o.metrics.push((k.to_string(), v));
    put("theta", r.theta);
    put("min_conf", m.min_conf);
    put("windows", m.windows.len() as f64);
    if let Some(g) = m.pooled.get(GBDT_CALIBRATED).or_else(|| m.pooled.get(GBDT)) {
        put("log_loss", g.log_loss);
        put("ece", g.ece);
        put("brier", g.brier);
        put("accuracy", g.accuracy);
        put("macro_f1", g.macro_f1);
    }
    if let Some(b) = m.pooled.get(MAJORITY) {
        put("majority_log_loss", b.log_loss);
    }
    if let Some(v) = &m.verdict {
        put("log_loss_vs_base_rate", v.log_loss_diff);
        put("brier_skill", v.brier_skill);
    }
    let traded: Vec<f64> = m.windows.iter().filter_map(|w| w.trading.get(GBDT).map(|t| t.net_return)).collect();
    if !traded.is_empty() {
        put("net_return", traded.iter().sum::<f64>() / traded.len() as f64);
    }
    let hold: Vec<f64> = m.windows.iter().filter_map(|w| w.trading.get("buy_and_hold").map(|t| t.net_return)).collect();
    if !hold.is_empty() {
        put("buy_and_hold_net_return", hold.iter().sum::<f64>() / hold.len() as f64);
    }
    let many = r.models.len() > 1;
    for (id, dir) in &r.models {
        o.plots.extend(plots_in(dir, &if many { format!("{id}_") } else { String::new() }));
        o.artifacts.push(dir.clone());
    }
    if many {
        o.notes.push(format!(
            "per-symbol models: the metrics are model {}'s; each model's own are in its metrics.json",
            r.models.first().map_or("", |m| m.0.as_str())
        ));
    }
    if let Some(v) = &m.verdict {
        o.notes.push(format!("verdict: {}", v.text));
    }
    o
}

/// A sequence run in the registry: the best epoch's validation scores, the walk-forward pooled
/// out-of-sample scores and verdict, the epoch history, the loss curve and reliability plots.
fn sequence_outcome(r: &SequenceReport, config: Value) -> RunOutcome {
    let m = &r.metrics;
    let mut o = RunOutcome::default();
    let mut put = |k: &str, v: f64| o.metrics.push((k.to_string(), v));
    put("val_loss", m.val_loss);
    put("val_accuracy", m.val_accuracy);
    put("val_macro_f1", m.val_macro_f1);
    put("best_epoch", m.best_epoch as f64);
    put("epochs_run", m.epochs_run as f64);
    put("params", m.param_count as f64);
    if let Some(w) = &r.walk_forward {
        if let Some(x) = w.pooled.get(&w.model) {
            put("wf_accuracy", x.accuracy);
            put("wf_macro_f1", x.macro_f1);
            put("wf_log_loss", x.log_loss);
            put("wf_brier", x.brier);
            put("wf_ece", x.ece);
        }
        put("wf_windows", w.k as f64);
        put("log_loss_vs_base_rate", w.verdict.log_loss_diff);
        put("brier_skill", w.verdict.brier_skill);
        o.notes.push(format!("verdict: {}", w.verdict.text));
    }
    o.history = r
        .history
        .iter()
        .map(|e: &EpochRecord| HistoryRow { epoch: e.epoch, train_loss: e.train_loss, valid_loss: Some(e.val_loss) })
        .collect();
    o.plots = plots_in(&r.dir, "");
    // The training plots (`train.plot_every`), beside the model's own loss curve.
    o.plots.extend(plots_in(&r.dir.join(vane_pipeline::train_plots::PLOTS_DIR), "training_"));
    o.notes.extend(r.plot_notes.iter().cloned());
    o.artifacts.push(r.dir.clone());
    o.notes.extend(r.checklist.warnings.iter().cloned());
    // The config as given, and the training settings it resolved to (preset + overrides).
    let mut config = config;
    if let (Value::Object(c), Ok(t)) = (&mut config, serde_json::to_value(&r.train)) {
        c.insert("train_resolved".into(), t);
    }
    o.config = Some(config);
    o
}

impl Render for TrainOutput {
    fn human(&self) -> String {
        match &self.trained {
            Trained::Gbdt(r) => r.human(),
            Trained::Sequence(r) => r.human(),
        }
    }
    fn status(&self) -> Option<String> {
        let run = self.run.as_ref().map(|r| format!("run recorded in {} (vane runs show {})", r.dir.display(), r.id));
        let db = self.database.as_ref().map(|d| {
            format!(
                "database {} at {}: model_metadata {}, {} training_sequences rows (run {}), {} walk-forward predictions in model_predictions ({} new, {} replaced, {} unchanged)",
                d.database,
                d.server,
                d.model_id,
                d.training_sequences,
                d.run_id,
                d.predictions.rows,
                d.predictions.inserted,
                d.predictions.updated,
                d.predictions.unchanged
            )
        });
        match (run, db) {
            (Some(r), Some(d)) => Some(format!("{r}\n{d}")),
            (r, d) => r.or(d),
        }
    }
}

impl Render for TrainReport {
    fn human(&self) -> String {
        let m = &self.metrics;
        let mut s = format!(
            "θ = {} (mean walk-forward macro-F1 over {} windows); min_conf = {:.3}\n",
            self.theta,
            m.windows.len(),
            m.min_conf
        );
        let _ = writeln!(
            s,
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "out of sample (mean)", "accuracy", "macro-F1", "log-loss", "Brier", "ECE"
        );
        for (name, x) in &m.mean {
            let label = if name == GBDT {
                format!("{name} (raw)")
            } else if name == GBDT_CALIBRATED {
                "gbdt (shipped)".to_string()
            } else if name == EARLIER_BASE_RATE {
                "earlier windows' base rate".to_string()
            } else {
                format!("{name} baseline")
            };
            let _ = writeln!(
                s,
                "{label:<24} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
                x.accuracy, x.macro_f1, x.log_loss, x.brier, x.ece
            );
        }
        let pooled: Vec<String> = [GBDT_CALIBRATED, GBDT, MAJORITY, EARLIER_BASE_RATE]
            .iter()
            .filter_map(|name| {
                m.pooled.get(*name).map(|g| format!("{name} log-loss {:.4}, ECE {:.4}", g.log_loss, g.ece))
            })
            .collect();
        if !pooled.is_empty() {
            let _ = writeln!(s, "pooled over every out-of-sample row: {}", pooled.join("; "));
        }
        if let Some(v) = &m.verdict {
            let _ = writeln!(s, "verdict: {}", v.text);
        }
        if let Some(n) = &m.ece_noise {
            let _ = writeln!(s, "calibration check: {}", n.text());
        }
        if let Some(c) = &m.calibration {
            let _ =
                writeln!(s, "calibration (calibration.json, applied by predict): {} — {}", c.chosen.name(), c.reason);
        }
        if m.theta_at_edge {
            let _ = writeln!(s, "warning: θ = {} is at an edge of its grid: the best θ may lie beyond it", self.theta);
        }
        if let Some([lo, hi]) = m.theta_grid_widened {
            let _ = writeln!(
                s,
                "note: the first grid's best θ was at its edge, so the grid was widened once to [{lo}, {hi}]"
            );
        }
        if m.trees > 0 {
            let _ = writeln!(s, "shipped model: {} trees (the median of the windows' early-stopped counts)", m.trees);
        }
        for (i, w) in m.windows.iter().enumerate() {
            let f1: Vec<String> = w
                .scores
                .iter()
                .filter(|(name, _)| name.as_str() != GBDT_CALIBRATED && name.as_str() != EARLIER_BASE_RATE)
                .map(|(name, x)| format!("{name} {:.3}", x.macro_f1))
                .collect();
            let ll: Vec<String> = [GBDT_CALIBRATED, MAJORITY]
                .iter()
                .map(|name| w.scores.get(*name).map_or("–".to_string(), |x| format!("{:.4}", x.log_loss)))
                .collect();
            let method = w.calibrator.map_or("none yet", |m| m.name());
            let net: Vec<String> =
                w.trading.iter().map(|(name, t)| format!("{name} {:+.2}%", 100.0 * t.net_return)).collect();
            let _ = writeln!(
                s,
                "  window {i}: {} → {}: macro-F1 {}; log-loss shipped ({method}) / majority {}{}",
                Timestamp(w.test_first_open_time_ms),
                Timestamp(w.test_last_open_time_ms),
                f1.join(" / "),
                ll.join(" / "),
                if net.is_empty() {
                    String::new()
                } else {
                    format!("; net after costs {} (min_conf {:.3})", net.join(" / "), w.min_conf.unwrap_or(f64::NAN))
                }
            );
        }
        if self.by_model.len() > 1 {
            // Per-symbol models: each its own θ, min_conf and scores.
            s = String::new();
            for (id, dir) in &self.models {
                let Some(m) = self.by_model.get(id) else { continue };
                let g = m.mean_of(GBDT);
                let _ = writeln!(
                    s,
                    "model {id}: θ = {}, min_conf = {:.3}, gbdt macro-F1 {:.4} over {} windows: {}",
                    m.theta,
                    m.min_conf,
                    g.map_or(f64::NAN, |x| x.macro_f1),
                    m.windows.len(),
                    dir.display()
                );
            }
            return s;
        }
        for (id, dir) in &self.models {
            let _ = writeln!(s, "model {id}: {}", dir.display());
        }
        s
    }
}

impl Render for SequenceReport {
    fn human(&self) -> String {
        let m = &self.metrics;
        let mut s = format!(
            "{} on {}: {} params, {} training / {} validation windows, best epoch {} of {}{}\n",
            self.model,
            self.device,
            m.param_count,
            m.n_train,
            m.n_valid,
            m.best_epoch,
            m.epochs_run,
            if m.stopped_early { " (early stop)" } else { "" }
        );
        // A regression run has no classes: no accuracy / macro-F1 line (it read "macro-F1 NaN").
        match (&self.validation_regression, &self.validation_classification) {
            (Some(r), _) => {
                let _ = writeln!(
                    s,
                    "validation: loss {:.4}, MAE {:.4} ({:.2} %), RMSE {:.4}, R² {:.4}, direction accuracy {:.4}",
                    m.val_loss, r.mae, r.mae_pct, r.rmse, r.r2, r.direction_accuracy
                );
            }
            (None, Some(c)) => {
                let _ = writeln!(
                    s,
                    "validation: loss {:.4}, accuracy {:.4}, precision {:.4}, recall {:.4}, F1 {:.4}, ROC-AUC {}",
                    m.val_loss,
                    c.accuracy,
                    c.precision,
                    c.recall,
                    c.f1,
                    c.roc_auc.map_or_else(|| "undefined".to_string(), |a| format!("{a:.4}"))
                );
            }
            (None, None) => {
                let _ = writeln!(
                    s,
                    "validation: loss {:.4}, accuracy {:.4}, macro-F1 {:.4}",
                    m.val_loss, m.val_accuracy, m.val_macro_f1
                );
            }
        }
        if let Some(w) = &self.walk_forward_regression {
            let x = &w.pooled;
            let b = &w.pooled_baseline;
            let _ = writeln!(
                s,
                "walk-forward ({} windows, pooled out of sample, {}): MAE {:.4} ({:.2} %), RMSE {:.4}, R² {:.4}, direction accuracy {:.4}; training-mean baseline MAE {:.4}, R² {:.4}",
                w.k, w.point, x.mae, x.mae_pct, x.rmse, x.r2, x.direction_accuracy, b.mae, b.r2
            );
        }
        if let Some(w) = &self.walk_forward {
            if let Some(b) = &w.binary {
                let opt = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |x| format!("{x:.4}"));
                let _ = writeln!(
                    s,
                    "walk-forward ({} windows, pooled out of sample, P({})): log-loss {:.4} vs the training base rate's {:.4} (base rate {:.3}); ECE {:.4}; calibrated on earlier windows ({} rows): log-loss {} (raw {}), ECE {} (raw {}); {}",
                    w.k,
                    b.classes.last().map_or("up", String::as_str),
                    b.log_loss,
                    b.base_rate_log_loss,
                    b.base_rate,
                    b.ece,
                    b.calibrated_rows,
                    opt(b.calibrated_log_loss),
                    opt(b.calibrated_rows_raw_log_loss),
                    opt(b.calibrated_ece),
                    opt(b.calibrated_rows_raw_ece),
                    b.rule
                );
            }
            if let Some(c) = &w.classification {
                let _ = writeln!(
                    s,
                    "walk-forward ({} windows, pooled out of sample): accuracy {:.4}, precision {:.4}, recall {:.4}, F1 {:.4}, ROC-AUC {}",
                    w.k,
                    c.accuracy,
                    c.precision,
                    c.recall,
                    c.f1,
                    c.roc_auc.map_or_else(|| "undefined".to_string(), |a| format!("{a:.4}"))
                );
            }
            for (name, x) in &w.pooled {
                let _ = writeln!(
                    s,
                    "walk-forward ({} windows, pooled out of sample) {name}: accuracy {:.4}, macro-F1 {:.4}, log-loss {:.4}, Brier {:.4}, ECE {:.4}",
                    w.k, x.accuracy, x.macro_f1, x.log_loss, x.brier, x.ece
                );
            }
            let _ = writeln!(s, "verdict: {}", w.verdict.text);
            if let Some(n) = &w.ece_noise {
                let _ = writeln!(s, "calibration check: {}", n.text());
            }
        }
        let _ = writeln!(s, "{}", self.calibration_note);
        if let Some(e) = &self.seed004 {
            let _ = writeln!(s, "seed 004 expected results: {}", if e.all_met { "all met" } else { "NOT all met" });
            for r in &e.rows {
                let value = r.value.map_or_else(|| "–".to_string(), |v| format!("{v:.2} %"));
                let verdict = if r.met { "met".to_string() } else { format!("not met ({})", r.status) };
                let _ = writeln!(
                    s,
                    "  {:<24} target {:<10} value {:>9}  {verdict}  [{}]",
                    r.metric, r.target, value, r.source
                );
            }
        }
        let c = &self.checklist;
        if let Some(d) = &c.data {
            let asked = d.requested_days.map_or(String::new(), |n| format!(" (asked for the last {n})"));
            let counts: Vec<String> =
                self.classes.iter().zip(&d.label_counts).map(|(n, k)| format!("{n} {k}")).collect();
            let _ = writeln!(s, "data: {:.1} days{asked}; labels {}", d.days, counts.join(", "));
        }
        let _ = writeln!(
            s,
            "pre-production checklist (seed 002): {}",
            if c.passed { "all applicable items pass" } else { "NOT all applicable items pass" }
        );
        for i in &c.items {
            let _ = writeln!(s, "  [{}] {:<44} {}", if i.ok { "x" } else { " " }, i.rule, i.value);
        }
        for n in &c.not_applicable {
            let _ = writeln!(s, "  [-] {:<44} not applicable: {}", n.rule, n.reason);
        }
        if !c.targets.is_empty() {
            let _ = writeln!(s, "seed 002 targets: {}", if c.targets_met { "all met" } else { "NOT all met" });
            for t in &c.targets {
                let value = t.value.map_or_else(|| "–".to_string(), |v| format!("{v:.4}"));
                let verdict = if t.met { "met".to_string() } else { format!("not met ({})", t.status) };
                let _ = writeln!(s, "  {:<14} target {:<8} value {:>8}  {verdict}", t.metric, t.target, value);
                if let Some(n) = &t.note {
                    let _ = writeln!(s, "  {:<14} ({n})", "");
                }
            }
        }
        for w in &c.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        let _ = writeln!(s, "artifacts: {}", self.dir.display());
        s
    }
}

/// The progress bar of a sequence training run.
struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl TrainObserver for Progress {
    fn on_start(&mut self, epochs: usize, batches: usize) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new((epochs * batches) as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} batches {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.bar = Some(bar);
    }
    fn on_batch(&mut self, epoch: usize, _batch: usize, loss: f64) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("epoch {epoch} loss {loss:.4}"));
        }
    }
    fn on_epoch(&mut self, r: &EpochRecord) {
        if let Some(b) = &self.bar {
            // Regression records carry no macro-F1 (NaN) and a direction accuracy; their training
            // "accuracy" is the untrained class head's, so it is not shown.
            let (train, scores) = if r.val_macro_f1.is_nan() {
                (String::new(), format!("direction acc {:.3}", r.val_accuracy))
            } else {
                (
                    format!(" acc {:.3}", r.train_accuracy),
                    format!("acc {:.3} macro-F1 {:.3}", r.val_accuracy, r.val_macro_f1),
                )
            };
            let line = format!(
                "epoch {:>3}: train loss {:.4}{train} | val loss {:.4} {scores} | lr {:.2e}{}",
                r.epoch,
                r.train_loss,
                r.val_loss,
                r.lr,
                if r.best { "  *best" } else { "" }
            );
            if b.is_hidden() { eprintln!("{line}") } else { b.println(line) }
        }
    }
}
