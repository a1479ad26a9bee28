//! Hierarchical recurrent model (seed 000's L1 network: the Hierarchical Reasoning Model's two
//! timescales adapted to series).
//!
//! `cell` picks the recurrent cell of both levels, `"lstm"` (the default: configs and models
//! saved before the option load unchanged) or `"gru"` (seed 000's examples: our reading of the
//! seed's predecessor, an HRM head whose low GRU reads `[x_t ‖ h_high]` every step and whose high
//! GRU updates every `high_period` steps). Same structure, same heads; see docs/models.md.
//!
//! ```text
//! low  = LSTM (or GRU) cell (F + H_high → H_low), updated every step from [x_t, h_high]
//! high = LSTM (or GRU) cell (H_low → H_high), updated when (t + 1) % high_period == 0 from h_low
//! z = dropout(LayerNorm([h_low, h_high]))  at the last step
//! logits = Linear(H_low + H_high → k)(z),  value = Linear(H_low + H_high → 1)(z)
//! ```
//! The high state's contribution to the low cell's gates, `h_high · W_fb`, changes only when the
//! high cell updates, so it is computed once per update rather than once per step.

/// [`HrmConfig`].
pub mod config;
/// [`HrmInfer`]: batch-of-one inference without burn tensors.
pub mod infer;
/// [`Hrm`].
pub mod model;

pub use config::{HrmCell, HrmConfig};
pub use infer::{HrmInfer, HrmScratch};
pub use model::Hrm;
