//! Sequence models for vane in burn 0.22 (runtime [`Device`](burn::tensor::Device), no backend
//! type parameter): the hierarchical recurrent model of seed 000, seed 002's CNN-LSTM v2, the
//! Temporal Fusion Transformer of seed 004 and seed 003's trainable Lorentzian classifier, with
//! seed 002's training toolkit — windowed datasets, normaliser, class weights and oversampling,
//! losses, augmentation, AdamW trainer with schedules, early stopping, checkpoints and resume,
//! presets, history and checklist — and the artifacts they are saved in.
//!
//! Laid out as burn's own crates: one folder per model ([`hrm`], [`cnn_lstm`], [`tft`],
//! [`lorentzian`]), each with its `FooConfig` (`validate()`, `init(&device) -> Result<Foo>`, never
//! a panic on bad values) and its `Foo` module; building blocks in [`nn`] as `FooConfig`/`Foo`
//! pairs; the forward output in [`output`]. Dropout draws from an explicit [`nn::DropoutRng`].
//!
//! # Feature flags
//! CPU (burn's `flex` backend) is always on. Each flag adds a device ([`DeviceKind`]):
//! - `wgpu`: GPUs through WebGPU (Vulkan, Metal, DX12).
//! - `tch`: LibTorch (CPU or CUDA), through `burn/tch`.
//! - `cuda`: NVIDIA GPUs through CubeCL's CUDA runtime.
#![warn(missing_docs)]

/// Saving and loading trained models.
pub mod artifact;
/// Data augmentation.
pub mod augment;
/// CNN-LSTM v2.
pub mod cnn_lstm;
/// Windowed datasets, normaliser, class weights, batching.
pub mod data;
/// Devices.
pub mod device;
/// Errors of this crate.
pub mod error;
/// Hierarchical recurrent model.
pub mod hrm;
pub mod lorentzian;
/// Losses.
pub mod loss;
pub mod model;
/// Building blocks.
pub mod nn;
/// The forward output shared by every model.
pub mod output;
/// Training presets.
pub mod presets;
pub mod tft;
/// The trainer.
pub mod train;

// Not public API: the training benchmark behind the `vane bench-train` CLI verb; it may change
// or go without notice.
#[doc(hidden)]
pub mod bench;

pub use device::DeviceKind;
pub use error::{ModelError, Result};
pub use model::{ModelConfig, ModelKind, ModelSpec, SequenceModel};
pub use output::{Interpretation, ModelOutput};
pub use presets::Preset;
pub use train::{Task, TrainConfig};
