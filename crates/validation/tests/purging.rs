//! Property tests: after purging, no training sample's label span overlaps a test window, no
//! training sample starts inside the embargo, and train and test never share a sample.

use proptest::prelude::*;
use vane_core::Span;
use vane_validation::{Cpcv, PurgedKFold, WalkForward, WindowUnit};

fn spans() -> impl Strategy<Value = Vec<Span>> {
    proptest::collection::vec(0usize..12, 30..200).prop_map(|h| {
        let n = h.len();
        h.iter().enumerate().map(|(i, &d)| Span::new(i, (i + d).min(n - 1))).collect()
    })
}

fn clean(train: &[usize], tests: &[std::ops::Range<usize>], spans: &[Span], embargo: usize) -> Result<(), String> {
    for &i in train {
        for t in tests {
            if t.contains(&i) {
                return Err(format!("sample {i} is in train and test {t:?}"));
            }
            if spans[i].start < t.end && spans[i].end >= t.start {
                return Err(format!("sample {i} span {:?} overlaps test {t:?}", spans[i]));
            }
            if i >= t.end && i < t.end + embargo {
                return Err(format!("sample {i} inside the embargo after {t:?}"));
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn purged_kfold_never_leaks(spans in spans(), k in 2usize..8, embargo in 0usize..6) {
        let folds = PurgedKFold { k, embargo }.folds(&spans).unwrap();
        prop_assert_eq!(folds.len(), k);
        // The test folds tile the samples.
        let tested: usize = folds.iter().map(|f| f.test.len()).sum();
        prop_assert_eq!(tested, spans.len());
        for f in &folds {
            let train: Vec<usize> = f.train_indices().collect();
            prop_assert!(clean(&train, std::slice::from_ref(&f.test), &spans, embargo).is_ok(), "{:?}", clean(&train, std::slice::from_ref(&f.test), &spans, embargo));
            // Nothing is dropped that did not have to be.
            for (i, s) in spans.iter().enumerate() {
                let must_drop = f.test.contains(&i) || (s.start < f.test.end && s.end >= f.test.start) || (i >= f.test.end && i < f.test.end + embargo);
                prop_assert_eq!(train.contains(&i), !must_drop, "sample {}", i);
            }
        }
    }

    #[test]
    fn walk_forward_never_leaks(spans in spans(), train in 5usize..40, test in 1usize..20, gap in 0usize..5, expanding in any::<bool>()) {
        let n = spans.len();
        let wf = WalkForward { unit: WindowUnit::Bars, train, test, step: test, expanding, gap };
        let folds = wf.folds(&(0..n as i64).collect::<Vec<_>>(), &spans).unwrap();
        for f in &folds {
            let tr: Vec<usize> = f.train_indices().collect();
            prop_assert!(clean(&tr, std::slice::from_ref(&f.test), &spans, 0).is_ok());
            prop_assert!(tr.iter().all(|&i| i + gap < f.test.start), "training before the gap");
            prop_assert_eq!(f.test.len(), test);
        }
        // Consecutive test windows advance by the step.
        for w in folds.windows(2) {
            prop_assert_eq!(w[1].test.start, w[0].test.start + test);
        }
    }

    #[test]
    fn cpcv_never_leaks(spans in spans(), n_groups in 3usize..8, embargo in 0usize..4) {
        let k_test = 2.min(n_groups - 1);
        let plan = Cpcv { n_groups, k_test, embargo }.plan(&spans).unwrap();
        for s in &plan.splits {
            let tr: Vec<usize> = s.train.iter().flat_map(|r| r.clone()).collect();
            prop_assert!(clean(&tr, &s.test, &spans, embargo).is_ok());
        }
        for path in &plan.paths {
            prop_assert_eq!(path.len(), n_groups);
        }
    }
}

#[test]
fn splitter_errors() {
    let spans: Vec<Span> = (0..10).map(|i| Span::new(i, i)).collect();
    assert!(PurgedKFold { k: 11, embargo: 0 }.folds(&spans).is_err());
    assert!(Cpcv { n_groups: 4, k_test: 4, embargo: 0 }.plan(&spans).is_err());
    assert!(WalkForward::bars(0, 2).folds(&(0..10).collect::<Vec<i64>>(), &spans).is_err());
    let shifted: Vec<Span> = (0..10).map(|i| Span::new(i + 1, i + 2)).collect();
    assert!(
        PurgedKFold { k: 2, embargo: 0 }
            .folds(&shifted)
            .unwrap_err()
            .to_string()
            .contains("must start at their sample")
    );
    assert!(PurgedKFold { k: 2, embargo: 0 }.folds(&spans[..3]).is_ok());
}
