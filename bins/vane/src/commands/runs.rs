//! The runs registry from the command line: [`record_run`], the one hook every training verb
//! calls to leave `runs/<run_id>/` behind, and `vane runs list|show|compare`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use vane_artifact::runs::{HistoryRow, ReturnRow, RunRecord, RunStatus, RunSummary, RunsDir};

use crate::args::runs::{CompareArgs, ListArgs, RecordArgs, RunsArgs, RunsCommand, ShowArgs};
use crate::output::Render;

// ---------------------------------------------------------------------------------------------
// Recording a run.

/// What a training verb says about itself before any work: the run's identity and the resolved
/// configuration.
#[derive(Clone, Debug)]
pub(crate) struct RunStart {
    /// The verb (`train`, `train-test`, `wfo`, `stack-train`, …).
    pub(crate) verb: String,
    /// The model kind (`gbdt`, `hrm`, `lorentzian`, …).
    pub(crate) model: String,
    /// Symbols trained on.
    pub(crate) symbols: Vec<String>,
    /// Bar interval (`4h`, …).
    pub(crate) interval: Option<String>,
    /// The whole resolved configuration (file + flags + `--set`), as JSON.
    pub(crate) config: Value,
}

/// What a finished training session leaves in its run (everything optional).
#[derive(Clone, Debug, Default)]
pub(crate) struct RunOutcome {
    /// Headline metrics (NaN and ±∞ are stored as null).
    pub(crate) metrics: Vec<(String, f64)>,
    /// Training curves → `history.csv` (not written when empty).
    pub(crate) history: Vec<HistoryRow>,
    /// Test / out-of-sample returns → `returns.csv` (not written when empty).
    pub(crate) returns: Vec<ReturnRow>,
    /// Plot files (PNG, SVG) copied into `plots/`, each under the given name.
    pub(crate) plots: Vec<(String, PathBuf)>,
    /// Other files of the run by plain name (`windows.csv`, …).
    pub(crate) files: Vec<(String, Vec<u8>)>,
    /// What the run wrote elsewhere (model folders, metrics files).
    pub(crate) artifacts: Vec<PathBuf>,
    /// Notes (warnings worth keeping).
    pub(crate) notes: Vec<String>,
    /// A configuration that replaces [`RunStart::config`] (e.g. with values only known after
    /// training, such as a preset's resolved hyperparameters).
    pub(crate) config: Option<Value>,
}

/// The run a training session was recorded as.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RecordedRun {
    /// Run id.
    pub(crate) id: String,
    /// Its folder.
    pub(crate) dir: PathBuf,
}

/// Runs `work` as one recorded training session.
///
/// Unless `--no-run-record`, a run folder is started in `--runs-dir` (status `running`) before
/// `work` runs; on success `outcome` turns the result into the run's metrics, history, returns,
/// plots and artifacts and the run is marked `finished`; on error it is marked `failed` with the
/// error's message, and the error is returned unchanged. Failing to start the run (an unusable
/// runs folder) is an error before any work; failing to write the finished run only warns on
/// stderr, since the trained model is already saved.
pub(crate) fn record_run<T>(
    record: &RecordArgs,
    start: RunStart,
    work: impl FnOnce() -> Result<T>,
    outcome: impl FnOnce(&T) -> RunOutcome,
) -> Result<(T, Option<RecordedRun>)> {
    if record.no_run_record {
        return work().map(|t| (t, None));
    }
    let runs = RunsDir::new(record.runs.path());
    let mut writer = runs
        .start(&start.verb, &start.model, &start.symbols, start.interval.as_deref(), start.config)
        .with_context(|| {
            format!(
                "starting a run record in {} (choose another folder with --runs-dir, or skip with --no-run-record)",
                runs.root().display()
            )
        })?;
    let recorded = RecordedRun { id: writer.id().to_string(), dir: writer.dir().to_path_buf() };
    match work() {
        Ok(t) => {
            // Each file that cannot be written is a note and a warning; the run still finishes.
            let problems = fill(&mut writer, outcome(&t));
            for p in &problems {
                eprintln!("warning: run {}: {p}", recorded.id);
                writer.note(format!("incomplete record: {p}"));
            }
            if let Err(e) = writer.finish() {
                eprintln!("warning: could not finish the run record {}: {e}", recorded.dir.display());
            }
            Ok((t, Some(recorded)))
        }
        Err(e) => {
            let message = crate::failure::messages(&e).join(": ");
            if let Err(w) = writer.fail(message) {
                eprintln!("warning: could not mark run {} failed: {w}", recorded.dir.display());
            }
            Err(e)
        }
    }
}

/// Writes `o` into the run; returns what could not be written.
fn fill(w: &mut vane_artifact::runs::RunWriter, o: RunOutcome) -> Vec<String> {
    if let Some(c) = o.config {
        w.set_config(c);
    }
    for (name, v) in o.metrics {
        w.metric(&name, v);
    }
    for n in o.notes {
        w.note(n);
    }
    for a in &o.artifacts {
        w.artifact(a);
    }
    let mut problems = Vec::new();
    let check = |problems: &mut Vec<String>, r: vane_artifact::Result<()>| {
        if let Err(e) = r {
            problems.push(e.to_string());
        }
    };
    if !o.history.is_empty() {
        check(&mut problems, w.write_history(&o.history));
    }
    if !o.returns.is_empty() {
        check(&mut problems, w.write_returns(&o.returns));
    }
    for (name, bytes) in &o.files {
        check(&mut problems, w.write_file(name, bytes).map(drop));
    }
    if !o.plots.is_empty() {
        match w.plots_dir() {
            Ok(dir) => {
                for (name, src) in &o.plots {
                    match std::fs::read(src) {
                        Ok(bytes) => check(&mut problems, vane_artifact::write_atomic(&dir.join(name), &bytes)),
                        Err(e) => problems.push(format!("reading the plot {}: {e}", src.display())),
                    }
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    problems
}

/// The PNG and SVG files directly in `dir`, each named `<prefix><file name>` (for
/// [`RunOutcome::plots`]); none when `dir` cannot be read.
pub(crate) fn plots_in(dir: &Path, prefix: &str) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "png" || x == "svg"))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            Some((format!("{prefix}{name}"), p))
        })
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// vane runs list | show | compare.

/// The metrics `runs list` shows first, in this order, when a run has them.
const HEADLINE: &[&str] = &[
    "oos_sharpe_ratio",
    "sharpe_ratio",
    "oos_total_return",
    "total_return",
    "log_loss",
    "macro_f1",
    "ece",
    "val_loss",
    "val_macro_f1",
    "wf_log_loss",
    "net_return",
];

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum RunsOutput {
    List(RunList),
    Show(Box<RunShow>),
    Compare(RunCompare),
}

pub(crate) fn run(a: RunsArgs) -> Result<RunsOutput> {
    match a.command {
        RunsCommand::List(a) => list(a).map(RunsOutput::List),
        RunsCommand::Show(a) => show(a).map(|s| RunsOutput::Show(Box::new(s))),
        RunsCommand::Compare(a) => compare(a).map(RunsOutput::Compare),
    }
}

impl Render for RunsOutput {
    fn human(&self) -> String {
        match self {
            RunsOutput::List(r) => r.human(),
            RunsOutput::Show(r) => r.human(),
            RunsOutput::Compare(r) => r.human(),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct RunList {
    runs_dir: PathBuf,
    runs: Vec<RunSummary>,
    /// Run folders whose `run.json` could not be read (each listed, none fatal).
    warnings: Vec<String>,
    /// Runs in the folder before the filters, and the filters given (`--verb trian`): an empty
    /// list then says that the filters, not the folder, left nothing.
    #[serde(skip)]
    scanned: usize,
    #[serde(skip)]
    filters: Vec<String>,
    /// The verbs recorded in the folder, to show next to a filter that matched nothing.
    #[serde(skip)]
    verbs: Vec<String>,
}

fn status_name(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Running => "running",
        RunStatus::Finished => "finished",
        RunStatus::Failed => "failed",
    }
}

fn list(a: ListArgs) -> Result<RunList> {
    let runs = RunsDir::new(a.runs.path());
    let (records, bad) = runs.scan()?;
    let keep = |r: &RunRecord| {
        a.verb.as_deref().is_none_or(|v| r.verb == v)
            && a.model.as_deref().is_none_or(|m| r.model == m)
            && a.symbol.as_deref().is_none_or(|s| r.symbols.iter().any(|x| x.eq_ignore_ascii_case(s)))
            && a.status.as_deref().is_none_or(|s| status_name(r.status) == s)
    };
    let filters = [("--verb", &a.verb), ("--model", &a.model), ("--symbol", &a.symbol), ("--status", &a.status)]
        .into_iter()
        .filter_map(|(f, v)| v.as_deref().map(|v| format!("{f} {v}")))
        .collect();
    let mut verbs: Vec<String> = records.iter().map(|r| r.verb.clone()).collect();
    verbs.sort();
    verbs.dedup();
    Ok(RunList {
        runs_dir: runs.root().to_path_buf(),
        runs: records.iter().filter(|r| keep(r)).map(RunSummary::from).collect(),
        warnings: bad.iter().map(|e| e.to_string()).collect(),
        scanned: records.len(),
        filters,
        verbs,
    })
}

/// `2026-11-27 16:23` (UTC) of `ms`.
fn minute(ms: i64) -> String {
    vane_core::Timestamp(ms).to_string().chars().take(16).map(|c| if c == 'T' { ' ' } else { c }).collect()
}

/// `850ms`, `12.3s`, `4m05s`, `2h03m`.
fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1e3)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1_000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// A metric value in 4 significant figures, `–` for null.
pub(crate) fn num(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e9 => format!("{x:.0}"),
        Some(x) if x.abs() >= 1e4 || x.abs() < 1e-3 => format!("{x:.3e}"),
        Some(x) => {
            let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
            format!("{x:.digits$}")
        }
    }
}

/// Up to `n` headline metrics of a run: the [`HEADLINE`] ones it has first, then the others.
fn headline(metrics: &BTreeMap<String, Option<f64>>, n: usize) -> Vec<(String, Option<f64>)> {
    let mut out: Vec<(String, Option<f64>)> =
        HEADLINE.iter().filter_map(|k| metrics.get(*k).map(|v| ((*k).to_string(), *v))).take(n).collect();
    for (k, v) in metrics {
        if out.len() >= n {
            break;
        }
        if !out.iter().any(|(o, _)| o == k) {
            out.push((k.clone(), *v));
        }
    }
    out
}

impl Render for RunList {
    fn human(&self) -> String {
        let mut s = String::new();
        if self.runs.is_empty() && self.scanned > 0 {
            let _ = writeln!(
                s,
                "none of the {} run(s) in {} matches {} (verbs recorded there: {})",
                self.scanned,
                self.runs_dir.display(),
                self.filters.join(" "),
                self.verbs.join(", ")
            );
        } else if self.runs.is_empty() {
            let _ = writeln!(
                s,
                "no runs in {} (training verbs record one each; see docs/runs.md)",
                self.runs_dir.display()
            );
        } else {
            let w = self.runs.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
            // Columns as wide as their longest entry (`train-test`, `lorentzian-knn`).
            let vw = self.runs.iter().map(|r| r.verb.chars().count()).max().unwrap_or(0).max(10);
            let mw = self.runs.iter().map(|r| r.model.chars().count()).max().unwrap_or(0).max(10);
            let _ = writeln!(
                s,
                "{:<w$}  {:<vw$} {:<mw$} {:<18} {:<4} {:<8} {:<16} {:>8}  metrics",
                "id", "verb", "model", "symbols", "int", "status", "started (UTC)", "duration"
            );
            for r in &self.runs {
                let syms = r.symbols.join(",");
                let syms = if syms.chars().count() > 18 {
                    format!("{}…", syms.chars().take(17).collect::<String>())
                } else {
                    syms
                };
                let dur = r.finished_ms.map_or("–".to_string(), |f| duration(f - r.created_ms));
                let m: Vec<String> =
                    headline(&r.metrics, 3).into_iter().map(|(k, v)| format!("{k} {}", num(v))).collect();
                let _ = writeln!(
                    s,
                    "{:<w$}  {:<vw$} {:<mw$} {:<18} {:<4} {:<8} {:<16} {:>8}  {}",
                    r.id,
                    r.verb,
                    r.model,
                    syms,
                    r.interval.as_deref().unwrap_or("–"),
                    status_name(r.status),
                    minute(r.created_ms),
                    dur,
                    m.join(", ")
                );
            }
            let _ = writeln!(s, "{} run(s) in {}", self.runs.len(), self.runs_dir.display());
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: skipped a run folder: {w}");
        }
        s
    }
}

/// A file of a run folder.
#[derive(Serialize)]
pub(crate) struct RunFile {
    /// Path inside the run folder (`plots/loss_curve.png`).
    path: String,
    /// Bytes.
    bytes: u64,
}

/// What `history.csv` says, in brief.
#[derive(Serialize)]
pub(crate) struct HistorySummary {
    epochs: usize,
    first_train_loss: Option<f64>,
    last_train_loss: Option<f64>,
    /// The lowest validation loss and its epoch (the run's kept epoch may differ: see its
    /// `best_epoch` metric).
    best_valid_loss: Option<f64>,
    best_epoch: Option<usize>,
}

/// What `returns.csv` holds, in brief.
#[derive(Serialize)]
pub(crate) struct ReturnsSummary {
    periods: usize,
    windows: usize,
    first_open_time_ms: Option<i64>,
    last_open_time_ms: Option<i64>,
}

#[derive(Serialize)]
pub(crate) struct RunShow {
    dir: PathBuf,
    record: RunRecord,
    files: Vec<RunFile>,
    history: Option<HistorySummary>,
    returns: Option<ReturnsSummary>,
}

fn files_of(root: &Path, dir: &Path, out: &mut Vec<RunFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_of(root, &p, out);
        } else if let Ok(meta) = p.metadata() {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            out.push(RunFile { path: rel.to_string_lossy().replace('\\', "/"), bytes: meta.len() });
        }
    }
}

fn summarize_history(h: &[HistoryRow]) -> Option<HistorySummary> {
    if h.is_empty() {
        return None;
    }
    let best = h
        .iter()
        .filter_map(|r| r.valid_loss.filter(|v| v.is_finite()).map(|v| (r.epoch, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    Some(HistorySummary {
        epochs: h.len(),
        first_train_loss: h.first().map(|r| r.train_loss).filter(|v| v.is_finite()),
        last_train_loss: h.last().map(|r| r.train_loss).filter(|v| v.is_finite()),
        best_valid_loss: best.map(|b| b.1),
        best_epoch: best.map(|b| b.0),
    })
}

fn show(a: ShowArgs) -> Result<RunShow> {
    let runs = RunsDir::new(a.runs.path());
    let record = runs.load(&a.id)?;
    let dir = runs.run_dir(&a.id)?;
    let mut files = Vec::new();
    files_of(&dir, &dir, &mut files);
    let history = summarize_history(&runs.history(&a.id)?);
    let rets = runs.returns(&a.id)?;
    let returns = (!rets.is_empty()).then(|| ReturnsSummary {
        periods: rets.len(),
        windows: rets.iter().map(|r| r.window).collect::<BTreeSet<_>>().len(),
        first_open_time_ms: rets.first().map(|r| r.open_time_ms),
        last_open_time_ms: rets.last().map(|r| r.open_time_ms),
    });
    Ok(RunShow { dir, record, files, history, returns })
}

impl Render for RunShow {
    fn human(&self) -> String {
        let r = &self.record;
        let mut s = format!("run {}\n", r.id);
        let _ = writeln!(s, "  folder       {}", self.dir.display());
        let _ = writeln!(s, "  verb, model  {} {}", r.verb, r.model);
        let _ = writeln!(
            s,
            "  data         {} {}",
            if r.symbols.is_empty() { "–".to_string() } else { r.symbols.join(",") },
            r.interval.as_deref().unwrap_or("")
        );
        let dur = r.finished_ms.map_or(String::new(), |f| format!(", took {}", duration(f - r.created_ms)));
        let _ = writeln!(s, "  status       {} (started {} UTC{dur})", status_name(r.status), minute(r.created_ms));
        let e = &r.environment;
        let _ = writeln!(s, "  environment  vane {} on {}/{}, {} CPUs", e.vane_version, e.os, e.arch, e.cpus);
        if !e.command_line.is_empty() {
            let _ = writeln!(s, "  command      {}", e.command_line.join(" "));
        }
        if r.metrics.is_empty() {
            let _ = writeln!(s, "metrics: none recorded");
        } else {
            let _ = writeln!(s, "metrics:");
            let w = r.metrics.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &r.metrics {
                let _ = writeln!(s, "  {k:<w$}  {}", num(*v));
            }
        }
        if let Some(h) = &self.history {
            let _ = writeln!(
                s,
                "history: {} epochs, train loss {} → {}, lowest validation loss {} at epoch {}",
                h.epochs,
                num(h.first_train_loss),
                num(h.last_train_loss),
                num(h.best_valid_loss),
                h.best_epoch.map_or("–".to_string(), |e| e.to_string())
            );
        }
        if let Some(x) = &self.returns {
            let _ = writeln!(
                s,
                "returns: {} periods in {} window(s), {} → {}",
                x.periods,
                x.windows,
                crate::output::opt_time(x.first_open_time_ms),
                crate::output::opt_time(x.last_open_time_ms)
            );
        }
        for n in &r.notes {
            let _ = writeln!(s, "note: {n}");
        }
        for a in &r.artifacts {
            let _ = writeln!(s, "artifact: {a}");
        }
        let _ = writeln!(s, "files:");
        for f in &self.files {
            let _ = writeln!(s, "  {:<40} {:>10} bytes", f.path, f.bytes);
        }
        s
    }
}

/// One config key whose values differ between the compared runs.
#[derive(Serialize)]
pub(crate) struct ConfigDiff {
    /// Dotted key (`train.learning_rate`, `symbols`).
    key: String,
    /// Its value in each run, in the order given (`null` where a run lacks the key).
    values: Vec<Value>,
}

#[derive(Serialize)]
pub(crate) struct RunCompare {
    runs: Vec<RunSummary>,
    /// Every metric any run has, each with one value per run.
    metrics: BTreeMap<String, Vec<Option<f64>>>,
    config_differences: Vec<ConfigDiff>,
    /// Config keys equal in every run.
    config_keys_equal: usize,
}

/// `{"a": {"b": 1}, "c": [1, 2]}` → `a.b = 1`, `c = [1, 2]` (arrays are leaves).
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, x, out);
            }
        }
        _ => {
            out.insert(if prefix.is_empty() { "(config)".into() } else { prefix.to_string() }, v.clone());
        }
    }
}

fn compare(a: CompareArgs) -> Result<RunCompare> {
    let runs = RunsDir::new(a.runs.path());
    let records: Vec<RunRecord> = a.ids.iter().map(|id| runs.load(id)).collect::<std::result::Result<_, _>>()?;
    let names: BTreeSet<&String> = records.iter().flat_map(|r| r.metrics.keys()).collect();
    let metrics = names
        .into_iter()
        .map(|k| (k.clone(), records.iter().map(|r| r.metrics.get(k).copied().flatten()).collect()))
        .collect();
    let flat: Vec<BTreeMap<String, Value>> = records
        .iter()
        .map(|r| {
            let mut m = BTreeMap::new();
            flatten("", &r.config, &mut m);
            m
        })
        .collect();
    let keys: BTreeSet<&String> = flat.iter().flat_map(|m| m.keys()).collect();
    let mut config_differences = Vec::new();
    let mut config_keys_equal = 0;
    for k in keys {
        let values: Vec<Value> = flat.iter().map(|m| m.get(k).cloned().unwrap_or(Value::Null)).collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            config_keys_equal += 1;
        } else {
            config_differences.push(ConfigDiff { key: k.clone(), values });
        }
    }
    Ok(RunCompare {
        runs: records.iter().map(RunSummary::from).collect(),
        metrics,
        config_differences,
        config_keys_equal,
    })
}

fn short_value(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        other => other.to_string(),
    };
    if s.chars().count() > 16 { format!("{}…", s.chars().take(15).collect::<String>()) } else { s }
}

impl Render for RunCompare {
    fn human(&self) -> String {
        let mut s = String::new();
        for (i, r) in self.runs.iter().enumerate() {
            let _ = writeln!(
                s,
                "[{}] {}  {} {} {} {} ({})",
                i + 1,
                r.id,
                r.verb,
                r.model,
                r.symbols.join(","),
                r.interval.as_deref().unwrap_or(""),
                status_name(r.status)
            );
        }
        let kw = self
            .metrics
            .keys()
            .chain(self.config_differences.iter().map(|d| &d.key))
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let head: String = (1..=self.runs.len()).map(|i| format!(" {:>16}", format!("[{i}]"))).collect();
        if self.metrics.is_empty() {
            let _ = writeln!(s, "\nmetrics: none recorded");
        } else {
            let _ = writeln!(s, "\n{:<kw$}{head}", "metric");
            for (k, vs) in &self.metrics {
                let row: String = vs.iter().map(|v| format!(" {:>16}", num(*v))).collect();
                let _ = writeln!(s, "{k:<kw$}{row}");
            }
        }
        if self.config_differences.is_empty() {
            let _ = writeln!(s, "\nconfig: the same in every run ({} keys)", self.config_keys_equal);
        } else {
            let _ = writeln!(
                s,
                "\n{:<kw$}{head}\n",
                format!("config ({} differ, {} equal)", self.config_differences.len(), self.config_keys_equal)
            );
            s.pop();
            for d in &self.config_differences {
                let row: String = d.values.iter().map(|v| format!(" {:>16}", short_value(v))).collect();
                let _ = writeln!(s, "{:<kw$}{row}", d.key);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(num(Some(0.123456)), "0.1235");
        assert_eq!(num(Some(12.3456)), "12.35");
        assert_eq!(num(Some(-1.5)), "-1.500");
        assert_eq!(num(None), "–");
        assert_eq!(num(Some(3.0)), "3");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(12_345), "12.3s");
        assert_eq!(duration(245_000), "4m05s");
    }

    #[test]
    fn a_file_that_cannot_be_copied_is_a_note_and_the_run_still_finishes() {
        let tmp = tempfile::tempdir().unwrap();
        let record = RecordArgs {
            runs: crate::args::runs::RunsDirArg { runs_dir: Some(tmp.path().join("runs")) },
            no_run_record: false,
        };
        let start = RunStart {
            verb: "train".into(),
            model: "gbdt".into(),
            symbols: vec!["BTCUSDT".into()],
            interval: Some("4h".into()),
            config: serde_json::json!({"depth": 3}),
        };
        let (v, run) = record_run(
            &record,
            start,
            || Ok(7),
            |_| RunOutcome {
                metrics: vec![("log_loss".into(), 1.0)],
                plots: vec![("gone.png".into(), tmp.path().join("gone.png"))],
                ..RunOutcome::default()
            },
        )
        .unwrap();
        assert_eq!(v, 7);
        let rec = RunsDir::new(tmp.path().join("runs")).load(&run.unwrap().id).unwrap();
        assert_eq!(rec.status, RunStatus::Finished);
        assert_eq!(rec.metrics["log_loss"], Some(1.0));
        assert!(rec.notes.iter().any(|n| n.contains("gone.png")), "{:?}", rec.notes);
        // --no-run-record: nothing written, the work's result returned.
        let skip = RecordArgs { no_run_record: true, ..record };
        let start =
            RunStart { verb: "x".into(), model: "y".into(), symbols: vec![], interval: None, config: Value::Null };
        let (v, run) = record_run(&skip, start, || Ok(1), |_| RunOutcome::default()).unwrap();
        assert!(v == 1 && run.is_none());
        assert_eq!(RunsDir::new(tmp.path().join("runs")).list().unwrap().len(), 1);
    }

    #[test]
    fn configs_flatten_to_dotted_keys() {
        let mut m = BTreeMap::new();
        flatten("", &serde_json::json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"}), &mut m);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a.b", "a.c", "d"]);
    }
}
