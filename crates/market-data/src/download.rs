//! Incremental download into the parquet store.
//!
//! A run resumes after the last stored bar (or starts at `since` when nothing is stored), walks
//! forward in pages of at most the exchange's limit — each page a bounded time window, so an
//! empty page (a trading halt, a listing date) is skipped rather than taken for the end — and
//! stops at the last **closed** bar: the still-open current bar is never stored.
//!
//! Pages are buffered and merged into the store as they arrive: after every page while the
//! stored series is small, and whenever the buffer reaches 1/8 of the stored rows once it is
//! large (so a long backfill rewrites the file O(log n) times, not once per page). Whatever
//! ends a run early — an exchange error after the retries, a dead server — first stores
//! everything fetched so far and then returns [`MarketDataError::Interrupted`]; the next run
//! continues from there. Only a hard kill of the process can lose the unflushed part of the
//! buffer, never a stored bar (writes are atomic).

use std::sync::Arc;

use serde::Serialize;
use vane_core::{Bars, Interval, Symbol, Timestamp};

use crate::client::KlineSource;
use crate::error::{MarketDataError, Result};
use crate::gaps::{GapReport, gap_report};
use crate::store::ParquetStore;
use crate::timerange::TimeRange;

/// What to download.
#[derive(Clone, Debug, PartialEq)]
pub struct DownloadRequest {
    /// The instrument.
    pub symbol: Symbol,
    /// The bar length.
    pub interval: Interval,
    /// Where to start when nothing is stored yet.
    pub since: Timestamp,
    /// Only bars opening before this instant (default: up to the last closed bar).
    pub until: Option<Timestamp>,
}

/// Where a download stands, reported after every page.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// The first open time this run asked for.
    pub start: Timestamp,
    /// Every bar up to here has been fetched.
    pub fetched_until: Timestamp,
    /// The last open time this run will ask for.
    pub target: Timestamp,
    /// Bars fetched so far in this run.
    pub rows_fetched: usize,
    /// Requests made so far.
    pub requests: usize,
}

impl Progress {
    /// Share of the time range done, in [0, 1].
    pub fn fraction(&self) -> f64 {
        let span = (self.target.0 - self.start.0).max(1) as f64;
        ((self.fetched_until.0 - self.start.0) as f64 / span).clamp(0.0, 1.0)
    }
}

/// What a download did, and the state of the stored series afterwards.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DownloadSummary {
    /// The instrument.
    pub symbol: Symbol,
    /// The bar length.
    pub interval: Interval,
    /// Bars with new open times.
    pub rows_added: usize,
    /// Stored bars that were fetched again and replaced.
    pub rows_replaced: usize,
    /// Requests made.
    pub requests: usize,
    /// Open time of the first new bar.
    pub first_added_ms: Option<i64>,
    /// Open time of the last new bar.
    pub last_added_ms: Option<i64>,
    /// Bars in the store afterwards.
    pub stored_rows: usize,
    /// First stored open time.
    pub stored_first_ms: Option<i64>,
    /// Last stored open time.
    pub stored_last_ms: Option<i64>,
    /// Gaps of the stored series.
    pub report: GapReport,
}

/// Returns the current time; injectable for tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Downloads from one [`KlineSource`] into one [`ParquetStore`].
pub struct Downloader<'a> {
    source: &'a dyn KlineSource,
    store: &'a ParquetStore,
    clock: Clock,
    page_limit: usize,
}

impl std::fmt::Debug for Downloader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downloader").field("exchange", &self.source.exchange()).field("store", &self.store).finish()
    }
}

impl<'a> Downloader<'a> {
    /// A downloader using the wall clock and the exchange's largest page.
    pub fn new(source: &'a dyn KlineSource, store: &'a ParquetStore) -> Self {
        Self { source, store, clock: Arc::new(Timestamp::now), page_limit: source.max_limit() }
    }

    /// Replaces the clock (tests: a fixed "now").
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Asks for at most `limit` bars per request (clamped to the exchange's maximum).
    pub fn with_page_limit(mut self, limit: usize) -> Self {
        self.page_limit = limit.clamp(1, self.source.max_limit());
        self
    }

    /// Runs one incremental download; `progress` is called after every page.
    pub fn download(&self, req: &DownloadRequest, progress: &mut dyn FnMut(&Progress)) -> Result<DownloadSummary> {
        let (symbol, interval) = (&req.symbol, req.interval);
        let step = interval.millis();
        let now = (self.clock)();
        let range = TimeRange::at(now);
        let last_closed = interval.align_down(now).0 - step;
        let end = match req.until {
            Some(u) => (u.0 - 1).min(last_closed),
            None => last_closed,
        };
        let stored_last = self.store.last_open_time(symbol, interval)?;
        let start = match stored_last {
            Some(t) => {
                if let Some(p) = range.problem(t) {
                    return Err(MarketDataError::StoredOutOfRange {
                        path: self.store.path(symbol, interval),
                        message: format!("its last bar's {p}"),
                    });
                }
                t.0 + step
            }
            None => {
                if let Some(p) = range.problem(req.since) {
                    return Err(MarketDataError::InvalidArgument(format!("the download start (--since): {p}")));
                }
                interval.align_up(req.since).0
            }
        };
        let stored_rows = self.store.row_count(symbol, interval)?;
        let mut state =
            RunState { buffer: None, added: 0, replaced: 0, first_added: None, last_added: None, stored_rows };
        let mut p = Progress {
            start: Timestamp(start),
            fetched_until: Timestamp(start),
            target: Timestamp(end),
            rows_fetched: 0,
            requests: 0,
        };
        let page_span = self.page_limit as i64 * step;
        let mut cursor = start;
        while cursor <= end {
            let window_end = (cursor + page_span - 1).min(end);
            let page = match self.source.fetch_page(
                symbol,
                interval,
                Timestamp(cursor),
                Timestamp(window_end),
                self.page_limit,
            ) {
                Ok(page) => page,
                Err(e) => return Err(self.interrupted(req, &mut state, cursor, e)),
            };
            p.requests += 1;
            p.rows_fetched += page.len();
            if !page.is_empty() {
                let buf = state.buffer.get_or_insert_with(|| Bars::empty(page.extras()));
                for bar in page.iter() {
                    if let Err(e) = buf.push(bar) {
                        return Err(self.interrupted(req, &mut state, cursor, e.into()));
                    }
                }
            }
            cursor = window_end + 1;
            p.fetched_until = Timestamp(window_end);
            let buffered = state.buffer.as_ref().map_or(0, Bars::len);
            if buffered >= self.page_limit.max(state.stored_rows / 8)
                && let Err(e) = self.flush(req, &mut state)
            {
                return Err(self.interrupted(req, &mut state, cursor, e));
            }
            progress(&p);
        }
        self.flush(req, &mut state)?;
        let stored = if self.store.contains(symbol, interval) {
            self.store.read(symbol, interval)?
        } else {
            Bars::empty(Default::default())
        };
        Ok(DownloadSummary {
            symbol: symbol.clone(),
            interval,
            rows_added: state.added,
            rows_replaced: state.replaced,
            requests: p.requests,
            first_added_ms: state.first_added,
            last_added_ms: state.last_added,
            stored_rows: stored.len(),
            stored_first_ms: stored.first_open_time().map(|t| t.0),
            stored_last_ms: stored.last_open_time().map(|t| t.0),
            report: gap_report(stored.open_time(), interval),
        })
    }

    fn flush(&self, req: &DownloadRequest, st: &mut RunState) -> Result<()> {
        let Some(buf) = st.buffer.take() else { return Ok(()) };
        if buf.is_empty() {
            return Ok(());
        }
        let s = self.store.append(&req.symbol, req.interval, &buf)?;
        st.added += s.added;
        st.replaced += s.replaced;
        st.stored_rows = s.total;
        st.first_added = st.first_added.or(buf.first_open_time().map(|t| t.0));
        st.last_added = buf.last_open_time().map(|t| t.0);
        Ok(())
    }

    /// Stores what was fetched, then wraps the error that stopped the run.
    fn interrupted(
        &self,
        req: &DownloadRequest,
        st: &mut RunState,
        cursor: i64,
        source: MarketDataError,
    ) -> MarketDataError {
        let flush_error = self.flush(req, st).err();
        let resume_from = match self.store.last_open_time(&req.symbol, req.interval) {
            Ok(Some(t)) => Timestamp(t.0 + req.interval.millis()),
            _ => Timestamp(cursor),
        };
        let source = match flush_error {
            Some(f) => MarketDataError::InvalidArgument(format!("{source}; storing the fetched bars also failed: {f}")),
            None => source,
        };
        MarketDataError::Interrupted {
            symbol: req.symbol.to_string(),
            interval: req.interval.to_string(),
            stored: st.added,
            resume_from,
            source: Box::new(source),
        }
    }
}

/// How current a stored series is: its last bar against the last closed bar of "now".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Freshness {
    /// Open time of the last stored bar (`None`: nothing stored).
    pub last_open_time_ms: Option<i64>,
    /// Open time of the last bar that has closed by now.
    pub last_closed_open_time_ms: i64,
    /// Whether bars that have closed are missing from the store.
    pub stale: bool,
    /// How long ago the last stored bar closed, in seconds (`None`: nothing stored).
    pub age_s: Option<i64>,
}

impl Freshness {
    /// The freshness of `store`'s `symbol` `interval` at `now`.
    pub fn of(store: &ParquetStore, symbol: &Symbol, interval: Interval, now: Timestamp) -> Result<Self> {
        Ok(Self::at(store.last_open_time(symbol, interval)?, interval, now))
    }

    /// The freshness of a series whose last bar opens at `last` (bars already in memory).
    pub fn at(last: Option<Timestamp>, interval: Interval, now: Timestamp) -> Self {
        let last_closed = interval.align_down(now).0 - interval.millis();
        Self {
            last_open_time_ms: last.map(|t| t.0),
            last_closed_open_time_ms: last_closed,
            stale: last.is_none_or(|t| t.0 < last_closed),
            age_s: last.map(|t| (now.0 - interval.close_time(t).0 - 1).max(0) / 1000),
        }
    }
}

/// What [`Downloader::refresh`] did: the download's summary or the error that stopped it (the
/// bars fetched before it are stored either way), and how current the stored series is after.
#[derive(Debug)]
pub struct Refresh {
    /// The download, when it finished.
    pub summary: Option<DownloadSummary>,
    /// Why the download stopped, when it did.
    pub error: Option<MarketDataError>,
    /// The stored series afterwards.
    pub freshness: Freshness,
}

impl Downloader<'_> {
    /// Brings the stored series up to date as far as the exchange allows, for a caller that
    /// goes on with the stored bars whatever happens (`vane predict --refresh`, the HTTP API):
    /// a failed or empty refresh is reported in [`Refresh`], not returned as an error. Only
    /// an unreadable store is an error. Bound how long a failing exchange can take with the
    /// client's [`crate::RetryPolicy`] (`max_attempts`, `timeout`, `max_wait`).
    pub fn refresh(&self, req: &DownloadRequest) -> Result<Refresh> {
        let (summary, mut error) = match self.download(req, &mut |_| {}) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        // The store itself unusable: nothing to fall back on.
        if let Some(e) =
            error.take_if(|e| matches!(e, MarketDataError::Corrupt { .. } | MarketDataError::NotAFolder { .. }))
        {
            return Err(e);
        }
        let freshness = Freshness::of(self.store, &req.symbol, req.interval, (self.clock)())?;
        Ok(Refresh { summary, error, freshness })
    }
}

struct RunState {
    buffer: Option<Bars>,
    added: usize,
    replaced: usize,
    first_added: Option<i64>,
    last_added: Option<i64>,
    stored_rows: usize,
}
