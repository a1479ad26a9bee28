//! What `/health` says about the models and the followed symbols, on real trained artifacts (the
//! bundled BTCUSDT/ETHUSDT 4h candles of 2023): a sequence model's last training bar, a model
//! whose calibration shrank it to the base rate (constant output), and a `--stream-symbols`
//! symbol without stored bars.

use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use vane_core::{Interval, Symbol};
use vane_pipeline::{AnyPredictor, Mode, Predict, TrainConfig};
use vane_server::{AppState, RuntimeConfig, ServeConfig, bind, serve};

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

/// A running server over `cfg` (its address is replaced by the one bound).
struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<JoinHandle<vane_server::Result<()>>>,
}

impl Running {
    fn start(mut cfg: ServeConfig) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = rt.block_on(bind("127.0.0.1:0".parse().unwrap())).unwrap();
        let addr = listener.local_addr().unwrap();
        cfg.addr = addr;
        cfg.workers = 0;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = std::thread::spawn(move || {
            rt.block_on(serve(listener, cfg, async {
                let _ = rx.await;
            }))
        });
        Self { addr, stop: Some(tx), handle: Some(handle) }
    }

    /// `GET path`, which must answer 200.
    fn get(&self, path: &str) -> serde_json::Value {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut resp = agent.get(&format!("http://{}{path}", self.addr)).call().unwrap();
        let body = resp.body_mut().read_to_string().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    fn health(&self) -> serde_json::Value {
        self.get("/health")
    }

    fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.handle.take().unwrap().join().unwrap().unwrap();
    }
}

/// The `/health` entry of model `id`.
fn model<'a>(health: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    health["models"].as_array().unwrap().iter().find(|m| m["id"] == id).unwrap_or_else(|| panic!("{id}: {health}"))
}

/// A small global GBDT trained on the fixture BTCUSDT candles into `root/artifacts`.
fn train_global(root: &Path) {
    let store = vane_testkit::fixture_store_4h(root);
    let cfg = TrainConfig {
        symbols: vec![sym("BTCUSDT")],
        train_bars: 900,
        test_bars: 360,
        theta_steps_fast: 2,
        iterations_fast: 30,
        depth: 4,
        ..TrainConfig::default()
    };
    vane_pipeline::train(&store, &root.join("artifacts"), &cfg, Mode::Fast, false).unwrap();
}

/// Rewrites the multiclass calibrator of `dir/calibration.json` as shrinkage to the base rate
/// with weight `lambda` (the chooser's record is kept).
fn shrink_calibration(dir: &Path, lambda: f64, prior: [f64; 3]) {
    let path = dir.join("calibration.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["multiclass"]["calibrator"] = serde_json::json!({"method": "shrink", "lambda": lambda, "prior": prior});
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn a_model_shrunk_to_the_base_rate_is_reported_constant_and_followed_symbols_without_bars_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    train_global(root);
    let global = root.join("artifacts/models/global");
    // Trained as usual: not constant.
    let before = AnyPredictor::load(&global).unwrap().summary();
    assert!(!before.constant && before.constant_reason.is_none(), "{before:?}");

    // λ within 1e-6 of 1: every bar and symbol gets the base rate.
    shrink_calibration(&global, 1.0 - 1e-9, [0.4, 0.35, 0.25]);
    let p = AnyPredictor::load(&global).unwrap();
    let s = p.summary();
    assert!(s.constant);
    assert_eq!(
        s.constant_reason.as_deref(),
        Some(
            "calibration shrank it to the base rate (λ = 1.00): its probabilities are the base rate for every bar \
             (BUY 0.400, SELL 0.350, HOLD 0.250), so its signal never changes; retrain it on more data or other features"
        )
    );
    // And it really is constant: two symbols, two bars, the same probabilities.
    let store = vane_market_data::ParquetStore::new(root.join("data"));
    let btc = store.read(&sym("BTCUSDT"), Interval::H4).unwrap();
    let eth = store.read(&sym("ETHUSDT"), Interval::H4).unwrap();
    let a = p.predict(&sym("BTCUSDT"), &btc).unwrap().probs.unwrap();
    let b = p.predict(&sym("ETHUSDT"), &eth.slice(0..eth.len() - 50)).unwrap().probs.unwrap();
    for (x, y) in [(a.buy, 0.4), (a.sell, 0.35), (a.hold, 0.25), (b.buy, 0.4), (b.hold, 0.25)] {
        assert!((x - y).abs() < 1e-6, "{a:?} {b:?}");
    }

    // A second model shrunk only part of the way is not constant.
    let eth_dir = root.join("artifacts/models/ETHUSDT");
    copy_dir(&global, &eth_dir);
    let inf = eth_dir.join("inference.json");
    let text = std::fs::read_to_string(&inf).unwrap().replace("\"model_id\": \"global\"", "\"model_id\": \"ETHUSDT\"");
    std::fs::write(&inf, text).unwrap();
    shrink_calibration(&eth_dir, 0.9, [0.4, 0.35, 0.25]);

    // A runtime following BTCUSDT (stored) and XRPUSDT (nothing stored).
    let mut cfg = ServeConfig::new("127.0.0.1:0".parse().unwrap(), root.join("artifacts"), root.join("data"));
    cfg.runtime = RuntimeConfig {
        model_tag: Some("global".into()),
        symbols: vec![sym("BTCUSDT"), sym("XRPUSDT")],
        poll_every: Duration::from_secs(1),
        ..RuntimeConfig::default()
    };
    let state = AppState::new(cfg.clone(), None);
    state.scan_models();
    assert_eq!(vane_server::runtime::followed_without_data(&state), vec![sym("XRPUSDT")]);
    let warnings = vane_server::runtime::missing_data_warnings(&state);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let data_dir = root.join("data").display().to_string();
    assert!(
        warnings[0].starts_with("warning: --stream-symbols XRPUSDT: no stored 4h bars in ")
            && warnings[0].contains(&data_dir)
            && warnings[0].contains("vane download --symbols XRPUSDT"),
        "{}",
        warnings[0]
    );
    // The runtime decides for the stored symbol only.
    let updates = vane_server::runtime::tick(&state);
    assert_eq!(updates.iter().map(|u| u.symbol.clone()).collect::<Vec<_>>(), vec![sym("BTCUSDT")]);

    let server = Running::start(cfg);
    let h = server.health();
    assert_eq!(h["stream_symbols_without_data"], serde_json::json!(["XRPUSDT"]));
    let g = model(&h, "global");
    assert_eq!(g["constant"], true);
    assert_eq!(g["constant_reason"], s.constant_reason.clone().unwrap().as_str());
    let e = model(&h, "ETHUSDT");
    assert_eq!(e["constant"], false);
    assert!(e.get("constant_reason").is_none(), "{e}");
    server.stop();

    // Bars arrive: the symbol is no longer listed.
    vane_market_data::ParquetStore::new(root.join("data")).append(&sym("XRPUSDT"), Interval::H4, &btc).unwrap();
    assert!(vane_server::runtime::followed_without_data(&state).is_empty());
    assert!(vane_server::runtime::missing_data_warnings(&state).is_empty());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_trained_sequence_model_reports_the_last_bar_it_was_trained_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let store = vane_testkit::fixture_store_4h(root);
    let job = vane_pipeline::sequence::SequenceJob::from_toml(
        "[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 8\nmax_bars = 400\nhorizon = 6\nwalk_forward = 2\n\
         [model]\nkind = \"hrm\"\nhidden_low = 8\nhidden_high = 8\n[train]\nepochs = 1\n",
    )
    .unwrap();
    let r = vane_pipeline::sequence::train_sequence(
        &store,
        &root.join("artifacts"),
        &job,
        &[],
        false,
        &mut vane_models::train::Quiet,
    )
    .unwrap();
    // The last labelled bar: 6 bars (the label horizon) before the last stored one.
    let bars = store.read(&sym("BTCUSDT"), Interval::H4).unwrap();
    let expected = bars.open_time()[bars.len() - 1 - 6];
    let p = AnyPredictor::load(&r.dir).unwrap();
    assert_eq!(p.model_kind(), "hrm");
    assert_eq!(p.summary().trained_until_ms, Some(expected));

    let mut cfg = ServeConfig::new("127.0.0.1:0".parse().unwrap(), root.join("artifacts"), root.join("data"));
    cfg.runtime = RuntimeConfig::default();
    let server = Running::start(cfg);
    let h = server.health();
    let id = r.dir.file_name().unwrap().to_str().unwrap();
    let m = model(&h, id);
    assert_eq!(m["kind"], "hrm");
    assert_eq!(m["trained_until_ms"], expected);
    assert_eq!(m["constant"], false);
    assert_eq!(h["stream_symbols_without_data"], serde_json::json!([]));
    // Its forecasts carry it too.
    let f = server.get(&format!("/v1/predict?symbol=BTCUSDT&model_id={id}"));
    assert_eq!((&f["model_kind"], &f["model_id_used"]), (&serde_json::json!("hrm"), &serde_json::json!(id)));
    assert_eq!(f["trained_until_ms"], expected);
    assert_eq!(f["as_of"], bars.open_time()[bars.len() - 1]);
    server.stop();
}
