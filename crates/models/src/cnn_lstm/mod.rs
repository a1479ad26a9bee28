//! CNN-LSTM v2 (seed 002's `hybrid_cnn_lstm_v2`).
//!
//! ```text
//! h = GELU(LayerNorm(Conv1d(F → C, k, same)(x)))                         stem
//! repeat n_blocks: h = h + Dropout(GELU(LayerNorm(Conv1d(C → C, k, same)(h))))
//! s = LSTM(C → H)(h)
//! s = LayerNorm(s + Dropout(MHA(s, s, s; n_heads)))                      self-attention
//! p = [mean_t s, s_T]                                                    pooling, 2H
//! logits     = Linear(H → k)(Dropout(GELU(Linear(2H → H)(p))))
//! confidence = σ(Linear(2H → 1)(p)),  value = Linear(2H → 1)(p)
//! ```

/// [`CnnLstmConfig`].
pub mod config;
/// [`CnnLstm`] and its [`ConvBlock`].
pub mod model;

pub use config::CnnLstmConfig;
pub use model::{CnnLstm, ConvBlock};
