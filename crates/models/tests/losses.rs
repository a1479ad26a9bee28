//! Every loss against values computed by hand (in f64, in the test).

use burn::tensor::{Device, Int, Tensor, TensorData};
use vane_models::loss::{
    LossSettings, classification_loss, confidence_loss, effective_weights, focal_per_sample, pinball, value_mse,
};

fn dev() -> Device {
    Device::flex()
}

fn t2(v: &[f32], r: usize, c: usize) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [r, c]), &dev())
}

fn t1(v: &[f32]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &dev())
}

fn val(t: Tensor<1>) -> f64 {
    f64::from(t.into_scalar::<f32>())
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

const Z: [[f64; 3]; 2] = [[2.0, 0.5, -1.0], [0.1, 0.3, 1.2]];
const Y: [usize; 2] = [0, 2];

fn logits() -> Tensor<2> {
    t2(&Z.iter().flatten().map(|&v| v as f32).collect::<Vec<_>>(), 2, 3)
}

fn onehot() -> Tensor<2> {
    let mut v = vec![0.0f32; 6];
    for (i, &y) in Y.iter().enumerate() {
        v[i * 3 + y] = 1.0;
    }
    t2(&v, 2, 3)
}

fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-5 * want.abs().max(1.0), "got {got}, want {want}");
}

#[test]
fn cross_entropy_matches_hand_value() {
    let want = Z.iter().zip(Y).map(|(z, y)| -softmax(z)[y].ln()).sum::<f64>() / 2.0;
    let got = val(classification_loss(logits(), onehot(), t1(&[1.0, 1.0]), &LossSettings::default()));
    assert_close(got, want);
}

#[test]
fn label_smoothing_matches_hand_value() {
    let eps = 0.1;
    let want = Z
        .iter()
        .zip(Y)
        .map(|(z, y)| {
            let p = softmax(z);
            -(0..3).map(|c| ((if c == y { 1.0 - eps } else { 0.0 }) + eps / 3.0) * p[c].ln()).sum::<f64>()
        })
        .sum::<f64>()
        / 2.0;
    let s = LossSettings { label_smoothing: eps, ..LossSettings::default() };
    assert_close(val(classification_loss(logits(), onehot(), t1(&[1.0, 1.0]), &s)), want);
}

#[test]
fn focal_with_class_and_sample_weights_matches_hand_value() {
    let gamma = 2.5;
    let alpha = [2.0, 1.0, 0.5];
    let w = [1.0, 3.0];
    let per: Vec<f64> = Z
        .iter()
        .zip(Y)
        .map(|(z, y)| {
            let p = softmax(z)[y];
            -(1.0 - p).powf(gamma) * p.ln()
        })
        .collect();
    let omega: Vec<f64> = (0..2).map(|i| w[i] * alpha[Y[i]]).collect();
    let want = (per[0] * omega[0] + per[1] * omega[1]) / (omega[0] + omega[1]);
    let s = LossSettings {
        focal_gamma: gamma,
        class_weights: alpha.iter().map(|&a| a as f32).collect(),
        ..LossSettings::default()
    };
    assert_close(val(classification_loss(logits(), onehot(), t1(&[1.0, 3.0]), &s)), want);
    // γ = 0 is cross-entropy, per sample.
    let ce = focal_per_sample(logits(), onehot(), 0.0, 0.0).into_data().try_to_vec::<f32>().unwrap();
    for (i, z) in Z.iter().enumerate() {
        assert_close(f64::from(ce[i]), -softmax(z)[Y[i]].ln());
    }
    let om = effective_weights(onehot(), t1(&[1.0, 3.0]), &[2.0, 1.0, 0.5]).into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(om, vec![2.0, 1.5]);
}

#[test]
fn directional_penalty_matches_hand_value() {
    // Sample 0 is BUY (class 0): penalty p(SELL); sample 1 is HOLD: no penalty.
    let lambda = 0.7;
    let ce = Z.iter().zip(Y).map(|(z, y)| -softmax(z)[y].ln()).sum::<f64>() / 2.0;
    let pen = (softmax(&Z[0])[1] + 0.0) / 2.0;
    let s = LossSettings { direction_penalty: lambda, ..LossSettings::default() };
    assert_close(val(classification_loss(logits(), onehot(), t1(&[1.0, 1.0]), &s)), ce + lambda * pen);
}

#[test]
fn confidence_bce_matches_hand_value() {
    // argmax of row 0 is 0 (= class 0, correct), row 1 is 2 (= class 2, correct) → both targets 1;
    // change the second class to make one wrong.
    let class = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &dev());
    let conf = t2(&[0.8, 0.3], 2, 1);
    let want = (-(0.8f64).ln() + -(1.0f64 - 0.3).ln()) / 2.0;
    assert_close(val(confidence_loss(conf, logits(), class, t1(&[1.0, 1.0]))), want);
}

#[test]
fn regression_losses_match_hand_values() {
    let value = t2(&[1.0, -0.5, 0.2, 0.4], 2, 2);
    let y = t1(&[0.012, -0.003]);
    // MSE uses the first column against 100·y.
    let want = ((1.0 - 1.2f64).powi(2) * 1.0 + (0.2 - -0.3f64).powi(2) * 3.0) / 4.0;
    assert_close(val(value_mse(value.clone(), y.clone(), t1(&[1.0, 3.0]), 100.0)), want);
    // Pinball with q = (0.1, 0.9): e = 100·y − ŷ.
    let q = [0.1f64, 0.9];
    let rows = [[1.0f64, -0.5], [0.2, 0.4]];
    let ys = [1.2f64, -0.3];
    let per: Vec<f64> = (0..2)
        .map(|i| {
            (0..2)
                .map(|j| {
                    let e = ys[i] - rows[i][j];
                    (q[j] * e).max((q[j] - 1.0) * e)
                })
                .sum::<f64>()
                / 2.0
        })
        .collect();
    assert_close(val(pinball(value, y, t1(&[1.0, 1.0]), &q, 100.0)), (per[0] + per[1]) / 2.0);
}
