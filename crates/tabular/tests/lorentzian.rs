//! The Lorentzian classifier: a neighbour scan traced by hand, causality, and filters.

use vane_tabular::lorentzian::{LorentzianConfig, classify, lorentzian_distance, regime_filter, volatility_filter};

#[test]
fn neighbour_scan_by_hand() {
    // One feature; bar 7 is predicted from bars 0..=6 (horizon 1). Bars 0 and 4 are skipped
    // (i % 4 == 0). Distances to f7 = 0: j1 ln1.5, j2 ln1.2, j3 ln1.9, j5 ln2.0, j6 ln1.1.
    // Threshold −1 → j1 joins; j2 is nearer than the threshold (skipped); j3 joins; j5 joins,
    // making 3 > k = 2: threshold = dist[round(1.5) = 2] = ln2.0, the oldest (j1) drops;
    // j6 < ln2.0 is skipped. Neighbours j3, j5 with labels sign(c4−c3) = +1, sign(c6−c5) = +1.
    let f: Vec<Vec<f64>> = [0.3, 0.5, 0.2, 0.9, 0.4, 1.0, 0.1, 0.0].iter().map(|&v| vec![v]).collect();
    let c = [10.0, 11.0, 12.0, 11.0, 13.0, 12.0, 14.0, 15.0];
    let cfg = LorentzianConfig { neighbors: 2, max_bars_back: 100, label_horizon: 1 };
    let out = classify(&f, &c, None, &cfg).unwrap();
    assert_eq!(out[7].prediction, 2);
    assert_eq!(out[7].probs, [0.0, 0.0, 1.0]);
    assert_eq!(out[7].signal, 1);
    assert_eq!(out[0].prediction, 0, "no labelled history yet");
    assert!((lorentzian_distance(&[1.0, 2.0], &[0.0, 4.0]) - (2f64.ln() + 3f64.ln())).abs() < 1e-15);
}

#[test]
fn causal_and_filtered() {
    // A deterministic wavy series.
    let n = 300;
    let c: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.37).sin() * 5.0 + i as f64 * 0.01).collect();
    let f: Vec<Vec<f64>> = (0..n).map(|i| vec![(i as f64 * 0.37).cos(), (i as f64 * 0.11).sin()]).collect();
    let cfg = LorentzianConfig::default();
    let full = classify(&f, &c, None, &cfg).unwrap();
    // A prefix computed alone gives the same outputs: no bar sees later closes.
    for cut in [50, 123, 299] {
        let part = classify(&f[..cut], &c[..cut], None, &cfg).unwrap();
        assert_eq!(&part[..], &full[..cut]);
    }
    assert!(full.iter().all(|o| o.prediction.abs() <= 8));
    // Filters that never pass keep the signal at 0.
    let none = classify(&f, &c, Some(&vec![false; n]), &cfg).unwrap();
    assert!(none.iter().all(|o| o.signal == 0));
    // A bar whose filter fails keeps the previous signal.
    let mut mask = vec![true; n];
    mask[200] = false;
    let masked = classify(&f, &c, Some(&mask), &cfg).unwrap();
    assert_eq!(masked[200].signal, full[199].signal);
    assert!(classify(&f, &c[..10], None, &cfg).is_err());
}

#[test]
fn filters_follow_their_definitions() {
    // Flat then a range explosion: recent ATR(1) exceeds ATR(10) on the spike bar.
    let n = 40;
    let mut h = vec![101.0; n];
    let mut l = vec![99.0; n];
    let c = vec![100.0; n];
    h[30] = 110.0;
    l[30] = 90.0;
    let v = volatility_filter(&h, &l, &c, 1, 10);
    assert!(v[30] && !v[25], "{:?}", &v[24..32]);
    let o = vec![100.0; n];
    let r = regime_filter(&o, &h, &l, &c, -0.1);
    assert_eq!(r.len(), n);
}
