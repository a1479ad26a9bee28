//! The boosting engine on SYNTHETIC data with known structure (generated here, seeded), and the
//! leakage guards.

use vane_tabular::{Dataset, Gbdt, GbdtConfig, Objective};
use vane_validation::metrics::{accuracy, log_loss, rmse};

/// xorshift in [0, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn cfg(objective: Objective) -> GbdtConfig {
    GbdtConfig {
        objective,
        iterations: 150,
        learning_rate: 0.2,
        depth: 4,
        early_stopping_rounds: None,
        ..GbdtConfig::default()
    }
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("x{i}")).collect()
}

fn argmax(p: &[Vec<f64>]) -> Vec<usize> {
    p.iter().map(|r| r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0).collect()
}

/// y = 0 / 1 / 2 by thirds of x0, plus a noise column.
fn thirds(n: usize, seed: u64) -> (Dataset, Vec<f64>) {
    let mut r = Rng(seed);
    let x0: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let x1: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let y = x0
        .iter()
        .map(|&v| {
            if v < 1.0 / 3.0 {
                0.0
            } else if v < 2.0 / 3.0 {
                1.0
            } else {
                2.0
            }
        })
        .collect();
    (Dataset::numeric(names(2), vec![x0, x1]).unwrap(), y)
}

#[test]
fn multiclass_learns_thresholds() {
    let (train, y) = thirds(600, 1);
    let (test, yt) = thirds(300, 2);
    let m = Gbdt::fit(&cfg(Objective::Multiclass { classes: 3 }), &train, &y, None, None).unwrap();
    let p = m.predict_proba(&test).unwrap();
    let yt_u: Vec<usize> = yt.iter().map(|&v| v as usize).collect();
    assert!(accuracy(&yt_u, &argmax(&p)).unwrap() > 0.97);
    assert!(p.iter().all(|r| (r.iter().sum::<f64>() - 1.0).abs() < 1e-12));
    let imp = m.feature_importance();
    assert!(imp[0].1 > 95.0, "x0 carries the signal: {imp:?}");
}

#[test]
fn large_sets_take_the_histogram_path_and_learn() {
    // 40 000 rows × 3 classes exceed the bin-order search's cache budget, so this fit builds
    // per-leaf histograms with subtraction.
    let (train, y) = thirds(40_000, 11);
    let (test, yt) = thirds(2_000, 12);
    let c = GbdtConfig { iterations: 40, ..cfg(Objective::Multiclass { classes: 3 }) };
    let m = Gbdt::fit(&c, &train, &y, None, None).unwrap();
    let p = m.predict_proba(&test).unwrap();
    let yt_u: Vec<usize> = yt.iter().map(|&v| v as usize).collect();
    assert!(accuracy(&yt_u, &argmax(&p)).unwrap() > 0.98);
    assert!(m.feature_importance()[0].1 > 95.0);
}

#[test]
fn zero_l2_regularisation_leaves_no_nan() {
    // λ = 0 with oblivious trees leaves some leaves empty: their value and split score must be
    // 0, not 0/0.
    let (train, y) = thirds(600, 1);
    let (test, yt) = thirds(300, 2);
    let c = GbdtConfig { l2_leaf_reg: 0.0, ..cfg(Objective::Multiclass { classes: 3 }) };
    let m = Gbdt::fit(&c, &train, &y, None, None).unwrap();
    let p = m.predict_proba(&test).unwrap();
    assert!(p.iter().flatten().all(|v| v.is_finite()));
    let yt_u: Vec<usize> = yt.iter().map(|&v| v as usize).collect();
    assert!(accuracy(&yt_u, &argmax(&p)).unwrap() > 0.97);
}

#[test]
fn binary_learns_xor_which_needs_depth_two() {
    let mut r = Rng(3);
    let n = 800;
    let a: Vec<f64> = (0..n).map(|_| if r.next() < 0.5 { -1.0 } else { 1.0 } + 0.1 * r.next()).collect();
    let b: Vec<f64> = (0..n).map(|_| if r.next() < 0.5 { -1.0 } else { 1.0 } + 0.1 * r.next()).collect();
    let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| f64::from(u8::from(a * b > 0.0))).collect();
    let d = Dataset::numeric(names(2), vec![a, b]).unwrap();
    let (tr, te): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 4 != 0);
    let m = Gbdt::fit(&cfg(Objective::Binary), &d.take(&tr), &tr.iter().map(|&i| y[i]).collect::<Vec<_>>(), None, None)
        .unwrap();
    let p = m.predict_proba(&d.take(&te)).unwrap();
    let yt: Vec<usize> = te.iter().map(|&i| y[i] as usize).collect();
    assert!(accuracy(&yt, &argmax(&p)).unwrap() > 0.97);
}

#[test]
fn regression_fits_a_linear_target() {
    let mut r = Rng(5);
    let n = 1000;
    let a: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let b: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| 3.0 * a - 2.0 * b).collect();
    let d = Dataset::numeric(names(2), vec![a, b]).unwrap();
    let c = GbdtConfig { iterations: 300, ..cfg(Objective::Regression) };
    let m = Gbdt::fit(&c, &d, &y, None, None).unwrap();
    let e = rmse(&y, &m.predict(&d).unwrap()).unwrap();
    assert!(e < 0.06, "rmse {e} (target std ≈ 1.04)");
    assert!(m.predict_proba(&d).is_err());
}

#[test]
fn ordered_target_statistics_do_not_leak_unique_ids() {
    // A categorical column with a unique id per row and random labels: plain target statistics
    // would fit the labels perfectly; ordered ones give every row the prior, so the column is
    // useless and never used.
    let mut r = Rng(7);
    let n = 500;
    let noise: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let y: Vec<f64> = (0..n).map(|_| (r.next() * 3.0).floor()).collect();
    let ids: Vec<String> = (0..n).map(|i| format!("id{i}")).collect();
    let d = Dataset::numeric(names(1), vec![noise]).unwrap().with_categorical("id", ids).unwrap();
    let m = Gbdt::fit(&cfg(Objective::Multiclass { classes: 3 }), &d, &y, None, None).unwrap();
    let imp = m.feature_importance();
    assert_eq!(imp[1].0, "id");
    assert_eq!(imp[1].1, 0.0, "{imp:?}");
}

#[test]
fn informative_categorical_is_learned() {
    // One multi-asset model: the symbol decides the class, a numeric column is noise.
    let mut r = Rng(11);
    let n = 600;
    let sym: Vec<String> = (0..n).map(|i| ["BTCUSDT", "ETHUSDT", "SOLUSDT"][i % 3].to_string()).collect();
    let y: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
    let noise: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let d = Dataset::numeric(names(1), vec![noise]).unwrap().with_categorical("symbol", sym).unwrap();
    let m = Gbdt::fit(&cfg(Objective::Multiclass { classes: 3 }), &d, &y, None, None).unwrap();
    let p = m.predict_proba(&d).unwrap();
    let yu: Vec<usize> = y.iter().map(|&v| v as usize).collect();
    assert_eq!(accuracy(&yu, &argmax(&p)).unwrap(), 1.0);
    // An unseen symbol gets the prior, not an error.
    let unseen = Dataset::numeric(names(1), vec![vec![0.5]])
        .unwrap()
        .with_categorical("symbol", vec!["XRPUSDT".into()])
        .unwrap();
    assert_eq!(m.predict_proba(&unseen).unwrap().len(), 1);
}

#[test]
fn nan_is_its_own_lowest_bin() {
    let mut r = Rng(13);
    let n = 600;
    let x: Vec<f64> = (0..n).map(|i| if i % 3 == 0 { f64::NAN } else { r.next() }).collect();
    let y: Vec<f64> = x.iter().map(|v| if v.is_nan() { 1.0 } else { 0.0 }).collect();
    let d = Dataset::numeric(names(1), vec![x]).unwrap();
    let m = Gbdt::fit(&cfg(Objective::Binary), &d, &y, None, None).unwrap();
    let p = m.predict_proba(&d).unwrap();
    assert!(p.iter().zip(&y).all(|(p, y)| (p[1] > 0.5) == (*y > 0.5)));
}

#[test]
fn early_stopping_keeps_the_best_iteration() {
    // Mostly noise: the evaluation loss bottoms out early.
    let (train, mut y) = thirds(400, 17);
    let mut r = Rng(19);
    for v in y.iter_mut() {
        if r.next() < 0.6 {
            *v = (r.next() * 3.0).floor();
        }
    }
    let (eval, ey) = thirds(300, 23);
    let c = GbdtConfig {
        iterations: 400,
        learning_rate: 0.3,
        depth: 6,
        early_stopping_rounds: Some(20),
        ..cfg(Objective::Multiclass { classes: 3 })
    };
    let m = Gbdt::fit(&c, &train, &y, None, Some((&eval, &ey))).unwrap();
    let h = m.eval_history();
    let best = h.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!(m.trees(), best + 1);
    assert!(h.len() < 400 && h.len() == best + 21, "stopped 20 trees after the best: {} vs {}", h.len(), best);
    let p = m.predict_proba(&eval).unwrap();
    let eu: Vec<usize> = ey.iter().map(|&v| v as usize).collect();
    assert!((log_loss(&eu, &p).unwrap() - h[best]).abs() < 1e-12, "predictions use the kept trees");
}

#[test]
fn reproducible_and_json_round_trip() {
    let (train, y) = thirds(300, 29);
    let d = train.clone().with_categorical("sym", (0..300).map(|i| format!("S{}", i % 5)).collect()).unwrap();
    let c = cfg(Objective::Multiclass { classes: 3 });
    let a = Gbdt::fit(&c, &d, &y, None, None).unwrap();
    let b = Gbdt::fit(&c, &d, &y, None, None).unwrap();
    assert!(a == b && a.to_json() == b.to_json(), "same seed, same model, same JSON");
    let back = Gbdt::from_json(&a.to_json()).unwrap();
    assert_eq!(back.predict_proba(&d).unwrap(), a.predict_proba(&d).unwrap());
    let bumped = a.to_json().replacen("\"format_version\":1", "\"format_version\":9", 1);
    assert!(Gbdt::from_json(&bumped).unwrap_err().to_string().contains("format_version 9 but this build reads"));
}

#[test]
fn weights_shift_the_decision() {
    // Class 1 weighted 5×: more rows predicted as class 1 than without weights.
    let (d, y) = thirds(600, 31);
    let yb: Vec<f64> = y.iter().map(|&v| f64::from(u8::from(v == 1.0))).collect();
    let mut noisy = d.clone();
    let mut r = Rng(37);
    noisy.numeric[0].iter_mut().for_each(|v| *v += 0.3 * (r.next() - 0.5));
    let plain = Gbdt::fit(&cfg(Objective::Binary), &noisy, &yb, None, None).unwrap();
    let weighted = Gbdt::fit(
        &GbdtConfig { class_weights: Some(vec![1.0, 5.0]), ..cfg(Objective::Binary) },
        &noisy,
        &yb,
        None,
        None,
    )
    .unwrap();
    let count = |m: &Gbdt| m.predict_proba(&noisy).unwrap().iter().filter(|p| p[1] > 0.5).count();
    assert!(count(&weighted) > count(&plain), "{} vs {}", count(&weighted), count(&plain));
}

#[test]
fn bad_input_is_a_clear_error() {
    let (d, y) = thirds(50, 41);
    let c = cfg(Objective::Multiclass { classes: 3 });
    let mut bad = y.clone();
    bad[3] = 3.0;
    assert!(Gbdt::fit(&c, &d, &bad, None, None).unwrap_err().to_string().contains("label #3 = 3"));
    assert!(Gbdt::fit(&c, &d, &y[..10], None, None).is_err());
    assert!(Gbdt::fit(&GbdtConfig { depth: 0, ..c.clone() }, &d, &y, None, None).is_err());
    assert!(Gbdt::fit(&c, &d, &y, Some(&vec![-1.0; 50]), None).is_err());
    let m = Gbdt::fit(&c, &d, &y, None, None).unwrap();
    let other = Dataset::numeric(vec!["a".into(), "b".into()], d.numeric.clone()).unwrap();
    assert!(m.predict_proba(&other).unwrap_err().to_string().contains("differ from the model"));
    assert!(Dataset::numeric(names(1), vec![vec![1.0, f64::INFINITY]]).is_err());
}
