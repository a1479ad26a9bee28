//! Issue 12 ("hostile input"), the pipeline's cases: per-symbol models (7), sequence folders and
//! checkpoints keyed by the whole config (8), class orders (12), absurd model contents (13),
//! duplicate symbols (15), config errors that point at the right place (21), an incomplete model
//! folder (28), `--permute-labels` for sequence models; and property tests over the TOML configs
//! with `--set` overrides and the artifact JSON files (no panic; a rejection names the file).

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use vane_core::Symbol;
use vane_models::train::Quiet;
use vane_pipeline::sequence::{SequenceData, SequenceJob, prepare, train_sequence};
use vane_pipeline::{AnyPredictor, Job, Mode, Override, Predictor, TrainConfig, train};
use vane_testkit::fixture_store_4h;

/// The error message of a load that must fail (the loaded types are not `Debug`).
fn refused<T, E: std::fmt::Display>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => panic!("expected the load to be refused"),
        Err(e) => e.to_string(),
    }
}

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

fn sets(s: &[&str]) -> Vec<Override> {
    s.iter().map(|s| s.parse().unwrap()).collect()
}

/// A quick GBDT configuration: 3 walk-forward windows, 2 θ candidates, 30 trees.
fn gbdt_cfg() -> TrainConfig {
    TrainConfig {
        train_bars: 900,
        test_bars: 360,
        theta_steps_fast: 2,
        iterations_fast: 30,
        depth: 3,
        ..TrainConfig::default()
    }
}

/// Trains the global GBDT once per test binary run into `dir/artifacts`.
fn trained_global(dir: &Path) -> std::path::PathBuf {
    let st = fixture_store_4h(dir);
    let arts = dir.join("artifacts");
    train(&st, &arts, &gbdt_cfg(), Mode::Fast, false).unwrap();
    arts.join("models/global")
}

#[test]
fn case_7_per_symbol_models_are_their_own_and_leave_global_alone() {
    let dir = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(dir.path());
    let arts = dir.path().join("artifacts");
    // Without per_symbol: global only.
    let g = train(&st, &arts, &gbdt_cfg(), Mode::Fast, false).unwrap();
    assert_eq!(g.models.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["global"]);
    let global_model = std::fs::read(arts.join("models/global/model.json")).unwrap();
    let global_metrics = std::fs::read(arts.join("models/global/metrics.json")).unwrap();
    // With per_symbol: one model per symbol, global untouched.
    let r = train(&st, &arts, &TrainConfig { per_symbol: true, ..gbdt_cfg() }, Mode::Fast, false).unwrap();
    assert_eq!(r.models.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["BTCUSDT", "ETHUSDT"]);
    assert_eq!(std::fs::read(arts.join("models/global/model.json")).unwrap(), global_model);
    assert_eq!(std::fs::read(arts.join("models/global/metrics.json")).unwrap(), global_metrics);
    // Each model's metrics are its own walk-forward: different from each other and from global.
    let read = |id: &str| std::fs::read(arts.join("models").join(id).join("metrics.json")).unwrap();
    assert_ne!(read("BTCUSDT"), read("ETHUSDT"));
    assert_ne!(read("BTCUSDT"), global_metrics);
    let (btc, eth) = (&r.by_model["BTCUSDT"], &r.by_model["ETHUSDT"]);
    assert_ne!(btc.windows, eth.windows);
    // A one-symbol model's windows hold that symbol's rows only (about half the global's).
    assert!(btc.windows[0].test_rows < g.metrics.windows[0].test_rows * 2 / 3);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(arts.join("models/ETHUSDT/config.json")).unwrap()).unwrap();
    assert_eq!(saved["config"]["symbols"], serde_json::json!(["ETHUSDT"]));
    let inf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(arts.join("models/ETHUSDT/inference.json")).unwrap()).unwrap();
    assert_eq!(inf["policy"]["min_conf"].as_f64(), Some(eth.min_conf));
    // Prediction picks the symbol's own model.
    assert_eq!(Predictor::for_symbol(&arts, &sym("ETHUSDT")).unwrap().model_id(), "ETHUSDT");
    // Per-symbol only: a fresh folder gets no global model.
    let only = dir.path().join("only");
    train(
        &st,
        &only,
        &TrainConfig { per_symbol: true, symbols: vec![sym("ETHUSDT")], ..gbdt_cfg() },
        Mode::Fast,
        false,
    )
    .unwrap();
    assert!(!only.join("models/global").exists());
    assert!(only.join("models/ETHUSDT/model.json").is_file());
}

fn hrm_job(horizon: usize) -> SequenceJob {
    SequenceJob::from_toml(&format!(
        "[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 8\nmax_bars = 260\nhorizon = {horizon}\n\
         [model]\nkind = \"hrm\"\nhidden_low = 4\nhidden_high = 4\n[train]\nepochs = 1\nbatch_size = 64\n"
    ))
    .unwrap()
}

#[test]
fn case_8_sequence_folders_and_checkpoints_are_keyed_by_the_whole_config() {
    let dir = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(dir.path());
    let arts = dir.path().join("artifacts");
    let a = train_sequence(&st, &arts, &hrm_job(6), &[], false, &mut Quiet).unwrap();
    let b = train_sequence(&st, &arts, &hrm_job(12), &[], false, &mut Quiet).unwrap();
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    assert_ne!(a.dir, b.dir, "two horizons, two folders");
    assert!(name(&a.dir).starts_with("BTCUSDT_4h_hrm_h6_"), "{}", name(&a.dir));
    assert!(name(&b.dir).starts_with("BTCUSDT_4h_hrm_h12_"), "{}", name(&b.dir));
    // Another θ only: another folder too (the hash covers the data config).
    let mut theta = hrm_job(6);
    theta.data.theta = 0.01;
    let c = train_sequence(&st, &arts, &theta, &[], false, &mut Quiet).unwrap();
    assert!(c.dir != a.dir && name(&c.dir).starts_with("BTCUSDT_4h_hrm_h6_"));
    // The same config again: the same folder. Predict finds each by its id.
    let again = train_sequence(&st, &arts, &hrm_job(6), &[], false, &mut Quiet).unwrap();
    assert_eq!(again.dir, a.dir);
    for d in [&a.dir, &b.dir] {
        let id = name(d).parse().unwrap();
        let p = AnyPredictor::resolve(&arts, &sym("BTCUSDT"), Some(&id)).unwrap();
        assert_eq!(vane_pipeline::Predict::model_id(&p), name(d));
    }
    // An old-style id is a clear error suggesting the new names.
    let old = "BTCUSDT_4h_hrm".parse().unwrap();
    let e = AnyPredictor::resolve(&arts, &sym("BTCUSDT"), Some(&old)).unwrap_err().to_string();
    assert!(e.contains("no model BTCUSDT_4h_hrm") && e.contains("did you mean") && e.contains(&name(&a.dir)), "{e}");

    // --resume under another horizon refuses the other config's checkpoint, naming the keys.
    let ck = arts.join(".checkpoints");
    std::fs::create_dir_all(&ck).unwrap();
    let mut job = hrm_job(6);
    job.train.insert("epochs".into(), 2.into());
    // Leave a checkpoint behind: copy the finished model's checkpoint state by training with a
    // stopping observer is slow; instead write one through the trainer (epochs 2, then keep it).
    let r = train_sequence(&st, &arts, &job, &[], false, &mut Quiet).unwrap();
    assert!(!ck.join(name(&r.dir)).exists(), "a finished run removes its checkpoint");
    let state = serde_json::json!({
        "format_version": vane_models::artifact::FORMAT_VERSION,
        "config": {"model": {}, "train": {}, "context": {"data": {"horizon": 6}}},
        "epochs_done": 1,
        "stopping": serde_json::to_value(vane_models::train::EarlyStopping::default()).unwrap(),
        "plateau": serde_json::to_value(vane_models::train::Plateau::new(&r.train)).unwrap(),
        "history": [],
    });
    let other = ck.join(name(&r.dir));
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("state.json"), state.to_string()).unwrap();
    let mut h12 = hrm_job(12);
    h12.train.insert("epochs".into(), 2.into());
    let e = train_sequence(&st, &arts, &h12, &[], true, &mut Quiet).unwrap_err().to_string();
    assert!(e.contains("--resume") && e.contains("data.horizon 6 → 12"), "{e}");
    assert!(e.contains(&name(&r.dir)), "{e}");
}

#[test]
fn case_12_other_class_orders_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let g = trained_global(dir.path());
    let path = g.join("inference.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for classes in [serde_json::json!(["SELL", "BUY", "HOLD"]), serde_json::json!(["UP", "DOWN"])] {
        v["classes"] = classes.clone();
        std::fs::write(&path, v.to_string()).unwrap();
        let e = refused(Predictor::load(&g));
        assert!(e.contains("inference.json") && e.contains("class order"), "{classes}: {e}");
        let e = refused(AnyPredictor::load(&g));
        assert!(e.contains("inference.json") && e.contains("class order"), "{classes}: {e}");
    }
    // The sequence artifact's inference.json too.
    let st = fixture_store_4h(dir.path());
    let arts = dir.path().join("seq");
    let r = train_sequence(&st, &arts, &hrm_job(6), &[], false, &mut Quiet).unwrap();
    let path = r.dir.join("inference.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for classes in [serde_json::json!(["SELL", "BUY", "HOLD"]), serde_json::json!(["UP", "DOWN"])] {
        v["classes"] = classes.clone();
        std::fs::write(&path, v.to_string()).unwrap();
        let e = AnyPredictor::load(&r.dir).unwrap_err().to_string();
        assert!(e.contains("inference.json") && e.contains("class order"), "{classes}: {e}");
    }
}

#[test]
fn case_13_huge_leaf_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let g = trained_global(dir.path());
    let path = g.join("model.json");
    let good: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (field, value) in [
        ("/trees/0/values/0", serde_json::json!(1e308)),
        ("/trees/1/values/2", serde_json::json!(-1e300)),
        ("/base/1", serde_json::json!(1e200)),
    ] {
        let mut v = good.clone();
        *v.pointer_mut(field).unwrap() = value;
        std::fs::write(&path, v.to_string()).unwrap();
        let e = refused(Predictor::load(&g));
        let name = field.trim_start_matches('/').replacen('/', "[", 1).replacen('/', "].", 1);
        assert!(e.contains("model.json"), "{field}: {e}");
        assert!(e.contains("not a finite value within"), "{field}: {e}");
        assert!(e.contains(name.split('/').next().unwrap().split('.').next().unwrap()), "{field} ({name}): {e}");
    }
    // Many large-but-finite leaves that add up beyond any sane score.
    let mut v = good.clone();
    for t in v["trees"].as_array_mut().unwrap() {
        for x in t["values"].as_array_mut().unwrap() {
            *x = serde_json::json!(9e11);
        }
    }
    std::fs::write(&path, v.to_string()).unwrap();
    let e = refused(Predictor::load(&g));
    assert!(e.contains("model.json") && e.contains("add up to a score"), "{e}");
    // A tree that does not fit its columns is refused too (it would index out of bounds).
    let mut v = good.clone();
    v["trees"][0]["splits"][0]["feature"] = serde_json::json!(9999);
    std::fs::write(&path, v.to_string()).unwrap();
    let e = refused(Predictor::load(&g));
    assert!(e.contains("model.json") && e.contains("trees[0].splits[0]"), "{e}");
}

#[test]
fn case_15_duplicate_symbols_are_refused() {
    let e = Job::parse("symbols = [\"BTCUSDT\", \"BTCUSDT\"]\n", "cfg.toml", &[]).unwrap_err().to_string();
    assert!(e.contains("cfg.toml") && e.contains("BTCUSDT is listed twice"), "{e}");
    let e = Job::parse(
        "[data]\nsymbols = [\"ETHUSDT\", \"BTCUSDT\", \"ETHUSDT\"]\n[model]\nkind = \"hrm\"\n",
        "s.toml",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("s.toml") && e.contains("data.symbols: ETHUSDT is listed twice"), "{e}");
    let e = Job::parse("", "x", &sets(&["symbols=[\"BTCUSDT\",\"BTCUSDT\"]"])).unwrap_err().to_string();
    assert!(e.contains("--set symbols") && e.contains("listed twice"), "{e}");
    let mut job = Job::parse("", "x", &[]).unwrap();
    let e = job.set_symbols(&[sym("BTCUSDT"), sym("BTCUSDT")]).unwrap_err().to_string();
    assert!(e.contains("--symbols: BTCUSDT is listed twice"), "{e}");
    assert!(
        TrainConfig { symbols: vec![sym("SOLUSDT"), sym("SOLUSDT")], ..TrainConfig::default() }.validate().is_err()
    );
}

#[test]
fn case_21_config_errors_point_at_the_right_place() {
    // A typo on line 7 of a GBDT file with a [model] table: line 7 (it used to say line 1 or
    // a line of a re-serialised document).
    let text = "horizon = 6\n[model]\nkind = \"gbdt\"\n\n[x]\n\nhorizonn = 3\n";
    let e = Job::parse("horizon = 6\n\ndepth = 4\n\n\n\nhorizonn = 3\n[model]\nkind = \"gbdt\"\n", "cfg.toml", &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cfg.toml:7:") && e.contains("horizonn"), "{e}");
    let e = Job::parse(text, "cfg.toml", &[]).unwrap_err().to_string();
    assert!(e.starts_with("cfg.toml:5:") && e.contains("`x`"), "{e}");
    // A GBDT [model] table takes only `kind`.
    let e = Job::parse("[model]\nkind = \"gbdt\"\n\n\n\n\ndepth = 3\n", "cfg.toml", &[]).unwrap_err().to_string();
    assert!(e.starts_with("cfg.toml:7:") && e.contains("model.depth"), "{e}");
    // A sequence file: a bad [train] key on line 7 is reported there.
    let seq = "[data]\nseq_len = 10\n[model]\nkind = \"hrm\"\n\n[train]\nepochz = 3\n";
    let e = Job::parse(seq, "hrm.toml", &[]).unwrap_err().to_string();
    assert!(e.starts_with("hrm.toml:7:") && e.contains("epochz"), "{e}");
    let e =
        Job::parse("[model]\nkind = \"hrm\"\n[train]\n\nepochs = \"x\"\n", "hrm.toml", &[]).unwrap_err().to_string();
    assert!(e.starts_with("hrm.toml:5:") && e.contains("expected usize"), "{e}");
    // An override names itself, not a line of the file.
    for (text, origin) in [(seq.replace("epochz", "epochs"), "hrm.toml"), ("horizon = 3\n".to_string(), "cfg.toml")] {
        let e = Job::parse(&text, origin, &sets(&["nosuch.key=1"])).unwrap_err().to_string();
        assert!(e.starts_with("--set nosuch.key:") && !e.contains(origin) && !e.contains("line"), "{e}");
    }
    let e = Job::parse(&seq.replace("epochz", "epochs"), "hrm.toml", &sets(&["train.learnin_rate=1"]))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--set train.learnin_rate:") && e.contains("learnin_rate"), "{e}");
    let e = Job::parse("", "defaults", &sets(&["horizon=0"])).unwrap_err().to_string();
    assert!(e.starts_with("--set horizon:") && e.contains("horizon: 0 must be in"), "{e}");
    // Non-finite numbers: "must be a finite number", naming the key (not "invalid type: null").
    for (s, key) in [("train.learning_rate=nan", "train.learning_rate"), ("data.theta=inf", "data.theta")] {
        let e = Job::parse(&seq.replace("epochz", "epochs"), "hrm.toml", &sets(&[s])).unwrap_err().to_string();
        assert!(e.contains(&format!("--set {key}")) && e.contains("must be a finite number"), "{e}");
        assert!(!e.contains("null"), "{e}");
    }
    let e = Job::parse("", "defaults", &sets(&["learning_rate=nan"])).unwrap_err().to_string();
    assert!(e.contains("--set learning_rate") && e.contains("must be a finite number"), "{e}");
    let e =
        Job::parse("[model]\nkind = \"hrm\"\n[train]\nlearning_rate = nan\n", "hrm.toml", &[]).unwrap_err().to_string();
    assert!(e.starts_with("hrm.toml:4:1: train.learning_rate = NaN: must be a finite number"), "{e}");
    // A missing file: its path printed plainly.
    let e = Job::read(Some(Path::new("no/such/cfg.toml")), &[]).unwrap_err().to_string();
    assert!(e.contains("reading no/such/cfg.toml") && !e.contains("Some("), "{e}");
}

#[test]
fn case_28_a_model_folder_without_its_weights_is_incomplete_not_untrained() {
    let dir = tempfile::tempdir().unwrap();
    let g = trained_global(dir.path());
    std::fs::remove_file(g.join("model.json")).unwrap();
    for e in [refused(Predictor::load(&g)), refused(AnyPredictor::load(&g))] {
        assert!(e.contains("incomplete") && e.contains("model.json") && !e.contains("train one first"), "{e}");
    }
    let empty = dir.path().join("artifacts/models/empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(AnyPredictor::load(&empty).unwrap_err().to_string().contains("train one first"));
}

#[test]
fn permute_labels_shuffles_the_sequence_targets() {
    let dir = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(dir.path());
    let d = SequenceData { symbols: vec![sym("BTCUSDT")], seq_len: 8, max_bars: 400, ..SequenceData::default() };
    let plain = prepare(&st, &d).unwrap();
    let permuted = prepare(&st, &SequenceData { permute_labels: true, ..d.clone() }).unwrap();
    let classes = |p: &vane_pipeline::sequence::Prepared| -> Vec<usize> {
        p.train.iter().chain(&p.valid).map(|s| s.target.class).collect()
    };
    let (a, b) = (classes(&plain), classes(&permuted));
    assert_eq!(a.len(), b.len());
    assert_ne!(a, b, "targets moved");
    let count = |v: &[usize], c: usize| v.iter().filter(|&&x| x == c).count();
    // Same windows (ends), only the targets moved.
    assert_eq!(
        plain.train.iter().map(|s| s.end).collect::<Vec<_>>(),
        permuted.train.iter().map(|s| s.end).collect::<Vec<_>>()
    );
    assert!((0..3).all(|c| count(&a, c) + 3 >= count(&b, c) || count(&b, c) + 3 >= count(&a, c)));
    // The flag is part of the config (and so of the folder's hash).
    let j = Job::parse("[model]\nkind = \"hrm\"\n[data]\npermute_labels = true\n", "x", &[]).unwrap();
    assert!(matches!(j, Job::Sequence(s) if s.data.permute_labels));
}

/// 64 cases with a fixed seed by default (CI); `VANE_PROPTEST_CASES=5000` for a longer run.
fn cases() -> u32 {
    std::env::var("VANE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

const SEQ_TOML: &str = "task = \"classification\"\n[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 10\nhorizon = 6\ntheta = 0.005\n\
[model]\nkind = \"tft\"\nd_model = 8\n[train]\nepochs = 1\nlearning_rate = 1e-3\n[decision]\nmin_conf = 0.4\n";
const GBDT_TOML: &str = "symbols = [\"BTCUSDT\", \"ETHUSDT\"]\nhorizon = 6\ntheta_min = 0.005\nlearning_rate = 0.05\n\
depth = 4\n[model]\nkind = \"gbdt\"\n";

/// A structured mutation of valid text: replace a byte range with one of a few hostile tokens.
fn mutate(text: &str, at: usize, len: usize, token: usize) -> String {
    const TOKENS: &[&str] = &[
        "nan",
        "-inf",
        "1e308",
        "0",
        "-1",
        "\"x\"",
        "[",
        "]",
        "=",
        "\n",
        "[model]\nkind = \"hrm\"",
        "{}",
        "18446744073709551616",
        "\u{0}",
        "é",
    ];
    let bytes = text.as_bytes();
    let a = at % (bytes.len() + 1);
    let b = (a + len).min(bytes.len());
    let mut out = bytes[..a].to_vec();
    out.extend_from_slice(TOKENS[token % TOKENS.len()].as_bytes());
    out.extend_from_slice(&bytes[b..]);
    String::from_utf8_lossy(&out).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), rng_seed: RngSeed::Fixed(0x5eed_0021), failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary text never panics the config reader; an error names the file or the override.
    #[test]
    fn configs_from_arbitrary_text_never_panic(text in "\\PC{0,200}", key in "[a-z_.]{1,20}", value in "\\PC{0,12}") {
        let sets: Vec<Override> = format!("{key}={value}").parse().into_iter().collect();
        if let Err(e) = Job::parse(&text, "cfg.toml", &sets) {
            let m = e.to_string();
            prop_assert!(m.contains("cfg.toml") || m.contains("--set") || m.contains("model.kind"), "{m}");
        }
    }

    /// Structured mutations of valid configs, with and without overrides: no panic, and every
    /// rejection names the file or the override.
    #[test]
    fn mutated_configs_never_panic(
        seq in any::<bool>(), at in 0usize..400, len in 0usize..12, token in 0usize..64,
        over in proptest::option::of(("(train|data|model|decision)\\.[a-z_]{2,14}", "(nan|1e308|-1|0|true|\"x\"|\\[\\])")),
    ) {
        let text = mutate(if seq { SEQ_TOML } else { GBDT_TOML }, at, len, token);
        let sets: Vec<Override> = over.map(|(k, v)| format!("{k}={v}").parse().unwrap()).into_iter().collect();
        if let Err(e) = Job::parse(&text, "cfg.toml", &sets) {
            let m = e.to_string();
            prop_assert!(m.contains("cfg.toml") || m.contains("--set") || m.contains("model.kind"), "{m}");
        }
    }
}

/// The artifact JSON files of a trained global model, mutated: loading never panics, and a
/// rejection names the file.
#[test]
fn mutated_artifact_json_never_panics_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let g = trained_global(dir.path());
    let files = ["model.json", "inference.json", "feature_schema.json", "metrics.json", "config.json"];
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(g.join(f)).unwrap()).collect();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        rng_seed: RngSeed::Fixed(0x5eed_0013),
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        0usize..files.len(),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
        0usize..100_000,
        0usize..16,
        0usize..64,
    );
    runner
        .run(&strategy, |(fi, raw, bytes, at, len, token)| {
            let path = g.join(files[fi]);
            let content =
                if raw { bytes } else { mutate(&String::from_utf8_lossy(&originals[fi]), at, len, token).into_bytes() };
            std::fs::write(&path, &content).unwrap();
            let result = std::panic::catch_unwind(|| Predictor::load(&g).map(|_| ()));
            std::fs::write(&path, &originals[fi]).unwrap();
            let result = result.map_err(|_| TestCaseError::fail(format!("{} panicked", files[fi])))?;
            if let Err(e) = result {
                let m = e.to_string();
                // metrics.json and config.json are not read to predict.
                prop_assert!(m.contains(files[fi]), "{}: {m}", files[fi]);
            }
            Ok(())
        })
        .unwrap();
}
