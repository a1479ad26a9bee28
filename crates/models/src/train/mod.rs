//! The trainer (seed 002's `model_trainer_v2`): AdamW with weight decay, cosine or
//! reduce-on-plateau learning rate, gradient clipping, early stopping on validation loss with
//! patience, best-checkpoint saving and resume, deterministic seeds; per-epoch history and seed
//! 002's pre-production checklist.

pub mod checklist;
/// Checkpoints: one folder swapped atomically.
pub mod checkpoint;
pub mod config;
/// Early stopping.
pub mod early_stopping;
/// Learning-rate schedules.
pub mod schedule;
pub mod trainer;

pub use checklist::{Checklist, ChecklistInputs, ChecklistItem, DataSummary, GapLosses, NotApplicable, TargetRow};
pub use config::{Task, TrainConfig};
pub use early_stopping::EarlyStopping;
pub use schedule::{Plateau, Scheduler};
pub use trainer::{
    EpochRecord, EpochValidation, Predictions, Quiet, TrainInputs, TrainObserver, TrainOutcome, batch_loss, fit,
    loss_settings, predict,
};
