//! Out-of-fold discipline, learnability, the shuffled-label null, and bad input.

use std::cell::RefCell;
use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use vane_core::Span;
use vane_stacking::{StackingError, out_of_fold, out_of_fold_classifier};
use vane_tabular::{Dataset, GbdtConfig, LogisticConfig, MajorityConfig, Objective};
use vane_validation::{PurgedKFold, horizon_spans};

/// Label spans of varying length (1..=12 bars), clipped to the series.
fn ragged_spans(n: usize, seed: u64) -> Vec<Span> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|i| Span::new(i, (i + rng.random_range(0..12)).min(n - 1))).collect()
}

fn uniform(n: usize, k: usize) -> Vec<Vec<f64>> {
    vec![vec![1.0 / k as f64; k]; n]
}

#[test]
fn every_row_is_predicted_once_by_a_model_that_never_saw_it_or_its_label_window() {
    let n = 300;
    for (embargo, seed) in [(0, 1), (3, 2), (10, 3)] {
        let spans = ragged_spans(n, seed);
        let folds = PurgedKFold { k: 5, embargo };
        let calls = RefCell::new(Vec::<(Vec<usize>, Vec<usize>)>::new());
        let oof = out_of_fold(&spans, &folds, 3, |train, test| {
            calls.borrow_mut().push((train.to_vec(), test.to_vec()));
            Ok::<_, StackingError>(uniform(test.len(), 3))
        })
        .unwrap();
        let calls = calls.into_inner();
        assert_eq!(calls.len(), 5);

        let mut seen = vec![0usize; n];
        for (f, (train, test)) in calls.iter().enumerate() {
            for &t in test {
                seen[t] += 1;
                assert_eq!(oof.fold[t], Some(f));
            }
            let test_set: BTreeSet<usize> = test.iter().copied().collect();
            let (lo, hi) = (test[0], *test.last().unwrap());
            assert_eq!(test.len(), hi - lo + 1, "a purged k-fold test window is contiguous");
            let last_label_bar = test.iter().map(|&t| spans[t].end).max().unwrap();
            // Independent statement of the rules: a row may train iff it is not tested, its
            // span overlaps no test row's span, and it does not start within `embargo` bars
            // after the test window.
            let allowed: Vec<usize> = (0..n)
                .filter(|&i| {
                    let overlaps =
                        test.iter().any(|&t| spans[i].start <= spans[t].end && spans[t].start <= spans[i].end);
                    let embargoed = i > hi && i <= hi + embargo;
                    !test_set.contains(&i) && !overlaps && !embargoed
                })
                .collect();
            assert_eq!(train, &allowed, "embargo {embargo}, fold {f}: the training set is exactly the allowed rows");
            assert!(train.iter().all(|&i| spans[i].end < lo || spans[i].start > last_label_bar));
            assert_eq!(oof.folds[f].train_len, train.len());
        }
        assert!(seen.iter().all(|&c| c == 1), "every row predicted exactly once");
        assert!(oof.probs.iter().all(|p| p.as_deref() == Some(&[1.0 / 3.0; 3][..])));
        if embargo <= 3 {
            // Spans up to 12 bars: the splitter's embargo alone lets rows right after the test
            // window train although their label window overlaps the test labels'.
            assert!(oof.folds.iter().any(|f| f.extra_purged > 0), "embargo {embargo}");
        }
    }
}

/// Three classes from a noisy score: class = which third of the score range `x + noise` falls
/// in. `x` is observed (with a pure-noise column); the noise is not.
fn synthetic(n: usize, seed: u64) -> (Dataset, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x: Vec<f64> = (0..n).map(|_| rng.random_range(-1.5..1.5)).collect();
    let junk: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y: Vec<usize> = x
        .iter()
        .map(|v| {
            let s = v + rng.random_range(-0.3..0.3);
            if s < -0.5 {
                0
            } else if s > 0.5 {
                2
            } else {
                1
            }
        })
        .collect();
    (Dataset::numeric(vec!["x".into(), "junk".into()], vec![x, junk]).unwrap(), y)
}

/// The most frequent class's share: the accuracy of always guessing it.
fn chance(y: &[usize]) -> f64 {
    let mut counts = [0usize; 3];
    y.iter().for_each(|&c| counts[c] += 1);
    *counts.iter().max().unwrap() as f64 / y.len() as f64
}

/// Four binomial standard errors of an accuracy `p` measured on `n` rows.
fn four_sigma(p: f64, n: usize) -> f64 {
    4.0 * (p * (1.0 - p) / n as f64).sqrt()
}

const N: usize = 600;

#[test]
fn oof_predictions_on_a_learnable_problem_beat_chance_clearly() {
    let (x, y) = synthetic(N, 7);
    let spans = horizon_spans(N, 5);
    let folds = PurgedKFold { k: 5, embargo: 3 };
    let base = chance(&y);
    // Rows 1/3 apart from a class boundary are never mislabelled; the Bayes accuracy is ≈ 0.9.
    let logistic = out_of_fold_classifier(&LogisticConfig { classes: 3, lambda: 1.0 }, &x, &y, &spans, &folds).unwrap();
    let acc = logistic.accuracy(&y).unwrap();
    assert!(acc > 0.8 && acc > base + four_sigma(base, N), "logistic OOF accuracy {acc}, chance {base}");

    let gbdt = GbdtConfig {
        objective: Objective::Multiclass { classes: 3 },
        iterations: 40,
        depth: 2,
        learning_rate: 0.2,
        ..GbdtConfig::default()
    };
    let acc = out_of_fold_classifier(&gbdt, &x, &y, &spans, &folds).unwrap().accuracy(&y).unwrap();
    assert!(acc > 0.8, "GBDT OOF accuracy {acc}, chance {base}");

    // The majority baseline is at most chance.
    let acc =
        out_of_fold_classifier(&MajorityConfig { classes: 3 }, &x, &y, &spans, &folds).unwrap().accuracy(&y).unwrap();
    assert!(acc <= base + four_sigma(base, N), "majority OOF accuracy {acc}, chance {base}");
}

#[test]
fn oof_predictions_with_shuffled_labels_are_at_chance() {
    let (x, mut y) = synthetic(N, 11);
    y.shuffle(&mut StdRng::seed_from_u64(12));
    let spans = horizon_spans(N, 5);
    let folds = PurgedKFold { k: 5, embargo: 3 };
    let oof = out_of_fold_classifier(&LogisticConfig { classes: 3, lambda: 1.0 }, &x, &y, &spans, &folds).unwrap();
    let acc = oof.accuracy(&y).unwrap();
    // With labels independent of the features, each OOF guess is right with probability ≈ the
    // guessed class's share (≤ the majority share); over 600 rows the binomial standard error
    // is ≈ 0.019, so 4σ ≈ 0.077 around one third.
    let third = 1.0 / 3.0;
    assert!((acc - third).abs() < four_sigma(third, N), "shuffled-label OOF accuracy {acc}");
    assert!(acc < chance(&y) + four_sigma(third, N));
}

#[test]
fn bad_input_is_an_error_naming_the_problem() {
    let (x, y) = synthetic(50, 3);
    let spans = horizon_spans(50, 2);
    let folds = PurgedKFold { k: 5, embargo: 0 };
    let lr = LogisticConfig { classes: 3, lambda: 1.0 };
    let msg = |e: StackingError| e.to_string();

    let e = out_of_fold_classifier(&lr, &x, &y, &spans[..49], &folds).unwrap_err();
    assert_eq!(msg(e), "spans: 49 label spans for 50 feature rows");
    let e = out_of_fold_classifier(&lr, &x, &y[..48], &spans, &folds).unwrap_err();
    assert_eq!(msg(e), "labels: 48 for 50 feature rows");
    let e = out_of_fold_classifier(&lr, &x, &y, &spans, &PurgedKFold { k: 51, embargo: 0 }).unwrap_err();
    assert!(matches!(e, StackingError::Validation(_)) && msg(e).contains("k = 51"));
    let mut shifted = spans.clone();
    shifted[7] = Span::new(8, 9);
    let e = out_of_fold(&shifted, &folds, 3, |_, t| Ok::<_, StackingError>(uniform(t.len(), 3))).unwrap_err();
    assert!(msg(e).contains("sample 7 has a label span starting at 8"));
    let e = out_of_fold(&spans, &folds, 1, |_, t| Ok::<_, StackingError>(uniform(t.len(), 1))).unwrap_err();
    assert_eq!(msg(e), "n_classes = 1; need at least 2");

    let e = out_of_fold(&spans, &folds, 3, |_, t| Ok::<_, StackingError>(uniform(t.len() - 1, 3))).unwrap_err();
    assert_eq!(msg(e), "fold 0 (test rows 0..10): fit_predict returned 9 probability rows for 10 test rows");
    let e = out_of_fold(&spans, &folds, 3, |_, t| Ok::<_, StackingError>(uniform(t.len(), 2))).unwrap_err();
    assert_eq!(msg(e), "fold 0 (test rows 0..10): row 0: 2 probabilities, expected 3");
    let e = out_of_fold(&spans, &folds, 3, |_, t| {
        let mut p = uniform(t.len(), 3);
        if t[0] == 20 {
            p[3] = vec![f64::NAN, 0.5, 0.5];
        }
        Ok::<_, StackingError>(p)
    })
    .unwrap_err();
    assert_eq!(msg(e), "fold 2 (test rows 20..30): row 23: probability NaN is not finite and ≥ 0");
    let e =
        out_of_fold(&spans, &folds, 3, |_, t| Ok::<_, StackingError>(vec![vec![0.5, 0.5, 0.5]; t.len()])).unwrap_err();
    assert_eq!(msg(e), "fold 0 (test rows 0..10): row 0: probabilities sum to 1.5, not 1");

    // The model's own error keeps its type and gains the fold.
    let bad = GbdtConfig { objective: Objective::Multiclass { classes: 3 }, depth: 0, ..GbdtConfig::default() };
    let e = out_of_fold_classifier(&bad, &x, &y, &spans, &folds).unwrap_err();
    assert!(e.to_string().starts_with("fold 0 (test rows 0..10): invalid parameter: depth = 0"), "{e}");
    let StackingError::Model { source, .. } = e else { panic!("{e:?}") };
    assert!(source.downcast_ref::<vane_tabular::TabularError>().is_some());

    // A fold left without training rows by purging.
    let long = horizon_spans(50, 49);
    let e = out_of_fold(&long, &folds, 3, |_, t| Ok::<_, StackingError>(uniform(t.len(), 3))).unwrap_err();
    assert_eq!(msg(e), "fold 0 (test rows 0..10): purging and embargo leave no training rows");
}
