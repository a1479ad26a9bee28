//! Metrics against scikit-learn 1.x / SciPy on the same inputs. The reference figures were
//! produced by `sklearn.metrics` / `scipy.stats` calls named next to each assertion.

use vane_validation::metrics::*;

const Y_TRUE: [usize; 10] = [0, 1, 2, 2, 1, 0, 2, 1, 1, 0];
const Y_PRED: [usize; 10] = [0, 2, 2, 2, 1, 0, 1, 1, 0, 0];

fn probs() -> Vec<Vec<f64>> {
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.3, 0.6],
        [0.2, 0.2, 0.6],
        [0.0, 0.1, 0.9],
        [0.3, 0.5, 0.2],
        [0.8, 0.1, 0.1],
        [0.2, 0.5, 0.3],
        [0.25, 0.5, 0.25],
        [0.6, 0.3, 0.1],
        [0.5, 0.25, 0.25],
    ]
    .iter()
    .map(|r| r.to_vec())
    .collect()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
}

#[test]
fn classification_matches_sklearn() {
    close(accuracy(&Y_TRUE, &Y_PRED).unwrap(), 0.7); // accuracy_score
    let r = class_report(&Y_TRUE, &Y_PRED, 3).unwrap(); // precision_recall_fscore_support(zero_division=0)
    for (a, b) in r.precision.iter().zip([0.75, 0.6666666666666666, 0.6666666666666666]) {
        close(*a, b);
    }
    for (a, b) in r.recall.iter().zip([1.0, 0.5, 0.6666666666666666]) {
        close(*a, b);
    }
    for (a, b) in r.f1.iter().zip([0.8571428571428571, 0.5714285714285714, 0.6666666666666666]) {
        close(*a, b);
    }
    assert_eq!(r.support, vec![3, 4, 3]);
    assert_eq!(r.confusion, vec![vec![3, 0, 0], vec![1, 2, 1], vec![0, 1, 2]]); // confusion_matrix
    close(r.macro_f1, 0.6984126984126983); // f1_score(average='macro')
    close(macro_f1(&Y_TRUE, &Y_PRED).unwrap(), 0.6984126984126983);
    // A class absent from both sides is not averaged (sklearn's default label set).
    close(class_report(&[0, 0, 1, 1], &[0, 1, 1, 1], 3).unwrap().macro_f1, 0.7333333333333334);
}

#[test]
fn probabilistic_metrics_match_sklearn() {
    close(log_loss(&Y_TRUE, &probs()).unwrap(), 0.6887364589334404); // log_loss (a 0.0 probability is clipped)
    close(roc_auc_ovr(&Y_TRUE, &probs()).unwrap(), 0.9186507936507938); // roc_auc_score(multi_class='ovr')
    let yb = [false, false, true, true, false, true, true, false];
    let sb = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.4, 0.2];
    close(roc_auc(&yb, &sb).unwrap(), 0.8125); // roc_auc_score, with tied scores
    close(brier_binary(&yb, &sb).unwrap(), 0.15031250000000002); // brier_score_loss
    close(brier(&Y_TRUE, &probs()).unwrap(), 0.409); // mean Σ_k (p_k − onehot_k)²
}

#[test]
fn regression_and_correlation_match_sklearn_scipy() {
    let yt = [0.5, -0.2, 0.1, 0.0, 0.3, -0.4];
    let yp = [0.4, -0.1, -0.05, 0.1, 0.35, -0.2];
    close(mae(&yt, &yp).unwrap(), 0.11666666666666665); // mean_absolute_error
    close(rmse(&yt, &yp).unwrap(), 0.12583057392117916); // sqrt(mean_squared_error)
    close(r2(&yt, &yp).unwrap(), 0.822429906542056); // r2_score
    close(r2(&[1.0, 1.0, 1.0], &[1.0, 1.0, 0.5]).unwrap(), 0.0);
    close(r2(&[1.0, 1.0], &[1.0, 1.0]).unwrap(), 1.0);
    close(ic(&yt, &yp).unwrap(), 0.930881303955569); // scipy.stats.pearsonr
    let x = [1.0, 2.0, 2.0, 3.0, 5.0, 4.0];
    let y = [2.0, 1.0, 4.0, 4.0, 6.0, 5.0];
    close(rank_ic(&x, &y).unwrap(), 0.8676470588235294); // scipy.stats.spearmanr (ties)
    close(ic(&x, &y).unwrap(), 0.8513824469684098);
    // Signs agree on 0.5, −0.2, 0.3, −0.4; not on 0.1 (pred −0.05); 0.0 is skipped: 4/5.
    close(direction_accuracy(&yt, &yp).unwrap(), 0.8);
    assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
}

#[test]
fn bad_input_is_an_error() {
    assert!(accuracy(&[0, 1], &[0]).unwrap_err().to_string().contains("2 values against 1"));
    assert!(accuracy(&[], &[]).is_err());
    assert!(confusion_matrix(&[0, 3], &[0, 1], 3).is_err());
    assert!(roc_auc(&[true, true], &[0.1, 0.2]).unwrap_err().to_string().contains("only one class"));
    assert!(log_loss(&[0, 1], &[vec![0.5, 0.5], vec![0.5]]).is_err());
    assert!(log_loss(&[0, 2], &[vec![0.5, 0.5], vec![0.5, 0.5]]).is_err());
    assert!(log_loss(&[0], &[vec![f64::NAN, 0.5]]).is_err());
    assert!(direction_accuracy(&[0.0], &[1.0]).is_err());
}

#[test]
fn class_scores_by_hand() {
    // Rows predict 0, 1, and a tie between 0 and 1 that goes to the later class (1).
    let y = [0, 1, 0];
    let p = vec![vec![0.8, 0.2], vec![0.4, 0.6], vec![0.5, 0.5]];
    let s = ClassScores::of(&y, &p).unwrap();
    close(s.accuracy, 2.0 / 3.0);
    // Class 0: precision 1, recall 1/2 → F1 2/3; class 1: precision 1/2, recall 1 → F1 2/3.
    close(s.macro_f1, 2.0 / 3.0);
    close(s.log_loss, -(0.8f64.ln() + 0.6f64.ln() + 0.5f64.ln()) / 3.0);
    let m = ClassScores::mean(&[s, ClassScores { accuracy: 0.0, macro_f1: 0.0, log_loss: 1.0, brier: 1.0, ece: 0.5 }]);
    close(m.accuracy, 1.0 / 3.0);
    close(m.log_loss, (s.log_loss + 1.0) / 2.0);
    assert!(ClassScores::of(&[0, 1], &p).is_err(), "lengths differ");
}

#[test]
fn top_label_ece_and_brier_by_hand() {
    // Confidences 0.9 (correct), 0.8 (wrong), 0.55 (correct), 0.6 (correct) over 10 bins:
    // bin 9: {0.9 ✓} → |1 − 0.9| = 0.1; bin 8: {0.8 ✗} → 0.8; bin 5: {0.55 ✓} → 0.45;
    // bin 6: {0.6 ✓} → 0.4. ECE = (0.1 + 0.8 + 0.45 + 0.4) / 4 = 0.4375.
    let probs = vec![vec![0.9, 0.05, 0.05], vec![0.1, 0.8, 0.1], vec![0.55, 0.25, 0.2], vec![0.2, 0.2, 0.6]];
    let y = [0, 0, 0, 2];
    let e = vane_validation::metrics::ece_top_label(&y, &probs, 10).unwrap();
    assert!((e - 0.4375).abs() < 1e-12, "{e}");
    // Two samples in one bin: 0.7 ✓ and 0.75 ✗ → |0.5 − 0.725| = 0.225.
    let e = vane_validation::metrics::ece_top_label(&[0, 1], &[vec![0.7, 0.3], vec![0.75, 0.25]], 10).unwrap();
    assert!((e - 0.225).abs() < 1e-12, "{e}");
    let s = ClassScores::of(&y, &probs).unwrap();
    assert!((s.ece - 0.4375).abs() < 1e-12);
    // Brier: (0.01+0.0025+0.0025) + (0.81+0.64+0.01) + (0.2025+0.0625+0.04) + (0.04+0.04+0.16) / 4.
    let want = (0.015 + 1.46 + 0.305 + 0.24) / 4.0;
    assert!((s.brier - want).abs() < 1e-12, "{}", s.brier);
    assert!(vane_validation::metrics::ece_top_label(&[], &[], 10).is_err());
}
