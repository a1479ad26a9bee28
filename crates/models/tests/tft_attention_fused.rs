//! The fused interpretable attention (`nn::fused_tft_attention`, one autodiff node with a
//! hand-written backward) against the reference burn-op path
//! (`InterpretableAttention::forward_reference`, what `VANE_FUSED=0` runs): the output, the
//! head-averaged weights, and the gradients of the input and of all eight parameters, with dropout
//! 0 and 0.3 (the same mask from the same stream), 1 and 4 heads, sequences of 1 and 17. The
//! seeded TFT curve with the fused ops on and off is in `tft_fused.rs`.

use burn::nn::Linear;
use burn::tensor::{Device, Distribution, Tensor};
use vane_models::nn::DropoutRng;
use vane_models::nn::fused_seq::{fused_available, set_fused};
use vane_models::tft::{InterpretableAttention, InterpretableAttentionConfig};

mod common;
use common::{ATTENTION_CASES, assert_close, attention_case, dev, linear_on, lock, vals};

/// The layer with its parameters on `device`, tracked when it is an autodiff device.
fn layer(d: usize, heads: usize, dropout: f64, device: &Device) -> InterpretableAttention {
    dev().seed(21);
    let mut l = InterpretableAttentionConfig::new(d, heads, dropout).init(&dev()).unwrap();
    l.query = linear_on(&l.query, device);
    l.key = linear_on(&l.key, device);
    l.value = linear_on(&l.value, device);
    l.output = linear_on(&l.output, device);
    l
}

#[test]
fn fused_interpretable_attention_equals_reference_without_autodiff() {
    let _g = lock();
    set_fused(Some(true));
    assert!(fused_available(&dev()));
    for (heads, t, dropout) in ATTENTION_CASES {
        let l = layer(8, heads, dropout, &dev());
        dev().seed(3);
        let x = Tensor::<3>::random([3, t, 8], Distribution::Normal(0.0, 1.0), &dev());
        let (fo, fw) = l.forward(x.clone(), &mut DropoutRng::seeded(9));
        let (ro, rw) = l.forward_reference(x, &mut DropoutRng::seeded(9));
        let name = format!("heads {heads} seq {t} dropout {dropout}");
        assert_eq!(fo.dims(), ro.dims(), "{name}: output shape");
        assert_eq!(fw.dims(), [3, t, t], "{name}: weights shape");
        assert_close(&format!("{name}: output"), &vals(fo), &vals(ro), 1e-5);
        let fw = vals(fw);
        assert_close(&format!("{name}: weights"), &fw, &vals(rw), 1e-5);
        // Causal: nothing above the diagonal, and every row sums to 1.
        for (k, row) in fw.chunks(t).enumerate() {
            let i = k % t;
            assert!(row[i + 1..].iter().all(|&v| v == 0.0), "{name}: row {i} sees the future: {row:?}");
            assert!(
                (row.iter().sum::<f32>() - 1.0).abs() < 1e-5,
                "{name}: row {i} sums to {}",
                row.iter().sum::<f32>()
            );
        }
    }
    set_fused(None);
}

/// [`attention_case`] for the interpretable attention: its output, its head-averaged weights
/// (the extras) and the gradients.
fn run(fused: bool, heads: usize, t: usize, dropout: f64) -> Vec<(&'static str, Vec<f32>)> {
    fn lins(l: &InterpretableAttention) -> [&Linear; 4] {
        [&l.query, &l.key, &l.value, &l.output]
    }
    let forward = |l: &InterpretableAttention, x, rng: &mut DropoutRng| {
        let (y, weights) = l.forward(x, rng);
        (y, vals(weights))
    };
    attention_case(fused, t, |ad| layer(8, heads, dropout, ad), lins, forward)
}

#[test]
fn fused_interpretable_attention_output_and_gradients_equal_reference_autodiff() {
    let _g = lock();
    for (heads, t, dropout) in ATTENTION_CASES {
        let f = run(true, heads, t, dropout);
        let r = run(false, heads, t, dropout);
        for ((name, a), (_, b)) in f.iter().zip(&r) {
            assert_close(&format!("heads {heads} seq {t} dropout {dropout}: {name}"), a, b, 1e-5);
        }
        // The gradients are not all zero (the check above would pass on two zero vectors).
        assert!(f[2].1.iter().any(|v| v.abs() > 1e-4), "heads {heads} seq {t}: no gradient reached x");
        // With dropout on (and more than one weight) the mask really zeroes some weights.
        if dropout > 0.0 && t > 1 {
            let no_drop = run(true, heads, t, 0.0);
            assert_ne!(f[0].1, no_drop[0].1, "heads {heads} seq {t}: dropout changed nothing");
        }
    }
}

/// A freshly initialised layer's parameters are lazy: they draw their values when first read. The
/// fused path must read them in the reference's order, or a seeded model gets other weights.
#[test]
fn a_seeded_lazily_initialised_layer_is_the_same_on_both_paths() {
    let _g = lock();
    let run = |fused: bool| {
        set_fused(Some(fused));
        let ad = dev().autodiff();
        dev().seed(7);
        let l = InterpretableAttentionConfig::new(8, 2, 0.1).init(&ad).unwrap();
        dev().seed(8);
        let x = Tensor::<3>::random([3, 6, 8], Distribution::Normal(0.0, 1.0), &dev());
        let (o, _) = l.forward(Tensor::<3>::from_data(x.into_data(), &ad), &mut DropoutRng::seeded(3));
        set_fused(None);
        (vals(o), vals(l.query.weight.val()), vals(l.value.weight.val()))
    };
    let (f, r) = (run(true), run(false));
    assert_close("query weight", &f.1, &r.1, 0.0);
    assert_close("value weight", &f.2, &r.2, 0.0);
    assert_close("output", &f.0, &r.0, 1e-5);
}
