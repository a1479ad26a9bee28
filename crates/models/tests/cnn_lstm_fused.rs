//! The fused convolution block (`nn::fused_conv`: conv + layer norm + GELU, optionally the
//! residual with dropout, one autodiff node with a hand-written backward) against the reference
//! burn-op path (`ConvBlock::forward_reference` / `forward_residual_reference`): forward, the
//! gradients of the input and every parameter with dropout on, for kernels 1, 3 and 5; a whole
//! CNN-LSTM's loss and gradients; and a seeded training curve with the fused ops on and off
//! (`set_fused`, as `VANE_FUSED=0`).

use burn::module::Param;
use burn::nn::conv::Conv1dConfig;
use burn::nn::{Initializer, LayerNormConfig, PaddingConfig1d};
use burn::tensor::{Device, Distribution, Tensor};
use vane_models::cnn_lstm::{CnnLstmConfig, ConvBlock};
use vane_models::nn::fused_seq::set_fused;
use vane_models::nn::{DropoutConfig, DropoutRng};
use vane_models::{ModelKind, ModelSpec};

mod common;
use common::{assert_close, dev, lock, losses, seeded_fit, vals};

/// A block `c_in → c_out`, kernel `k`, on `device`, with a random norm gain and shift (so their
/// gradients are not the trivial ones of `γ = 1, β = 0`).
fn block(ci: usize, co: usize, k: usize, device: &Device) -> ConvBlock {
    dev().seed(31 + k as u64);
    let bound = 1.0 / ((ci * k) as f64).sqrt();
    let mut b = ConvBlock {
        conv: Conv1dConfig::new(ci, co, k)
            .with_padding(PaddingConfig1d::Explicit(k / 2, k / 2))
            .with_initializer(Initializer::Uniform { min: -bound, max: bound })
            .init(device),
        norm: LayerNormConfig::new(co).with_epsilon(1e-5).init(device),
    };
    let rnd = |mean: f64| {
        let t = Tensor::<1>::random([co], Distribution::Normal(mean, 0.3), &dev());
        let t = Tensor::<1>::from_data(t.into_data(), device);
        Param::from_tensor(if device.is_autodiff() { t.require_grad() } else { t })
    };
    b.norm.gamma = rnd(1.0);
    b.norm.beta = Some(rnd(0.0));
    b
}

#[test]
fn fused_block_forward_equals_reference() {
    let _g = lock();
    set_fused(Some(true));
    // t = 2 < k: the kernel overhangs both ends of the sequence.
    for (k, t) in [(1, 7), (3, 7), (5, 7), (5, 2)] {
        for (ci, co) in [(5, 8), (8, 8)] {
            let blk = block(ci, co, k, &dev());
            dev().seed(5);
            let x = Tensor::<3>::random([3, t, ci], Distribution::Normal(0.0, 2.0), &dev());
            let fused = vals(blk.forward(x.clone()));
            let reference = vals(blk.forward_reference(x.clone()));
            assert_close(&format!("k={k} {ci}→{co} output"), &fused, &reference, 1e-5);
            if ci == co {
                let drop = DropoutConfig::new(0.3).init().unwrap();
                let fused = vals(blk.forward_residual(x.clone(), &drop, &mut DropoutRng::off()));
                let reference = vals(blk.forward_residual_reference(x, &drop, &mut DropoutRng::off()));
                assert_close(&format!("k={k} residual output"), &fused, &reference, 1e-5);
            }
        }
    }
    set_fused(None);
}

/// `loss = Σ out ⊙ r` for a fixed random `r`: the output and the gradients of the input and of
/// every parameter, dropout (residual blocks) drawn from the same seeded stream.
fn grads(fused: bool, ci: usize, co: usize, k: usize, residual: bool) -> Vec<(&'static str, Vec<f32>)> {
    set_fused(Some(fused));
    let ad = dev().autodiff();
    let blk = block(ci, co, k, &ad);
    dev().seed(6);
    let x = Tensor::<3>::random([3, 9, ci], Distribution::Normal(0.0, 1.5), &dev());
    let r = Tensor::<3>::random([3, 9, co], Distribution::Normal(0.0, 1.0), &dev());
    let x = Tensor::<3>::from_data(x.into_data(), &ad).require_grad();
    let r = Tensor::<3>::from_data(r.into_data(), &ad);
    let drop = DropoutConfig::new(0.3).init().unwrap();
    let mut rng = DropoutRng::seeded(99);
    let out = match (fused, residual) {
        (true, true) => blk.forward_residual(x.clone(), &drop, &mut rng),
        (true, false) => blk.forward(x.clone()),
        (false, true) => blk.forward_residual_reference(x.clone(), &drop, &mut rng),
        (false, false) => blk.forward_reference(x.clone()),
    };
    let gr = (out.clone() * r).sum().backward();
    set_fused(None);
    let p1 = |t: Tensor<1>| vals(t.grad(&gr).unwrap());
    vec![
        ("out", vals(out)),
        ("x", vals(x.grad(&gr).unwrap())),
        ("conv weight", vals(blk.conv.weight.val().grad(&gr).unwrap())),
        ("conv bias", p1(blk.conv.bias.as_ref().unwrap().val())),
        ("norm gamma", p1(blk.norm.gamma.val())),
        ("norm beta", p1(blk.norm.beta.as_ref().unwrap().val())),
    ]
}

#[test]
fn fused_block_gradients_equal_reference_autodiff_with_dropout() {
    let _g = lock();
    for k in [1, 3, 5] {
        for (ci, co, residual) in [(5, 8, false), (8, 8, false), (8, 8, true)] {
            let f = grads(true, ci, co, k, residual);
            let r = grads(false, ci, co, k, residual);
            for ((name, a), (_, b)) in f.iter().zip(&r) {
                assert_close(&format!("k={k} {ci}→{co} residual={residual} {name}"), a, b, 1e-5);
            }
            if residual {
                // Dropout was on: some outputs equal the input exactly (their block output dropped).
                assert!(f[0].1.iter().all(|v| v.is_finite()));
            }
        }
    }
}

/// A small CNN-LSTM's loss (dropout on) and the gradients of its convolution parameters.
fn cnn_lstm_grads(fused: bool, k: usize) -> (f32, Vec<Vec<f32>>) {
    set_fused(Some(fused));
    let ad = dev().autodiff();
    dev().seed(7);
    let model = CnnLstmConfig::new(4)
        .with_conv_channels(8)
        .with_lstm_hidden(8)
        .with_n_heads(2)
        .with_kernel_size(k)
        .with_dropout(0.3)
        .init(&ad)
        .unwrap();
    dev().seed(8);
    let x = Tensor::<3>::random([3, 6, 4], Distribution::Normal(0.0, 1.0), &dev());
    let x = Tensor::<3>::from_data(x.into_data(), &ad);
    let out = model.forward(x, &mut DropoutRng::seeded(3));
    let loss = out.logits.powi_scalar(2).sum() + out.value.sum();
    let l = vals(loss.clone())[0];
    let g = loss.backward();
    set_fused(None);
    let mut v = Vec::new();
    for b in std::iter::once(&model.stem).chain(&model.blocks) {
        v.push(vals(b.conv.weight.val().grad(&g).unwrap()));
        v.push(vals(b.conv.bias.as_ref().unwrap().val().grad(&g).unwrap()));
        v.push(vals(b.norm.gamma.val().grad(&g).unwrap()));
    }
    v.push(vals(model.dir_out.weight.val().grad(&g).unwrap()));
    (l, v)
}

#[test]
fn cnn_lstm_loss_and_gradients_equal_with_fused_ops_off() {
    let _g = lock();
    for k in [1, 3, 5] {
        let (lf, gf) = cnn_lstm_grads(true, k);
        let (lr, gr) = cnn_lstm_grads(false, k);
        assert!((lf - lr).abs() <= 1e-5 * lr.abs().max(1.0), "k={k} loss fused {lf} vs reference {lr}");
        for (i, (a, b)) in gf.iter().zip(&gr).enumerate() {
            assert_close(&format!("k={k} cnn-lstm gradient {i}"), a, b, 1e-5);
        }
    }
}

fn curve(fused: bool) -> Vec<(f64, f64)> {
    let spec = ModelSpec {
        conv_channels: Some(8),
        lstm_hidden: Some(8),
        n_heads: Some(2),
        n_conv_blocks: Some(2),
        dropout: Some(0.3),
        ..ModelSpec::of(ModelKind::CnnLstm)
    };
    losses(&seeded_fit(&spec, 3, fused))
}

#[test]
fn seeded_cnn_lstm_training_curve_fused_equals_unfused() {
    let _g = lock();
    let f = curve(true);
    let r = curve(false);
    eprintln!("fused {f:?}\nreference {r:?}");
    assert_eq!(f.len(), r.len());
    for (e, ((ft, fv), (rt, rv))) in f.iter().zip(&r).enumerate() {
        assert!((ft - rt).abs() <= 1e-4 * rt.abs().max(1.0), "epoch {}: train {ft} vs {rt}", e + 1);
        assert!((fv - rv).abs() <= 1e-4 * rv.abs().max(1.0), "epoch {}: val {fv} vs {rv}", e + 1);
    }
}
