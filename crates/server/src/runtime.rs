//! Seed 000's runtime: the decisions of the tagged models for the followed symbols, with
//! hysteresis and cooldown per model and k-of-n consensus across them, advanced whenever a new
//! bar reaches the store (a refresh by the runtime itself, `vane download`, another process), and
//! published as `GET /v1/signal/{tag}` and the Server-Sent Events of `GET /v1/stream`.
//!
//! A tag naming a stack (`<artifacts>/stacks/<TAG>/supervisor.json`, seed 000's L1 → L2 → L3)
//! is served by a [`StackRuntime`] per (tag, symbol), fed the stored 1 s bars it has not seen:
//! its decision carries every level's probabilities (`stack`: `l1`, `l2`, `l3`, `vote`), its
//! hysteresis and cooldown are the runtime's, and `POST /v1/thresholds/reload` re-reads its
//! `meta.json` ([`Runtime::reload_stacks`]). Other tags are single models, as before.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::BroadcastStream;
use vane_core::{ClassProbs, Interval, Signal, Symbol, Timestamp};
use vane_policy::{Consensus, Input, Policy, PolicyConfig, Rule};
use vane_stacking::runtime::{RuntimeSettings, StackRuntime, ThresholdChange};

use crate::api::{ApiError, ApiResult};
use crate::config::RuntimeConfig;
use crate::state::AppState;

/// One model's decision for one symbol.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TagDecision {
    /// The model's raw signal for the bar (before hysteresis and cooldown).
    pub raw: Option<Signal>,
    /// The decision after hysteresis and cooldown.
    pub signal: Signal,
    /// The probability behind the raw signal.
    pub confidence: Option<f64>,
    /// BUY/SELL/HOLD probabilities.
    pub probs: Option<ClassProbs>,
    /// Why there is no fresh decision (the model cannot be loaded, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A stack tag's L1 (per horizon), L2 and L3 probabilities, vote and decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<vane_stacking::runtime::TagDecision>,
}

/// A decision update: every tag's decision for one symbol's new bar, and their consensus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Update {
    /// The symbol.
    pub symbol: Symbol,
    /// Open time of the bar decided on.
    pub as_of: Timestamp,
    /// Each tag's decision.
    pub tags: BTreeMap<String, TagDecision>,
    /// k-of-n over the tags' decisions.
    pub consensus: Signal,
    /// The consensus rule.
    pub consensus_rule: Consensus,
    /// Milliseconds from seeing the new bar in the store to publishing this update.
    pub decide_ms: f64,
    /// Milliseconds from the bar's close to publishing this update.
    pub since_close_ms: i64,
}

/// The runtime's state.
#[derive(Debug)]
pub struct Runtime {
    config: RuntimeConfig,
    tx: broadcast::Sender<Update>,
    latest: RwLock<HashMap<Symbol, Update>>,
    policies: Mutex<HashMap<(String, Symbol), Policy>>,
    stacks: Mutex<HashMap<(String, Symbol), StackRuntime>>,
    seen: Mutex<HashMap<Symbol, i64>>,
}

impl Runtime {
    /// A runtime for `config` (idle when no tag is configured).
    pub fn new(config: &RuntimeConfig) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self {
            config: config.clone(),
            tx,
            latest: RwLock::new(HashMap::new()),
            policies: Mutex::new(HashMap::new()),
            stacks: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The configured tags, the main one first.
    pub fn tags(&self) -> Vec<String> {
        self.config.tags()
    }

    /// The latest update per followed symbol.
    pub fn latest(&self) -> Vec<Update> {
        let mut v: Vec<Update> = self.latest.read().map(|l| l.values().cloned().collect()).unwrap_or_default();
        v.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        v
    }

    fn consensus(&self) -> Consensus {
        let n = self.config.tags().len().max(1);
        let k = self.config.consensus_k.unwrap_or(n / 2 + 1).clamp(1, n);
        Consensus { k, n }
    }

    /// Re-reads the `meta.json` thresholds of every running stack tag (`POST
    /// /v1/thresholds/reload`), keeping each policy's state; returns what changed, or per
    /// (tag, symbol) why the file could not be read.
    pub fn reload_stacks(&self) -> Vec<StackReload> {
        let mut stacks = self.stacks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out: Vec<StackReload> = stacks
            .iter_mut()
            .map(|((tag, symbol), rt)| match rt.reload_thresholds() {
                Ok(changes) => StackReload { tag: tag.clone(), symbol: symbol.clone(), changes, error: None },
                Err(e) => StackReload {
                    tag: tag.clone(),
                    symbol: symbol.clone(),
                    changes: Vec::new(),
                    error: Some(e.to_string()),
                },
            })
            .collect();
        out.sort_by(|a, b| (&a.tag, &a.symbol).cmp(&(&b.tag, &b.symbol)));
        out
    }

    /// The runtime settings of a stack tag: the server's hysteresis and cooldown, one tag (the
    /// server's consensus combines the tags).
    fn stack_settings(&self, tag: &str) -> RuntimeSettings {
        RuntimeSettings {
            tags: vec![tag.to_string()],
            hysteresis: self.config.hysteresis,
            cooldown_sec: self.config.cooldown_sec,
            consensus_k: None,
            interval: Interval::S1,
        }
    }

    /// The policy settings of a model: its own `min_conf`, the runtime's hysteresis and cooldown.
    fn policy_config(&self, thresholds: &serde_json::Value) -> PolicyConfig {
        let min_conf = thresholds
            .pointer("/policy/min_conf")
            .or_else(|| thresholds.pointer("/decision/min_conf"))
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        PolicyConfig {
            rule: Rule::MinConf { min_conf },
            hysteresis: self.config.hysteresis,
            cooldown_ms: (self.config.cooldown_sec * 1000.0).round() as i64,
        }
    }
}

/// `--stream-symbols` read the way `/v1/predict` reads `symbol=`: a bare base asset (`ETH`) gets
/// `quote` (`ETHUSDT`) unless a stored series or a model folder has the bare name. Without it
/// `--stream-symbols BTC,ETH` followed two names with no bars, and the runtime stayed silent.
pub fn resolve_symbols(
    symbols: &[Symbol],
    quote: &str,
    data_dir: &std::path::Path,
    artifacts_dir: &std::path::Path,
) -> Vec<Symbol> {
    let stored: Vec<Symbol> = vane_market_data::ParquetStore::new(data_dir)
        .list()
        .map(|l| l.into_iter().map(|s| s.symbol).collect())
        .unwrap_or_default();
    symbols
        .iter()
        .map(|s| {
            let bare = s.as_str();
            if bare.ends_with(quote) || stored.contains(s) || artifacts_dir.join("models").join(bare).is_dir() {
                return s.clone();
            }
            Symbol::new(&format!("{bare}{quote}")).unwrap_or_else(|_| s.clone())
        })
        .collect()
}

/// The bar interval the runtime decides on: 1 s for a stack tag, else the main model's (`None`:
/// no runtime, or its model is not loaded).
fn runtime_interval(state: &AppState) -> Option<Interval> {
    let main = state.inner.runtime.config.model_tag.as_deref()?;
    if is_stack(state, main) {
        Some(Interval::S1)
    } else {
        state.model(main).and_then(|m| m.summary.as_ref().map(|s| s.interval))
    }
}

/// The followed symbols (`--stream-symbols`) with no stored bars in the data dir: at the
/// runtime's interval, or at any interval while the main model is not loaded. They are absent
/// from `/v1/signal/{tag}` and `/v1/stream` until bars arrive; `/health` lists them
/// (`stream_symbols_without_data`) and the server warns about them when it starts.
pub fn followed_without_data(state: &AppState) -> Vec<Symbol> {
    let cfg = &state.inner.runtime.config;
    if !cfg.enabled() {
        return Vec::new();
    }
    let interval = runtime_interval(state);
    let stored = state.store().list().unwrap_or_default();
    cfg.symbols
        .iter()
        .filter(|s| match interval {
            Some(i) => !state.store().last_open_time(s, i).is_ok_and(|t| t.is_some()),
            None => !stored.iter().any(|x| &x.symbol == *s),
        })
        .cloned()
        .collect()
}

/// The start-up warnings about followed symbols without stored bars (one line each, naming the
/// symbol, the interval and the data dir, and what brings the bars).
pub fn missing_data_warnings(state: &AppState) -> Vec<String> {
    let cfg = &state.inner.runtime.config;
    let interval = runtime_interval(state).map_or_else(String::new, |i| format!(" {i}"));
    let data_dir = state.config().data_dir.display();
    followed_without_data(state)
        .into_iter()
        .map(|s| {
            let fix = if cfg.refresh {
                "--stream-refresh will download them at the next look".to_string()
            } else {
                format!("store them with `vane download --symbols {s}` (or start with --stream-refresh)")
            };
            format!(
                "warning: --stream-symbols {s}: no stored{interval} bars in {data_dir}; it is missing from /v1/signal and /v1/stream until bars arrive: {fix}"
            )
        })
        .collect()
}

/// One look at the followed symbols (blocking): refresh when configured, and for each symbol
/// with a bar not decided yet, decide with every tag and publish. Returns the updates made.
pub fn tick(state: &AppState) -> Vec<Update> {
    let rt = &state.inner.runtime;
    let cfg = &rt.config;
    let Some(interval) = runtime_interval(state) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for symbol in &cfg.symbols {
        if cfg.refresh {
            // A failed refresh leaves the stored bars to decide on; the next look tries again.
            let _ = state.refresh(symbol, interval, Timestamp(Timestamp::now().0 - 30 * vane_core::DAY_MS));
        }
        // One stat per look: bars another process stored are seen at the next look.
        state.check_bars(symbol, interval);
        let Ok(Some(warm)) = state.bars(symbol, interval) else { continue };
        let Some(last) = warm.bars.last_open_time() else { continue };
        let seen = rt.seen.lock().ok().and_then(|s| s.get(symbol).copied());
        if seen.is_some_and(|t| t >= last.0) {
            continue;
        }
        let started = Instant::now();
        let mut tags = BTreeMap::new();
        for tag in cfg.tags() {
            let decision = decide(state, &tag, symbol).unwrap_or_else(|e| TagDecision {
                raw: None,
                signal: Signal::Hold,
                confidence: None,
                probs: None,
                error: Some(e),
                stack: None,
            });
            tags.insert(tag, decision);
        }
        let rule = rt.consensus();
        let votes: Vec<Signal> = tags.values().map(|d| d.signal).collect();
        let consensus = rule.combine(&votes).unwrap_or(Signal::Hold);
        let now = Timestamp::now();
        let update = Update {
            symbol: symbol.clone(),
            as_of: last,
            tags,
            consensus,
            consensus_rule: rule,
            decide_ms: started.elapsed().as_secs_f64() * 1000.0,
            since_close_ms: now.0 - interval.close_time(last).0 - 1,
        };
        if let Ok(mut s) = rt.seen.lock() {
            s.insert(symbol.clone(), last.0);
        }
        if let Ok(mut l) = rt.latest.write() {
            l.insert(symbol.clone(), update.clone());
        }
        let _ = rt.tx.send(update.clone());
        out.push(update);
    }
    out
}

/// One tag's decision for `symbol`'s last stored bar: the model's forecast through the tag's
/// own policy (its `min_conf`, the runtime's hysteresis and cooldown), kept per (tag, symbol).
fn decide(state: &AppState, tag: &str, symbol: &Symbol) -> Result<TagDecision, String> {
    if is_stack(state, tag) {
        return decide_stack(state, tag, symbol);
    }
    let rt = &state.inner.runtime;
    let model = state.model(tag).ok_or_else(|| format!("no model {tag}"))?;
    let (f, _, thresholds) = crate::predict::forecast(state, &model, symbol)
        .map_err(|e| e.message)?
        .ok_or_else(|| format!("no stored bars for {symbol}"))?;
    let mut policies = rt.policies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let policy = match policies.entry((tag.to_string(), symbol.clone())) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        // The model's thresholds were validated when it loaded, the runtime's when it started.
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(Policy::new(rt.policy_config(&thresholds)).map_err(|e| format!("{tag}'s policy: {e}"))?)
        }
    };
    let signal = match (f.probs, f.signal) {
        (Some(p), _) => policy.decide(f.as_of, &Input::Classes(p)).unwrap_or(policy.current()),
        (None, Some(s)) => s,
        (None, None) => Signal::Hold,
    };
    Ok(TagDecision { raw: f.signal, signal, confidence: f.confidence, probs: f.probs, error: None, stack: None })
}

/// What [`Runtime::reload_stacks`] did for one (tag, symbol).
#[derive(Clone, Debug, Serialize)]
pub struct StackReload {
    /// The stack tag.
    pub tag: String,
    /// The followed symbol.
    pub symbol: Symbol,
    /// Thresholds that changed.
    pub changes: Vec<ThresholdChange>,
    /// Why `meta.json` could not be reloaded (the old thresholds stay in force).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether `tag` names a stack: `<artifacts>/stacks/<TAG>/supervisor.json` exists (a
/// single-symbol `vane stack train`), or `<artifacts>/symbols/<S>/stacks/<TAG>/supervisor.json`
/// for some symbol `S` (a several-symbol run, `--symbols A,B`).
pub fn is_stack(state: &AppState, tag: &str) -> bool {
    if tag.is_empty() || tag.contains(['/', '\\']) || tag == ".." {
        return false;
    }
    // Called on every look of the runtime: stats only, no file is parsed.
    let artifacts = &state.config().artifacts_dir;
    has_stack(artifacts, tag)
        || std::fs::read_dir(artifacts.join("symbols"))
            .is_ok_and(|mut es| es.any(|e| e.is_ok_and(|e| has_stack(&e.path(), tag))))
}

/// Whether the artifacts folder `dir` holds the stack `tag` (`<dir>/stacks/<TAG>/supervisor.json`).
fn has_stack(dir: &std::path::Path, tag: &str) -> bool {
    dir.join("stacks").join(tag).join("supervisor.json").is_file()
}

/// The artifacts folder whose `stacks/<TAG>` decides for `symbol`: the symbol's own stacks
/// ([`vane_stacking::stack::artifacts_for_symbol`]: `<artifacts>/symbols/<S>` or a
/// single-symbol run trained on it), else a single-symbol run's `<artifacts>/stacks/<TAG>` (a
/// stack trained on another symbol, as before several-symbol runs existed). The error names the
/// tag, the symbol and what is stored.
fn stack_dir_for(state: &AppState, tag: &str, symbol: &Symbol) -> Result<std::path::PathBuf, String> {
    let artifacts = &state.config().artifacts_dir;
    match vane_stacking::stack::artifacts_for_symbol(artifacts, symbol.as_str()) {
        Ok(d) if has_stack(&d, tag) => Ok(d),
        _ if has_stack(artifacts, tag) => Ok(artifacts.clone()),
        Ok(d) => Err(format!("stack {tag}: {symbol}'s stacks in {} have no {tag}", d.join("stacks").display())),
        Err(e) => Err(format!("stack {tag}: {e}")),
    }
}

/// A stack tag's decision for `symbol`'s last stored 1 s bar: the stored bars the tag's
/// [`StackRuntime`] has not seen go through [`StackRuntime::on_bar`] one by one. A new runtime
/// (or one more than its history behind) starts from the last `history` stored bars.
fn decide_stack(state: &AppState, tag: &str, symbol: &Symbol) -> Result<TagDecision, String> {
    let rt = &state.inner.runtime;
    let warm = state
        .bars(symbol, Interval::S1)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no stored {symbol} 1s bars"))?;
    let bars = &warm.bars;
    let times = bars.open_time();
    let mut stacks = rt.stacks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = (tag.to_string(), symbol.clone());
    let stale = |s: &StackRuntime| {
        s.last_open_time()
            .is_none_or(|t| times.last().is_some_and(|&l| l - t.0 > s.history() as i64 * Interval::S1.millis()))
    };
    if stacks.get(&key).is_none_or(stale) {
        let dir = stack_dir_for(state, tag, symbol)?;
        let s = StackRuntime::load(&dir, &[tag], &rt.stack_settings(tag)).map_err(|e| format!("stack {tag}: {e}"))?;
        stacks.insert(key.clone(), s);
    }
    let s = stacks.get_mut(&key).ok_or_else(|| format!("stack {tag}: not loaded"))?;
    let from = match s.last_open_time() {
        Some(t) => times.partition_point(|&x| x <= t.0),
        None => times.len().saturating_sub(s.history()),
    };
    let mut last = None;
    for i in from..times.len() {
        let bar = bars.get(i).ok_or_else(|| format!("{symbol}: bar {i} missing"))?;
        last = Some(s.on_bar(&bar).map_err(|e| format!("stack {tag}: {e}"))?);
    }
    let d = match last {
        Some(d) => d,
        None => s.last_decision().cloned().ok_or_else(|| format!("stack {tag}: no bar decided yet"))?,
    };
    let td = d.tags.get(tag).cloned().ok_or_else(|| format!("stack {tag}: no decision"))?;
    Ok(TagDecision { raw: td.vote, signal: td.decision, confidence: td.l3, probs: None, error: None, stack: Some(td) })
}

/// Looks for new bars every `poll_every` until the server stops.
pub async fn run(state: AppState) {
    if !state.inner.runtime.config.enabled() {
        return;
    }
    let every = state.inner.runtime.config.poll_every;
    loop {
        let st = state.clone();
        let _ = tokio::task::spawn_blocking(move || tick(&st)).await;
        tokio::time::sleep(every).await;
    }
}

/// The answer of `GET /v1/signal/{tag}`.
#[derive(Debug, Serialize)]
pub struct TagSignals {
    /// The tag.
    pub tag: String,
    /// Its latest decision per followed symbol.
    pub symbols: Vec<SymbolSignal>,
}

/// One symbol's latest decision of one tag.
#[derive(Debug, Serialize)]
pub struct SymbolSignal {
    /// The symbol.
    pub symbol: Symbol,
    /// The bar decided on.
    pub as_of: Timestamp,
    /// The tag's decision.
    #[serde(flatten)]
    pub decision: TagDecision,
    /// The consensus of every tag for this bar.
    pub consensus: Signal,
}

/// `GET /v1/signal/{tag}`.
pub async fn signal(State(state): State<AppState>, Path(tag): Path<String>) -> ApiResult<Json<TagSignals>> {
    let rt = &state.inner.runtime;
    if !rt.tags().contains(&tag) {
        return Err(ApiError::not_found(
            "unknown_tag",
            format!("no runtime tag {tag:?}: this server follows {:?} (--model-tag, --consensus-tags)", rt.tags()),
        ));
    }
    let symbols = rt
        .latest()
        .into_iter()
        .filter_map(|u| {
            let d = u.tags.get(&tag)?.clone();
            Some(SymbolSignal { symbol: u.symbol, as_of: u.as_of, decision: d, consensus: u.consensus })
        })
        .collect();
    Ok(Json(TagSignals { tag, symbols }))
}

/// `GET /v1/stream`: the latest update of each followed symbol, then every new one, as
/// Server-Sent Events (`event: decision`, `data: <Update JSON>`).
pub async fn stream(State(state): State<AppState>) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let rt = &state.inner.runtime;
    if !rt.config.enabled() {
        return Err(ApiError::not_found(
            "no_runtime",
            "this server runs no signal runtime: start it with --model-tag (MODEL_TAG) and --stream-symbols",
        ));
    }
    let rx = rt.tx.subscribe();
    let first: Vec<Update> = rt.latest();
    let head = tokio_stream::iter(first);
    let tail = BroadcastStream::new(rx).filter_map(Result::ok);
    let events = head.chain(tail).map(|u| {
        Ok(Event::default()
            .event("decision")
            .json_data(&u)
            .unwrap_or_else(|_| Event::default().comment("unserialisable")))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use vane_core::{BarColumns, Bars};
    use vane_market_data::grid::GridBars;
    use vane_stacking::config::{NetConfig, StackConfig};
    use vane_stacking::stack::{Meta, STACK_FORMAT_VERSION};

    use super::*;
    use crate::config::ServeConfig;

    /// A sparse 1 s series (every 5th second without a trade) and its grid.
    fn series(n: usize) -> (Bars, GridBars) {
        let mut s = 0x9E3779B97F4A7C15u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut c = BarColumns::with_extras(Default::default(), n);
        let mut px = 2000.0f64;
        for i in 0..n {
            if i % 5 == 2 {
                continue;
            }
            let prev = px;
            px *= 1.0 + (next() - 0.5) * 6e-4;
            c.open_time.push(1_700_000_000_000 + i as i64 * 1000);
            c.open.push(prev);
            c.high.push(prev.max(px));
            c.low.push(prev.min(px));
            c.close.push(px);
            c.volume.push(0.5 + next());
        }
        let bars = Bars::from_columns(c).unwrap();
        let grid = vane_market_data::regularise(&bars, Interval::S1).unwrap();
        (bars, grid)
    }

    /// A tiny one-tag ("10s") stack trained on `grid` as SYNUSDT into `stacks`.
    fn train_tiny_stack(grid: &GridBars, stacks: &std::path::Path) {
        let net =
            NetConfig { hidden_low: 8, hidden_high: 8, high_period: 4, epochs: 1, batch: 128, ..NetConfig::default() };
        let mut c = StackConfig::seed000();
        c.tags = vec!["10s".into()];
        c.data.stride = 3;
        c.l1.horizons = vec![1, 10];
        c.l1.seq_lens = vec![8, 8];
        c.l1.oof_splits = 2;
        c.l1.net = net.clone();
        c.l1.meta_head = false;
        c.l2.l1_seq_len = 8;
        c.l2.l2_seq_len = 8;
        c.l2.net = net.clone();
        c.l3.l1_seq_len = 8;
        c.l3.l3_seq_len = 8;
        c.l3.net = net;
        c.validate().unwrap();
        let device = vane_models::DeviceKind::Cpu.device().unwrap();
        let opts = vane_stacking::TrainOptions { symbol: "SYNUSDT".into(), permute_labels: false };
        vane_stacking::train_stacks(grid, &c, &opts, stacks, &device, &mut |_| {}).unwrap();
    }

    /// A server over `root/artifacts` and `root/data` whose runtime follows `symbols` with the
    /// "10s" tag.
    fn stack_server(root: &std::path::Path, symbols: Vec<Symbol>) -> AppState {
        let mut cfg = ServeConfig::new("127.0.0.1:0".parse().unwrap(), root.join("artifacts"), root.join("data"));
        cfg.runtime = RuntimeConfig {
            model_tag: Some("10s".into()),
            consensus_tags: Vec::new(),
            consensus_k: None,
            hysteresis: 0.01,
            cooldown_sec: 10.0,
            symbols,
            refresh: false,
            poll_every: Duration::from_secs(1),
        };
        AppState::new(cfg, None)
    }

    #[test]
    fn a_stack_tag_is_served_by_the_stack_runtime_and_reloads_its_thresholds() {
        let dir = tempfile::tempdir().unwrap();
        let (bars, grid) = series(1500);
        let stacks = dir.path().join("artifacts/stacks");
        train_tiny_stack(&grid, &stacks);
        let symbol: Symbol = "SYNUSDT".parse().unwrap();
        vane_market_data::ParquetStore::new(dir.path().join("data")).write(&symbol, Interval::S1, &bars).unwrap();
        let state = stack_server(dir.path(), vec![symbol.clone()]);
        assert!(is_stack(&state, "10s") && !is_stack(&state, "1s") && !is_stack(&state, "../10s"));
        let updates = tick(&state);
        assert_eq!(updates.len(), 1);
        let u = &updates[0];
        assert_eq!(u.as_of.0, bars.open_time()[bars.len() - 1]);
        let d = &u.tags["10s"];
        assert!(d.error.is_none(), "{:?}", d.error);
        let s = d.stack.as_ref().expect("stack probabilities");
        assert_eq!(s.l1.len(), 2);
        let l3 = s.l3.expect("l3");
        assert!((0.0..=1.0).contains(&l3) && s.l2.is_some());
        assert_eq!((d.confidence, d.raw, d.signal), (Some(l3), s.vote, s.decision));
        // Nothing new in the store: no update.
        assert!(tick(&state).is_empty());

        // New thresholds on disk: the reload reports them, the runtime keeps running.
        let p = stacks.join("10s/meta.json");
        let mut m: Meta = vane_artifact::read_versioned(&p, STACK_FORMAT_VERSION).unwrap();
        m.thresholds = vane_stacking::Thresholds { long: 0.0, short: 0.0 };
        vane_artifact::write_json(&p, &vane_artifact::Versioned::new(STACK_FORMAT_VERSION, &m)).unwrap();
        let r = state.inner.runtime.reload_stacks();
        assert_eq!(r.len(), 1);
        assert!(r[0].error.is_none());
        assert_eq!(r[0].changes.len(), 1);
        assert_eq!(r[0].changes[0].after.long, 0.0);
        assert!(state.inner.runtime.reload_stacks()[0].changes.is_empty(), "a second reload changes nothing");
    }

    #[test]
    fn a_several_symbol_runs_stack_decides_for_its_own_symbol_and_names_a_missing_one() {
        // `vane stack train --symbols A,B` writes `<artifacts>/symbols/<S>/stacks/`; the server
        // serves those tags for S and says which symbols have stacks for any other.
        let dir = tempfile::tempdir().unwrap();
        let (bars, grid) = series(1500);
        train_tiny_stack(
            &grid,
            &vane_stacking::stack::symbol_artifacts_dir(&dir.path().join("artifacts"), "SYNUSDT").join("stacks"),
        );
        let store = vane_market_data::ParquetStore::new(dir.path().join("data"));
        let (own, other): (Symbol, Symbol) = ("SYNUSDT".parse().unwrap(), "OTHUSDT".parse().unwrap());
        store.write(&own, Interval::S1, &bars).unwrap();
        store.write(&other, Interval::S1, &bars).unwrap();
        let state = stack_server(dir.path(), vec![own.clone(), other.clone()]);
        assert!(is_stack(&state, "10s") && !is_stack(&state, "1s") && !is_stack(&state, ".."));
        let updates = tick(&state);
        assert_eq!(updates.len(), 2);
        let by = |s: &Symbol| updates.iter().find(|u| &u.symbol == s).unwrap().tags["10s"].clone();
        let d = by(&own);
        assert!(d.error.is_none(), "{:?}", d.error);
        assert!(d.stack.as_ref().and_then(|s| s.l3).is_some_and(|p| (0.0..=1.0).contains(&p)));
        let e = by(&other).error.expect("no stack for OTHUSDT");
        assert!(e.contains("OTHUSDT") && e.contains("SYNUSDT"), "{e}");
        assert_eq!(by(&other).signal, Signal::Hold);
    }

    /// `--stream-symbols BTC,ETH,SOL` follows BTCUSDT and ETHUSDT (stored with the quote) and the
    /// bare SOL (stored under that name), as `/v1/predict?symbol=` resolves them.
    #[test]
    fn bare_stream_symbols_get_the_quote_unless_stored_bare() {
        let dir = tempfile::tempdir().unwrap();
        let store = vane_market_data::ParquetStore::new(dir.path().join("data"));
        let (bars, _) = series(50);
        for name in ["ETHUSDT", "SOL"] {
            store.append(&Symbol::new(name).unwrap(), Interval::S1, &bars).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("artifacts/models/DOGE")).unwrap();
        let asked: Vec<Symbol> =
            ["BTC", "ETH", "SOL", "XRPUSDT", "DOGE"].iter().map(|s| Symbol::new(s).unwrap()).collect();
        let got = resolve_symbols(&asked, "USDT", &dir.path().join("data"), &dir.path().join("artifacts"));
        let got: Vec<&str> = got.iter().map(Symbol::as_str).collect();
        assert_eq!(got, ["BTCUSDT", "ETHUSDT", "SOL", "XRPUSDT", "DOGE"]);
    }
}
