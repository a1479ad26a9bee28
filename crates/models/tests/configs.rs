//! Bad model configs are errors naming the field (never a panic), and artifacts written by
//! another format version are refused with an error naming the file and saying to retrain.

use burn::tensor::Device;
use vane_artifact::ArtifactError;
use vane_models::artifact::{self, ArtifactFiles, FORMAT_VERSION, SequenceMetrics, SequenceSchema};
use vane_models::cnn_lstm::CnnLstmConfig;
use vane_models::data::{FeatureMatrix, NormKind, Normaliser};
use vane_models::hrm::HrmConfig;
use vane_models::nn::{DropoutConfig, GrnConfig, LstmCellConfig, SelfAttentionConfig};
use vane_models::tft::TftConfig;
use vane_models::train::{Checklist, ChecklistInputs, EpochRecord};
use vane_models::{ModelConfig, ModelError, TrainConfig};

fn dev() -> Device {
    Device::flex()
}

/// `init` fails (no panic) with a config error whose message contains every `needle`.
fn refused<T: std::fmt::Debug>(r: vane_models::Result<T>, needles: &[&str]) {
    let e = r.unwrap_err();
    assert!(matches!(e, ModelError::Config(_)), "{e:?}");
    let m = e.to_string();
    for n in needles {
        assert!(m.contains(n), "{m:?} lacks {n:?}");
    }
}

#[test]
fn bad_hrm_configs_are_errors_naming_the_field() {
    for p in [1.5, -0.1, 1.0, f64::NAN, f64::INFINITY] {
        refused(HrmConfig::new(4).with_dropout(p).init(&dev()), &["HrmConfig.dropout", "[0, 1)"]);
    }
    refused(HrmConfig::new(0).init(&dev()), &["HrmConfig.n_features", "≥ 1"]);
    refused(HrmConfig::new(4).with_hidden_low(0).init(&dev()), &["hidden_low"]);
    refused(HrmConfig::new(4).with_hidden_high(0).init(&dev()), &["hidden_high"]);
    refused(HrmConfig::new(4).with_high_period(0).init(&dev()), &["high_period"]);
    refused(HrmConfig::new(4).with_n_classes(1).init(&dev()), &["n_classes"]);
    HrmConfig::new(4).with_hidden_low(4).with_hidden_high(4).init(&dev()).unwrap();
}

#[test]
fn bad_cnn_lstm_configs_are_errors_naming_the_field() {
    let small = || CnnLstmConfig::new(3).with_conv_channels(4).with_lstm_hidden(8).with_n_heads(2);
    refused(small().with_dropout(f64::NAN).init(&dev()), &["CnnLstmConfig.dropout", "NaN"]);
    refused(small().with_n_heads(3).init(&dev()), &["CnnLstmConfig.n_heads 3 must divide lstm_hidden 8"]);
    refused(small().with_n_heads(0).init(&dev()), &["n_heads"]);
    refused(small().with_lstm_hidden(0).init(&dev()), &["lstm_hidden"]);
    refused(small().with_conv_channels(0).init(&dev()), &["conv_channels"]);
    refused(small().with_kernel_size(4).init(&dev()), &["kernel_size must be odd"]);
    refused(small().with_kernel_size(0).init(&dev()), &["kernel_size"]);
    refused(CnnLstmConfig::new(0).init(&dev()), &["CnnLstmConfig.n_features"]);
    small().init(&dev()).unwrap();
}

#[test]
fn bad_tft_configs_are_errors_naming_the_field() {
    let small = || TftConfig::new(3).with_d_model(8).with_n_heads(2);
    refused(small().with_dropout(1.5).init(&dev()), &["TftConfig.dropout", "1.5"]);
    refused(small().with_n_heads(3).init(&dev()), &["TftConfig.n_heads 3 must divide d_model 8"]);
    refused(small().with_d_model(0).init(&dev()), &["d_model"]);
    refused(small().with_n_symbols(0).init(&dev()), &["n_symbols"]);
    refused(TftConfig::new(0).init(&dev()), &["TftConfig.n_features"]);
    refused(small().with_quantiles(vec![]).init(&dev()), &["quantiles"]);
    refused(small().with_quantiles(vec![0.5, f64::NAN]).init(&dev()), &["quantiles"]);
    small().init(&dev()).unwrap();
    // Through the kind-agnostic config as well.
    refused(ModelConfig::Tft(small().with_n_heads(5)).init(&dev()), &["n_heads 5"]);
}

#[test]
fn bad_building_block_configs_are_errors() {
    refused(DropoutConfig::new(1.0).init(), &["DropoutConfig.prob"]);
    refused(LstmCellConfig::new(3, 0).init(&dev()), &["LstmCellConfig.d_hidden"]);
    refused(SelfAttentionConfig::new(6, 4, 0.1).init(&dev()), &["n_heads 4 must divide d 6"]);
    refused(GrnConfig::new(4, 4, 4, 0.1).with_d_context(Some(0)).init(&dev()), &["GrnConfig.d_context"]);
}

fn saved_artifact(dir: &std::path::Path) {
    let mcfg = ModelConfig::Hrm(HrmConfig::new(2).with_hidden_low(4).with_hidden_high(4));
    let model = mcfg.init(&dev()).unwrap();
    let train = TrainConfig::default();
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]).unwrap();
    m.push_segment(0, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let schema = SequenceSchema {
        format_version: FORMAT_VERSION,
        feature_set: "test".into(),
        columns: m.names().to_vec(),
        seq_len: 2,
        normaliser: Normaliser::fit(NormKind::ZScore, &m, std::slice::from_ref(&(0..m.rows()))).unwrap(),
        symbols: vec!["BTCUSDT".into()],
        classes: vec!["BUY".into(), "SELL".into(), "HOLD".into()],
    };
    let history: Vec<EpochRecord> = (1..=3)
        .map(|e| EpochRecord {
            epoch: e,
            train_loss: 1.0 / e as f64,
            val_loss: 1.0 + 0.1 * (e as f64 - 2.0).abs(),
            train_accuracy: 0.5,
            val_accuracy: 0.5,
            val_macro_f1: 0.5,
            lr: 1e-3,
            best: e == 2,
        })
        .collect();
    let metrics = SequenceMetrics {
        best_epoch: 2,
        epochs_run: 3,
        stopped_early: false,
        val_loss: 1.0,
        val_accuracy: 0.5,
        val_macro_f1: 0.5,
        class_weights: vec![1.0; 3],
        n_train: 4,
        n_valid: 2,
        param_count: 0,
    };
    let checklist =
        Checklist::evaluate(&train, &ChecklistInputs { best: history.get(1), clean_train_loss: Some(0.9), data: None });
    let files = ArtifactFiles {
        model: &mcfg,
        train: &train,
        data: serde_json::json!({}),
        schema: &schema,
        metrics: &metrics,
        history: &history,
        checklist: &checklist,
        interpretation: None,
        inference: None,
        extra: Default::default(),
    };
    artifact::save(dir, &model, &files).unwrap();
}

#[test]
fn every_json_file_carries_the_format_version_and_the_plots_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hrm");
    saved_artifact(&dir);
    for name in ["config.json", "feature_schema.json", "metrics.json", "history.json", "checklist.json"] {
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        assert_eq!(doc["format_version"], FORMAT_VERSION, "{name}");
        assert!(doc.get("version").is_none(), "{name}");
    }
    assert!(std::fs::read(dir.join("loss_curve.png")).unwrap().starts_with(b"\x89PNG"));
    let svg = std::fs::read_to_string(dir.join("loss_curve.svg")).unwrap();
    assert!(svg.contains("validation loss") && svg.contains("best epoch 2"));
    assert!(!dir.join("loss.svg").exists());
    artifact::load(&dir, &dev()).unwrap();
}

#[test]
fn artifacts_of_an_old_format_version_are_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["config.json", "feature_schema.json", "metrics.json", "history.json", "checklist.json"] {
        let dir = tmp.path().join(name.replace('.', "_"));
        saved_artifact(&dir);
        let p = dir.join(name);
        let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        doc["format_version"] = serde_json::json!(1);
        std::fs::write(&p, doc.to_string()).unwrap();
        let e = artifact::load(&dir, &dev()).unwrap_err();
        assert!(
            matches!(&e, ModelError::Artifact(ArtifactError::Version { found: Some(1), expected: 2, path }) if path.ends_with(name)),
            "{name}: {e:?}"
        );
        let m = e.to_string();
        assert!(m.contains(name) && m.contains("retrain"), "{m}");
    }
    // A version-1 artifact as this crate used to write it: `version` in the schema only.
    let dir = tmp.path().join("v1");
    saved_artifact(&dir);
    for name in ["config.json", "feature_schema.json", "metrics.json", "history.json", "checklist.json"] {
        let p = dir.join(name);
        let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let obj = doc.as_object_mut().unwrap();
        obj.remove("format_version");
        if name == "feature_schema.json" {
            obj.insert("version".into(), serde_json::json!(1));
        }
        std::fs::write(&p, doc.to_string()).unwrap();
    }
    let m = artifact::load(&dir, &dev()).unwrap_err().to_string();
    assert!(m.contains("config.json") && m.contains("format_version missing") && m.contains("retrain"), "{m}");
}
