//! The multiclass chooser: temperature scaling against a hand-derived optimum, top-label ECE
//! and Brier by hand, the pick on calibrated and on overconfident data, fallbacks, the
//! `calibration.json` round trip and bad input.

use vane_calibration::metrics::{
    brier_multiclass, ece_of_bins, ece_top_label, log_loss_multiclass, reliability_top_label,
};
use vane_calibration::{
    CalibrationFile, MulticlassCalibrator, MulticlassMethod, Shrinkage, Temperature, choose_multiclass,
};

/// splitmix64: a seeded uniform in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Dirichlet(1, …, 1) row of `k` probabilities.
    fn simplex(&mut self, k: usize) -> Vec<f64> {
        let e: Vec<f64> = (0..k).map(|_| -(1.0 - self.next()).ln()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }

    /// A class drawn with probabilities `p`.
    fn draw(&mut self, p: &[f64]) -> usize {
        let u = self.next();
        let mut acc = 0.0;
        for (k, v) in p.iter().enumerate() {
            acc += v;
            if u < acc {
                return k;
            }
        }
        p.len() - 1
    }
}

/// `n` rows whose labels are drawn from the rows themselves: calibrated by construction.
fn calibrated(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut r = Rng(seed);
    let probs: Vec<Vec<f64>> = (0..n).map(|_| r.simplex(3)).collect();
    let y = probs.iter().map(|p| r.draw(p)).collect();
    (probs, y)
}

/// The same rows sharpened by the power 3 (and renormalised): overconfident.
fn sharpen(probs: &[Vec<f64>]) -> Vec<Vec<f64>> {
    probs
        .iter()
        .map(|p| {
            let e: Vec<f64> = p.iter().map(|v| v.powi(3)).collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|v| v / s).collect()
        })
        .collect()
}

fn sums_to_one(row: &[f64]) {
    assert!(row.iter().all(|v| v.is_finite() && *v >= 0.0), "{row:?}");
    assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
}

#[test]
fn temperature_matches_the_analytic_optimum_of_a_binary_case() {
    // Every row is (0.8, 0.2) and 3 of 4 labels are class 0. softmax(ln p / T) gives class 0
    // σ(ln 4 / T); the log-loss is minimal where that equals 3/4: ln 4 / T = ln 3.
    let probs = vec![vec![0.8, 0.2]; 4];
    let y = [0, 0, 0, 1];
    let want = 4f64.ln() / 3f64.ln();
    let t = Temperature::fit(&probs, &y).unwrap();
    assert!((t.t - want).abs() < 1e-6, "T = {} vs {want}", t.t);
    let cal = MulticlassCalibrator::fit(MulticlassMethod::Temperature, &probs, &y).unwrap();
    let MulticlassCalibrator::Temperature { t: got } = cal else { panic!("{cal:?}") };
    assert!((got - want).abs() < 1e-6);
    assert!((cal.apply(&probs[0])[0] - 0.75).abs() < 1e-7, "{:?}", cal.apply(&probs[0]));
}

#[test]
fn temperature_matches_a_fine_grid_on_a_three_class_case() {
    let probs: Vec<Vec<f64>> = vec![
        vec![0.7, 0.2, 0.1],
        vec![0.1, 0.6, 0.3],
        vec![0.3, 0.3, 0.4],
        vec![0.5, 0.25, 0.25],
        vec![0.05, 0.15, 0.8],
    ];
    let y = [0, 2, 1, 0, 2];
    // The log-loss of softmax(ln p / T), written out.
    let nll = |t: f64| -> f64 {
        probs
            .iter()
            .zip(y)
            .map(|(p, c)| {
                let z: f64 = p.iter().map(|v| v.powf(1.0 / t)).sum();
                -(p[c].powf(1.0 / t) / z).ln()
            })
            .sum::<f64>()
            / 5.0
    };
    let argmin = |lo: f64, hi: f64, step: f64| -> f64 {
        let n = ((hi - lo) / step).round() as usize;
        (0..=n).map(|i| lo + i as f64 * step).min_by(|a, b| nll(*a).total_cmp(&nll(*b))).unwrap()
    };
    let coarse = argmin(0.1, 10.0, 1e-3);
    let fine = argmin(coarse - 2e-3, coarse + 2e-3, 1e-7);
    let t = Temperature::fit(&probs, &y).unwrap().t;
    assert!((t - fine).abs() < 1e-6, "T = {t}, grid {fine}");
    // An interior optimum (about 0.603: these rows are under-confident), far from the search edges.
    assert!((0.5..0.7).contains(&fine), "{fine}");
}

#[test]
fn shrinkage_matches_the_analytic_optimum() {
    // Every row says class 0 for certain; 6 of 8 labels are class 0. The add-one prior is
    // (7/10, 3/10). The log-loss −¾ ln(1 − 0.3λ) − ¼ ln(0.3λ) has its minimum where
    // 0.9λ = 1 − 0.3λ: λ = 5/6, which puts exactly 3/4 on class 0.
    let probs = vec![vec![1.0, 0.0]; 8];
    let y = [0, 0, 0, 0, 0, 0, 1, 1];
    let s = Shrinkage::fit(&probs, &y).unwrap();
    assert!((s.prior[0] - 0.7).abs() < 1e-15 && (s.prior[1] - 0.3).abs() < 1e-15, "{:?}", s.prior);
    assert!((s.lambda - 5.0 / 6.0).abs() < 1e-7, "λ = {}", s.lambda);
    let cal = MulticlassCalibrator::fit(MulticlassMethod::Shrink, &probs, &y).unwrap();
    let out = cal.apply(&probs[0]);
    assert!((out[0] - 0.75).abs() < 1e-7 && (out[1] - 0.25).abs() < 1e-7, "{out:?}");
    // A perfect model keeps its probabilities (λ = 0, an end point of the search).
    let perfect: Vec<Vec<f64>> = y.iter().map(|&c| if c == 0 { vec![1.0, 0.0] } else { vec![0.0, 1.0] }).collect();
    assert_eq!(Shrinkage::fit(&perfect, &y).unwrap().lambda, 0.0);
}

#[test]
fn shrinkage_falls_back_to_the_base_rate_for_a_model_without_signal() {
    // Labels drawn from a fixed base rate, probabilities unrelated to them: the best mixture is
    // (almost) the base rate, and the chooser ships a calibrator that scores like it.
    let mut r = Rng(77);
    let base = [0.5, 0.3, 0.2];
    let probs: Vec<Vec<f64>> = (0..4000).map(|_| r.simplex(3)).collect();
    let y: Vec<usize> = (0..4000).map(|_| r.draw(&base)).collect();
    let s = Shrinkage::fit(&probs, &y).unwrap();
    assert!(s.lambda > 0.9, "λ = {}", s.lambda);
    let (cal, choice) = choose_multiclass(&probs, &y, 0.3).unwrap();
    assert_ne!(choice.chosen, MulticlassMethod::Identity, "{}", choice.reason);
    let entropy = -base.iter().map(|p: &f64| p * p.ln()).sum::<f64>();
    let won = choice.log_loss(choice.chosen).unwrap();
    assert!((won - entropy).abs() < 0.03, "held-out {won} vs the base rate's entropy {entropy}: {}", choice.reason);
    assert!(choice.shrink_log_loss.unwrap() < choice.identity_log_loss.unwrap() - 0.2, "{}", choice.reason);
    cal.apply_all(&probs).iter().for_each(|row| sums_to_one(row));
}

#[test]
fn top_label_ece_and_reliability_by_hand() {
    let probs = vec![
        vec![0.9, 0.05, 0.05], // conf 0.90, correct → bin 9
        vec![0.2, 0.7, 0.1],   // conf 0.70, wrong   → bin 7
        vec![0.1, 0.15, 0.75], // conf 0.75, correct → bin 7
        vec![0.5, 0.3, 0.2],   // conf 0.50, wrong   → bin 5
        vec![0.45, 0.35, 0.2], // conf 0.45, correct → bin 4
    ];
    let y = [0, 2, 2, 1, 0];
    // bin 4: |1 − 0.45| = 0.55; bin 5: |0 − 0.5| = 0.5; bin 7 (2 rows): |0.5 − 0.725| = 0.225;
    // bin 9: |1 − 0.9| = 0.1. ECE = (0.55 + 0.5 + 2·0.225 + 0.1)/5 = 0.32.
    let bins = reliability_top_label(&y, &probs, 10).unwrap();
    assert_eq!(bins.iter().map(|b| b.count).collect::<Vec<_>>(), [0, 0, 0, 0, 1, 1, 0, 2, 0, 1]);
    assert!((bins[7].mean_predicted - 0.725).abs() < 1e-12 && bins[7].observed == 0.5);
    assert!(bins[0].observed.is_nan());
    let ece = ece_top_label(&y, &probs).unwrap();
    assert!((ece - 0.32).abs() < 1e-12, "{ece}");
    assert!((ece_of_bins(&bins) - 0.32).abs() < 1e-12);
    // The same number as vane-validation's ECE in ClassScores.
    assert!((vane_validation::metrics::ece_top_label(&y, &probs, 10).unwrap() - ece).abs() < 1e-15);
    // Empty bins survive JSON (NaN is written as null and read back as NaN).
    let back: Vec<vane_calibration::metrics::ReliabilityBin> =
        serde_json::from_str(&serde_json::to_string(&bins).unwrap()).unwrap();
    assert!(back[0].observed.is_nan() && back[7] == bins[7]);
    // Brier by hand: row 1: 0.01 + 0.0025 + 0.0025 = 0.015; row 2: 0.04 + 0.49 + 0.81 = 1.34;
    // row 3: 0.01 + 0.0225 + 0.0625 = 0.095; row 4: 0.25 + 0.49 + 0.04 = 0.78;
    // row 5: 0.3025 + 0.1225 + 0.04 = 0.465. Mean = 2.695 / 5.
    assert!((brier_multiclass(&y, &probs).unwrap() - 2.695 / 5.0).abs() < 1e-12);
    let ll = -(0.9f64.ln() + 0.1f64.ln() + 0.75f64.ln() + 0.3f64.ln() + 0.45f64.ln()) / 5.0;
    assert!((log_loss_multiclass(&y, &probs).unwrap() - ll).abs() < 1e-12);
    assert!(reliability_top_label(&[0, 3], &probs[..2], 10).unwrap_err().to_string().contains("label 3 at row 1"));
    assert!(brier_multiclass(&[], &[]).is_err());
}

#[test]
fn chooser_keeps_the_identity_on_calibrated_data() {
    // Seeds 0..40 all keep the identity (with a one-standard-error tie rule 6 of 40 did not).
    for seed in 1..8 {
        let (probs, y) = calibrated(3000, seed);
        let (_, choice) = choose_multiclass(&probs, &y, 0.3).unwrap();
        assert_eq!(choice.chosen, MulticlassMethod::Identity, "seed {seed}: {}", choice.reason);
    }
    let (probs, y) = calibrated(3000, 0);
    let (cal, choice) = choose_multiclass(&probs, &y, 0.3).unwrap();
    assert_eq!(choice.chosen, MulticlassMethod::Identity, "{}", choice.reason);
    // Seed 0: temperature is lower on the held-out rows, but within noise.
    assert!(choice.reason.contains("within noise: temperature scaling is lower by only"), "{}", choice.reason);
    assert_eq!(cal, MulticlassCalibrator::Identity);
    assert_eq!((choice.fit_rows, choice.held_out_rows), (2100, 900));
    for m in MulticlassMethod::ALL {
        assert!(choice.log_loss(m).is_some(), "{m:?} scored: {}", choice.reason);
    }
    assert!(choice.reason.contains("identity chosen by held-out log-loss over 900 rows"), "{}", choice.reason);
}

#[test]
fn chooser_corrects_overconfident_data() {
    for seed in [1, 2, 3] {
        let (probs, y) = calibrated(3000, seed);
        let sharp = sharpen(&probs);
        let (cal, choice) = choose_multiclass(&sharp, &y, 0.3).unwrap();
        assert_ne!(choice.chosen, MulticlassMethod::Identity, "{}", choice.reason);
        let id = choice.identity_log_loss.unwrap();
        let won = choice.log_loss(choice.chosen).unwrap();
        assert!(won <= id, "{won} vs identity {id}");
        assert!(id - won > 0.05, "a large gain on a power-3 sharpening: {}", choice.reason);
        if let MulticlassCalibrator::Temperature { t } = cal {
            assert!((t - 3.0).abs() < 0.3, "T = {t} undoes the power 3");
        }
        // Applied to every row: probabilities; the in-sample log-loss falls too.
        let out = cal.apply_all(&sharp);
        out.iter().for_each(|r| sums_to_one(r));
        assert!(log_loss_multiclass(&y, &out).unwrap() < log_loss_multiclass(&y, &sharp).unwrap());
    }
}

#[test]
fn apply_always_returns_probabilities() {
    let (probs, y) = calibrated(600, 11);
    let sharp = sharpen(&probs);
    let odd = [vec![0.0, 0.0, 0.0], vec![f64::NAN, 0.5, 0.5], vec![-1.0, 2.0, f64::INFINITY], vec![1e-300, 1.0, 0.0]];
    for m in MulticlassMethod::ALL {
        let cal = MulticlassCalibrator::fit(m, &sharp, &y).unwrap();
        for row in sharp.iter().take(50).chain(&odd) {
            let out = cal.apply(row);
            assert_eq!(out.len(), 3, "{m:?}");
            sums_to_one(&out);
        }
    }
    assert_eq!(MulticlassCalibrator::Identity.apply(&[2.0, 6.0]), vec![0.25, 0.75]);
}

#[test]
fn calibration_json_round_trip() {
    let (probs, y) = calibrated(1000, 5);
    let sharp = sharpen(&probs);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("calibration.json");
    let mut fitted = vec![choose_multiclass(&sharp, &y, 0.3).unwrap()];
    for m in [MulticlassMethod::Shrink, MulticlassMethod::OvrPlatt, MulticlassMethod::OvrIsotonic] {
        let (_, choice) = fitted[0].clone();
        fitted.push((MulticlassCalibrator::fit(m, &sharp, &y).unwrap(), choice));
    }
    for (cal, choice) in fitted {
        let file = CalibrationFile::from_multiclass(cal.clone(), choice);
        file.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"format_version\": 1") && text.contains("\"multiclass\""), "{text}");
        let back = CalibrationFile::load(&p).unwrap();
        assert_eq!(back, file);
        let shipped = back.multiclass.unwrap().calibrator;
        for row in sharp.iter().take(20) {
            assert_eq!(shipped.apply(row), cal.apply(row), "{}", cal.method());
        }
    }
    // A version-1 file without the entry (binary calibrators) still loads.
    std::fs::write(&p, r#"{"format_version": 1, "calibrators": [{"method": "identity"}]}"#).unwrap();
    assert!(CalibrationFile::load(&p).unwrap().multiclass.is_none());
}

#[test]
fn fallbacks_are_recorded() {
    // Class 2 never appears in the fitting rows: one-vs-rest cannot fit it; temperature can.
    let (probs, mut y) = calibrated(200, 3);
    for (i, c) in y.iter_mut().enumerate() {
        if i < 140 && *c == 2 {
            *c = 0;
        }
    }
    let (_, choice) = choose_multiclass(&probs, &y, 0.3).unwrap();
    assert!(choice.ovr_platt_log_loss.is_none() && choice.ovr_isotonic_log_loss.is_none(), "{choice:?}");
    assert!(choice.temperature_log_loss.is_some());
    assert!(choice.reason.contains("one-vs-rest Platt unavailable") && choice.reason.contains("only one class"));
    // Too few rows to fit anything but the identity.
    let (probs, y) = calibrated(8, 4);
    let (cal, choice) = choose_multiclass(&probs, &y, 0.3).unwrap();
    assert_eq!(cal, MulticlassCalibrator::Identity);
    assert!(choice.reason.contains("6 fitting rows, need at least 10"), "{}", choice.reason);
    // One row: nothing held out.
    let (cal, choice) = choose_multiclass(&[vec![0.6, 0.4]], &[1], 0.1).unwrap();
    assert_eq!((cal, choice.held_out_rows), (MulticlassCalibrator::Identity, 0));
    assert!(choice.reason.contains("no held-out row"), "{}", choice.reason);
}

#[test]
fn bad_input_is_an_error_naming_it() {
    let ok = vec![vec![0.5, 0.5], vec![0.2, 0.8]];
    let err = |p: &[Vec<f64>], y: &[usize], h: f64| choose_multiclass(p, y, h).unwrap_err().to_string();
    assert!(err(&[], &[], 0.3).contains("no probability rows"));
    assert!(err(&ok, &[0], 0.3).contains("2 probability rows for 1 labels"));
    assert!(err(&[vec![0.5, 0.5], vec![1.0]], &[0, 0], 0.3).contains("row 1 has 1 probabilities"));
    assert!(err(&[vec![0.5, 0.5], vec![f64::NAN, 1.0]], &[0, 0], 0.3).contains("row 1 holds NaN"));
    assert!(err(&[vec![0.5, 0.5], vec![-0.1, 1.0]], &[0, 0], 0.3).contains("finite and ≥ 0"));
    assert!(err(&[vec![1.0], vec![1.0]], &[0, 0], 0.3).contains("need one per class"));
    assert!(err(&ok, &[0, 2], 0.3).contains("label 2 at row 1 is outside 0..2"));
    for h in [0.05, 0.6, f64::NAN, -0.3] {
        assert!(err(&ok, &[0, 1], h).contains("holdout"), "{h}");
    }
    let e = choose_multiclass(&ok, &[0, 9], 0.3).unwrap_err();
    assert_eq!(e.class(), vane_core::ErrorClass::Data);
    assert!(MulticlassCalibrator::fit(MulticlassMethod::OvrPlatt, &ok, &[0, 0]).is_err());
}

#[test]
fn the_pipeline_candidates_start_from_shrinkage_and_fall_back_to_the_identity() {
    use vane_calibration::{PIPELINE_METHODS, choose_multiclass_among};
    // Calibrated rows: shrinkage is the default pick, and its λ stays near 0 (the model's
    // probabilities are kept); the identity is scored for the record but not a candidate.
    let (probs, y) = calibrated(3000, 2);
    let (cal, choice) = choose_multiclass_among(&probs, &y, 0.3, &PIPELINE_METHODS).unwrap();
    assert_eq!(choice.chosen, MulticlassMethod::Shrink, "{}", choice.reason);
    let MulticlassCalibrator::Shrink(s) = &cal else { panic!("{cal:?}") };
    assert!(s.lambda < 0.1, "λ = {} on calibrated rows", s.lambda);
    assert!(choice.identity_log_loss.is_some() && choice.ovr_platt_log_loss.is_none(), "{choice:?}");
    // Overconfident rows: temperature scaling undoes a power-3 sharpening far better than a
    // mixture can, beyond the noise, so it replaces the default.
    let (cal, choice) = choose_multiclass_among(&sharpen(&probs), &y, 0.3, &PIPELINE_METHODS).unwrap();
    assert_eq!(choice.chosen, MulticlassMethod::Temperature, "{}", choice.reason);
    assert!(matches!(cal, MulticlassCalibrator::Temperature { .. }));
    // Too few rows to fit either: the identity.
    let (probs, y) = calibrated(8, 4);
    let (cal, choice) = choose_multiclass_among(&probs, &y, 0.3, &PIPELINE_METHODS).unwrap();
    assert_eq!((cal, choice.chosen), (MulticlassCalibrator::Identity, MulticlassMethod::Identity));
}

#[test]
fn full_shrinkage_to_the_base_rate_is_named_in_the_reason() {
    // Confidently wrong probabilities (0.8 on the class after the label): any share of the model
    // costs log-loss, so the shrinkage weight is 1 and the calibrated rows are the base rate.
    let y: Vec<usize> = (0..600).map(|i| [0, 0, 0, 1, 2][i % 5]).collect();
    let probs: Vec<Vec<f64>> = y
        .iter()
        .map(|&c| {
            let mut p = vec![0.1; 3];
            p[(c + 1) % 3] = 0.8;
            p
        })
        .collect();
    let (cal, choice) =
        vane_calibration::choose_multiclass_among(&probs, &y, 0.3, &[MulticlassMethod::Shrink]).unwrap();
    let MulticlassCalibrator::Shrink(s) = &cal else { panic!("shrinkage was the only candidate: {}", choice.reason) };
    assert!(s.lambda >= 1.0 - vane_calibration::FULL_SHRINK_EPS, "λ = {}", s.lambda);
    assert!(choice.reason.contains("λ = 1.00: every calibrated row is the base rate"), "{}", choice.reason);
    // The add-one smoothed shares of 600 rows, 360/120/120: (361/603, 121/603, 121/603).
    assert!(choice.reason.contains("(0.5987 / 0.2007 / 0.2007)"), "{}", choice.reason);
    let row = cal.apply(&probs[0]);
    assert!((row[0] - 361.0 / 603.0).abs() < 1e-9, "{row:?}");
}
