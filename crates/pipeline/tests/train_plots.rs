//! Training plots every `plot_every` epochs (seed 004): a tiny TFT regression run draws the loss
//! curve, predicted vs realised and variable importance during training, redraws them each
//! epoch and moves the final set into the model's `plots/`; a classification run draws the
//! confusion matrix and no importance; `plot_every = 0` draws nothing.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use vane_core::Symbol;
use vane_models::data::WindowedDataset;
use vane_models::train::{EpochRecord, EpochValidation, Quiet, Task, TrainInputs, TrainObserver, fit};
use vane_models::{ModelKind, ModelSpec, TrainConfig};
use vane_pipeline::sequence::{SequenceData, SequenceJob, prepare, train_sequence};
use vane_pipeline::train_plots::{
    Both, LOSS_CURVE, PLOTS_DIR, PREDICTED_VS_REALISED, PROGRESS_DIR, TrainPlots, VARIABLE_IMPORTANCE,
};
use vane_testkit::fixture_store_4h;

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

fn data() -> SequenceData {
    SequenceData {
        symbols: vec![sym("BTCUSDT"), sym("ETHUSDT")],
        seq_len: 12,
        max_bars: 300,
        ..SequenceData::default()
    }
}

fn tft() -> ModelSpec {
    ModelSpec { d_model: Some(8), n_heads: Some(2), ..ModelSpec::of(ModelKind::Tft) }
}

fn job(task: Task, model: ModelSpec, plot_every: usize) -> SequenceJob {
    let train = serde_json::from_value(serde_json::json!({
        "preset": "quick_experiment", "epochs": 2, "batch_size": 64, "learning_rate": 1e-3, "plot_every": plot_every
    }))
    .unwrap();
    SequenceJob { task, data: data(), model, train, ..SequenceJob::default() }
}

/// Decodes a PNG and checks it is not blank and has text; returns its size.
fn check_png(file: &Path) -> (u32, u32) {
    let img = image::open(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())).to_rgb8();
    let total = (img.width() * img.height()) as usize;
    let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    assert!(white < total * 97 / 100, "{}: mostly blank ({white} of {total} white)", file.display());
    let dark = img.pixels().filter(|p| p.0.iter().all(|&v| v < 80)).count();
    assert!(dark > 500, "{}: {dark} dark pixels, no text", file.display());
    img.dimensions()
}

/// Copies `file` to `$VANE_REPORT_SAMPLES/name` when that variable is set (to look at).
fn keep(file: &Path, name: &str) {
    if let Ok(dir) = std::env::var("VANE_REPORT_SAMPLES") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(file, PathBuf::from(dir).join(name)).unwrap();
    }
}

/// The plot files (name, bytes) seen after one epoch.
type Seen = (usize, Vec<(String, Vec<u8>)>);

/// Records, at each `on_validation`, which plot files exist in `dir` (or in its one
/// subfolder: `<artifacts>/.progress/<model name>`) and their bytes.
struct Snapshots {
    dir: PathBuf,
    seen: Vec<Seen>,
}

impl TrainObserver for Snapshots {
    fn on_validation(&mut self, v: &EpochValidation<'_, '_>) {
        let sub =
            std::fs::read_dir(&self.dir).ok().and_then(|mut d| d.find_map(|e| e.ok().filter(|e| e.path().is_dir())));
        let dir = sub.map_or(self.dir.clone(), |e| e.path());
        let mut files = Vec::new();
        for name in [LOSS_CURVE, PREDICTED_VS_REALISED, VARIABLE_IMPORTANCE] {
            if let Ok(bytes) = std::fs::read(dir.join(name)) {
                files.push((name.to_string(), bytes));
            }
        }
        self.seen.push((v.record.epoch, files));
    }
    fn on_epoch(&mut self, _record: &EpochRecord) {}
}

#[test]
fn tft_regression_run_draws_refreshes_and_installs_the_plots() {
    let dir = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(dir.path());
    let arts = dir.path().join("artifacts");
    let j = job(Task::Regression, tft(), 1);
    // The caller's observer runs before the plots: at epoch 2 it sees epoch 1's files.
    let mut snap = Snapshots { dir: arts.join(PROGRESS_DIR), seen: Vec::new() };
    let r = train_sequence(&st, &arts, &j, &[], false, &mut snap).unwrap();
    let name = r.dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(r.plot_notes.is_empty(), "{:?}", r.plot_notes);
    assert_eq!(snap.seen.len(), 2);
    assert!(snap.seen[0].1.is_empty(), "nothing drawn before epoch 1");
    assert_eq!(snap.seen[1].1.len(), 3, "epoch 1 drew the three plots");
    // The final set, from the kept model, in plots/; the progress folder is gone.
    let plots = r.dir.join(PLOTS_DIR);
    for name in [LOSS_CURVE, PREDICTED_VS_REALISED, VARIABLE_IMPORTANCE] {
        let f = plots.join(name);
        check_png(&f);
        keep(&f, &format!("train_tft_{name}"));
    }
    assert_eq!(check_png(&plots.join(PREDICTED_VS_REALISED)), vane_report::scatter::SIZE);
    let imp = check_png(&plots.join(VARIABLE_IMPORTANCE));
    assert_eq!(imp.1, 130 + 14 * vane_report::importance::ROW, "one bar per v1 feature (14)");
    let left: Vec<_> = std::fs::read_dir(&plots).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 3, "no temporary files left: {left:?}");
    assert!(!arts.join(PROGRESS_DIR).exists(), "the progress folder is moved, not copied");
    // The final plots differ from epoch 1's (another title, another model).
    let final_loss = std::fs::read(plots.join(LOSS_CURVE)).unwrap();
    assert_ne!(final_loss, snap.seen[1].1[0].1);
    // train.json does not carry plot_every (it does not change the model).
    let config = std::fs::read_to_string(r.dir.join("config.json")).unwrap();
    assert!(!config.contains("plot_every"), "{config}");
    // The same job without plots is the same model folder (replaced, without plots/).
    let off = train_sequence(&st, &arts, &job(Task::Regression, tft(), 0), &[], false, &mut Quiet).unwrap();
    assert_eq!(off.dir.file_name().unwrap().to_string_lossy(), name, "plot_every does not change the model's name");
    assert!(!off.dir.join(PLOTS_DIR).exists());
}

#[test]
fn plots_are_redrawn_every_epoch_through_fit() {
    let dir = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(dir.path());
    let d = data();
    let p = prepare(&st, &d).unwrap();
    let train = WindowedDataset::new(&p.matrix, d.seq_len, p.train.clone(), None).unwrap();
    let valid = WindowedDataset::new(&p.matrix, d.seq_len, p.valid.clone(), None).unwrap();
    let mcfg = tft().resolve(p.columns.len(), 3, d.symbols.len(), None).unwrap();
    let cfg = TrainConfig {
        task: Task::Regression,
        epochs: 2,
        batch_size: 64,
        learning_rate: 1e-3,
        use_augmentation: false,
        plot_every: 1,
        ..TrainConfig::default()
    };
    let inputs = TrainInputs {
        model: &mcfg,
        config: &cfg,
        train: &train,
        valid: &valid,
        checkpoint_dir: None,
        resume: false,
        context: None,
    };
    let out = dir.path().join("progress");
    let mut plots = TrainPlots::new(&out, 1, "tft", "forward return", p.columns.clone());
    // The snapshot runs after the plots: it sees each epoch's own files.
    let mut snap = Snapshots { dir: out.clone(), seen: Vec::new() };
    fit(&inputs, &Device::flex(), &mut Both { first: &mut plots, second: &mut snap }).unwrap();
    assert_eq!(plots.drawn_epochs(), &[1, 2]);
    assert!(plots.errors().is_empty(), "{:?}", plots.errors());
    assert_eq!(snap.seen.len(), 2);
    for (epoch, files) in &snap.seen {
        assert_eq!(files.len(), 3, "epoch {epoch}");
    }
    for (a, b) in snap.seen[0].1.iter().zip(&snap.seen[1].1) {
        assert_eq!(a.0, b.0);
        assert_ne!(a.1, b.1, "{} redrawn at epoch 2", a.0);
    }
    for name in [LOSS_CURVE, PREDICTED_VS_REALISED, VARIABLE_IMPORTANCE] {
        check_png(&out.join(name));
    }

    // Every 5 epochs over 2 epochs: drawn once, at the last epoch.
    let mut sparse = TrainPlots::new(dir.path().join("sparse"), 5, "tft", "forward return", p.columns.clone());
    fit(&inputs, &Device::flex(), &mut sparse).unwrap();
    assert_eq!(sparse.drawn_epochs(), &[2]);
}

#[test]
fn classification_draws_the_confusion_matrix_and_off_draws_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(dir.path());
    let arts = dir.path().join("artifacts");
    let hrm =
        ModelSpec { hidden_low: Some(8), hidden_high: Some(8), high_period: Some(4), ..ModelSpec::of(ModelKind::Hrm) };
    let r = train_sequence(&st, &arts, &job(Task::Classification, hrm.clone(), 1), &[], false, &mut Quiet).unwrap();
    let plots = r.dir.join(PLOTS_DIR);
    check_png(&plots.join(LOSS_CURVE));
    check_png(&plots.join(PREDICTED_VS_REALISED));
    keep(&plots.join(PREDICTED_VS_REALISED), "train_hrm_confusion.png");
    assert!(!plots.join(VARIABLE_IMPORTANCE).exists(), "no variable-selection weights outside the TFT");

    let r = train_sequence(&st, &arts, &job(Task::Classification, hrm, 0), &[], false, &mut Quiet).unwrap();
    assert!(!r.dir.join(PLOTS_DIR).exists(), "plot_every = 0 draws nothing");
    assert!(!arts.join(PROGRESS_DIR).exists());
}
