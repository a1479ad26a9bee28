//! Sequence models for vane in burn 0.22 (runtime [`Device`](burn::tensor::Device), no backend
//! type parameter): the hierarchical recurrent model of seed 000, seed 002's CNN-LSTM v2 and the
//! Temporal Fusion Transformer of seed 004, with seed 002's training toolkit — windowed datasets,
//! normaliser, class weights and oversampling, losses, augmentation, AdamW trainer with
//! schedules, early stopping, checkpoints and resume, presets, history and checklist — and the
//! artifacts they are saved in. CPU (`flex`) by default; `wgpu`, `cuda`, `tch` behind features.

pub mod artifact;
pub mod augment;
pub mod bench;
pub mod cnn_lstm;
pub mod data;
pub mod device;
pub mod error;
pub mod hrm;
pub mod loss;
pub mod model;
pub mod nn;
pub mod presets;
pub mod svg;
pub mod tft;
pub mod train;

pub use device::DeviceKind;
pub use error::{ModelError, Result};
pub use model::{ModelConfig, ModelKind, ModelOutput, ModelSpec, SequenceModel};
pub use presets::Preset;
pub use train::{Task, TrainConfig};
