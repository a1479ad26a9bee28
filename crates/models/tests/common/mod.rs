//! What the fused-op tests share: the CPU device, the lock that makes them take turns, reading
//! a tensor back, and the closeness check of fused against reference values.
#![allow(dead_code)] // each test binary uses its own subset

use burn::tensor::{Device, Tensor};
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::nn::fused_seq::set_fused;
use vane_models::train::{Quiet, TrainInputs, TrainOutcome, fit};
use vane_models::{ModelSpec, TrainConfig};

/// The `flex` CPU device the fused ops run on.
pub fn dev() -> Device {
    Device::flex()
}

/// The fused/unfused switch and burn's random generator are process-wide: tests take turns.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the turn until dropped (a test that panicked does not block the others).
pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The tensor's values as `f32`, row-major.
pub fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// Every element within `tol` of the reference, absolute below 1 and relative above.
pub fn assert_close(name: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{name}: lengths");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * y.abs().max(1.0), "{name}[{k}]: fused {x} vs reference {y}");
    }
}

/// `n` windows of `seq` steps over two features, class `i % 3` for window `i`, the first feature
/// shifted by the class (learnable), the rest seeded noise.
pub fn dataset(n: usize, seq: usize) -> (FeatureMatrix, Vec<Sample>) {
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

/// Learning rate 0.01, batch 8, `epochs` epochs, no augmentation, a constant rate, no early stop.
pub fn train_config(epochs: usize) -> TrainConfig {
    let mut o = serde_json::Map::new();
    for (k, v) in [
        ("learning_rate", serde_json::json!(0.01)),
        ("batch_size", serde_json::json!(8)),
        ("epochs", serde_json::json!(epochs)),
        ("use_augmentation", serde_json::json!(false)),
        ("scheduler", serde_json::json!("constant")),
        ("early_stopping_patience", serde_json::json!(100)),
    ] {
        o.insert(k.into(), v);
    }
    TrainConfig::resolve(None, &[o]).unwrap()
}

/// A seeded training run of `spec` on [`dataset`]`(24, 8)` (windows of 8, 3 classes) for
/// `epochs` epochs with the fused ops on or off (the switch is reset afterwards).
pub fn seeded_fit(spec: &ModelSpec, epochs: usize, fused: bool) -> TrainOutcome {
    set_fused(Some(fused));
    let (m, samples) = dataset(24, 8);
    let ds = WindowedDataset::new(&m, 8, samples, Some(3)).unwrap();
    let mcfg = spec.resolve(2, 3, 1, None).unwrap();
    let cfg = train_config(epochs);
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
    out
}

/// Per epoch (train loss, validation loss).
pub fn losses(out: &TrainOutcome) -> Vec<(f64, f64)> {
    out.history.iter().map(|e| (e.train_loss, e.val_loss)).collect()
}

/// A copy of `lin` with its weight and bias moved to `device`, tracked (`require_grad`) when it is
/// an autodiff device.
pub fn linear_on(lin: &burn::nn::Linear, device: &Device) -> burn::nn::Linear {
    use burn::module::Param;
    let w = Tensor::<2>::from_data(lin.weight.val().into_data(), device);
    let b = Tensor::<1>::from_data(lin.bias.as_ref().expect("a biased projection").val().into_data(), device);
    let (w, b) = if device.is_autodiff() { (w.require_grad(), b.require_grad()) } else { (w, b) };
    let mut out = lin.clone();
    out.weight = Param::from_tensor(w);
    out.bias = Some(Param::from_tensor(b));
    out
}

/// One attention layer's fused-versus-reference case on the autodiff device: `layer` builds it
/// there (with [`linear_on`]'s tracked parameters), `lins` names its query, key, value and output
/// projections, and `forward` runs it (returning the output and any extra values to compare, such
/// as attention weights). With `x [3, t, 8]` and a fixed random `r`, `loss = Σ output ⊙ r`, dropout
/// drawn from a seeded stream: the output, the extras, the gradients of x and of the eight
/// parameters, and the stream's next draw (both paths must consume the same number).
pub fn attention_case<L>(
    fused: bool,
    t: usize,
    layer: impl Fn(&Device) -> L,
    lins: impl Fn(&L) -> [&burn::nn::Linear; 4],
    forward: impl Fn(&L, Tensor<3>, &mut vane_models::nn::DropoutRng) -> (Tensor<3>, Vec<f32>),
) -> Vec<(&'static str, Vec<f32>)> {
    use burn::tensor::Distribution;
    set_fused(Some(fused));
    let ad = dev().autodiff();
    assert_eq!(vane_models::nn::fused_seq::fused_available(&ad), fused);
    let (b, d) = (3, 8);
    let l = layer(&ad);
    dev().seed(4);
    let x = Tensor::<3>::random([b, t, d], Distribution::Normal(0.0, 1.0), &dev());
    let r = Tensor::<3>::random([b, t, d], Distribution::Normal(0.0, 1.0), &dev());
    let x = Tensor::<3>::from_data(x.into_data(), &ad).require_grad();
    let r = Tensor::<3>::from_data(r.into_data(), &ad);
    let mut rng = vane_models::nn::DropoutRng::seeded(17);
    let (y, extra) = forward(&l, x.clone(), &mut rng);
    let after = rng.next_u64();
    let g = (y.clone() * r).sum().backward();
    let [q, k, v, o] = lins(&l);
    let w = |lin: &burn::nn::Linear| vals(lin.weight.val().grad(&g).unwrap());
    let bias = |lin: &burn::nn::Linear| vals(lin.bias.as_ref().unwrap().val().grad(&g).unwrap());
    let out = vec![
        ("output", vals(y)),
        ("extra", extra),
        ("x", vals(x.grad(&g).unwrap())),
        ("query.weight", w(q)),
        ("query.bias", bias(q)),
        ("key.weight", w(k)),
        ("key.bias", bias(k)),
        ("value.weight", w(v)),
        ("value.bias", bias(v)),
        ("output.weight", w(o)),
        ("output.bias", bias(o)),
        ("stream after", vec![after as f32, (after >> 40) as f32]),
    ];
    set_fused(None);
    out
}

/// The attention tests' cases: (heads, sequence length, dropout) — 1 and 4 heads, a single step
/// and 17, without and with dropout.
pub const ATTENTION_CASES: [(usize, usize, f64); 8] =
    [(1, 1, 0.0), (1, 17, 0.0), (4, 1, 0.0), (4, 17, 0.0), (1, 1, 0.3), (1, 17, 0.3), (4, 1, 0.3), (4, 17, 0.3)];
