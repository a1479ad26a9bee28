//! `vane prepare`: the `full` feature set (49 columns) and seed 004's expected-return targets of
//! one series, from `raw_market_data` into `processed_market_data`, **incrementally**.
//!
//! # Exactness: recompute from the series start, write only what is new
//!
//! EMA and Wilder seeding, SAR, OBV and the other recursive indicators depend on the whole
//! history, so a row computed from a suffix of the series would differ from a full recompute.
//! `prepare` therefore reads every stored bar of the series and computes the features over all
//! of them (≈ 0.3 s per 100k bars in a release build), but **writes** only the rows that are new
//! or whose targets were incomplete:
//!
//! - rows after the last processed open time (new bars), and
//! - rows whose targets were NULL: the last `horizon` bars of the previous run, whose 100-bar
//!   ladder ran past the data's end then.
//!
//! Every feature at bar t depends on bars ≤ t only, and a target at bar t on bars t..t+H only
//! (the horizon counts bars), so rows before that point are unchanged by new bars; a test checks
//! that preparing 70 % of a series and then all of it leaves exactly the rows of one full
//! recompute, equal bit for bit to `vane features --set full` and `vane label --kind
//! expected-return`. Rewriting everything ([`PrepareOptions::recompute`]) happens by itself
//! when the stored rows cannot be an earlier prefix of the current series: another feature
//! version, or a bar count up to the last processed bar that differs from the processed rows'
//! (a backfilled gap). Changed values of already-processed bars (a re-import with corrected
//! candles) are not detected: pass `recompute` (`vane prepare --recompute`) after one.
//!
//! Persisting the indicators' streaming state instead would save the feature pass but needs a
//! resumable state for each of the 49 columns; the recompute is cheap next to training.

use std::time::Instant;

use serde::Serialize;
use vane_core::{Bars, Interval, Signal, Symbol, Timestamp};
use vane_indicators::FeatureSet;
use vane_labeling::ladder::{ExpectedReturn, LadderConfig, expected_returns};

use crate::PgStore;
use crate::bars::UpsertReport;
use crate::error::{PgError, Result};
use crate::processed::{ProcessedRows, processed_feature_columns};

/// How [`PgStore::prepare`] labels and what it rewrites ([`Default`]: seed 004's ladder,
/// incremental).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrepareOptions {
    /// The ladder of the expected-return targets; [`LadderConfig::default`] is seed 004's
    /// (`vane label --kind expected-return`'s defaults): partials 20 % @ +1.2 %, 30 % @ +2.4 %,
    /// 30 % @ +3.5 %, breakeven, profit locks, stop 1.1 %, final 5.8 %, horizon 100 bars.
    pub ladder: LadderConfig,
    /// Rewrite every row of the series (rows whose values did not change are counted
    /// unchanged), e.g. after re-importing corrected candles.
    pub recompute: bool,
}

/// What [`PgStore::prepare`] did for one series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrepareReport {
    /// The exchange of the series.
    pub exchange: String,
    /// The instrument.
    pub symbol: String,
    /// The bar length.
    pub interval: String,
    /// Bars stored in `raw_market_data`.
    pub bars: usize,
    /// Processed rows stored before this run.
    pub processed_before: u64,
    /// Open time of the first row written (None: nothing to write).
    pub from_open_time_ms: Option<i64>,
    /// Rows written (new bars plus the rows whose targets were incomplete).
    pub rows_written: usize,
    /// Whether every row was rewritten, and why (`None`: incremental).
    pub recomputed: Option<String>,
    /// Rows of the series with both targets known afterwards.
    pub labelled: usize,
    /// Rows whose targets are still unknown (their horizon runs past the last bar).
    pub pending_targets: usize,
    /// The upsert's counts and times.
    pub upsert: UpsertReport,
    /// Seconds computing the features (over the whole series).
    pub features_seconds: f64,
    /// Seconds computing the targets (of the rows written).
    pub labels_seconds: f64,
}

/// The class label `prepare` writes into `label`: [`Signal`]'s class index (BUY 0, SELL 1,
/// HOLD 2) of the ladder trade at θ = 0, as the sequence pipeline's `expected_return` labels
/// with `data.theta = 0`: BUY when the long ladder profits and does at least as well as the
/// short, SELL for the mirror, HOLD when neither profits.
pub fn ladder_class(er: &ExpectedReturn) -> i16 {
    let s = if er.er_long > 0.0 && er.er_long >= er.er_short {
        Signal::Buy
    } else if er.er_short > 0.0 && er.er_short > er.er_long {
        Signal::Sell
    } else {
        Signal::Hold
    };
    s.class_index() as i16
}

/// The processed rows of bars `from..` of a series: features computed over ALL of `bars` (the
/// recursive indicators need the whole history), targets of the expected-return ladder (NULL for
/// the last `ladder.horizon` bars) and [`ladder_class`]. Also returns the seconds spent on the
/// features and on the targets.
pub fn prepare_rows(
    exchange: &str,
    symbol: &Symbol,
    interval: Interval,
    bars: &Bars,
    ladder: &LadderConfig,
    from: usize,
) -> Result<(ProcessedRows, f64, f64)> {
    let mut rows = ProcessedRows::new(exchange, symbol, interval, FeatureSet::Full)?;
    let n = bars.len();
    let from = from.min(n);
    let t0 = Instant::now();
    let frame = FeatureSet::Full.compute(bars);
    let cols = processed_feature_columns();
    if frame.names() != cols {
        return Err(PgError::InvalidArgument(format!(
            "the full feature set's columns ({}) differ from processed_market_data's ({}): migrate the database with this vane",
            frame.names().join(","),
            cols.join(",")
        )));
    }
    for (k, c) in frame.columns().iter().enumerate() {
        rows.features[k] = c[from..].to_vec();
    }
    drop(frame);
    let features_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    // A target at bar t depends on bars t..=t+H only: the labels of the suffix are those of the
    // whole series (exit bars shifted by `from`).
    let suffix = bars.slice(from..n);
    let labels = expected_returns(&suffix, ladder)?;
    let times = bars.open_time();
    rows.open_time = times[from..].to_vec();
    for v in &labels.values {
        rows.er_long.push(v.as_ref().map(|e| e.er_long));
        rows.er_short.push(v.as_ref().map(|e| e.er_short));
        rows.exit_long_ms.push(v.as_ref().map(|e| times[from + e.exit_long]));
        rows.exit_short_ms.push(v.as_ref().map(|e| times[from + e.exit_short]));
        rows.label.push(v.as_ref().map(ladder_class));
    }
    Ok((rows, features_seconds, t1.elapsed().as_secs_f64()))
}

/// The state of a series in `processed_market_data`.
struct Processed {
    rows: u64,
    last: Option<i64>,
    first_pending: Option<i64>,
    other_version: u64,
}

impl PgStore {
    fn processed_state(&self, exchange: &str, symbol: &Symbol, interval: Interval) -> Result<Processed> {
        let version = FeatureSet::Full.version() as i32;
        let r = self
            .block_on(self.client.query_one(
                "SELECT count(*), max(open_time_ms),
                        min(open_time_ms) FILTER (WHERE er_long IS NULL OR er_short IS NULL),
                        count(*) FILTER (WHERE feature_version <> $4)
                 FROM processed_market_data
                 WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND feature_set = 'full'",
                &[&exchange, &symbol.as_str(), &interval.as_str(), &version],
            ))
            .map_err(self.db(format!("reading the processed state of {exchange} {symbol} {interval}")))?;
        Ok(Processed {
            rows: r.get::<_, i64>(0) as u64,
            last: r.get(1),
            first_pending: r.get(2),
            other_version: r.get::<_, i64>(3) as u64,
        })
    }

    /// Computes the `full` features and the expected-return targets of one stored series into
    /// `processed_market_data`, incrementally: features over the whole series, rows written from
    /// the first new bar or the first row whose targets were incomplete (see the module docs).
    /// `exchange = None` picks the only exchange holding the series. One transaction: all rows
    /// or none.
    pub fn prepare(
        &mut self,
        exchange: Option<&str>,
        symbol: &Symbol,
        interval: Interval,
        opts: &PrepareOptions,
    ) -> Result<PrepareReport> {
        self.require_schema()?;
        opts.ladder.validate()?;
        let exchange = self.resolve_exchange(exchange, symbol, interval)?;
        let bars = self.read_bars(Some(&exchange), symbol, interval, Timestamp(i64::MIN), Timestamp(i64::MAX))?;
        let state = self.processed_state(&exchange, symbol, interval)?;
        let times = bars.open_time();
        let mut recomputed = opts.recompute.then(|| "asked (--recompute)".to_string());
        let mut from = 0usize;
        if recomputed.is_none()
            && let Some(last) = state.last
        {
            let upto = times.partition_point(|&t| t <= last);
            if state.other_version > 0 {
                recomputed = Some(format!(
                    "{} stored rows have another feature version than {}",
                    state.other_version,
                    FeatureSet::Full.version()
                ));
            } else if upto as u64 != state.rows {
                recomputed = Some(format!(
                    "{} processed rows but {upto} bars up to the last processed one ({}): bars were added before it",
                    state.rows,
                    Timestamp(last)
                ));
            } else {
                let next_new = upto;
                let pending = state.first_pending.map_or(next_new, |p| times.partition_point(|&t| t < p));
                from = pending.min(next_new);
            }
        }
        let (rows, features_seconds, labels_seconds) =
            prepare_rows(&exchange, symbol, interval, &bars, &opts.ladder, from)?;
        let upsert = if rows.is_empty() { UpsertReport::default() } else { self.upsert_processed(&rows)? };
        let labelled_written = rows.er_long.iter().filter(|v| v.is_some()).count();
        // Rows before `from` were all labelled (the pending ones start at or after it).
        let labelled = from + labelled_written;
        Ok(PrepareReport {
            exchange,
            symbol: symbol.to_string(),
            interval: interval.to_string(),
            bars: bars.len(),
            processed_before: state.rows,
            from_open_time_ms: rows.open_time.first().copied(),
            rows_written: rows.len(),
            recomputed,
            labelled,
            pending_targets: bars.len() - labelled,
            upsert,
            features_seconds,
            labels_seconds,
        })
    }
}
