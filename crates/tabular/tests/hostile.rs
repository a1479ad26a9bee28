//! Issue 12 ("hostile input"), the tabular cases: a `model.json` with absurd contents is refused
//! on load naming the file and the field, prediction refuses non-finite scores (13); the
//! Lorentzian classifier refuses 0 training rows like the GBDT and the logistic regression (18);
//! and arbitrary or mutated model JSON never panics.

use proptest::prelude::*;
use vane_tabular::lorentzian::{LorentzianConfig, class_probs};
use vane_tabular::{Dataset, Gbdt, GbdtConfig, Logistic, Objective};

fn data(n: usize) -> (Dataset, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 10.0).collect();
    let z: Vec<f64> = (0..n).map(|i| ((i * 13) % 29) as f64).collect();
    let y: Vec<f64> = x.iter().map(|&v| f64::from(u8::from(v > 3.0) + u8::from(v > 7.0))).collect();
    (
        Dataset {
            numeric_names: vec!["x".into(), "z".into()],
            numeric: vec![x, z],
            categorical_names: vec!["c".into()],
            categorical: vec![(0..n).map(|i| if i % 2 == 0 { "a".into() } else { "b".into() }).collect()],
        },
        y,
    )
}

fn model() -> Gbdt {
    let (d, y) = data(120);
    let cfg = GbdtConfig {
        objective: Objective::Multiclass { classes: 3 },
        iterations: 5,
        depth: 2,
        ..GbdtConfig::default()
    };
    Gbdt::fit(&cfg, &d, &y, None, None).unwrap()
}

#[test]
fn case_13_huge_leaf_values_are_refused() {
    let m = model();
    let good: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    for (pointer, value, field) in [
        ("/trees/0/values/0", serde_json::json!(1e308), "trees[0].values[0]"),
        ("/trees/4/values/3", serde_json::json!(-5e15), "trees[4].values[3]"),
        ("/base/2", serde_json::json!(1e300), "base[2]"),
        ("/ctrs/0/global/1", serde_json::json!(1e299), "ctrs[0].global[1]"),
    ] {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        std::fs::write(&path, v.to_string()).unwrap();
        let e = Gbdt::load(&path).unwrap_err().to_string();
        assert!(e.contains("model.json") && e.contains(field) && e.contains("not a finite value"), "{e}");
        let e = Gbdt::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
    // Trees that do not fit the columns or the objective: refused, not an index panic later.
    for (pointer, value, needle) in [
        ("/trees/0/splits/0/feature", serde_json::json!(99), "trees[0].splits[0]"),
        ("/trees/1/values", serde_json::json!([0.1]), "trees[1].values has 1 values"),
        ("/base", serde_json::json!([0.0]), "base has 1 values"),
        ("/gains", serde_json::json!([]), "gains has 0 values"),
    ] {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        std::fs::write(&path, v.to_string()).unwrap();
        let e = Gbdt::load(&path).unwrap_err().to_string();
        assert!(e.contains("model.json") && e.contains(needle), "{e}");
    }
    // The untouched model still loads and predicts finite probabilities.
    std::fs::write(&path, m.to_json()).unwrap();
    let back = Gbdt::load(&path).unwrap();
    let (d, _) = data(10);
    assert!(back.predict_proba(&d).unwrap().iter().flatten().all(|p| p.is_finite()));
    // Prediction refuses a non-finite score (here from an infinite input routed to a leaf of
    // a valid model: the scores themselves stay finite, so they are returned).
    let mut inf = d.clone();
    inf.numeric[0][0] = f64::INFINITY;
    assert!(back.predict_proba(&inf).map(|p| p.iter().flatten().all(|v| v.is_finite())).unwrap_or(true));
}

#[test]
fn case_18_lorentzian_with_no_training_rows_is_an_error() {
    let test = vec![vec![1.0, 2.0]];
    let e = class_probs(&[], &[], 3, &test, &LorentzianConfig::default()).unwrap_err().to_string();
    assert!(e.contains("0 training rows") && e.contains("Lorentzian"), "{e}");
    // Rows that are all incomplete count as none.
    let e = class_probs(&[vec![f64::NAN, 1.0]], &[0], 3, &test, &LorentzianConfig::default()).unwrap_err().to_string();
    assert!(e.contains("none with every feature finite"), "{e}");
    // Like the GBDT and the logistic regression.
    let (d, _) = data(0);
    assert!(Gbdt::fit(&GbdtConfig::default(), &d, &[], None, None).is_err());
    assert!(Logistic::fit(&d, &[], 3, 1.0).is_err());
}

fn cases() -> u32 {
    std::env::var("VANE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0113), failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary bytes as `model.json`: an error naming the file, never a panic.
    #[test]
    fn arbitrary_model_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        std::fs::write(&path, &bytes).unwrap();
        let e = Gbdt::load(&path).unwrap_err().to_string();
        prop_assert!(e.contains("model.json"), "{e}");
    }

    /// A valid model with one number replaced: it loads and predicts finite probabilities, or it
    /// is refused naming the file; never a panic.
    #[test]
    fn mutated_models_never_panic(which in 0usize..10_000, value in prop_oneof![
        Just(f64::MAX), Just(-1e308), Just(1e13), Just(0.0), Just(-1.0), Just(1e6), Just(3.0), Just(64.0), Just(1e20)
    ]) {
        let m = model();
        let text = m.to_json();
        // Replace the which-th number in the text.
        let spans: Vec<(usize, usize)> = {
            let b = text.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'-' || b[i].is_ascii_digit() {
                    let s = i;
                    i += 1;
                    while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E' | b'-' | b'+')) {
                        i += 1;
                    }
                    if b[s - 1] != b'"' { out.push((s, i)); }
                } else {
                    i += 1;
                }
            }
            out
        };
        let (a, b) = spans[which % spans.len()];
        let mutated = format!("{}{:e}{}", &text[..a], value, &text[b..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        std::fs::write(&path, &mutated).unwrap();
        match Gbdt::load(&path) {
            Ok(back) => {
                let (d, _) = data(20);
                match back.predict_proba(&d) {
                    Ok(p) => prop_assert!(p.iter().flatten().all(|v| v.is_finite())),
                    Err(e) => prop_assert!(!e.to_string().is_empty()),
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("model.json"), "{e}"),
        }
    }
}
