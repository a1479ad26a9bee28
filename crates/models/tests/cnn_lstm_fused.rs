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
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::nn::fused_seq::set_fused;
use vane_models::nn::{DropoutConfig, DropoutRng};
use vane_models::train::{Quiet, TrainInputs, fit};
use vane_models::{ModelKind, ModelSpec, TrainConfig};

fn dev() -> Device {
    Device::flex()
}

/// The fused/unfused switch and burn's random generator are process-wide: tests take turns.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// Every element within `tol` of the reference, absolute below 1 and relative above.
fn assert_close(name: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{name}: lengths");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * y.abs().max(1.0), "{name}[{k}]: fused {x} vs reference {y}");
    }
}

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

fn dataset(n: usize, seq: usize) -> (FeatureMatrix, Vec<Sample>) {
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]).unwrap();
    let mut samples = Vec::new();
    let mut state = 4242u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) as f32 - 0.5
    };
    for i in 0..n {
        let class = i % 3;
        let mut values = Vec::new();
        for _ in 0..seq {
            values.push(rnd() + class as f32 - 1.0);
            values.push(rnd());
        }
        let rows = m.push_segment(0, &values).unwrap();
        samples.push(Sample { end: rows.end - 1, target: Target { class, value: 0.1 * class as f32, weight: 1.0 } });
    }
    (m, samples)
}

fn curve(fused: bool) -> Vec<(f64, f64)> {
    set_fused(Some(fused));
    let (m, samples) = dataset(24, 8);
    let ds = WindowedDataset::new(&m, 8, samples, Some(3)).unwrap();
    let spec = ModelSpec {
        conv_channels: Some(8),
        lstm_hidden: Some(8),
        n_heads: Some(2),
        n_conv_blocks: Some(2),
        dropout: Some(0.3),
        ..ModelSpec::of(ModelKind::CnnLstm)
    };
    let mcfg = spec.resolve(2, 3, 1, None).unwrap();
    let mut o = serde_json::Map::new();
    for (k, v) in [
        ("learning_rate", serde_json::json!(0.01)),
        ("batch_size", serde_json::json!(8)),
        ("epochs", serde_json::json!(3)),
        ("use_augmentation", serde_json::json!(false)),
        ("scheduler", serde_json::json!("constant")),
        ("early_stopping_patience", serde_json::json!(100)),
    ] {
        o.insert(k.into(), v);
    }
    let cfg = TrainConfig::resolve(None, &[o]).unwrap();
    dev().seed(cfg.seed);
    let inputs = TrainInputs {
        model: &mcfg,
        config: &cfg,
        train: &ds,
        valid: &ds,
        checkpoint_dir: None,
        resume: false,
        context: None,
    };
    let out = fit(&inputs, &dev(), &mut Quiet).unwrap();
    set_fused(None);
    out.history.iter().map(|e| (e.train_loss, e.val_loss)).collect()
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
