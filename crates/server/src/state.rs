//! What every handler shares: the configuration, the loaded models, warm bars and forecasts per
//! symbol, the job queue and the request limiter. A request for the latest bar of a warm symbol
//! is answered from memory (no file is opened); a background watcher notices new or retrained
//! model folders, edited thresholds and new bars written by other processes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use vane_artifact::Forecast;
use vane_core::{Bars, Interval, Symbol};
use vane_market_data::ParquetStore;
use vane_pipeline::{AnyPredictor, ModelSummary};

use crate::config::ServeConfig;
use crate::jobs::JobQueue;

/// A model folder loaded (or not) at a point of its history on disk.
#[derive(Debug)]
pub struct LoadedModel {
    /// The folder name (the model id).
    pub id: String,
    /// The predictor, or why the folder cannot be loaded (the message names the file).
    pub predictor: Result<Mutex<AnyPredictor>, String>,
    /// What `/health` reports (for a folder that loads).
    pub summary: Option<ModelSummary>,
    /// The newest modification time of the folder's files when it was loaded.
    pub stamp: Option<SystemTime>,
}

/// The newest modification time of `dir` and its files (`None`: the folder is gone).
pub fn folder_stamp(dir: &Path) -> Option<SystemTime> {
    let mut newest = std::fs::metadata(dir).ok()?.modified().ok()?;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
            newest = newest.max(t);
        }
    }
    Some(newest)
}

impl LoadedModel {
    /// Loads the folder `artifacts/models/<id>` (blocking).
    pub fn load(models_dir: &Path, id: &str) -> Self {
        let dir = models_dir.join(id);
        let stamp = folder_stamp(&dir);
        match AnyPredictor::load(&dir) {
            Ok(p) => {
                let summary = Some(p.summary());
                Self { id: id.to_string(), predictor: Ok(Mutex::new(p)), summary, stamp }
            }
            Err(e) => Self { id: id.to_string(), predictor: Err(e.to_string()), summary: None, stamp },
        }
    }
}

/// Warm bars of one series and the file's modification time they were read at.
#[derive(Debug, Clone)]
pub struct WarmBars {
    /// The bars.
    pub bars: Arc<Bars>,
    /// The store file's modification time when read.
    pub stamp: Option<SystemTime>,
}

/// A model's feature stream for one symbol, kept warm between requests: fed every stored bar
/// once, in order, so a new bar costs one `update` of each indicator, not a recompute.
pub struct WarmStream {
    /// The model's feature set, streaming.
    pub features: Box<dyn vane_indicators::FeatureStream>,
    /// The feature row after the last bar fed.
    pub row: Vec<f64>,
    /// How many bars were fed.
    pub fed: usize,
    /// The open time of the last bar fed.
    pub last: i64,
}

impl std::fmt::Debug for WarmStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarmStream").field("fed", &self.fed).field("last", &self.last).finish_non_exhaustive()
    }
}

/// The shared state. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: ServeConfig,
    pub(crate) started: Instant,
    pub(crate) store: ParquetStore,
    pub(crate) models: RwLock<HashMap<String, Arc<LoadedModel>>>,
    pub(crate) bars: RwLock<HashMap<(Symbol, Interval), WarmBars>>,
    /// (model id, symbol) → the forecast for the bar opening at the key's time.
    pub(crate) forecasts: Mutex<HashMap<(String, Symbol), (i64, Forecast)>>,
    /// (model id, symbol) → its warm feature stream (GBDT models).
    pub(crate) streams: Mutex<HashMap<(String, Symbol), WarmStream>>,
    pub(crate) jobs: Option<JobQueue>,
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
    pub(crate) rescan: tokio::sync::Notify,
    pub(crate) runtime: crate::runtime::Runtime,
    /// Successful `POST /v1/thresholds/reload` calls since start (reported by `/health`).
    pub(crate) reloads: std::sync::atomic::AtomicU64,
    /// Parsed `returns.csv` files of the runs registry, by run id and file stamp.
    pub(crate) runs_cache: crate::runs_api::SeriesCache,
}

impl AppState {
    /// A state for `config` with `jobs` (no queue: the job endpoints answer 503).
    pub fn new(config: ServeConfig, jobs: Option<JobQueue>) -> Self {
        let store = ParquetStore::new(&config.data_dir);
        let in_flight = Arc::new(tokio::sync::Semaphore::new(config.max_in_flight));
        let runtime = crate::runtime::Runtime::new(&config.runtime);
        Self {
            inner: Arc::new(Inner {
                config,
                started: Instant::now(),
                store,
                models: RwLock::new(HashMap::new()),
                bars: RwLock::new(HashMap::new()),
                forecasts: Mutex::new(HashMap::new()),
                streams: Mutex::new(HashMap::new()),
                jobs,
                in_flight,
                rescan: tokio::sync::Notify::new(),
                runtime,
                reloads: std::sync::atomic::AtomicU64::new(0),
                runs_cache: crate::runs_api::SeriesCache::default(),
            }),
        }
    }

    /// The configuration served.
    pub fn config(&self) -> &ServeConfig {
        &self.inner.config
    }

    /// Seconds since the state was created.
    pub fn uptime_s(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64()
    }

    /// The runs registry.
    pub fn runs(&self) -> vane_artifact::runs::RunsDir {
        vane_artifact::runs::RunsDir::new(&self.inner.config.runs_dir)
    }

    /// Successful threshold reloads since start.
    pub fn thresholds_reloads(&self) -> u64 {
        self.inner.reloads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The candle store.
    pub fn store(&self) -> &ParquetStore {
        &self.inner.store
    }

    /// The job queue, when the server has one.
    pub fn jobs(&self) -> Option<&JobQueue> {
        self.inner.jobs.as_ref()
    }

    /// `artifacts/models`.
    pub fn models_dir(&self) -> PathBuf {
        self.inner.config.artifacts_dir.join("models")
    }

    /// The loaded model folder `id`, if there is one.
    pub fn model(&self, id: &str) -> Option<Arc<LoadedModel>> {
        self.inner.models.read().ok()?.get(id).cloned()
    }

    /// Every model folder known, sorted by id.
    pub fn models(&self) -> Vec<Arc<LoadedModel>> {
        let mut v: Vec<_> = self.inner.models.read().map(|m| m.values().cloned().collect()).unwrap_or_default();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Asks the watcher to look at the disk now (after a job finished, say).
    pub fn rescan_soon(&self) {
        self.inner.rescan.notify_one();
    }

    /// Loads every model folder whose files changed since it was loaded (new, retrained,
    /// thresholds edited) and forgets the removed ones; returns the ids (re)loaded. Blocking.
    pub fn scan_models(&self) -> Vec<String> {
        let dir = self.models_dir();
        let mut present: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| !n.starts_with('.') && vane_artifact::ModelId::new(n).is_ok())
            .collect();
        present.sort();
        let mut changed = Vec::new();
        for id in &present {
            let stamp = folder_stamp(&dir.join(id));
            let known = self.model(id).map(|m| m.stamp);
            if known != Some(stamp) {
                let loaded = Arc::new(LoadedModel::load(&dir, id));
                if let Ok(mut m) = self.inner.models.write() {
                    m.insert(id.clone(), loaded);
                }
                if let Ok(mut f) = self.inner.forecasts.lock() {
                    f.retain(|(m, _), _| m != id);
                }
                if let Ok(mut s) = self.inner.streams.lock() {
                    s.retain(|(m, _), _| m != id);
                }
                changed.push(id.clone());
            }
        }
        if let Ok(mut m) = self.inner.models.write() {
            m.retain(|id, _| present.contains(id));
        }
        changed
    }

    /// Reloads every model folder whatever its stamp (`POST /v1/thresholds/reload`); returns
    /// the summaries before and after, by id. Blocking.
    pub fn reload_models(&self) -> Vec<(String, Option<ModelSummary>, Option<ModelSummary>)> {
        let before: HashMap<String, Option<ModelSummary>> =
            self.models().iter().map(|m| (m.id.clone(), m.summary.clone())).collect();
        if let Ok(mut m) = self.inner.models.write() {
            m.clear();
        }
        if let Ok(mut f) = self.inner.forecasts.lock() {
            f.clear();
        }
        if let Ok(mut s) = self.inner.streams.lock() {
            s.clear();
        }
        self.scan_models();
        let mut ids: Vec<String> = before.keys().cloned().collect();
        for m in self.models() {
            if !ids.contains(&m.id) {
                ids.push(m.id.clone());
            }
        }
        ids.sort();
        ids.into_iter()
            .map(|id| {
                let b = before.get(&id).cloned().flatten();
                let a = self.model(&id).and_then(|m| m.summary.clone());
                (id, b, a)
            })
            .collect()
    }

    /// The warm bars of a series, read from the store on first use or after the file changed
    /// (`None`: nothing stored). Blocking on a miss.
    pub fn bars(
        &self,
        symbol: &Symbol,
        interval: Interval,
    ) -> Result<Option<WarmBars>, vane_market_data::MarketDataError> {
        let key = (symbol.clone(), interval);
        if let Some(w) = self.inner.bars.read().ok().and_then(|b| b.get(&key).cloned()) {
            return Ok(Some(w));
        }
        let path = self.inner.store.path(symbol, interval);
        if !path.is_file() {
            return Ok(None);
        }
        let stamp = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let bars = Arc::new(self.inner.store.read(symbol, interval)?);
        let w = WarmBars { bars, stamp };
        if let Ok(mut b) = self.inner.bars.write() {
            b.insert(key, w.clone());
        }
        Ok(Some(w))
    }

    /// Whether some series of `symbol` is warm in memory.
    pub fn is_warm(&self, symbol: &Symbol) -> bool {
        self.inner.bars.read().is_ok_and(|b| b.keys().any(|(s, _)| s == symbol))
    }

    /// Forgets the warm bars of a series (after this process wrote to it).
    pub fn forget_bars(&self, symbol: &Symbol, interval: Interval) {
        if let Ok(mut b) = self.inner.bars.write() {
            b.remove(&(symbol.clone(), interval));
        }
    }

    /// Forgets the warm bars of one series when its store file changed on disk (one `stat`).
    pub fn check_bars(&self, symbol: &Symbol, interval: Interval) {
        let key = (symbol.clone(), interval);
        let Some(stamp) = self.inner.bars.read().ok().and_then(|b| b.get(&key).map(|w| w.stamp)) else { return };
        let now = std::fs::metadata(self.inner.store.path(symbol, interval)).and_then(|m| m.modified()).ok();
        if now != stamp {
            self.forget_bars(symbol, interval);
        }
    }

    /// Forgets warm bars whose store file changed on disk (another process wrote it).
    pub fn scan_bars(&self) {
        let keys: Vec<(Symbol, Interval)> =
            self.inner.bars.read().map(|b| b.keys().cloned().collect()).unwrap_or_default();
        for (s, i) in keys {
            self.check_bars(&s, i);
        }
    }

    /// Brings a series up to date from the configured exchange (downloading from `since` when
    /// nothing is stored), with the short refresh retries; a failed or empty refresh is reported
    /// in the [`Refresh`](vane_market_data::Refresh), not returned as an error. Warm bars are
    /// forgotten when the refresh may have stored some. Blocking.
    pub fn refresh(
        &self,
        symbol: &Symbol,
        interval: Interval,
        since: vane_core::Timestamp,
    ) -> Result<vane_market_data::Refresh, vane_market_data::MarketDataError> {
        let c = self.config();
        let client = c.exchange.client(c.base_url.as_deref(), c.refresh_retry.clone(), Default::default());
        let req = vane_market_data::DownloadRequest { symbol: symbol.clone(), interval, since, until: None };
        let r = vane_market_data::Downloader::new(client.as_ref(), self.store()).refresh(&req)?;
        if r.summary.as_ref().is_none_or(|s| s.rows_added > 0) {
            self.forget_bars(symbol, interval);
        }
        Ok(r)
    }

    /// The cached forecast of `model` for `symbol`'s bar opening at `at`.
    pub fn cached_forecast(&self, model: &str, symbol: &Symbol, at: i64) -> Option<Forecast> {
        let f = self.inner.forecasts.lock().ok()?;
        f.get(&(model.to_string(), symbol.clone())).filter(|(t, _)| *t == at).map(|(_, f)| f.clone())
    }

    /// Remembers a forecast.
    pub fn cache_forecast(&self, model: &str, symbol: &Symbol, at: i64, forecast: &Forecast) {
        if let Ok(mut f) = self.inner.forecasts.lock() {
            f.insert((model.to_string(), symbol.clone()), (at, forecast.clone()));
        }
    }
}
