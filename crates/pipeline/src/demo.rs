//! The offline demo (`vane demo`): import the bundled real candles, resample, report the store,
//! train seed 001's GBDT and predict, train seed 000's HRM with seed 002's trainer.

use std::path::{Path, PathBuf};

use serde::Serialize;
use vane_core::{Interval, Prediction, Symbol};
use vane_market_data::{ImportReport, ParquetStore, SeriesInfo, import_csv, resample, store_info};
use vane_models::train::Quiet;

use crate::config::{Mode, TrainConfig};
use crate::error::{PipelineError, Result};
use crate::predictor::Predictor;
use crate::sequence::{SequenceJob, SequenceReport, train_sequence};
use crate::train::{TrainReport, train};

/// The bundled real candles the demo imports: (file under fixtures/, symbol, interval).
pub const DEMO_FILES: [(&str, &str, Interval); 3] = [
    ("BTCUSDT_4h.csv", "BTCUSDT", Interval::H4),
    ("ETHUSDT_4h.csv", "ETHUSDT", Interval::H4),
    ("SOLUSDT_15m.csv", "SOLUSDT", Interval::M15),
];

/// The demo's sequence job: seed 000's HRM over 30-bar windows, 3 epochs of `quick_experiment`.
pub const DEMO_SEQUENCE_JOB: &str = "[data]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\nseq_len = 30\n[model]\nkind = \"hrm\"\n\
     [train]\npreset = \"quick_experiment\"\nepochs = 3\nlearning_rate = 1e-3\n";

/// The fixtures folder: `given`, else `./fixtures`, else the source tree's (canonical, so the
/// demo prints `/…/vane/fixtures`, not `/…/crates/pipeline/../../fixtures`).
pub fn fixtures_dir(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let local = PathBuf::from("fixtures");
    if local.join("BTCUSDT_4h.csv").is_file() {
        return Ok(local);
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    if built_in.join("BTCUSDT_4h.csv").is_file() {
        return Ok(built_in.canonicalize().unwrap_or(built_in));
    }
    Err(PipelineError::Data(
        "cannot find the bundled fixtures: run from the repository root or pass --fixtures DIR".into(),
    ))
}

/// One imported fixture file.
#[derive(Clone, Debug, Serialize)]
pub struct DemoImport {
    /// The file name under the fixtures folder.
    pub file: String,
    /// What the import did.
    pub report: ImportReport,
}

/// Everything the demo did.
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// The fixtures folder used.
    pub fixtures: PathBuf,
    /// Step 1: the imports.
    pub imports: Vec<DemoImport>,
    /// Step 2: SOLUSDT 15m resampled to these intervals, with their bar counts.
    pub resampled: Vec<(Interval, usize)>,
    /// The store folder.
    pub store_dir: PathBuf,
    /// Step 3: the store report.
    pub store: Vec<SeriesInfo>,
    /// Step 4: seed 001's training report.
    pub train: TrainReport,
    /// Step 5: the last closed bar's prediction per symbol.
    pub predictions: Vec<Prediction>,
    /// Step 6: the HRM's training report.
    pub sequence: SequenceReport,
    /// The artifacts' models folder.
    pub models_dir: PathBuf,
}

/// Runs the demo in `dir` (store in `dir/data`, artifacts in `dir/artifacts`) on `fixtures`.
pub fn run_demo(dir: &Path, fixtures: &Path) -> Result<DemoReport> {
    let store = ParquetStore::new(dir.join("data"));
    let mut imports = Vec::new();
    for (file, sym, iv) in DEMO_FILES {
        let report = import_csv(&store, &fixtures.join(file), &Symbol::new(sym)?, iv)?;
        imports.push(DemoImport { file: file.to_string(), report });
    }
    let sol = Symbol::new("SOLUSDT")?;
    let m15 = store.read(&sol, Interval::M15)?;
    let mut resampled = Vec::new();
    for to in [Interval::H1, Interval::H4] {
        let out = resample(&m15, Interval::M15, to, false)?;
        store.write(&sol, to, &out)?;
        resampled.push((to, out.len()));
    }
    let info = store_info(&store)?;
    let arts = dir.join("artifacts");
    let cfg = TrainConfig::default();
    let train_report = train(&store, &arts, &cfg, Mode::Fast, false)?;
    let mut predictions = Vec::new();
    for s in &cfg.symbols {
        let bars = store.read(s, cfg.interval)?;
        predictions.push(Predictor::for_symbol(&arts, s)?.predict(s, &bars)?);
    }
    let job = SequenceJob::from_toml(DEMO_SEQUENCE_JOB)?;
    let sequence = train_sequence(&store, &arts, &job, &[], false, &mut Quiet)?;
    Ok(DemoReport {
        fixtures: fixtures.to_path_buf(),
        imports,
        resampled,
        store_dir: store.dir().to_path_buf(),
        store: info,
        train: train_report,
        predictions,
        sequence,
        models_dir: arts.join("models"),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Component;

    use super::*;

    #[test]
    fn the_source_trees_fixtures_are_named_without_dot_dot() {
        // Unit tests run in crates/pipeline, which has no ./fixtures: the source tree's is used.
        let dir = fixtures_dir(None).unwrap();
        assert!(dir.is_absolute(), "{}", dir.display());
        assert!(!dir.components().any(|c| c == Component::ParentDir), "{}", dir.display());
        assert!(dir.ends_with("fixtures") && dir.join("BTCUSDT_4h.csv").is_file(), "{}", dir.display());
        // A folder the user gave is kept as given.
        assert_eq!(fixtures_dir(Some(Path::new("my/fixtures"))).unwrap(), PathBuf::from("my/fixtures"));
    }
}
