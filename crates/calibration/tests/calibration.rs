//! Calibrators against scikit-learn 1.9.1 on the same data, the chooser's fallbacks, metrics by
//! hand, and JSON round trips.

use vane_calibration::metrics::{brier_binary, ece, log_loss_binary, reliability};
use vane_calibration::{
    CalibrationFile, Calibrator, FORMAT_VERSION, Isotonic, Method, OneVsRest, Platt, Temperature, choose, fit_binary,
};

const F: [f64; 16] = [-2.0, -1.5, -1.0, -0.7, -0.3, 0.0, 0.2, 0.4, 0.9, 1.3, 1.8, 2.5, -0.5, 0.6, 1.0, -1.2];
const Y: [u8; 16] = [0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0];

fn yb() -> Vec<bool> {
    Y.iter().map(|&v| v == 1).collect()
}

#[test]
fn platt_matches_sklearn_sigmoid_calibration() {
    // sklearn.calibration._sigmoid_calibration(F, Y) -> (-1.0543089969463866, 0.40476851915987944)
    let p = Platt::fit(&F, &yb()).unwrap();
    assert!((p.a - -1.0543089969463866).abs() < 1e-6, "a = {}", p.a);
    assert!((p.b - 0.40476851915987944).abs() < 1e-6, "b = {}", p.b);
    // p = 1/(1+exp(a f + b)).
    assert!((p.apply(0.5) - 1.0 / (1.0 + (p.a * 0.5 + p.b).exp())).abs() < 1e-15);
    assert!(p.apply(3.0) > p.apply(-3.0));
}

#[test]
fn isotonic_matches_sklearn() {
    let x = [0.1, 0.3, 0.3, 0.5, 0.2, 0.8, 0.8, 0.9, 0.4, 0.6, 0.7, 0.05];
    let y = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    // IsotonicRegression(out_of_bounds='clip').fit(x, y): X_thresholds_, y_thresholds_
    let iso = Isotonic::fit(&x, &y).unwrap();
    assert_eq!(iso.x, vec![0.05, 0.2, 0.3, 0.6, 0.7, 0.9]);
    let want_y = [0.0, 0.0, 0.4, 0.4, 1.0, 1.0];
    for (a, b) in iso.y.iter().zip(want_y) {
        assert!((a - b).abs() < 1e-15, "{:?}", iso.y);
    }
    // .predict([0.0, 0.1, 0.25, 0.3, 0.35, 0.55, 0.65, 0.75, 0.85, 1.0])
    let q = [0.0, 0.1, 0.25, 0.3, 0.35, 0.55, 0.65, 0.75, 0.85, 1.0];
    let want = [0.0, 0.0, 0.2, 0.4, 0.4, 0.4, 0.7000000000000004, 1.0, 1.0, 1.0];
    for (s, w) in q.iter().zip(want) {
        assert!((iso.apply(*s) - w).abs() < 1e-12, "{s}: {} vs {w}", iso.apply(*s));
    }
}

#[test]
fn chooser_picks_by_held_out_log_loss_and_falls_back() {
    // A well-separated monotone relation: both fit; the choice follows the held-out log-loss.
    let scores: Vec<f64> = (0..400).map(|i| ((i * 37) % 400) as f64 / 400.0).collect();
    let labels: Vec<bool> = scores.iter().enumerate().map(|(i, s)| ((i * 7919) % 100) as f64 / 100.0 < *s).collect();
    let (cal, choice) = choose(&scores, &labels, 0.3).unwrap();
    let (pl, il) = (choice.platt_log_loss.unwrap(), choice.isotonic_log_loss.unwrap());
    assert_eq!(choice.chosen, if pl <= il { "platt" } else { "isotonic" });
    assert_eq!(cal.method(), choice.chosen);
    assert!(choice.reason.contains("held-out log-loss"), "{}", choice.reason);
    // One class only in the fitting part: both fail, identity with the reasons recorded.
    let (cal, choice) = choose(&[0.2, 0.4, 0.6, 0.8], &[false, false, false, false], 0.25).unwrap();
    assert_eq!((cal.clone(), choice.chosen.as_str()), (Calibrator::Identity, "identity"));
    assert!(choice.reason.contains("only one class"), "{}", choice.reason);
    assert_eq!(cal.apply(1.7), 1.0);
    // Explicit methods fail loudly instead.
    assert!(fit_binary(Method::Platt, &[0.5], &[true], 0.3).unwrap_err().to_string().contains("cannot fit Platt"));
    assert!(fit_binary(Method::Isotonic, &[0.1, 0.2], &[true, true], 0.3).is_err());
    assert!(choose(&[0.1, f64::NAN], &[true, false], 0.3).is_err());
}

#[test]
fn metrics_by_hand() {
    let y = [true, false, true, true];
    let p = [0.9, 0.2, 0.6, 0.05];
    // Brier = (0.01 + 0.04 + 0.16 + 0.9025)/4
    assert!((brier_binary(&y, &p).unwrap() - 1.1125 / 4.0).abs() < 1e-15);
    let ll = -((0.9f64).ln() + (0.8f64).ln() + (0.6f64).ln() + (0.05f64).ln()) / 4.0;
    assert!((log_loss_binary(&y, &p).unwrap() - ll).abs() < 1e-15);
    // Bins: 0.05 → [0,0.1) (1 pos), 0.2 → [0.2,0.3) (0), 0.6 → [0.6,0.7) (1), 0.9 → [0.9,1] (1).
    // ECE = (|1−0.05| + |0−0.2| + |1−0.6| + |1−0.9|)/4
    assert!((ece(&y, &p).unwrap() - (0.95 + 0.2 + 0.4 + 0.1) / 4.0).abs() < 1e-15);
    let bins = reliability(&y, &p, 10).unwrap();
    assert_eq!(bins.len(), 10);
    assert_eq!(bins[9].count, 1);
    assert!(bins[4].mean_predicted.is_nan());
    assert_eq!(reliability(&[true], &[1.0], 10).unwrap()[9].count, 1, "1.0 falls in the last bin");
}

#[test]
fn multiclass_ovr_and_temperature() {
    let probs: Vec<Vec<f64>> = (0..300)
        .map(|i| {
            let a = ((i * 13) % 100) as f64 / 100.0;
            let b = (1.0 - a) * (((i * 7) % 10) as f64 / 10.0);
            vec![a, b, 1.0 - a - b]
        })
        .collect();
    let y: Vec<usize> = probs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if p[0] > 0.5 || i % 5 == 0 {
                0
            } else if p[1] > p[2] {
                1
            } else {
                2
            }
        })
        .collect();
    let ovr = OneVsRest::fit(&probs, &y, Method::Auto, 0.3).unwrap();
    assert_eq!(ovr.calibrators.len(), 3);
    let out = ovr.apply(&probs[0]);
    assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Temperature: overconfident probabilities get T > 1, and the fit lowers the log-loss.
    let sharp: Vec<Vec<f64>> = probs
        .iter()
        .map(|p| {
            let e: Vec<f64> = p.iter().map(|v| (v.max(1e-6).ln() * 3.0).exp()).collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|v| v / s).collect()
        })
        .collect();
    let t = Temperature::fit(&sharp, &y).unwrap();
    assert!(t.t > 1.0, "T = {}", t.t);
    let before = vane_validation::metrics::log_loss(&y, &sharp).unwrap();
    let after = vane_validation::metrics::log_loss(&y, &sharp.iter().map(|r| t.apply(r)).collect::<Vec<_>>()).unwrap();
    assert!(after < before, "{after} vs {before}");
    assert!(OneVsRest::fit(&probs, &vec![5; 300], Method::Auto, 0.3).is_err());
}

#[test]
fn json_round_trip_and_version_check() {
    let (cal, choice) = choose(&F, &yb(), 0.3).unwrap();
    let file = CalibrationFile {
        format_version: FORMAT_VERSION,
        calibrators: vec![cal, Calibrator::Identity],
        temperature: Some(Temperature { t: 1.5 }),
        choices: vec![choice],
        multiclass: None,
    };
    let back = CalibrationFile::from_json(&file.to_json()).unwrap();
    assert_eq!(back, file);
    let bumped = file.to_json().replace("\"format_version\": 1", "\"format_version\": 2");
    let e = CalibrationFile::from_json(&bumped).unwrap_err().to_string();
    assert!(e.contains("format_version 2 but this build reads 1"), "{e}");
    assert!(CalibrationFile::from_json("{}").unwrap_err().to_string().contains("missing"));
    // Through files: saved atomically, loaded with the file named in errors.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("calibration.json");
    file.save(&p).unwrap();
    assert_eq!(CalibrationFile::load(&p).unwrap(), file);
    std::fs::write(&p, &bumped).unwrap();
    let e = CalibrationFile::load(&p).unwrap_err().to_string();
    assert!(e.contains("calibration.json") && e.contains("retrain"), "{e}");
}

#[test]
fn case_14_no_rows_and_bad_holdouts_are_errors_not_an_identity() {
    // Issue 12 case 14: `--method auto` with 0 fit rows used to return the identity, exit 0, and
    // holdouts of -0.5 or 1 were clamped silently.
    let e = choose(&[], &[], 0.3).unwrap_err().to_string();
    assert!(e.contains("0 samples"), "{e}");
    for h in [-0.5, 0.0, 1.0, f64::NAN, 0.05, 0.6] {
        let e = fit_binary(Method::Auto, &[0.1, 0.9, 0.2, 0.8], &[false, true, false, true], h).unwrap_err();
        assert!(e.to_string().contains("holdout") && e.to_string().contains("[0.1, 0.5]"), "{e}");
        assert_eq!(e.class(), vane_core::ErrorClass::Usage);
        assert!(fit_binary(Method::Platt, &[0.1, 0.9], &[false, true], h).is_err());
    }
}

/// `n` scores spread over [0, 1) in the order of `i·step mod n`: negative below 0.3, positive
/// above 0.7, a coin flip between.
fn plateau(n: usize, step: usize) -> (Vec<f64>, Vec<bool>) {
    let scores: Vec<f64> = (0..n).map(|i| ((i * step) % n) as f64 / n as f64).collect();
    let labels = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if s < 0.3 {
                false
            } else if s > 0.7 {
                true
            } else {
                i % 2 == 0
            }
        })
        .collect();
    (scores, labels)
}

#[test]
fn the_choosers_isotonic_never_says_0_or_1() {
    // Pure tails (all negative below 0.3, all positive above 0.7) and a coin-flip plateau between:
    // isotonic fits it better than a sigmoid by more than two standard errors over 900 held-out
    // rows, and unfloored it would answer exactly 0 and 1 at the tails, which costs −ln ε on the
    // first new row that disagrees.
    let (scores, labels) = plateau(3000, 1999);
    let (cal, choice) = choose(&scores, &labels, 0.3).unwrap();
    assert_eq!(choice.chosen, "isotonic", "{}", choice.reason);
    let floor = vane_calibration::ISOTONIC_FLOOR;
    for s in [-1.0, 0.0, 0.1, 0.5, 0.9, 1.0, 2.0] {
        let p = cal.apply(s);
        assert!((floor..=1.0 - floor).contains(&p), "score {s}: {p}");
    }
    assert_eq!(cal.apply(0.0), floor);
    assert_eq!(cal.apply(1.0), 1.0 - floor);
    // Asked for explicitly, isotonic stays exact (scikit-learn's fit).
    let (exact, _) = fit_binary(Method::Isotonic, &scores, &labels, 0.3).unwrap();
    assert_eq!((exact.apply(0.0), exact.apply(1.0)), (0.0, 1.0));
    // The same relation on 600 rows: isotonic is still lower, but by less than two standard
    // errors of the paired difference, so the simpler Platt is kept and the reason says so.
    let (scores, labels) = plateau(600, 389);
    let (cal, choice) = choose(&scores, &labels, 0.3).unwrap();
    let (pl, il) = (choice.platt_log_loss.unwrap(), choice.isotonic_log_loss.unwrap());
    assert!(il < pl, "{}", choice.reason);
    assert_eq!((cal.method(), choice.chosen.as_str()), ("platt", "platt"));
    assert!(choice.reason.contains("so the simpler Platt is kept"), "{}", choice.reason);
}
