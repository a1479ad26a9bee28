//! Early stopping on the validation loss with patience.

use serde::{Deserialize, Serialize};

/// The best validation loss so far and the epochs since.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Best (finite) validation loss, once there is one.
    pub best_val: Option<f64>,
    /// Its 1-based epoch (0: none yet).
    pub best_epoch: usize,
    /// Epochs since it.
    pub bad_epochs: usize,
}

impl EarlyStopping {
    /// Records epoch `epoch` (1-based) with validation loss `val_loss`; returns whether it beat
    /// the best by more than `min_delta` (the first finite loss always does).
    pub fn update(&mut self, epoch: usize, val_loss: f64, min_delta: f64) -> bool {
        let improved = val_loss.is_finite() && self.best_val.is_none_or(|b| val_loss < b - min_delta);
        if improved {
            self.best_val = Some(val_loss);
            self.best_epoch = epoch;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        improved
    }

    /// Whether `patience` epochs went by without an improvement.
    pub fn should_stop(&self, patience: usize) -> bool {
        self.bad_epochs >= patience
    }
}
