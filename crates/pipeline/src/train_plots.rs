//! Training plots refreshed while a sequence model trains (seed 004: "the visualisation is
//! refreshed every 5 epochs"), set by `[train] plot_every = N` (0 = off).
//!
//! Every `N` epochs, and at the last configured epoch, [`TrainPlots`] redraws in
//! `<artifacts>/.progress/<model name>/` ([`progress_dir`]):
//!
//! ```text
//! loss_curve.png              train and validation loss so far, the best epoch marked
//! predicted_vs_realised.png   regression: the validation windows' predicted against realised
//!                             return, y = x, R²/MAE/direction in the title;
//!                             classification: the confusion matrix (true × predicted)
//! variable_importance.png     TFT only: the mean variable-selection weight per feature over
//!                             (at most IMPORTANCE_WINDOWS of) the validation windows
//! ```
//!
//! Each file is drawn into a temporary sibling and renamed over the old one, so a viewer never
//! sees half a PNG. The plots reuse what the trainer already computed for the epoch (the
//! validation predictions); only the variable-selection weights cost one more forward pass over
//! a small subset, and only on the epochs drawn.
//!
//! When the model is saved, [`TrainPlots::finish`] draws the final set from the kept (best)
//! model and the whole history, and [`TrainPlots::install`] moves the folder into the model's
//! folder as `plots/` (one rename). Models other than the TFT have no variable-selection
//! weights: their `variable_importance.png` is not drawn (permutation importance would cost a
//! pass over the validation set per feature).
//!
//! Drawing never stops training: a plot that cannot be drawn is kept as a note
//! ([`TrainPlots::errors`]) and the run goes on.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use vane_core::Signal;
use vane_models::data::{SeqBatcher, WindowedDataset};
use vane_models::train::{EpochRecord, EpochValidation, Predictions, TrainObserver};
use vane_models::{ModelConfig, SequenceModel, Task};
use vane_report::{Importance, LossSeries, Scatter};

use crate::error::{PipelineError, Result};

/// The folder under the artifacts folder where plots are refreshed during training.
pub const PROGRESS_DIR: &str = ".progress";
/// The loss curve's file name.
pub const LOSS_CURVE: &str = "loss_curve.png";
/// The predicted-vs-realised plot's file name (a confusion matrix for classification).
pub const PREDICTED_VS_REALISED: &str = "predicted_vs_realised.png";
/// The variable-importance plot's file name (TFT only).
pub const VARIABLE_IMPORTANCE: &str = "variable_importance.png";
/// The folder inside the model's folder the final plots are moved to.
pub const PLOTS_DIR: &str = "plots";
/// Most validation windows (evenly spaced) the variable-selection weights are averaged over.
pub const IMPORTANCE_WINDOWS: usize = 512;

/// `<artifacts_dir>/.progress/<name>`: where the plots of model `name` are refreshed.
pub fn progress_dir(artifacts_dir: &Path, name: &str) -> PathBuf {
    artifacts_dir.join(PROGRESS_DIR).join(name)
}

/// Whether epoch `epoch` (1-based) of `epochs` is drawn when plotting every `every` epochs.
pub fn is_plot_epoch(every: usize, epoch: usize, epochs: usize) -> bool {
    every > 0 && (epoch.is_multiple_of(every) || epoch == epochs)
}

/// What one set of plots is drawn from.
#[derive(Debug)]
pub struct PlotInputs<'a, 'b> {
    /// `epoch 5`, `best epoch 12`, … (in the titles).
    pub label: String,
    /// The history so far.
    pub history: &'a [EpochRecord],
    /// Classification or regression.
    pub task: Task,
    /// The model (inference mode, plain device).
    pub model: &'a SequenceModel,
    /// The network's config.
    pub model_config: &'a ModelConfig,
    /// The validation windows.
    pub valid: &'a WindowedDataset<'b>,
    /// The model's outputs on `valid`.
    pub predictions: &'a Predictions,
    /// The device of `model`.
    pub device: &'a Device,
}

/// A [`TrainObserver`] that redraws the training plots every `every` epochs (see the module
/// docs).
#[derive(Debug)]
pub struct TrainPlots {
    dir: PathBuf,
    every: usize,
    title: String,
    quantity: String,
    columns: Vec<String>,
    /// Train and validation loss by epoch index (epoch − 1); NaN for epochs not seen (resumed).
    losses: Vec<(f64, f64)>,
    best_epoch: Option<usize>,
    drawn: Vec<usize>,
    errors: Vec<String>,
}

impl TrainPlots {
    /// Plots into `dir` every `every` epochs (0 = never). `title` starts every plot title (e.g.
    /// the model kind), `quantity` names the regression target (e.g. `expected return`),
    /// `columns` are the feature names in the model's input order.
    pub fn new(
        dir: impl Into<PathBuf>,
        every: usize,
        title: impl Into<String>,
        quantity: impl Into<String>,
        columns: Vec<String>,
    ) -> Self {
        Self {
            dir: dir.into(),
            every,
            title: title.into(),
            quantity: quantity.into(),
            columns,
            losses: Vec::new(),
            best_epoch: None,
            drawn: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The folder the plots are drawn into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The epochs whose plots were drawn, in order.
    pub fn drawn_epochs(&self) -> &[usize] {
        &self.drawn
    }

    /// What could not be drawn (each a sentence naming the file); training went on.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Draws the set of plots into [`TrainPlots::dir`]; returns the files written.
    pub fn draw(&self, p: &PlotInputs<'_, '_>) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(&self.dir).map_err(|source| PipelineError::Io {
            op: "creating",
            path: self.dir.clone(),
            source,
        })?;
        let mut out = Vec::new();
        let loss = LossSeries {
            title: format!("{}: loss per epoch ({})", self.title, p.label),
            train: p.history.iter().map(|r| r.train_loss).collect(),
            valid: p.history.iter().map(|r| r.val_loss).collect(),
            best_epoch: p.history.iter().rposition(|r| r.best).map(|i| i + 1),
            step: String::new(),
        };
        out.push(self.atomic(LOSS_CURVE, |path| vane_report::loss_curve_png(path, &loss))?);
        out.push(self.atomic(PREDICTED_VS_REALISED, |path| self.predicted_vs_realised(path, p))?);
        if let Some(imp) = self.importance(p) {
            out.push(self.atomic(VARIABLE_IMPORTANCE, |path| vane_report::importance_png(path, &imp))?);
        }
        Ok(out)
    }

    /// Draws `name` into a temporary sibling, then renames it over `name`.
    fn atomic(
        &self,
        name: &str,
        draw: impl FnOnce(&Path) -> std::result::Result<(), vane_report::ReportError>,
    ) -> Result<PathBuf> {
        let path = self.dir.join(name);
        // The extension stays `.png`: plotters picks the encoder by it.
        let tmp = self.dir.join(format!(".{name}.tmp.png"));
        if let Err(e) = draw(&tmp) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
        std::fs::rename(&tmp, &path).map_err(|source| PipelineError::Io {
            op: "renaming into place",
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    fn predicted_vs_realised(&self, path: &Path, p: &PlotInputs<'_, '_>) -> vane_report::Result<()> {
        let samples = p.valid.samples();
        match p.task {
            Task::Regression => {
                // The middle output: the point forecast, or the median quantile.
                let predicted =
                    p.predictions.values.iter().map(|v| v.get(v.len() / 2).map_or(f64::NAN, |x| f64::from(*x)));
                let scatter = Scatter {
                    title: format!("{}: predicted vs realised, validation ({})", self.title, p.label),
                    quantity: self.quantity.clone(),
                    predicted: predicted.collect(),
                    realised: samples.iter().map(|s| f64::from(s.target.value)).collect(),
                    percent: true,
                };
                vane_report::scatter_png(path, &scatter)
            }
            Task::Classification => {
                let k = p.model_config.n_classes();
                let names: Vec<String> = if k == Signal::NAMES.len() {
                    Signal::NAMES.iter().map(|s| s.to_string()).collect()
                } else {
                    (0..k).map(|i| format!("class {i}")).collect()
                };
                let mut counts = vec![vec![0u64; k]; k];
                for (s, c) in samples.iter().zip(p.predictions.classes()) {
                    if s.target.class < k && c < k {
                        counts[s.target.class][c] += 1;
                    }
                }
                let title = format!("{}: confusion, validation ({})", self.title, p.label);
                let mut heat = vane_report::confusion_heatmap(&names, &counts, &title)?;
                heat.row_axis = "true class".into();
                heat.col_axis = "predicted class".into();
                vane_report::heatmap_png(path, &heat)
            }
        }
    }

    /// The TFT's mean variable-selection weight per feature over at most
    /// [`IMPORTANCE_WINDOWS`] evenly spaced validation windows; `None` for other models.
    fn importance(&self, p: &PlotInputs<'_, '_>) -> Option<Importance> {
        let SequenceModel::Tft(_) = p.model else { return None };
        let ds = p.valid;
        let n = ds.len();
        if n == 0 || self.columns.len() != ds.n_features() {
            return None;
        }
        let take = n.min(IMPORTANCE_WINDOWS);
        let idx: Vec<usize> = (0..take).map(|i| i * n / take).collect();
        let batcher =
            SeqBatcher { seq_len: ds.seq_len(), n_features: ds.n_features(), n_classes: p.model_config.n_classes() };
        let mut sum = vec![0.0f64; ds.n_features()];
        for chunk in idx.chunks(256) {
            let items: Vec<_> = chunk.iter().map(|&i| ds.get(i)).collect();
            let b = batcher.host(&items).to_device(p.device);
            let interp = p.model.forward(b.x, b.symbol).interpretation?;
            let v = interp.variable_weights.sum_dim(1).sum_dim(0).into_data().try_to_vec::<f32>().ok()?;
            for (a, x) in sum.iter_mut().zip(v) {
                *a += f64::from(x);
            }
        }
        let denom = (take * ds.seq_len()) as f64;
        Some(Importance {
            title: format!("{}: variable selection, validation ({})", self.title, p.label),
            axis: format!("mean variable-selection weight ({take} windows × {} bars)", ds.seq_len()),
            names: self.columns.clone(),
            values: sum.iter().map(|s| s / denom).collect(),
            top: 0,
        })
    }

    /// Draws the final set from the kept model: the whole `history` (the best epoch marked) and
    /// that model's `predictions` on `valid`. A plot that cannot be drawn is a note.
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        &mut self,
        history: &[EpochRecord],
        best_epoch: usize,
        task: Task,
        model: &SequenceModel,
        model_config: &ModelConfig,
        valid: &WindowedDataset<'_>,
        predictions: &Predictions,
        device: &Device,
    ) {
        if self.every == 0 {
            return;
        }
        let inputs = PlotInputs {
            label: format!("kept epoch {best_epoch}/{}", history.len()),
            history,
            task,
            model,
            model_config,
            valid,
            predictions,
            device,
        };
        if let Err(e) = self.draw(&inputs) {
            self.errors.push(format!("final training plots in {}: {e}", self.dir.display()));
        }
    }

    /// Moves the plot folder into `model_dir` as `plots/` (replacing an older one); `None` when
    /// there was nothing to move. A failed move is a note, not an error.
    pub fn install(&mut self, model_dir: &Path) -> Option<PathBuf> {
        if self.every == 0 || !self.dir.is_dir() {
            return None;
        }
        let dest = model_dir.join(PLOTS_DIR);
        let _ = std::fs::remove_dir_all(&dest);
        match std::fs::rename(&self.dir, &dest) {
            Ok(()) => {
                // Drop the empty `.progress` folder when this was the last run using it.
                if let Some(parent) = self.dir.parent() {
                    let _ = std::fs::remove_dir(parent);
                }
                Some(dest)
            }
            Err(e) => {
                self.errors.push(format!(
                    "moving the training plots {} to {}: {e}; they stay where they are",
                    self.dir.display(),
                    dest.display()
                ));
                None
            }
        }
    }

    fn loss_history(&self) -> Vec<EpochRecord> {
        self.losses
            .iter()
            .enumerate()
            .map(|(i, &(train_loss, val_loss))| EpochRecord {
                epoch: i + 1,
                train_loss,
                val_loss,
                train_accuracy: f64::NAN,
                val_accuracy: f64::NAN,
                val_macro_f1: f64::NAN,
                lr: f64::NAN,
                best: self.best_epoch == Some(i + 1),
            })
            .collect()
    }
}

impl TrainObserver for TrainPlots {
    fn on_epoch(&mut self, record: &EpochRecord) {
        let i = record.epoch.saturating_sub(1);
        if self.losses.len() <= i {
            self.losses.resize(i + 1, (f64::NAN, f64::NAN));
        }
        self.losses[i] = (record.train_loss, record.val_loss);
        if record.best {
            self.best_epoch = Some(record.epoch);
        }
    }

    fn on_validation(&mut self, v: &EpochValidation<'_, '_>) {
        let epoch = v.record.epoch;
        if !is_plot_epoch(self.every, epoch, v.epochs) {
            return;
        }
        let history = self.loss_history();
        let inputs = PlotInputs {
            label: format!("epoch {epoch}/{}", v.epochs),
            history: &history,
            task: v.task,
            model: v.model,
            model_config: v.model_config,
            valid: v.valid,
            predictions: v.predictions,
            device: v.device,
        };
        match self.draw(&inputs) {
            Ok(_) => self.drawn.push(epoch),
            Err(e) => self.errors.push(format!("training plots of epoch {epoch} in {}: {e}", self.dir.display())),
        }
    }
}

/// Passes every event to two observers, `first` then `second`.
pub struct Both<'a> {
    /// Called first.
    pub first: &'a mut dyn TrainObserver,
    /// Called second.
    pub second: &'a mut dyn TrainObserver,
}

impl std::fmt::Debug for Both<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Both").finish_non_exhaustive()
    }
}

impl TrainObserver for Both<'_> {
    fn on_start(&mut self, epochs: usize, batches_per_epoch: usize) {
        self.first.on_start(epochs, batches_per_epoch);
        self.second.on_start(epochs, batches_per_epoch);
    }
    fn on_batch(&mut self, epoch: usize, batch: usize, loss: f64) {
        self.first.on_batch(epoch, batch, loss);
        self.second.on_batch(epoch, batch, loss);
    }
    fn on_epoch(&mut self, record: &EpochRecord) {
        self.first.on_epoch(record);
        self.second.on_epoch(record);
    }
    fn on_validation(&mut self, validation: &EpochValidation<'_, '_>) {
        self.first.on_validation(validation);
        self.second.on_validation(validation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_epochs() {
        let drawn: Vec<usize> = (1..=12).filter(|&e| is_plot_epoch(5, e, 12)).collect();
        assert_eq!(drawn, vec![5, 10, 12]);
        assert!(!(1..=12).any(|e| is_plot_epoch(0, e, 12)));
        assert!((1..=3).all(|e| is_plot_epoch(1, e, 3)));
    }
}
