//! The fused self-attention op (`nn::fused_attention`, one autodiff node with a hand-written
//! backward) against the reference burn-op path (`SelfAttention::forward_reference`, what
//! `VANE_FUSED=0` runs): the output and the gradients of the input and of all eight parameters,
//! with dropout 0 and 0.3 (the same mask from the same stream), 1 and 4 heads, sequences of 1 and
//! 17; and a seeded CNN-LSTM training curve with the fused ops on and off (`set_fused`).

use burn::nn::Linear;
use burn::tensor::{Device, Distribution, Tensor};
use vane_models::nn::fused_seq::{fused_available, set_fused};
use vane_models::nn::{DropoutRng, SelfAttention, SelfAttentionConfig};
use vane_models::{ModelKind, ModelSpec, SequenceModel};

mod common;
use common::{ATTENTION_CASES, assert_close, attention_case, dev, linear_on, lock, seeded_fit, vals};

/// The layer with its parameters on `device`, tracked when it is an autodiff device.
fn layer(d: usize, heads: usize, dropout: f64, device: &Device) -> SelfAttention {
    dev().seed(21);
    let mut l = SelfAttentionConfig::new(d, heads, dropout).init(&dev()).unwrap();
    l.query = linear_on(&l.query, device);
    l.key = linear_on(&l.key, device);
    l.value = linear_on(&l.value, device);
    l.output = linear_on(&l.output, device);
    l
}

#[test]
fn fused_attention_forward_equals_reference_without_autodiff() {
    let _g = lock();
    set_fused(Some(true));
    assert!(fused_available(&dev()));
    for (heads, t, dropout) in ATTENTION_CASES {
        let l = layer(8, heads, dropout, &dev());
        dev().seed(3);
        let x = Tensor::<3>::random([3, t, 8], Distribution::Normal(0.0, 1.0), &dev());
        let fused = vals(l.forward(x.clone(), &mut DropoutRng::seeded(9)));
        let reference = vals(l.forward_reference(x, &mut DropoutRng::seeded(9)));
        assert_close(&format!("heads {heads} seq {t} dropout {dropout}: output"), &fused, &reference, 1e-5);
    }
    set_fused(None);
}

/// [`attention_case`] for the self-attention: its output (no extras) and gradients.
fn run(fused: bool, heads: usize, t: usize, dropout: f64) -> Vec<(&'static str, Vec<f32>)> {
    fn lins(l: &SelfAttention) -> [&Linear; 4] {
        [&l.query, &l.key, &l.value, &l.output]
    }
    let forward = |l: &SelfAttention, x, rng: &mut DropoutRng| (l.forward(x, rng), Vec::new());
    attention_case(fused, t, |ad| layer(8, heads, dropout, ad), lins, forward)
}

#[test]
fn fused_attention_output_and_gradients_equal_reference_autodiff() {
    let _g = lock();
    for (heads, t, dropout) in ATTENTION_CASES {
        let f = run(true, heads, t, dropout);
        let r = run(false, heads, t, dropout);
        for ((name, a), (_, b)) in f.iter().zip(&r) {
            assert_close(&format!("heads {heads} seq {t} dropout {dropout}: {name}"), a, b, 1e-5);
        }
        // With dropout on (and more than one weight) the mask really zeroes some weights: the
        // output differs from the dropout-free one.
        if dropout > 0.0 && t > 1 {
            let no_drop = run(true, heads, t, 0.0);
            assert_ne!(f[0].1, no_drop[0].1, "heads {heads} seq {t}: dropout changed nothing");
        }
    }
}

/// A seeded CNN-LSTM run (dropout 0.3, so the attention's masks are drawn every step): per
/// epoch (train loss, validation loss), and the trained attention's eight parameters.
fn curve(fused: bool) -> (Vec<(f64, f64)>, Vec<Vec<f32>>) {
    let spec = ModelSpec {
        conv_channels: Some(8),
        lstm_hidden: Some(8),
        n_heads: Some(2),
        n_conv_blocks: Some(1),
        dropout: Some(0.3),
        ..ModelSpec::of(ModelKind::CnnLstm)
    };
    let out = seeded_fit(&spec, 4, fused);
    let SequenceModel::CnnLstm(model) = &out.model else { panic!("a CNN-LSTM was trained") };
    let a = &model.attention;
    let mut params = Vec::new();
    for lin in [&a.query, &a.key, &a.value, &a.output] {
        params.push(vals(lin.weight.val()));
        params.push(vals(lin.bias.as_ref().unwrap().val()));
    }
    (out.history.iter().map(|e| (e.train_loss, e.val_loss)).collect(), params)
}

#[test]
fn seeded_cnn_lstm_curve_fused_equals_unfused_with_dropout() {
    let _g = lock();
    let (f, fp) = curve(true);
    let (r, rp) = curve(false);
    eprintln!("fused {f:?}\nreference {r:?}");
    // The attention's own parameters after four epochs (the losses alone barely feel them). Not
    // the key bias (index 3): softmax ignores a shift shared by every key, so its gradient is 0
    // up to f32 rounding noise, which Adam's normalisation turns into ±learning-rate steps.
    for (k, (a, b)) in fp.iter().zip(&rp).enumerate().filter(|(k, _)| *k != 3) {
        assert_close(&format!("trained attention parameter {k}"), a, b, 1e-4);
    }
    assert_eq!(f.len(), r.len());
    for (e, ((ft, fv), (rt, rv))) in f.iter().zip(&r).enumerate() {
        assert!((ft - rt).abs() <= 1e-5 * rt.abs().max(1.0), "epoch {}: train {ft} vs {rt}", e + 1);
        assert!((fv - rv).abs() <= 1e-5 * rv.abs().max(1.0), "epoch {}: val {fv} vs {rv}", e + 1);
    }
}
