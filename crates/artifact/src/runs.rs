//! The runs registry: one folder per training session under a runs directory (default `runs/`).
//!
//! ```text
//! RUNS/
//!   index.jsonl              one RunSummary per line (derived; rebuilt from the run folders)
//!   <run_id>/
//!     run.json               RunRecord (format_version 1): verb, model, config, environment,
//!                            status, headline metrics, notes, artifact paths
//!     history.csv            epoch,train_loss,valid_loss          (training curves, optional)
//!     returns.csv            open_time_ms,window,return           (test / out-of-sample returns)
//!     windows.csv            walk-forward window metrics          (wfo only)
//!     plots/                 PNG and SVG plots
//! ```
//!
//! - A run id is `<UTC YYYYMMDDTHHMMSS>-<verb>-<model>-<4 hex>`, one safe path component, so ids
//!   sort by start time.
//! - `run.json` is the source of truth. It is written (atomically) when the run starts, with
//!   status `running`, and again when it finishes or fails; a run whose process died stays
//!   `running` and is listed as such.
//! - `index.jsonl` is rewritten (atomically) from the run folders each time a run finishes, for
//!   tools that want one file; [`RunsDir::list`] reads the folders, not the index, so a lost or
//!   stale index loses nothing.
//! - Floats in the CSV files are written with Rust's shortest round-trip formatting, so they read
//!   back bit for bit; a missing value is an empty field.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ArtifactError, Result};
use crate::fs::{write_atomic, write_json};
use crate::versioned::read_json;

/// Format version of `run.json`.
pub const RUN_FORMAT_VERSION: u32 = 1;
/// The run record's file name.
pub const RUN_FILE: &str = "run.json";
/// The index file's name.
pub const INDEX_FILE: &str = "index.jsonl";
/// Training curves.
pub const HISTORY_FILE: &str = "history.csv";
/// Test / out-of-sample returns.
pub const RETURNS_FILE: &str = "returns.csv";
/// Walk-forward window metrics.
pub const WINDOWS_FILE: &str = "windows.csv";
/// Plots folder.
pub const PLOTS_DIR: &str = "plots";

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started, not finished (or its process died).
    Running,
    /// Finished normally.
    Finished,
    /// Ended with an error (the message is in `notes`).
    Failed,
}

/// The machine and program a run ran on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// vane's version.
    pub vane_version: String,
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// Logical CPUs available.
    pub cpus: usize,
    /// The command line.
    pub command_line: Vec<String>,
}

impl Environment {
    /// This process's environment.
    pub fn current() -> Self {
        Self {
            vane_version: env!("CARGO_PKG_VERSION").to_string(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            command_line: std::env::args().collect(),
        }
    }
}

/// `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`RUN_FORMAT_VERSION`].
    pub format_version: u32,
    /// The run id (its folder name).
    pub id: String,
    /// The verb that made it (`train`, `train-test`, `wfo`, `stack-train`, …).
    pub verb: String,
    /// The model kind (`gbdt`, `lorentzian`, `hrm`, …).
    pub model: String,
    /// Symbols trained on.
    pub symbols: Vec<String>,
    /// Bar interval (`4h`, `1s`, …), when there is one.
    pub interval: Option<String>,
    /// Start, ms since the epoch.
    pub created_ms: i64,
    /// End, ms since the epoch (`None` while running).
    pub finished_ms: Option<i64>,
    /// Status.
    pub status: RunStatus,
    /// The run's whole configuration.
    pub config: Value,
    /// Where it ran.
    pub environment: Environment,
    /// Headline metrics (`null`: undefined, e.g. a Sharpe of a constant series).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Free-text notes (warnings, the failure message).
    pub notes: Vec<String>,
    /// Paths of what the run wrote outside its folder (model artifacts).
    pub artifacts: Vec<String>,
}

/// One line of `index.jsonl` and one row of `vane runs list`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Run id.
    pub id: String,
    /// Verb.
    pub verb: String,
    /// Model kind.
    pub model: String,
    /// Symbols.
    pub symbols: Vec<String>,
    /// Interval.
    pub interval: Option<String>,
    /// Start (ms).
    pub created_ms: i64,
    /// End (ms).
    pub finished_ms: Option<i64>,
    /// Status.
    pub status: RunStatus,
    /// Headline metrics.
    pub metrics: BTreeMap<String, Option<f64>>,
}

impl From<&RunRecord> for RunSummary {
    fn from(r: &RunRecord) -> Self {
        Self {
            id: r.id.clone(),
            verb: r.verb.clone(),
            model: r.model.clone(),
            symbols: r.symbols.clone(),
            interval: r.interval.clone(),
            created_ms: r.created_ms,
            finished_ms: r.finished_ms,
            status: r.status,
            metrics: r.metrics.clone(),
        }
    }
}

/// One row of `history.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Training loss.
    pub train_loss: f64,
    /// Validation loss (`None`: no validation).
    pub valid_loss: Option<f64>,
}

/// One row of `returns.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnRow {
    /// Open time of the period's bar (ms).
    pub open_time_ms: i64,
    /// Walk-forward window id (0 for a single test split).
    pub window: usize,
    /// Net return of the period.
    pub ret: f64,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `YYYYMMDDTHHMMSS` (UTC) of `ms`.
fn stamp(ms: i64) -> String {
    let ts = vane_core::Timestamp(ms).to_string();
    // RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fff]Z` → `YYYYMMDDTHHMMSS`.
    ts.chars().take(19).filter(|c| *c != '-' && *c != ':').collect()
}

/// Keeps `[A-Za-z0-9_.-]`, maps the rest to `_` (a verb or model name inside a run id).
fn slug(s: &str) -> String {
    let s: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    if s.is_empty() { "x".into() } else { s }
}

/// Is `id` a plausible run id (one safe path component)?
pub fn valid_run_id(id: &str) -> bool {
    (1..=200).contains(&id.len())
        && !id.starts_with('.')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A runs directory.
#[derive(Clone, Debug)]
pub struct RunsDir {
    root: PathBuf,
}

impl RunsDir {
    /// The runs directory at `root` (created on the first run).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Its path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of run `id` (checked to be one safe path component).
    pub fn run_dir(&self, id: &str) -> Result<PathBuf> {
        if !valid_run_id(id) {
            return Err(ArtifactError::UnknownRun { id: id.to_string(), runs_dir: self.root.clone() });
        }
        Ok(self.root.join(id))
    }

    /// Starts a run: creates its folder and writes `run.json` with status `running`.
    pub fn start(
        &self,
        verb: &str,
        model: &str,
        symbols: &[String],
        interval: Option<&str>,
        config: Value,
    ) -> Result<RunWriter> {
        std::fs::create_dir_all(&self.root).map_err(|e| ArtifactError::io("creating", &self.root, e))?;
        let created_ms = now_ms();
        let base = format!("{}-{}-{}", stamp(created_ms), slug(verb), slug(model));
        // A 16-bit suffix from the clock's nanoseconds and the process id; retried on collision.
        let mut seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
                ^ std::process::id().rotate_left(16);
        let dir = loop {
            let id = format!("{base}-{:04x}", seed & 0xffff);
            let dir = self.root.join(&id);
            match std::fs::create_dir(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    seed = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
                }
                Err(e) => return Err(ArtifactError::io("creating", &dir, e)),
            }
        };
        let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let record = RunRecord {
            format_version: RUN_FORMAT_VERSION,
            id,
            verb: verb.to_string(),
            model: model.to_string(),
            symbols: symbols.to_vec(),
            interval: interval.map(str::to_string),
            created_ms,
            finished_ms: None,
            status: RunStatus::Running,
            config,
            environment: Environment::current(),
            metrics: BTreeMap::new(),
            notes: Vec::new(),
            artifacts: Vec::new(),
        };
        write_json(&dir.join(RUN_FILE), &record)?;
        Ok(RunWriter { runs: self.clone(), dir, record })
    }

    /// Every run, oldest first (by start time, then id), read from the run folders. A folder without a readable
    /// `run.json` is skipped and reported in the second element.
    pub fn scan(&self) -> Result<(Vec<RunRecord>, Vec<ArtifactError>)> {
        let mut runs = Vec::new();
        let mut bad = Vec::new();
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((runs, bad)),
            Err(e) => return Err(ArtifactError::io("listing", &self.root, e)),
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| valid_run_id(&n.to_string_lossy())))
            .collect();
        dirs.sort();
        for d in dirs {
            let file = d.join(RUN_FILE);
            if !file.exists() {
                continue;
            }
            match read_json::<RunRecord>(&file, RUN_FORMAT_VERSION) {
                Ok(r) => runs.push(r),
                Err(e) => bad.push(e),
            }
        }
        // Ids sort by start second; within a second, by the start time in ms.
        runs.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then_with(|| a.id.cmp(&b.id)));
        Ok((runs, bad))
    }

    /// Every run's summary, oldest first.
    pub fn list(&self) -> Result<Vec<RunSummary>> {
        Ok(self.scan()?.0.iter().map(RunSummary::from).collect())
    }

    /// Run `id`'s record.
    pub fn load(&self, id: &str) -> Result<RunRecord> {
        let file = self.run_dir(id)?.join(RUN_FILE);
        if !file.exists() {
            return Err(ArtifactError::UnknownRun { id: id.to_string(), runs_dir: self.root.clone() });
        }
        read_json(&file, RUN_FORMAT_VERSION)
    }

    /// Rewrites `index.jsonl` from the run folders; returns the number of runs.
    pub fn rebuild_index(&self) -> Result<usize> {
        let runs = self.list()?;
        let mut text = String::new();
        for r in &runs {
            let line = serde_json::to_string(r).map_err(|e| ArtifactError::invalid(self.root.join(INDEX_FILE), e))?;
            text.push_str(&line);
            text.push('\n');
        }
        write_atomic(&self.root.join(INDEX_FILE), text.as_bytes())?;
        Ok(runs.len())
    }

    /// Run `id`'s training curves (empty when it has none).
    pub fn history(&self, id: &str) -> Result<Vec<HistoryRow>> {
        let path = self.run_dir(id)?.join(HISTORY_FILE);
        let Some(text) = read_optional(&path)? else { return Ok(Vec::new()) };
        parse_history(&path, &text)
    }

    /// Run `id`'s returns (empty when it has none).
    pub fn returns(&self, id: &str) -> Result<Vec<ReturnRow>> {
        let path = self.run_dir(id)?.join(RETURNS_FILE);
        let Some(text) = read_optional(&path)? else { return Ok(Vec::new()) };
        parse_returns(&path, &text)
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ArtifactError::io("reading", path, e)),
    }
}

fn parse_f64(path: &Path, line: usize, field: &str, s: &str) -> Result<Option<f64>> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<f64>()
        .map(Some)
        .map_err(|_| ArtifactError::invalid(path, format!("line {line}: {field} {s:?} is not a number")))
}

fn data_lines<'a>(path: &Path, text: &'a str, header: &str) -> Result<impl Iterator<Item = (usize, &'a str)>> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, h)) if h.trim() == header => Ok(lines.filter(|(_, l)| !l.trim().is_empty())),
        Some((_, h)) => Err(ArtifactError::invalid(path, format!("header {h:?}, expected {header:?}"))),
        None => Err(ArtifactError::invalid(path, "empty file (no header)")),
    }
}

/// Parses `history.csv`.
pub fn parse_history(path: &Path, text: &str) -> Result<Vec<HistoryRow>> {
    let mut out = Vec::new();
    for (n, l) in data_lines(path, text, "epoch,train_loss,valid_loss")? {
        let f: Vec<&str> = l.split(',').collect();
        if f.len() != 3 {
            return Err(ArtifactError::invalid(path, format!("line {n}: {} fields, expected 3", f.len())));
        }
        let epoch = f[0]
            .parse()
            .map_err(|_| ArtifactError::invalid(path, format!("line {n}: epoch {:?} is not a count", f[0])))?;
        let train_loss = parse_f64(path, n, "train_loss", f[1])?.unwrap_or(f64::NAN);
        out.push(HistoryRow { epoch, train_loss, valid_loss: parse_f64(path, n, "valid_loss", f[2])? });
    }
    Ok(out)
}

/// Parses `returns.csv`.
pub fn parse_returns(path: &Path, text: &str) -> Result<Vec<ReturnRow>> {
    let mut out = Vec::new();
    for (n, l) in data_lines(path, text, "open_time_ms,window,return")? {
        let f: Vec<&str> = l.split(',').collect();
        if f.len() != 3 {
            return Err(ArtifactError::invalid(path, format!("line {n}: {} fields, expected 3", f.len())));
        }
        let bad =
            |what: &str, v: &str| ArtifactError::invalid(path, format!("line {n}: {what} {v:?} is not an integer"));
        out.push(ReturnRow {
            open_time_ms: f[0].parse().map_err(|_| bad("open_time_ms", f[0]))?,
            window: f[1].parse().map_err(|_| bad("window", f[1]))?,
            ret: parse_f64(path, n, "return", f[2])?.unwrap_or(f64::NAN),
        });
    }
    Ok(out)
}

/// A float as the CSV files write it: shortest round trip, empty for `None` or NaN.
pub fn csv_float(x: Option<f64>) -> String {
    match x {
        Some(v) if !v.is_nan() => format!("{v}"),
        _ => String::new(),
    }
}

/// An open run: write its files, then [`RunWriter::finish`] or [`RunWriter::fail`].
#[derive(Debug)]
pub struct RunWriter {
    runs: RunsDir,
    dir: PathBuf,
    record: RunRecord,
}

impl RunWriter {
    /// The run id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The run's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The record so far.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// The run's `plots/` folder (created).
    pub fn plots_dir(&self) -> Result<PathBuf> {
        let p = self.dir.join(PLOTS_DIR);
        std::fs::create_dir_all(&p).map_err(|e| ArtifactError::io("creating", &p, e))?;
        Ok(p)
    }

    /// Sets a headline metric (NaN and ±∞ are stored as `null`).
    pub fn metric(&mut self, name: &str, value: f64) {
        self.record.metrics.insert(name.to_string(), value.is_finite().then_some(value));
    }

    /// Adds a note.
    pub fn note(&mut self, text: impl Into<String>) {
        self.record.notes.push(text.into());
    }

    /// Records an artifact path the run wrote elsewhere.
    pub fn artifact(&mut self, path: &Path) {
        self.record.artifacts.push(path.display().to_string());
    }

    /// Replaces the stored configuration.
    pub fn set_config(&mut self, config: Value) {
        self.record.config = config;
    }

    /// Writes `history.csv`.
    pub fn write_history(&self, rows: &[HistoryRow]) -> Result<()> {
        let mut t = String::from("epoch,train_loss,valid_loss\n");
        for r in rows {
            let _ = writeln!(t, "{},{},{}", r.epoch, csv_float(Some(r.train_loss)), csv_float(r.valid_loss));
        }
        write_atomic(&self.dir.join(HISTORY_FILE), t.as_bytes())
    }

    /// Writes `returns.csv`.
    pub fn write_returns(&self, rows: &[ReturnRow]) -> Result<()> {
        let mut t = String::from("open_time_ms,window,return\n");
        for r in rows {
            let _ = writeln!(t, "{},{},{}", r.open_time_ms, r.window, csv_float(Some(r.ret)));
        }
        write_atomic(&self.dir.join(RETURNS_FILE), t.as_bytes())
    }

    /// Writes (or copies in) any other file of the run, e.g. `windows.csv` (a plain name, no
    /// folders).
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        if !valid_run_id(name) {
            return Err(ArtifactError::invalid(&self.dir, format!("{name:?} is not a plain file name")));
        }
        let p = self.dir.join(name);
        write_atomic(&p, bytes)?;
        Ok(p)
    }

    /// Marks the run finished, writes `run.json` and refreshes the index.
    pub fn finish(mut self) -> Result<RunRecord> {
        self.record.status = RunStatus::Finished;
        self.close()
    }

    /// Marks the run failed with `message`, writes `run.json` and refreshes the index.
    pub fn fail(mut self, message: impl Into<String>) -> Result<RunRecord> {
        self.record.status = RunStatus::Failed;
        self.record.notes.push(message.into());
        self.close()
    }

    fn close(mut self) -> Result<RunRecord> {
        self.record.finished_ms = Some(now_ms());
        write_json(&self.dir.join(RUN_FILE), &self.record)?;
        self.runs.rebuild_index()?;
        Ok(self.record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_round_trips_and_is_listed() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = RunsDir::new(tmp.path().join("runs"));
        assert!(runs.list().unwrap().is_empty(), "a missing runs dir has no runs");
        let mut w = runs
            .start("train-test", "lorentzian", &["BTCUSDT".into()], Some("4h"), serde_json::json!({"lr": 0.001}))
            .unwrap();
        let id = w.id().to_string();
        assert!(id.contains("-train-test-lorentzian-"), "{id}");
        // Listed as running before it finishes.
        assert_eq!(runs.load(&id).unwrap().status, RunStatus::Running);
        let hist = [
            HistoryRow { epoch: 1, train_loss: 1.0986122886681098, valid_loss: Some(1.1) },
            HistoryRow { epoch: 2, train_loss: 0.1 + 0.2, valid_loss: None },
        ];
        w.write_history(&hist).unwrap();
        let rets = [
            ReturnRow { open_time_ms: 1_700_000_000_000, window: 0, ret: -0.012345678901234567 },
            ReturnRow { open_time_ms: 1_700_014_400_000, window: 1, ret: 1e-300 },
        ];
        w.write_returns(&rets).unwrap();
        w.metric("sharpe_ratio", 1.25);
        w.metric("sortino_ratio", f64::NAN);
        let rec = w.finish().unwrap();
        assert_eq!(rec.status, RunStatus::Finished);
        assert_eq!(runs.history(&id).unwrap(), hist, "floats read back bit for bit");
        assert_eq!(runs.returns(&id).unwrap(), rets);
        let loaded = runs.load(&id).unwrap();
        assert_eq!(loaded, rec);
        assert_eq!(loaded.metrics["sortino_ratio"], None);
        let index = std::fs::read_to_string(runs.root().join(INDEX_FILE)).unwrap();
        assert_eq!(index.lines().count(), 1);
        let s: RunSummary = serde_json::from_str(index.lines().next().unwrap()).unwrap();
        assert_eq!(s, RunSummary::from(&rec));
    }

    #[test]
    fn unknown_and_hostile_ids_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = RunsDir::new(tmp.path());
        for id in ["nope", "../etc", "a/b", ""] {
            let e = runs.load(id).unwrap_err();
            assert!(matches!(e, ArtifactError::UnknownRun { .. }), "{id}: {e}");
            assert!(e.to_string().contains("vane runs list"), "{e}");
        }
    }

    #[test]
    fn a_corrupt_run_json_is_reported_not_fatal() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = RunsDir::new(tmp.path());
        let a = runs.start("wfo", "gbdt", &[], None, Value::Null).unwrap().finish().unwrap();
        let bad = runs.start("wfo", "gbdt", &[], None, Value::Null).unwrap();
        std::fs::write(bad.dir().join(RUN_FILE), "{not json").unwrap();
        let (ok, errs) = runs.scan().unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].id, a.id);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().contains(RUN_FILE), "{}", errs[0]);
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let p = Path::new("r/returns.csv");
        let e = parse_returns(p, "open_time_ms,window,return\n1,0,0.5\nx,0,1\n").unwrap_err();
        assert!(e.to_string().contains("line 3") && e.to_string().contains("returns.csv"), "{e}");
        let e = parse_history(p, "wrong\n").unwrap_err();
        assert!(e.to_string().contains("header"), "{e}");
    }
}
