//! The fused per-variable GRN op (`nn::fused_grn`, one autodiff node with a hand-written
//! backward) against the reference burn-op path (`BatchedGrn::forward_reference`): forward with
//! and without dropout, the gradients of the input and of all ten parameters, and a whole TFT's
//! loss and gradients with the fused ops on and off (`set_fused`, as `VANE_FUSED=0`). The fused
//! variable-selection network (`Tft::select_variables`: embedding, per-variable GRNs and weighted
//! sum as `nn::fused_grn`'s ops) against `Tft::select_variables_reference`, output and every
//! gradient with dropout on, and a seeded TFT training curve (dropout on) fused vs reference.

use burn::tensor::{Device, Distribution, Int, Tensor};
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::nn::fused_seq::set_fused;
use vane_models::nn::{BatchedGrn, BatchedGrnConfig, DropoutRng, GateAddNormConfig, GrnConfig};
use vane_models::tft::TftConfig;
use vane_models::train::{Quiet, TrainInputs, fit};
use vane_models::{ModelKind, ModelSpec};

mod common;
use common::{assert_close, dev, lock, train_config, vals};

fn grn(device: &Device) -> BatchedGrn {
    dev().seed(21);
    BatchedGrnConfig::new(3, 8, 0.3).init(device).unwrap()
}

#[test]
fn fused_grn_forward_equals_reference() {
    let _g = lock();
    set_fused(Some(true));
    let g = grn(&dev());
    dev().seed(5);
    let a = Tensor::<3>::random([3, 10, 8], Distribution::Normal(0.0, 2.0), &dev());
    let fused = vals(g.forward(a.clone(), &mut DropoutRng::off()));
    let reference = vals(g.forward_reference(a, &mut DropoutRng::off()));
    assert_close("inference output", &fused, &reference, 1e-5);
    set_fused(None);
}

/// `loss = Σ out ⊙ r` for a fixed random `r`; the output and the gradients of `a` and every
/// parameter, with dropout drawn from the same seeded stream.
fn grads(fused: bool) -> Vec<(&'static str, Vec<f32>)> {
    let ad = dev().autodiff();
    let g = grn(&ad);
    dev().seed(6);
    let a = Tensor::<3>::random([3, 10, 8], Distribution::Normal(0.0, 2.0), &dev());
    let r = Tensor::<3>::random([3, 10, 8], Distribution::Normal(0.0, 1.0), &dev());
    let a = Tensor::<3>::from_data(a.into_data(), &ad).require_grad();
    let r = Tensor::<3>::from_data(r.into_data(), &ad);
    let mut rng = DropoutRng::seeded(99);
    let out = if fused { g.forward(a.clone(), &mut rng) } else { g.forward_reference(a.clone(), &mut rng) };
    let gr = (out.clone() * r).sum().backward();
    let p = |t: Tensor<3>| vals(t.grad(&gr).unwrap());
    vec![
        ("out", vals(out)),
        ("a", p(a)),
        ("w_input", p(g.w_input.val())),
        ("b_input", p(g.b_input.val())),
        ("w_hidden", p(g.w_hidden.val())),
        ("b_hidden", p(g.b_hidden.val())),
        ("w_gate", p(g.w_gate.val())),
        ("b_gate", p(g.b_gate.val())),
        ("w_value", p(g.w_value.val())),
        ("b_value", p(g.b_value.val())),
        ("norm_gamma", p(g.norm_gamma.val())),
        ("norm_beta", p(g.norm_beta.val())),
    ]
}

#[test]
fn fused_grn_gradients_equal_reference_autodiff() {
    let _g = lock();
    set_fused(Some(true));
    let f = grads(true);
    set_fused(Some(false));
    let r = grads(false);
    set_fused(None);
    for ((name, a), (_, b)) in f.iter().zip(&r) {
        assert_close(name, a, b, 1e-5);
    }
    // Dropout was on: some hidden units were zeroed in both paths alike.
    assert!(f[0].1.iter().all(|v| v.is_finite()));
}

/// A small TFT's loss and the gradients of its variable-selection parameters, fused or not.
fn tft_grads(fused: bool) -> (f32, Vec<Vec<f32>>) {
    set_fused(Some(fused));
    let ad = dev().autodiff();
    dev().seed(7);
    let model = TftConfig::new(4).with_d_model(8).with_n_heads(2).with_n_symbols(2).init(&ad).unwrap();
    dev().seed(8);
    let x = Tensor::<3>::random([3, 6, 4], Distribution::Normal(0.0, 1.0), &dev());
    let x = Tensor::<3>::from_data(x.into_data(), &ad);
    let symbol = Tensor::<1, Int>::from_ints([0, 1, 0], &ad);
    let out = model.forward(x, symbol, &mut DropoutRng::seeded(3));
    let loss = out.logits.powi_scalar(2).sum() + out.value.sum();
    let l = vals(loss.clone())[0];
    let g = loss.backward();
    let fg = &model.feature_grns;
    let p3 = |t: Tensor<3>| vals(t.grad(&g).unwrap());
    let p2 = |t: Tensor<2>| vals(t.grad(&g).unwrap());
    let out = vec![
        p3(fg.w_input.val()),
        p3(fg.w_gate.val()),
        p3(fg.norm_gamma.val()),
        p2(model.feature_weight.val()),
        p2(model.feature_bias.val()),
        p2(model.head.weight.val()),
        // The `[b, t, d]` and static GRNs and the gate–add–norms (fused row ops).
        p2(model.selection.skip.as_ref().unwrap().weight.val()),
        p2(model.selection.fc_context.as_ref().unwrap().weight.val()),
        p2(model.enrichment.fc_context.as_ref().unwrap().weight.val()),
        p2(model.enrichment.fc_input.weight.val()),
        p2(model.positionwise.out.glu.gate.weight.val()),
        p2(model.ctx_hidden.fc_input.weight.val()),
        p2(model.ctx_enrichment.fc_hidden.weight.val()),
        vals(model.gate_lstm.norm.gamma.val().grad(&g).unwrap()),
        p2(model.gate_attention.glu.value.weight.val()),
        p2(model.gate_output.glu.gate.weight.val()),
        p2(model.attention.query.weight.val()),
    ];
    set_fused(None);
    (l, out)
}

#[test]
fn tft_loss_and_gradients_equal_with_fused_ops_off() {
    let _g = lock();
    let (lf, gf) = tft_grads(true);
    let (lr, gr) = tft_grads(false);
    assert!((lf - lr).abs() <= 1e-5 * lr.abs().max(1.0), "loss fused {lf} vs reference {lr}");
    for (k, (a, b)) in gf.iter().zip(&gr).enumerate() {
        assert_close(&format!("tft gradient {k}"), a, b, 1e-5);
    }
}

/// The variable-selection network of a small TFT (dropout 0.3, drawn from a seeded stream):
/// `loss = Σ φ₀ ⊙ r₁ + Σ v ⊙ r₂`; φ₀, v and the gradients of the input, the context and every
/// parameter the network reads.
fn vsn_grads(fused: bool) -> Vec<(String, Vec<f32>)> {
    let ad = dev().autodiff();
    dev().seed(11);
    let model = TftConfig::new(5).with_d_model(8).with_n_heads(2).with_dropout(0.3).init(&ad).unwrap();
    dev().seed(12);
    let (b, t, f, d) = (3, 7, 5, 8);
    let x = Tensor::<3>::random([b, t, f], Distribution::Normal(0.0, 1.5), &dev());
    let c = Tensor::<3>::random([b, 1, d], Distribution::Normal(0.0, 1.0), &dev());
    let r1 = Tensor::<3>::random([b, t, d], Distribution::Normal(0.0, 1.0), &dev());
    let r2 = Tensor::<3>::random([b, t, f], Distribution::Normal(0.0, 1.0), &dev());
    let x = Tensor::<3>::from_data(x.into_data(), &ad).require_grad();
    let c = Tensor::<3>::from_data(c.into_data(), &ad).require_grad();
    let (r1, r2) = (Tensor::<3>::from_data(r1.into_data(), &ad), Tensor::<3>::from_data(r2.into_data(), &ad));
    let mut rng = DropoutRng::seeded(41);
    let (phi, v) = if fused {
        model.select_variables(x.clone(), c.clone(), &mut rng)
    } else {
        model.select_variables_reference(x.clone(), c.clone(), &mut rng)
    };
    let gr = ((phi.clone() * r1).sum() + (v.clone() * r2).sum()).backward();
    let p3 = |t: Tensor<3>| vals(t.grad(&gr).unwrap());
    let p2 = |t: Tensor<2>| vals(t.grad(&gr).unwrap());
    let g = &model.feature_grns;
    let s = &model.selection;
    let mut out = vec![
        ("phi0".to_string(), vals(phi)),
        ("v".into(), vals(v)),
        ("x".into(), p3(x)),
        ("context".into(), p3(c)),
        ("feature_weight".into(), p2(model.feature_weight.val())),
        ("feature_bias".into(), p2(model.feature_bias.val())),
    ];
    for (name, p) in [
        ("w_input", &g.w_input),
        ("b_input", &g.b_input),
        ("w_hidden", &g.w_hidden),
        ("b_hidden", &g.b_hidden),
        ("w_gate", &g.w_gate),
        ("b_gate", &g.b_gate),
        ("w_value", &g.w_value),
        ("b_value", &g.b_value),
        ("norm_gamma", &g.norm_gamma),
        ("norm_beta", &g.norm_beta),
    ] {
        out.push((name.into(), p3(p.val())));
    }
    out.push(("selection.fc_input".into(), p2(s.fc_input.weight.val())));
    out.push(("selection.skip".into(), p2(s.skip.as_ref().unwrap().weight.val())));
    out.push(("selection.fc_context".into(), p2(s.fc_context.as_ref().unwrap().weight.val())));
    out
}

#[test]
fn fused_variable_selection_output_and_gradients_equal_reference() {
    let _g = lock();
    set_fused(Some(true));
    let f = vsn_grads(true);
    let r = vsn_grads(false);
    set_fused(None);
    for ((name, a), (_, b)) in f.iter().zip(&r) {
        assert_close(name, a, b, 1e-5);
    }
    // Dropout was on: the two paths drew the same masks (else φ₀ would differ).
    let r0 = {
        set_fused(Some(true));
        let ad = dev().autodiff();
        dev().seed(11);
        let model = TftConfig::new(5).with_d_model(8).with_n_heads(2).with_dropout(0.3).init(&ad).unwrap();
        dev().seed(12);
        let x = Tensor::<3>::random([3, 7, 5], Distribution::Normal(0.0, 1.5), &dev());
        let c = Tensor::<3>::random([3, 1, 8], Distribution::Normal(0.0, 1.0), &dev());
        let x = Tensor::<3>::from_data(x.into_data(), &ad);
        let c = Tensor::<3>::from_data(c.into_data(), &ad);
        let off = vals(model.select_variables(x.clone(), c.clone(), &mut DropoutRng::off()).0);
        let on = vals(model.select_variables(x, c, &mut DropoutRng::seeded(41)).0);
        set_fused(None);
        (off, on)
    };
    assert!(r0.0.iter().zip(&r0.1).any(|(a, b)| (a - b).abs() > 1e-4), "dropout changed nothing");
}

fn dataset(n: usize, seq: usize) -> (FeatureMatrix, Vec<Sample>) {
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into(), "c".into()]).unwrap();
    let mut samples = Vec::new();
    let mut state = 4243u64;
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
            values.push(rnd() * 3.0);
        }
        let rows = m.push_segment(0, &values).unwrap();
        samples.push(Sample { end: rows.end - 1, target: Target { class, value: 0.1 * class as f32, weight: 1.0 } });
    }
    (m, samples)
}

/// A seeded TFT training run with dropout on: (train, validation) loss per epoch.
fn curve(fused: bool) -> Vec<(f64, f64)> {
    set_fused(Some(fused));
    let (m, samples) = dataset(24, 6);
    let ds = WindowedDataset::new(&m, 6, samples, Some(3)).unwrap();
    let spec = ModelSpec { d_model: Some(8), n_heads: Some(2), dropout: Some(0.2), ..ModelSpec::of(ModelKind::Tft) };
    let mcfg = spec.resolve(3, 3, 1, None).unwrap();
    let cfg = train_config(3);
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
fn seeded_tft_training_curve_with_dropout_fused_equals_reference() {
    let _g = lock();
    let f = curve(true);
    let r = curve(false);
    eprintln!("fused {f:?}\nreference {r:?}");
    assert_eq!(f.len(), r.len());
    // Same maths and the same dropout masks; f32 summation order differs, and the differences
    // compound over the updates (as in `fused_seq`'s TFT curve).
    for (e, ((ft, fv), (rt, rv))) in f.iter().zip(&r).enumerate() {
        assert!((ft - rt).abs() <= 1e-3 * rt.abs().max(1.0), "epoch {}: train {ft} vs {rt}", e + 1);
        assert!((fv - rv).abs() <= 1e-3 * rv.abs().max(1.0), "epoch {}: val {fv} vs {rv}", e + 1);
    }
}

/// One `Grn` (`d_in` 6 → hidden 5 → `d_out` 4, so a linear skip; with or without a `[b, 1, 3]`
/// static context broadcast over `t`), dropout 0.3 from a seeded stream: `loss = Σ out ⊙ r`; the
/// output and the gradients of the input, the context and every parameter.
fn row_grn_grads(fused: bool, with_context: bool, same_width: bool) -> Vec<(String, Vec<f32>)> {
    set_fused(Some(fused));
    let ad = dev().autodiff();
    let (d_in, d_out) = if same_width { (5, 5) } else { (6, 4) };
    dev().seed(31);
    let g = GrnConfig::new(d_in, 5, d_out, 0.3).with_d_context(Some(3)).init(&ad).unwrap();
    dev().seed(32);
    let a = Tensor::<3>::random([3, 7, d_in], Distribution::Normal(0.0, 1.5), &dev());
    let c = Tensor::<3>::random([3, 1, 3], Distribution::Normal(0.0, 1.0), &dev());
    let r = Tensor::<3>::random([3, 7, d_out], Distribution::Normal(0.0, 1.0), &dev());
    let a = Tensor::<3>::from_data(a.into_data(), &ad).require_grad();
    let c = Tensor::<3>::from_data(c.into_data(), &ad).require_grad();
    let r = Tensor::<3>::from_data(r.into_data(), &ad);
    let ctx = with_context.then(|| c.clone());
    let out = g.forward(a.clone(), ctx, &mut DropoutRng::seeded(77));
    let gr = (out.clone() * r).sum().backward();
    let p2 = |t: Tensor<2>| vals(t.grad(&gr).unwrap());
    let p1 = |t: Tensor<1>| vals(t.grad(&gr).unwrap());
    let mut v = vec![
        ("out".to_string(), vals(out)),
        ("a".into(), vals(a.grad(&gr).unwrap())),
        ("fc_input.weight".into(), p2(g.fc_input.weight.val())),
        ("fc_input.bias".into(), p1(g.fc_input.bias.as_ref().unwrap().val())),
        ("fc_hidden.weight".into(), p2(g.fc_hidden.weight.val())),
        ("fc_hidden.bias".into(), p1(g.fc_hidden.bias.as_ref().unwrap().val())),
        ("gate.weight".into(), p2(g.out.glu.gate.weight.val())),
        ("gate.bias".into(), p1(g.out.glu.gate.bias.as_ref().unwrap().val())),
        ("value.weight".into(), p2(g.out.glu.value.weight.val())),
        ("value.bias".into(), p1(g.out.glu.value.bias.as_ref().unwrap().val())),
        ("norm.gamma".into(), p1(g.out.norm.gamma.val())),
        ("norm.beta".into(), p1(g.out.norm.beta.as_ref().unwrap().val())),
    ];
    if let Some(l) = &g.skip {
        v.push(("skip.weight".into(), p2(l.weight.val())));
        v.push(("skip.bias".into(), p1(l.bias.as_ref().unwrap().val())));
    }
    if with_context {
        v.push(("context".into(), vals(c.grad(&gr).unwrap())));
        v.push(("fc_context.weight".into(), p2(g.fc_context.as_ref().unwrap().weight.val())));
    }
    set_fused(None);
    v
}

#[test]
fn fused_row_grn_output_and_gradients_equal_reference() {
    let _g = lock();
    for (with_context, same_width) in [(true, false), (false, false), (true, true), (false, true)] {
        let f = row_grn_grads(true, with_context, same_width);
        let r = row_grn_grads(false, with_context, same_width);
        assert_eq!(f.len(), r.len());
        for ((name, a), (_, b)) in f.iter().zip(&r) {
            assert_close(&format!("{name} (context {with_context}, same width {same_width})"), a, b, 1e-5);
        }
        // Dropout was on: some hidden units were dropped, in both paths alike.
        assert!(f[0].1.iter().all(|v| v.is_finite()));
    }
}

/// One `GateAddNorm` (gated width 5 → 4), dropout 0.3: the output and the gradients of `x`, the
/// skip and every parameter.
fn gate_add_norm_grads(fused: bool) -> Vec<(String, Vec<f32>)> {
    set_fused(Some(fused));
    let ad = dev().autodiff();
    dev().seed(41);
    let g = GateAddNormConfig::new(4, 0.3).with_d_in(Some(5)).init(&ad).unwrap();
    dev().seed(42);
    let x = Tensor::<3>::random([2, 9, 5], Distribution::Normal(0.0, 1.5), &dev());
    let skip = Tensor::<3>::random([2, 9, 4], Distribution::Normal(0.0, 1.0), &dev());
    let r = Tensor::<3>::random([2, 9, 4], Distribution::Normal(0.0, 1.0), &dev());
    let x = Tensor::<3>::from_data(x.into_data(), &ad).require_grad();
    let skip = Tensor::<3>::from_data(skip.into_data(), &ad).require_grad();
    let r = Tensor::<3>::from_data(r.into_data(), &ad);
    let out = g.forward(x.clone(), skip.clone(), &mut DropoutRng::seeded(78));
    let gr = (out.clone() * r).sum().backward();
    let p2 = |t: Tensor<2>| vals(t.grad(&gr).unwrap());
    let p1 = |t: Tensor<1>| vals(t.grad(&gr).unwrap());
    let v = vec![
        ("out".to_string(), vals(out)),
        ("x".into(), vals(x.grad(&gr).unwrap())),
        ("skip".into(), vals(skip.grad(&gr).unwrap())),
        ("gate.weight".into(), p2(g.glu.gate.weight.val())),
        ("gate.bias".into(), p1(g.glu.gate.bias.as_ref().unwrap().val())),
        ("value.weight".into(), p2(g.glu.value.weight.val())),
        ("value.bias".into(), p1(g.glu.value.bias.as_ref().unwrap().val())),
        ("norm.gamma".into(), p1(g.norm.gamma.val())),
        ("norm.beta".into(), p1(g.norm.beta.as_ref().unwrap().val())),
    ];
    set_fused(None);
    v
}

#[test]
fn fused_gate_add_norm_output_and_gradients_equal_reference() {
    let _g = lock();
    let f = gate_add_norm_grads(true);
    let r = gate_add_norm_grads(false);
    for ((name, a), (_, b)) in f.iter().zip(&r) {
        assert_close(name, a, b, 1e-5);
    }
    // Dropout was on: the gated input's gradient has zeros where units were dropped.
    assert!(f[1].1.contains(&0.0));
}
