//! Incremental download from an exchange into `raw_market_data`, like the parquet store's
//! `Downloader`: resume after the last stored bar (or start at `since`), walk forward in
//! bounded pages, stop at the last closed bar, upsert every `flush_rows` bars. An error after
//! some pages first stores what was fetched, then returns `MarketDataError::Interrupted`.

use vane_core::{Bars, Timestamp};
use vane_market_data::{
    DownloadRequest, DownloadSummary, KlineSource, MarketDataError, Progress, TimeRange, gap_report,
};

use crate::PgStore;
use crate::bars::UpsertReport;
use crate::error::{PgError, Result};

impl PgStore {
    /// Downloads `req` from `source` into `raw_market_data` under the source's exchange name.
    /// `now` is the wall clock (tests pass a fixed one); `progress` is called after every page.
    pub fn download(
        &mut self,
        source: &dyn KlineSource,
        req: &DownloadRequest,
        now: Timestamp,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<DownloadSummary> {
        self.require_schema()?;
        let exchange = source.exchange().as_str();
        let (symbol, interval) = (&req.symbol, req.interval);
        let step = interval.millis();
        let range = TimeRange::at(now);
        let last_closed = interval.align_down(now).0 - step;
        let end = match req.until {
            Some(u) => (u.0 - 1).min(last_closed),
            None => last_closed,
        };
        let start = match self.last_open_time(exchange, symbol, interval)? {
            Some(t) => t.0 + step,
            None => {
                if let Some(p) = range.problem(req.since) {
                    return Err(MarketDataError::InvalidArgument(format!("the download start (--since): {p}")).into());
                }
                interval.align_up(req.since).0
            }
        };
        let page_limit = source.max_limit().max(1);
        let flush_rows = 50_000usize.max(page_limit);
        let mut p = Progress {
            start: Timestamp(start),
            fetched_until: Timestamp(start),
            target: Timestamp(end),
            rows_fetched: 0,
            requests: 0,
        };
        let mut total = UpsertReport::default();
        let (mut first_added, mut last_added) = (None, None);
        let mut buffer: Option<Bars> = None;
        let page_span = page_limit as i64 * step;
        let mut cursor = start;
        let mut failure: Option<MarketDataError> = None;
        while cursor <= end {
            let window_end = (cursor + page_span - 1).min(end);
            let page = match source.fetch_page(symbol, interval, Timestamp(cursor), Timestamp(window_end), page_limit) {
                Ok(page) => page,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            p.requests += 1;
            p.rows_fetched += page.len();
            if !page.is_empty() {
                let buf = buffer.get_or_insert_with(|| Bars::empty(page.extras()));
                if let Err(e) = page.iter().try_for_each(|b| buf.push(b)) {
                    failure = Some(e.into());
                    break;
                }
            }
            cursor = window_end + 1;
            p.fetched_until = Timestamp(window_end);
            if buffer.as_ref().is_some_and(|b| b.len() >= flush_rows) {
                self.flush(exchange, req, &mut buffer, &mut total, &mut first_added, &mut last_added)?;
            }
            progress(&p);
        }
        let flushed = self.flush(exchange, req, &mut buffer, &mut total, &mut first_added, &mut last_added);
        if let Some(source_err) = failure {
            let resume_from = match self.last_open_time(exchange, symbol, interval) {
                Ok(Some(t)) => Timestamp(t.0 + step),
                _ => Timestamp(cursor),
            };
            let source_err = match flushed {
                Err(f) => {
                    MarketDataError::InvalidArgument(format!("{source_err}; storing the fetched bars also failed: {f}"))
                }
                Ok(()) => source_err,
            };
            return Err(PgError::MarketData(MarketDataError::Interrupted {
                symbol: symbol.to_string(),
                interval: interval.to_string(),
                stored: total.inserted as usize,
                resume_from,
                source: Box::new(source_err),
            }));
        }
        flushed?;
        let times: Vec<i64> = {
            let stored = self.read_bars(Some(exchange), symbol, interval, Timestamp(i64::MIN), Timestamp(i64::MAX));
            match stored {
                Ok(b) => b.open_time().to_vec(),
                Err(PgError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        Ok(DownloadSummary {
            symbol: symbol.clone(),
            interval,
            rows_added: total.inserted as usize,
            rows_replaced: (total.updated + total.unchanged) as usize,
            requests: p.requests,
            first_added_ms: first_added,
            last_added_ms: last_added,
            stored_rows: times.len(),
            stored_first_ms: times.first().copied(),
            stored_last_ms: times.last().copied(),
            report: gap_report(&times, interval),
        })
    }

    fn flush(
        &mut self,
        exchange: &str,
        req: &DownloadRequest,
        buffer: &mut Option<Bars>,
        total: &mut UpsertReport,
        first_added: &mut Option<i64>,
        last_added: &mut Option<i64>,
    ) -> Result<()> {
        let Some(buf) = buffer.take() else { return Ok(()) };
        if buf.is_empty() {
            return Ok(());
        }
        let r = self.upsert_bars(exchange, &req.symbol, req.interval, &buf)?;
        total.add(&r);
        *first_added = first_added.or(buf.first_open_time().map(|t| t.0));
        *last_added = buf.last_open_time().map(|t| t.0);
        Ok(())
    }
}
