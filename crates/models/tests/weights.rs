//! Sample weights in every loss: the batch loss is `Σ ω_i ℓ_i / Σ ω_i` with `ω_i = w_i · α_{c_i}`
//! (see `vane_models::loss`), checked against hand computations in f64; a weight of 0 removes a
//! sample's gradient; the trainer's validation loss is the dataset's weighted mean.

use burn::tensor::{Device, Tensor, TensorData};
use vane_models::ModelConfig;
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::hrm::HrmConfig;
use vane_models::loss::{LossSettings, classification_loss, effective_weight_sum, pinball, value_mse};
use vane_models::train::{Task, predict};

fn dev() -> Device {
    Device::flex()
}

const K: usize = 3;
const LOGITS: [[f64; K]; 3] = [[2.0, -1.0, 0.5], [0.3, 0.2, -0.4], [-1.0, 1.5, 0.0]];
const CLASSES: [usize; 3] = [0, 2, 1];
const W: [f64; 3] = [1.0, 0.2, 1.0];

fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

fn logits_t(device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(f32s(&LOGITS.concat()), [3, K]), device)
}

fn onehot(classes: &[usize], device: &Device) -> Tensor<2> {
    let mut t = vec![0.0f32; classes.len() * K];
    for (i, &c) in classes.iter().enumerate() {
        t[i * K + c] = 1.0;
    }
    Tensor::from_data(TensorData::new(t, [classes.len(), K]), device)
}

fn weights_t(w: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(f32s(w), [w.len()]), device)
}

fn scalar(t: Tensor<1>) -> f64 {
    f64::from(t.into_scalar::<f32>())
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Per-sample focal loss with label smoothing, by the formula in `vane_models::loss`.
fn hand_focal(z: &[f64], class: usize, gamma: f64, eps: f64) -> f64 {
    let p = softmax(z);
    (0..K)
        .map(|c| {
            let t = (1.0 - eps) * if c == class { 1.0 } else { 0.0 } + eps / K as f64;
            -t * (1.0 - p[c]).powf(gamma) * p[c].ln()
        })
        .sum()
}

fn hand_loss(w: &[f64], alpha: &[f64], gamma: f64, eps: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..3 {
        let omega = w[i] * alpha[CLASSES[i]];
        num += omega * hand_focal(&LOGITS[i], CLASSES[i], gamma, eps);
        den += omega;
    }
    num / den
}

fn burn_loss(w: &[f64], s: &LossSettings) -> f64 {
    scalar(classification_loss(logits_t(&dev()), onehot(&CLASSES, &dev()), weights_t(w, &dev()), s))
}

#[test]
fn sample_weights_change_the_classification_loss_as_computed_by_hand() {
    let ones = [1.0, 1.0, 1.0];
    let cases = [
        ("cross-entropy", 0.0, 0.0, vec![]),
        ("focal γ 1.5", 1.5, 0.0, vec![]),
        ("label smoothing 0.1", 0.0, 0.1, vec![]),
        ("focal γ 2 + smoothing 0.05 + class weights", 2.0, 0.05, vec![1.5f32, 0.5, 1.0]),
    ];
    for (name, gamma, eps, cw) in cases {
        let s = LossSettings {
            focal_gamma: gamma,
            label_smoothing: eps,
            class_weights: cw.clone(),
            ..LossSettings::default()
        };
        let alpha: Vec<f64> = if cw.is_empty() { vec![1.0; K] } else { cw.iter().map(|&a| f64::from(a)).collect() };
        let weighted = burn_loss(&W, &s);
        let want = hand_loss(&W, &alpha, gamma, eps);
        assert!((weighted - want).abs() < 1e-5, "{name}: {weighted} vs hand {want}");
        let plain = burn_loss(&ones, &s);
        let want_plain = hand_loss(&ones, &alpha, gamma, eps);
        assert!((plain - want_plain).abs() < 1e-5, "{name}: unweighted {plain} vs hand {want_plain}");
        assert!((weighted - plain).abs() > 1e-3, "{name}: the weights must change the loss ({weighted} vs {plain})");
        // Only relative weights matter: scaling them all changes nothing.
        let scaled = burn_loss(&[3.0, 0.6, 3.0], &s);
        assert!((scaled - weighted).abs() < 1e-5, "{name}: {scaled} vs {weighted}");
    }
}

#[test]
fn direction_penalty_is_weighted_too() {
    let s = LossSettings { direction_penalty: 0.7, ..LossSettings::default() };
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..3 {
        let p = softmax(&LOGITS[i]);
        let t = |c: usize| if CLASSES[i] == c { 1.0 } else { 0.0 };
        num += W[i] * (t(0) * p[1] + t(1) * p[0]);
        den += W[i];
    }
    let want = hand_loss(&W, &[1.0; K], 0.0, 0.0) + 0.7 * num / den;
    let got = burn_loss(&W, &s);
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
}

#[test]
fn sample_weights_change_the_regression_losses_as_computed_by_hand() {
    let v = [[0.4, 0.9, 1.3], [-0.2, 0.1, 0.5], [1.0, 1.2, 2.0]]; // [3 samples, 3 quantiles]
    let y = [0.008, -0.001, 0.015];
    let scale = 100.0;
    let q = [0.1, 0.5, 0.9];
    let values = Tensor::<2>::from_data(TensorData::new(f32s(&v.concat()), [3, 3]), &dev());
    let yt = weights_t(&y, &dev());
    for w in [W, [1.0, 1.0, 1.0]] {
        let (mut mse, mut pin, mut den) = (0.0, 0.0, 0.0);
        for i in 0..3 {
            let target = scale * y[i];
            mse += w[i] * (v[i][0] - target).powi(2);
            let per: f64 = (0..3)
                .map(|j| {
                    let e = target - v[i][j];
                    (q[j] * e).max((q[j] - 1.0) * e)
                })
                .sum::<f64>()
                / 3.0;
            pin += w[i] * per;
            den += w[i];
        }
        let got_mse = scalar(value_mse(values.clone(), yt.clone(), weights_t(&w, &dev()), scale));
        let got_pin = scalar(pinball(values.clone(), yt.clone(), weights_t(&w, &dev()), &q, scale));
        assert!((got_mse - mse / den).abs() < 1e-4, "mse {got_mse} vs {}", mse / den);
        assert!((got_pin - pin / den).abs() < 1e-5, "pinball {got_pin} vs {}", pin / den);
    }
    let a = scalar(value_mse(values.clone(), yt.clone(), weights_t(&W, &dev()), scale));
    let b = scalar(value_mse(values, yt, weights_t(&[1.0, 1.0, 1.0], &dev()), scale));
    assert!((a - b).abs() > 1e-3, "{a} vs {b}");
}

/// Gradient of the loss with respect to a linear layer `W` `[2, K]` under logits `x · W`.
fn weight_grad(x: &[[f64; 2]], classes: &[usize], w: &[f64], s: &LossSettings) -> Vec<f32> {
    let ad = dev().autodiff();
    let n = x.len();
    let xs = Tensor::<2>::from_data(TensorData::new(f32s(&x.concat()), [n, 2]), &ad);
    let wm =
        Tensor::<2>::from_data(TensorData::new(f32s(&[0.3, -0.2, 0.1, 0.5, 0.4, -0.6]), [2, K]), &ad).require_grad();
    let loss = classification_loss(xs.matmul(wm.clone()), onehot(classes, &ad), weights_t(w, &ad), s);
    let grads = loss.backward();
    wm.grad(&grads).expect("gradient of W").into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn weight_zero_removes_a_sample_from_the_gradient() {
    let x = [[1.0, -0.5], [0.2, 2.0], [-1.5, 0.7]];
    for s in [
        LossSettings::default(),
        LossSettings {
            focal_gamma: 1.5,
            label_smoothing: 0.1,
            class_weights: vec![1.2, 0.8, 1.0],
            ..Default::default()
        },
    ] {
        let with_zero = weight_grad(&x, &CLASSES, &[1.0, 0.0, 1.0], &s);
        let without = weight_grad(&[x[0], x[2]], &[CLASSES[0], CLASSES[2]], &[1.0, 1.0], &s);
        for (a, b) in with_zero.iter().zip(&without) {
            assert!((a - b).abs() < 1e-6, "{with_zero:?} vs {without:?}");
        }
        // …and a non-zero weight does move it (the test could fail).
        let with_small = weight_grad(&x, &CLASSES, &[1.0, 0.2, 1.0], &s);
        let diff: f32 = with_small.iter().zip(&without).map(|(a, b)| (a - b).abs()).sum();
        assert!(diff > 1e-4, "{with_small:?} vs {without:?}");
    }
}

#[test]
fn effective_weight_sum_is_the_loss_normaliser() {
    let t = [1.0f32, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let w = [1.0f32, 0.2, 1.0];
    assert!((effective_weight_sum(&w, &t, &[]) - 2.2).abs() < 1e-6);
    let got = effective_weight_sum(&w, &t, &[1.5, 0.5, 1.0]);
    assert!((got - (1.5 + 0.2 + 0.5)).abs() < 1e-6, "{got}");
}

#[test]
fn validation_loss_is_the_weighted_mean_over_the_dataset() {
    // Five windows of one step; batches of 2 so the mean is combined across batches.
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]).unwrap();
    m.push_segment(0, &[0.5, -1.0, 1.2, 0.3, -0.7, 0.8, 0.1, 0.1, 2.0, -2.0]).unwrap();
    let w = [1.0f32, 0.2, 0.0, 1.0, 0.5];
    let classes = [0usize, 1, 2, 1, 0];
    let samples: Vec<Sample> =
        (0..5).map(|i| Sample { end: i, target: Target { class: classes[i], value: 0.0, weight: w[i] } }).collect();
    let ds = WindowedDataset::new(&m, 1, samples, Some(3)).unwrap();
    let mcfg = ModelConfig::Hrm(HrmConfig::new(2).with_hidden_low(4).with_hidden_high(3).with_high_period(1));
    let model = mcfg.init(&dev()).unwrap();
    for (name, cw) in [("no class weights", vec![]), ("class weights", vec![2.0f32, 0.5, 1.0])] {
        let s = LossSettings { focal_gamma: 1.5, class_weights: cw.clone(), ..LossSettings::default() };
        let p = predict(&model, &mcfg, &ds, Task::Classification, &s, 2, &dev());
        let alpha = |c: usize| if cw.is_empty() { 1.0 } else { f64::from(cw[c]) };
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..5 {
            let pc = f64::from(p.probs[i][classes[i]]);
            let omega = f64::from(w[i]) * alpha(classes[i]);
            num += omega * -(1.0 - pc).powf(1.5) * pc.ln();
            den += omega;
        }
        assert!((p.loss - num / den).abs() < 1e-5, "{name}: {} vs hand {}", p.loss, num / den);
    }
}
