//! One level's network: a binary HRM (P(up) = class 1) over windows of a row-major input
//! matrix, its normaliser fitted on its training rows, training through `vane_models::train::fit`
//! (sample weights honoured) and saving as `model.bpk` + `net.json`, with the per-epoch weights
//! `model_epoch_<best>.bpk` and `model_epoch_<last>.bpk` (seed 000's `model_epoch_*`, pruned to
//! the best and the last).

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use vane_artifact::Versioned;
use vane_models::data::{FeatureMatrix, NormKind, Normaliser, Sample, Target, WindowedDataset};
use vane_models::hrm::{HrmCell, HrmConfig, HrmInfer, HrmScratch};
use vane_models::loss::LossSettings;
use vane_models::train::{EpochRecord, EpochValidation, TrainInputs, TrainObserver};
use vane_models::{ModelConfig, ModelError, SequenceModel, Task, TrainConfig};

use crate::config::NetConfig;
use crate::error::{Result, StackingError};

/// Format version of `net.json`.
pub const NET_FORMAT_VERSION: u32 = 1;

/// Binary classes: class 1 is "up".
pub const N_CLASSES: usize = 2;

/// What `net.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetFile {
    /// The network.
    pub model: ModelConfig,
    /// Its training settings.
    pub train: TrainConfig,
    /// Input column names.
    pub columns: Vec<String>,
    /// Window length.
    pub seq_len: usize,
    /// Normaliser fitted on the training rows.
    pub normaliser: Normaliser,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
    /// 1-based best epoch.
    pub best_epoch: usize,
    /// Training rows.
    pub n_train: usize,
}

/// A trained level network. An HRM's weights are also copied once into an [`HrmInfer`] (the
/// batch-of-one inference path) that both [`Net::predict`] and [`Net::predict_window`] run, so
/// the backtest and the streaming runtime compute the same bits; build a `Net` with
/// [`Net::new`] (or [`Net::train`] / [`Net::load`]) so that copy matches `model`.
#[derive(Debug, Clone)]
pub struct Net {
    /// Weights.
    pub model: SequenceModel,
    /// Everything else.
    pub file: NetFile,
    /// The HRM's weights for [`HrmInfer`] (None: another model kind, run through burn).
    infer: Option<Arc<HrmInfer>>,
}

thread_local! {
    /// Per-thread state buffers of [`HrmInfer`] (grown to the largest net served, then reused).
    static SCRATCH: RefCell<HrmScratch> = RefCell::new(HrmScratch::new());
}

/// `(v − center) / scale` per column of a row-major window into `out` (the normaliser's
/// arithmetic, the same for the batch and the per-bar call).
fn normalise_into(window: &[f32], norm: &Normaliser, out: &mut Vec<f32>) {
    out.clear();
    out.extend_from_slice(window);
    norm.apply_rows(out);
}

/// One training row: the window's last row and its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Matrix row of the window's last step.
    pub end: usize,
    /// Up (class 1) or not.
    pub up: bool,
    /// Sample weight.
    pub weight: f32,
}

struct KeepLast {
    last: Option<(usize, SequenceModel)>,
}

impl TrainObserver for KeepLast {
    fn on_validation(&mut self, v: &EpochValidation<'_, '_>) {
        self.last = Some((v.record.epoch, v.model.clone()));
    }
}

fn matrix(values: &[f32], columns: &[String]) -> Result<FeatureMatrix> {
    let mut m = FeatureMatrix::new(columns.to_vec())?;
    m.push_segment(0, values)?;
    Ok(m)
}

fn samples(rows: &[Row]) -> Vec<Sample> {
    rows.iter()
        .map(|r| Sample { end: r.end, target: Target { class: usize::from(r.up), value: 0.0, weight: r.weight } })
        .collect()
}

/// The trainer settings of a level.
pub fn train_config(net: &NetConfig, seed: u64) -> TrainConfig {
    TrainConfig {
        learning_rate: net.lr,
        batch_size: net.batch,
        epochs: net.epochs,
        focal_gamma: net.focal_gamma,
        label_smoothing: 0.0,
        mixup_alpha: 0.0,
        use_augmentation: false,
        early_stopping_patience: net.epochs + 1,
        class_weighting: vane_models::data::ClassWeighting::None,
        direction_penalty: 0.0,
        confidence_weight: 0.0,
        value_weight: 0.0,
        seed,
        ..TrainConfig::default()
    }
}

impl Net {
    /// A net from its weights and its file; an HRM's weights are copied into its
    /// [`HrmInfer`] here (an error if they do not have the shapes an HRM needs).
    pub fn new(model: SequenceModel, file: NetFile) -> Result<Net> {
        let infer = match &model {
            SequenceModel::Hrm(h) => Some(Arc::new(HrmInfer::from_model(h)?)),
            _ => None,
        };
        Ok(Net { model, file, infer })
    }

    /// Trains on `rows` of `values` (row-major, `columns.len()` wide; every window of
    /// `seq_len` rows ending at a row's `end` finite). The last 15 % of `rows` (in order) are
    /// the trainer's early-stopping rows. The normaliser is fitted on the rows' last steps.
    pub fn train(
        values: &[f32],
        columns: &[String],
        seq_len: usize,
        rows: &[Row],
        net: &NetConfig,
        seed: u64,
        device: &Device,
    ) -> Result<(Net, Option<(usize, SequenceModel)>)> {
        if rows.len() < 8 {
            return Err(StackingError::InvalidInput(format!(
                "{} training rows: too few to train a network (need ≥ 8; use more bars or a smaller stride)",
                rows.len()
            )));
        }
        let mut m = matrix(values, columns)?;
        let ranges: Vec<std::ops::Range<usize>> = rows.iter().map(|r| r.end..r.end + 1).collect();
        let normaliser = Normaliser::fit(NormKind::ZScore, &m, &ranges)?;
        normaliser.apply(&mut m)?;
        let cut = rows.len() - (rows.len() * 15 / 100).max(1);
        let train = WindowedDataset::new(&m, seq_len, samples(&rows[..cut]), Some(N_CLASSES))?;
        let valid = WindowedDataset::new(&m, seq_len, samples(&rows[cut..]), Some(N_CLASSES))?;
        let cell = if net.cell == "lstm" { HrmCell::Lstm } else { HrmCell::Gru };
        let mut hc = HrmConfig::new(columns.len()).with_n_classes(N_CLASSES);
        hc.hidden_low = net.hidden_low;
        hc.hidden_high = net.hidden_high;
        hc.high_period = net.high_period.min(seq_len).max(1);
        hc.dropout = net.dropout;
        hc.cell = Some(cell);
        let model_cfg = ModelConfig::Hrm(hc);
        let tc = train_config(net, seed);
        let inputs = TrainInputs {
            model: &model_cfg,
            config: &tc,
            train: &train,
            valid: &valid,
            checkpoint_dir: None,
            resume: false,
            context: None,
        };
        let mut keep = KeepLast { last: None };
        let out = vane_models::train::fit(&inputs, device, &mut keep)?;
        let file = NetFile {
            model: model_cfg,
            train: tc,
            columns: columns.to_vec(),
            seq_len,
            normaliser,
            history: out.history,
            best_epoch: out.best_epoch,
            n_train: rows.len(),
        };
        Ok((Net::new(out.model, file)?, keep.last))
    }

    /// P(up) of the windows ending at `ends` of `values` (row-major, this net's columns). An
    /// HRM runs each window through its [`HrmInfer`] (in parallel on the rayon pool, each window
    /// on its own: the same bits as [`Net::predict_window`]); other models a batched burn forward.
    pub fn predict(&self, values: &[f32], ends: &[usize], device: &Device) -> Result<Vec<f64>> {
        if ends.is_empty() {
            return Ok(Vec::new());
        }
        let Some(infer) = &self.infer else {
            return self.predict_burn(values, ends, device);
        };
        let (seq, f) = (self.file.seq_len, self.file.columns.len());
        self.check_normaliser()?;
        if f == 0 || !values.len().is_multiple_of(f) {
            return Err(StackingError::InvalidInput(format!(
                "{} values are not whole rows of this net's {f} columns",
                values.len()
            )));
        }
        let n = values.len() / f;
        if let Some(&bad) = ends.iter().find(|&&e| e >= n || e + 1 < seq) {
            return Err(StackingError::InvalidInput(format!(
                "a window of {seq} rows ending at row {bad}: needs {} ≤ end < {n} (the matrix's rows)",
                seq - 1
            )));
        }
        let norm = &self.file.normaliser;
        let k = infer.n_classes();
        let p = infer.probs_many(ends.len(), |i, buf| {
            let end = ends[i];
            normalise_into(&values[(end + 1 - seq) * f..(end + 1) * f], norm, buf);
            Ok(())
        })?;
        if k < N_CLASSES {
            return Err(self.classes_error(k));
        }
        Ok(p.chunks_exact(k).map(|r| f64::from(r[1])).collect())
    }

    /// [`Net::predict`] through burn: matrix, normaliser, dataset, batched forward.
    fn predict_burn(&self, values: &[f32], ends: &[usize], device: &Device) -> Result<Vec<f64>> {
        let mut m = matrix(values, &self.file.columns)?;
        self.file.normaliser.apply(&mut m)?;
        let rows: Vec<Row> = ends.iter().map(|&end| Row { end, up: false, weight: 1.0 }).collect();
        let ds = WindowedDataset::new(&m, self.file.seq_len, samples(&rows), Some(N_CLASSES))?;
        let p = vane_models::train::predict(
            &self.model,
            &self.file.model,
            &ds,
            Task::Classification,
            &LossSettings::default(),
            1024,
            device,
        );
        Ok(p.probs.iter().map(|r| f64::from(r[1])).collect())
    }

    fn check_normaliser(&self) -> Result<()> {
        let (f, norm) = (self.file.columns.len(), &self.file.normaliser);
        if norm.center.len() != f || norm.scale.len() != f {
            return Err(StackingError::InvalidInput(format!(
                "net.json: a normaliser of {} columns for a net of {f} columns; retrain the level",
                norm.center.len()
            )));
        }
        Ok(())
    }

    fn classes_error(&self, k: usize) -> StackingError {
        StackingError::InvalidInput(format!("the network gave {k} class probabilities, expected {N_CLASSES}"))
    }

    /// P(up) of one window: `window` is `seq_len` rows of this net's columns (row-major,
    /// unnormalised, finite) — the streaming runtime's per-bar call. The same arithmetic as
    /// [`Net::predict`] on a window ending at its last row (the normaliser's `(x − center) /
    /// scale`, the forward pass, the softmax): an HRM through its [`HrmInfer`] with this
    /// thread's reused buffers (no allocation once warm), another model through burn on a
    /// batch of one.
    pub fn predict_window(&self, window: &[f32], device: &Device) -> Result<f64> {
        let (seq, f) = (self.file.seq_len, self.file.columns.len());
        let norm = &self.file.normaliser;
        if window.len() != seq * f || norm.center.len() != f || norm.scale.len() != f {
            return Err(StackingError::InvalidInput(format!(
                "a window of {} values for a net of {seq} steps × {f} columns (normaliser {} columns)",
                window.len(),
                norm.center.len()
            )));
        }
        if let Some(infer) = &self.infer {
            let k = infer.n_classes();
            if k < N_CLASSES {
                return Err(self.classes_error(k));
            }
            let mut out = [0.0f32; 8];
            let mut heap = Vec::new();
            let out: &mut [f32] = if k <= out.len() {
                &mut out[..k]
            } else {
                heap.resize(k, 0.0);
                &mut heap
            };
            SCRATCH.with(|s| -> Result<()> {
                let mut s = s.borrow_mut();
                normalise_into(window, norm, s.window(0));
                infer.probs_of_window(&mut s, out)?;
                Ok(())
            })?;
            return Ok(f64::from(out[1]));
        }
        let mut x = Vec::new();
        normalise_into(window, norm, &mut x);
        let x = Tensor::<3>::from_data(TensorData::new(x, [1, seq, f]), device);
        let symbol = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), device);
        let o = self.model.forward(x, symbol);
        let p = burn::tensor::activation::softmax(o.logits, 1)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| StackingError::InvalidInput(format!("the network's output is not f32: {e:?}")))?;
        p.get(1).map(|&p| f64::from(p)).ok_or_else(|| self.classes_error(p.len()))
    }

    /// Writes `model.bpk`, `net.json` and the epoch checkpoints into `dir` (created).
    pub fn save(&self, dir: &Path, last: Option<&(usize, SequenceModel)>) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| vane_artifact::ArtifactError::io("create", dir, e))?;
        let save = |m: &SequenceModel, name: &str| -> Result<()> {
            let p = dir.join(name);
            m.clone()
                .save_file(&p)
                .map_err(|e| ModelError::Weights { path: p.display().to_string(), message: e.to_string() })?;
            Ok(())
        };
        save(&self.model, "model.bpk")?;
        save(&self.model, &format!("model_epoch_{}.bpk", self.file.best_epoch))?;
        if let Some((epoch, m)) = last
            && *epoch != self.file.best_epoch
        {
            save(m, &format!("model_epoch_{epoch}.bpk"))?;
        }
        vane_artifact::write_json(&dir.join("net.json"), &Versioned::new(NET_FORMAT_VERSION, &self.file))?;
        Ok(())
    }

    /// Loads a net written by [`Net::save`].
    pub fn load(dir: &Path, device: &Device) -> Result<Net> {
        let file: NetFile = vane_artifact::read_json(&dir.join("net.json"), NET_FORMAT_VERSION)?;
        file.model.validate()?;
        let p = dir.join("model.bpk");
        let model = file
            .model
            .init(device)?
            .try_load_file(&p)
            .map_err(|e| ModelError::Weights { path: p.display().to_string(), message: e.to_string() })?;
        Net::new(model, file)
    }
}
