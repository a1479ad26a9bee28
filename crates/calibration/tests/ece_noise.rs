//! `ece_noise_top_label`: the ECE sampling noise of a perfectly calibrated forecaster, against
//! hand-computed binomial figures.

use vane_calibration::metrics::{ece_noise_top_label, ece_top_label};

#[test]
fn four_rows_at_one_half_match_the_binomial_by_hand() {
    // Every row's confidence is 0.5 (one bin). A calibrated forecaster gets k ~ Bin(4, ½) rows
    // right, so its ECE is |k/4 − ½|: 0.5, 0.25, 0, 0.25, 0.5 with chances 1, 4, 6, 4, 1 (/16).
    // Mean = (2·0.5 + 8·0.25)/16 = 0.1875; P(ECE ≤ 0.25) = 14/16 < 0.95, so the 95th
    // percentile is 0.5.
    let probs = vec![vec![0.5, 0.3, 0.2]; 4];
    let y = [0, 0, 1, 2]; // two right: observed ECE 0.
    let n = ece_noise_top_label(&y, &probs, 40_000, 7).unwrap();
    assert_eq!(n.rows, 4);
    assert_eq!(n.draws, 40_000);
    assert!((n.ece - 0.0).abs() < 1e-12);
    assert!((n.mean - 0.1875).abs() < 0.005, "mean {}", n.mean);
    assert_eq!(n.p95, 0.5);
    assert!(n.within_noise);
}

#[test]
fn certain_forecasts_have_no_noise_and_a_miss_is_miscalibration() {
    // Confidence 1: a calibrated forecaster is always right, so its ECE is exactly 0; one miss
    // in three rows is an observed ECE of 1/3, outside the noise.
    let probs = vec![vec![1.0, 0.0, 0.0]; 3];
    let n = ece_noise_top_label(&[0, 0, 1], &probs, 100, 1).unwrap();
    assert!((n.ece - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(n.mean, 0.0);
    assert_eq!(n.p95, 0.0);
    assert!(!n.within_noise);
}

#[test]
fn the_observed_figure_is_ece_top_label_and_the_draws_are_seeded() {
    let probs: Vec<Vec<f64>> = (0..300)
        .map(|i| {
            let a = 0.34 + 0.6 * ((i * 37 % 101) as f64 / 100.0);
            vec![a, (1.0 - a) * 0.7, (1.0 - a) * 0.3]
        })
        .collect();
    let y: Vec<usize> = (0..300).map(|i| (i * 7 % 11) % 3).collect();
    let a = ece_noise_top_label(&y, &probs, 500, 42).unwrap();
    let b = ece_noise_top_label(&y, &probs, 500, 42).unwrap();
    let c = ece_noise_top_label(&y, &probs, 500, 43).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.mean, c.mean);
    assert!((a.ece - ece_top_label(&y, &probs).unwrap()).abs() < 1e-15);
    // With confidences spread over six bins and 300 rows the noise is a few hundredths.
    assert!(a.mean > 0.01 && a.mean < 0.1, "mean {}", a.mean);
    assert!(a.p95 >= a.mean);
}

#[test]
fn bad_input_is_named() {
    let probs = vec![vec![0.5, 0.5]; 2];
    let e = ece_noise_top_label(&[0, 1], &probs, 0, 1).unwrap_err().to_string();
    assert!(e.contains("at least one draw"), "{e}");
    let e = ece_noise_top_label(&[0, 2], &probs, 10, 1).unwrap_err().to_string();
    assert!(e.contains("label 2 at row 1"), "{e}");
}

#[test]
fn the_uncalibrated_figure_is_the_raw_rows_ece_and_is_printed() {
    // Calibrated: confidence 0.5, two of four right → ECE 0. Raw: confidence 0.9, two of four
    // right → ECE 0.4 by hand.
    let y = [0, 0, 1, 2];
    let calibrated = vec![vec![0.5, 0.3, 0.2]; 4];
    let raw = vec![vec![0.9, 0.05, 0.05]; 4];
    let n = ece_noise_top_label(&y, &calibrated, 100, 3).unwrap();
    assert_eq!(n.uncalibrated_ece, None);
    assert!(!n.text().contains("before calibration"));
    let n = n.with_uncalibrated(&y, &raw).unwrap();
    assert!((n.uncalibrated_ece.unwrap() - 0.4).abs() < 1e-12);
    assert!(n.text().starts_with("pooled ECE 0.0000 (before calibration 0.4000) over 4 rows"), "{}", n.text());
    assert!(!n.text().contains("made these rows' ECE worse"), "{}", n.text());
    // The other way round, calibration made it worse, and the sentence says so.
    let worse = ece_noise_top_label(&y, &raw, 100, 3).unwrap().with_uncalibrated(&y, &calibrated).unwrap();
    assert!(worse.text().ends_with("; calibrating made these rows' ECE worse"), "{}", worse.text());
    let e = n.with_uncalibrated(&y[..3], &raw[..3]).unwrap_err().to_string();
    assert!(e.contains("3 labels for an ECE check over 4 rows"), "{e}");
}
