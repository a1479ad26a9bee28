//! `vane train` on a tiny seed 004 TFT: a regression run prints MAE / RMSE / R² / direction
//! accuracy, no "macro-F1 NaN", and a checklist without classification items; a classification
//! run prints precision / recall / F1 / ROC-AUC; both print seed 004's expected results.

mod common;

use common::{fixture, ok, vane};

fn config(task: &str) -> String {
    format!(
        "task = \"{task}\"\n[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 8\nmax_bars = 300\nlabel = \"expected_return\"\n\
         horizon = 6\ntheta = 0.002\nwalk_forward = 2\n\
         [model]\nkind = \"tft\"\nd_model = 8\nn_heads = 2\n\
         [train]\nepochs = 1\nbatch_size = 64\n"
    )
}

#[test]
fn regression_and_classification_reports() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir.path()));
    std::fs::write(dir.path().join("reg.toml"), config("regression")).unwrap();
    std::fs::write(dir.path().join("cls.toml"), config("classification")).unwrap();

    let out = ok(&vane(&["train", "--config", "reg.toml"], dir.path()));
    assert!(!out.contains("NaN"), "a regression run prints no NaN score: {out}");
    assert!(!out.contains("macro-F1"), "{out}");
    assert!(out.contains("MAE") && out.contains("RMSE") && out.contains("R²") && out.contains("direction accuracy"));
    assert!(out.contains("walk-forward (2 windows, pooled out of sample, quantile 0.5): MAE"), "{out}");
    assert!(out.contains("seed 004 expected results:"), "{out}");
    assert!(out.contains("win_rate_partial_closes"), "{out}");
    assert!(out.contains("[-] focal loss on"), "focal loss is not applicable to a regression loss: {out}");
    assert!(!out.contains("[x] focal loss on") && !out.contains("[ ] focal loss on"), "{out}");

    let out = ok(&vane(&["train", "--config", "cls.toml"], dir.path()));
    assert!(out.contains("precision") && out.contains("recall") && out.contains("ROC-AUC"), "{out}");
    assert!(out.contains("walk-forward (2 windows, pooled out of sample): accuracy"), "{out}");
    assert!(out.contains("[x] focal loss on"), "{out}");
    assert!(out.contains("not computed: a classification run predicts no return"), "{out}");
}
