//! The fused per-variable GRN op (`nn::fused_grn`, one autodiff node with a hand-written
//! backward) against the reference burn-op path (`BatchedGrn::forward_reference`): forward with
//! and without dropout, the gradients of the input and of all ten parameters, and a whole TFT's
//! loss and gradients with the fused ops on and off (`set_fused`, as `VANE_FUSED=0`).

use burn::tensor::{Device, Distribution, Int, Tensor};
use vane_models::nn::fused_seq::set_fused;
use vane_models::nn::{BatchedGrn, BatchedGrnConfig, DropoutRng};
use vane_models::tft::TftConfig;

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
