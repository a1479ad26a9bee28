//! Times one CNN-LSTM convolution block's forward + backward (batch 64 × seq 60, 64 → 64
//! channels, kernel 3, dropout 0.4 residual), fused vs the burn-op reference, alternated in one
//! process: `cargo run --release -p vane-models --example conv_block_bench`.

use std::time::Instant;

use burn::nn::conv::Conv1dConfig;
use burn::nn::{LayerNormConfig, PaddingConfig1d};
use burn::tensor::{Device, Distribution, Tensor};
use vane_models::cnn_lstm::ConvBlock;
use vane_models::nn::{DropoutConfig, DropoutRng};

fn main() {
    let ad = Device::flex().autodiff();
    let (b, t, c, k) = (64, 60, 64, 3);
    let blk = ConvBlock {
        conv: Conv1dConfig::new(c, c, k).with_padding(PaddingConfig1d::Explicit(k / 2, k / 2)).init(&ad),
        norm: LayerNormConfig::new(c).with_epsilon(1e-5).init(&ad),
    };
    let drop = DropoutConfig::new(0.4).init().expect("dropout");
    let x = Tensor::<3>::random([b, t, c], Distribution::Normal(0.0, 1.0), &ad).require_grad();
    let run = |fused: bool| {
        vane_models::nn::fused_seq::set_fused(Some(fused));
        let start = Instant::now();
        let mut rng = DropoutRng::seeded(1);
        let y = blk.forward_residual(x.clone(), &drop, &mut rng);
        let g = y.sum().backward();
        let _ = blk.conv.weight.val().grad(&g);
        start.elapsed().as_secs_f64() * 1e3
    };
    let (mut f, mut r) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        run(true);
        run(false);
    }
    for _ in 0..60 {
        f.push(run(true));
        r.push(run(false));
    }
    f.sort_by(f64::total_cmp);
    r.sort_by(f64::total_cmp);
    println!(
        "fused: min {:.2} ms, median {:.2} ms; reference: min {:.2} ms, median {:.2} ms",
        f[0],
        f[f.len() / 2],
        r[0],
        r[r.len() / 2]
    );
}
