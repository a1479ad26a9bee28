//! `raw_market_data`: bulk upserts by binary `COPY` through a staging table, streaming reads
//! into validated [`Bars`](vane_core::Bars), and the per-series inventory of `vane data info`.

use std::time::Instant;

use futures_util::{TryStreamExt, pin_mut};
use serde::Serialize;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use vane_core::{BarColumns, Bars, Interval, Symbol, Timestamp};
use vane_market_data::{Gap, gap_report};

use crate::PgStore;
use crate::error::{PgError, Result};

/// What a bulk upsert did. `rows = inserted + updated + unchanged`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UpsertReport {
    /// Rows sent.
    pub rows: u64,
    /// Rows whose key was new.
    pub inserted: u64,
    /// Rows whose key existed with other values (duplicates, replaced).
    pub updated: u64,
    /// Rows whose key existed with the same values (duplicates, left as they were).
    pub unchanged: u64,
    /// Seconds spent in the binary `COPY` into the staging table.
    pub copy_seconds: f64,
    /// Seconds spent in `INSERT … ON CONFLICT` from the staging table.
    pub upsert_seconds: f64,
}

impl UpsertReport {
    /// Adds another report's counts and times.
    pub fn add(&mut self, o: &UpsertReport) {
        self.rows += o.rows;
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.copy_seconds += o.copy_seconds;
        self.upsert_seconds += o.upsert_seconds;
    }
}

/// One stored series: rows, time range, gaps (like the parquet store's `SeriesInfo`; the
/// primary key rules out duplicates).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PgSeriesInfo {
    /// The exchange the bars came from.
    pub exchange: String,
    /// The instrument.
    pub symbol: String,
    /// The bar length.
    pub interval: String,
    /// Bars stored.
    pub rows: usize,
    /// Open time of the first bar.
    pub first_open_time_ms: Option<i64>,
    /// Open time of the last bar.
    pub last_open_time_ms: Option<i64>,
    /// Runs of missing bars (empty when the interval is not one vane knows).
    pub gaps: Vec<Gap>,
    /// Open times off the interval's grid.
    pub misaligned: usize,
}

const STAGE_RAW: &str = "CREATE TEMP TABLE vane_stage_raw (
    exchange TEXT, symbol TEXT, interval TEXT, open_time_ms BIGINT,
    open DOUBLE PRECISION, high DOUBLE PRECISION, low DOUBLE PRECISION, close DOUBLE PRECISION,
    volume DOUBLE PRECISION, quote_volume DOUBLE PRECISION, trades BIGINT,
    taker_buy_base DOUBLE PRECISION, taker_buy_quote DOUBLE PRECISION
) ON COMMIT DROP";

const COLS: &str = "exchange, symbol, interval, open_time_ms, open, high, low, close, volume, quote_volume, trades, taker_buy_base, taker_buy_quote";

const VALUE_COLS: [&str; 9] =
    ["open", "high", "low", "close", "volume", "quote_volume", "trades", "taker_buy_base", "taker_buy_quote"];

const TYPES: [Type; 13] = [
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::INT8,
    Type::FLOAT8,
    Type::FLOAT8,
];

/// `INSERT … SELECT … ON CONFLICT DO UPDATE` from `stage` into `table` over `cols` with key
/// `key`, counting inserted and updated rows (`xmax = 0` marks a row this statement inserted;
/// rows whose values did not change are not updated and not returned).
pub(crate) fn upsert_sql(table: &str, stage: &str, cols: &str, key: &[&str], values: &[&str]) -> String {
    let set: Vec<String> = values.iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
    let old: Vec<String> = values.iter().map(|c| format!("t.{c}")).collect();
    let new: Vec<String> = values.iter().map(|c| format!("EXCLUDED.{c}")).collect();
    format!(
        "WITH up AS (
            INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {stage}
            ON CONFLICT ({key}) DO UPDATE SET {set}
            WHERE ({old}) IS DISTINCT FROM ({new})
            RETURNING (xmax = 0) AS inserted
        ) SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
        key = key.join(", "),
        set = set.join(", "),
        old = old.join(", "),
        new = new.join(", "),
    )
}

/// A short check of an exchange name: lowercase letters, digits and `-`, 1 to 32 characters.
pub(crate) fn check_exchange(exchange: &str) -> Result<()> {
    let ok = !exchange.is_empty()
        && exchange.len() <= 32
        && exchange.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(PgError::InvalidArgument(format!(
            "invalid exchange {exchange:?}: 1 to 32 characters of a-z, 0-9 and '-' (for example bybit-linear)"
        )))
    }
}

/// One series to write.
#[derive(Clone, Copy, Debug)]
pub struct SeriesRef<'a> {
    /// The exchange the bars came from.
    pub exchange: &'a str,
    /// The instrument.
    pub symbol: &'a Symbol,
    /// The bar length.
    pub interval: Interval,
    /// The bars.
    pub bars: &'a Bars,
}

/// What [`PgStore::import_csv`] did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PgImportReport {
    /// The exchange the rows are stored under.
    pub exchange: String,
    /// The instrument.
    pub symbol: Symbol,
    /// The bar length.
    pub interval: Interval,
    /// Rows in the CSV.
    pub rows_read: usize,
    /// The upsert's counts and times.
    pub upsert: UpsertReport,
    /// Bars of the series stored afterwards.
    pub total: u64,
}

impl PgStore {
    /// Reads a candle CSV (the formats `vane import` reads; open times must lie in
    /// [`TimeRange::now`](vane_market_data::TimeRange::now)) and upserts it into
    /// `raw_market_data` under `exchange`; nothing is written on error.
    pub fn import_csv(
        &mut self,
        exchange: &str,
        csv: &std::path::Path,
        symbol: &Symbol,
        interval: Interval,
    ) -> Result<PgImportReport> {
        check_exchange(exchange)?;
        self.require_schema()?;
        let bars = vane_market_data::read_market_csv(csv, Some(interval), vane_market_data::TimeRange::now())?;
        let upsert = self.upsert_bars(exchange, symbol, interval, &bars)?;
        let total = self.row_count(exchange, symbol, interval)?;
        Ok(PgImportReport {
            exchange: exchange.to_string(),
            symbol: symbol.clone(),
            interval,
            rows_read: bars.len(),
            upsert,
            total,
        })
    }

    /// Bars stored for the series.
    pub fn row_count(&self, exchange: &str, symbol: &Symbol, interval: Interval) -> Result<u64> {
        self.require_schema()?;
        let r = self
            .block_on(self.client.query_one(
                "SELECT count(*) FROM raw_market_data WHERE exchange = $1 AND symbol = $2 AND interval = $3",
                &[&exchange, &symbol.as_str(), &interval.as_str()],
            ))
            .map_err(self.db("counting bars"))?;
        Ok(r.get::<_, i64>(0) as u64)
    }

    /// Upserts `bars` of one series into `raw_market_data` (see [`PgStore::upsert_bars_many`]).
    pub fn upsert_bars(
        &mut self,
        exchange: &str,
        symbol: &Symbol,
        interval: Interval,
        bars: &Bars,
    ) -> Result<UpsertReport> {
        self.upsert_bars_many(&[SeriesRef { exchange, symbol, interval, bars }])
    }

    /// Upserts several series into `raw_market_data` in ONE transaction: binary `COPY` of every
    /// bar into a temporary staging table, then `INSERT … ON CONFLICT DO UPDATE`. Either every
    /// bar is stored or — on any error, a bad value half-way through the `COPY` included —
    /// none. A series may appear once.
    pub fn upsert_bars_many(&mut self, series: &[SeriesRef<'_>]) -> Result<UpsertReport> {
        self.require_schema()?;
        for (i, s) in series.iter().enumerate() {
            check_exchange(s.exchange)?;
            if series[..i].iter().any(|o| o.exchange == s.exchange && o.symbol == s.symbol && o.interval == s.interval)
            {
                return Err(PgError::InvalidArgument(format!(
                    "{} {} {} is given twice in one write",
                    s.exchange, s.symbol, s.interval
                )));
            }
        }
        let rows: u64 = series.iter().map(|s| s.bars.len() as u64).sum();
        let server = self.server.clone();
        let Self { client, rt, .. } = self;
        let sql = upsert_sql("raw_market_data", "vane_stage_raw", COLS, &KEY, &VALUE_COLS);
        rt.block_on(async {
            let db = |during: &str| {
                let (server, during) = (server.clone(), during.to_string());
                move |source| PgError::Db { server, during, source }
            };
            let tx = client.transaction().await.map_err(db("starting a transaction"))?;
            tx.batch_execute(STAGE_RAW).await.map_err(db("creating the staging table"))?;
            let t0 = Instant::now();
            let sink = tx
                .copy_in(&format!("COPY vane_stage_raw ({COLS}) FROM STDIN BINARY"))
                .await
                .map_err(db("starting COPY into the staging table"))?;
            let writer = BinaryCopyInWriter::new(sink, &TYPES);
            pin_mut!(writer);
            for s in series {
                let c = s.bars.columns();
                let (symbol, interval) = (s.symbol.as_str(), s.interval.as_str());
                for i in 0..c.len() {
                    let trades = match c.trades.as_ref().map(|t| t[i]) {
                        None => None,
                        Some(t) => Some(i64::try_from(t).map_err(|_| {
                            PgError::InvalidArgument(format!(
                                "{} {symbol} {interval}: bar #{i} (open time {}) has {t} trades, more than a BIGINT holds; nothing was written",
                                s.exchange,
                                Timestamp(c.open_time[i])
                            ))
                        })?),
                    };
                    let row: [&(dyn ToSql + Sync); 13] = [
                        &s.exchange,
                        &symbol,
                        &interval,
                        &c.open_time[i],
                        &c.open[i],
                        &c.high[i],
                        &c.low[i],
                        &c.close[i],
                        &c.volume[i],
                        &c.quote_volume.as_ref().map(|v| v[i]),
                        &trades,
                        &c.taker_buy_base.as_ref().map(|v| v[i]),
                        &c.taker_buy_quote.as_ref().map(|v| v[i]),
                    ];
                    writer.as_mut().write(&row).await.map_err(db("COPY into the staging table"))?;
                }
            }
            let copied = writer.finish().await.map_err(db("finishing COPY into the staging table"))?;
            let copy_seconds = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            let r = tx.query_one(&sql, &[]).await.map_err(db("upserting raw_market_data"))?;
            tx.commit().await.map_err(db("committing"))?;
            let (inserted, updated) = (r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64);
            debug_assert_eq!(copied, rows);
            Ok(UpsertReport {
                rows,
                inserted,
                updated,
                unchanged: rows - inserted - updated,
                copy_seconds,
                upsert_seconds: t1.elapsed().as_secs_f64(),
            })
        })
    }

    /// The exchange a series is stored under: `exchange` when given, else the only one holding
    /// `symbol` at `interval` (several → a usage error asking for one; none → not found).
    pub fn resolve_exchange(&self, exchange: Option<&str>, symbol: &Symbol, interval: Interval) -> Result<String> {
        self.require_schema()?;
        if let Some(e) = exchange {
            check_exchange(e)?;
            return Ok(e.to_string());
        }
        let rows = self
            .block_on(self.client.query(
                "SELECT DISTINCT exchange FROM raw_market_data WHERE symbol = $1 AND interval = $2 ORDER BY 1",
                &[&symbol.as_str(), &interval.as_str()],
            ))
            .map_err(self.db("listing exchanges"))?;
        let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        match names.len() {
            0 => Err(self.not_found(None, symbol, interval)),
            1 => Ok(names.into_iter().next().unwrap_or_default()),
            _ => Err(PgError::InvalidArgument(format!(
                "{symbol} {interval} is stored for several exchanges ({}); pass --exchange",
                names.join(", ")
            ))),
        }
    }

    fn not_found(&self, exchange: Option<&str>, symbol: &Symbol, interval: Interval) -> PgError {
        let stored: Vec<String> = self
            .block_on(self.client.query(
                "SELECT DISTINCT exchange || ' ' || symbol || ' ' || interval FROM raw_market_data ORDER BY 1 LIMIT 11",
                &[],
            ))
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default();
        let hint = if stored.is_empty() {
            "; raw_market_data is empty (vane import / vane download --database-url fill it)".to_string()
        } else if stored.len() > 10 {
            format!("; stored: {}, ...", stored[..10].join(", "))
        } else {
            format!("; stored: {}", stored.join(", "))
        };
        let what = match exchange {
            Some(e) => format!("{e} {symbol} {interval} in raw_market_data"),
            None => format!("{symbol} {interval} in raw_market_data"),
        };
        PgError::NotFound { what, server: self.server.clone(), hint }
    }

    /// Whether any bar of the series is stored.
    pub fn contains(&self, exchange: &str, symbol: &Symbol, interval: Interval) -> Result<bool> {
        self.require_schema()?;
        let r = self
            .block_on(self.client.query_opt(
                "SELECT 1 FROM raw_market_data WHERE exchange = $1 AND symbol = $2 AND interval = $3 LIMIT 1",
                &[&exchange, &symbol.as_str(), &interval.as_str()],
            ))
            .map_err(self.db("looking up a series"))?;
        Ok(r.is_some())
    }

    /// The last stored open time of the series, if any.
    pub fn last_open_time(&self, exchange: &str, symbol: &Symbol, interval: Interval) -> Result<Option<Timestamp>> {
        self.require_schema()?;
        let r = self
            .block_on(self.client.query_one(
                "SELECT max(open_time_ms) FROM raw_market_data WHERE exchange = $1 AND symbol = $2 AND interval = $3",
                &[&exchange, &symbol.as_str(), &interval.as_str()],
            ))
            .map_err(self.db("reading the last open time"))?;
        Ok(r.get::<_, Option<i64>>(0).map(Timestamp))
    }

    /// The bars of a series with `from <= open_time < to`, streamed from the server and
    /// validated into [`Bars`]. `exchange = None` picks the only exchange holding the series.
    /// An optional column is present only when every bar of the range has it. A series with
    /// no bar at all is [`PgError::NotFound`]; an empty range of a stored series is empty.
    pub fn read_bars(
        &self,
        exchange: Option<&str>,
        symbol: &Symbol,
        interval: Interval,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Bars> {
        let mut out: Option<Bars> = None;
        self.stream_bars(exchange, symbol, interval, from, to, usize::MAX, &mut |chunk| {
            out = Some(match out.take() {
                None => chunk,
                Some(acc) => acc.merge(&chunk)?.0,
            });
            Ok(())
        })?;
        Ok(out.unwrap_or_default())
    }

    /// [`read_bars`](PgStore::read_bars) in chunks of at most `chunk_rows` bars, oldest first,
    /// each handed to `f` as it arrives (memory bounded by the chunk). Within a chunk an
    /// optional column is present only when every bar of the chunk has it.
    #[allow(clippy::too_many_arguments)]
    pub fn stream_bars(
        &self,
        exchange: Option<&str>,
        symbol: &Symbol,
        interval: Interval,
        from: Timestamp,
        to: Timestamp,
        chunk_rows: usize,
        f: &mut dyn FnMut(Bars) -> Result<()>,
    ) -> Result<()> {
        let exchange = self.resolve_exchange(exchange, symbol, interval)?;
        let series = format!("{exchange} {symbol} {interval}");
        let chunk_rows = chunk_rows.max(1);
        let params: [&(dyn ToSql + Sync); 5] = [&exchange, &symbol.as_str(), &interval.as_str(), &from.0, &to.0];
        let any = self.block_on(async {
            let rows = self
                .client
                .query_raw(
                    "SELECT open_time_ms, open, high, low, close, volume, quote_volume, trades, taker_buy_base, taker_buy_quote
                     FROM raw_market_data
                     WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND open_time_ms >= $4 AND open_time_ms < $5
                     ORDER BY open_time_ms",
                    params,
                )
                .await
                .map_err(self.db(format!("reading {series}")))?;
            pin_mut!(rows);
            let mut acc = Chunk::default();
            let mut any = false;
            while let Some(r) = rows.try_next().await.map_err(self.db(format!("reading {series}")))? {
                any = true;
                acc.push(&r);
                if acc.open_time.len() >= chunk_rows {
                    f(std::mem::take(&mut acc).into_bars(&series)?)?;
                }
            }
            if !acc.open_time.is_empty() {
                f(acc.into_bars(&series)?)?;
            }
            Ok::<_, PgError>(any)
        })?;
        if !any && !self.contains(&exchange, symbol, interval)? {
            return Err(self.not_found(Some(&exchange), symbol, interval));
        }
        Ok(())
    }

    /// Every stored series with its rows, time range and gaps (open times streamed from the
    /// server, one series at a time).
    pub fn series_info(&self) -> Result<Vec<PgSeriesInfo>> {
        self.require_schema()?;
        let list =
            self.block_on(self.client.query(
                "SELECT exchange, symbol, interval FROM raw_market_data GROUP BY 1, 2, 3 ORDER BY 2, 3, 1",
                &[],
            ))
            .map_err(self.db("listing series"))?;
        let mut out = Vec::with_capacity(list.len());
        for r in &list {
            let (exchange, symbol, interval): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let times: Vec<i64> = self.block_on(async {
                let params: [&(dyn ToSql + Sync); 3] = [&exchange, &symbol, &interval];
                let rows = self
                    .client
                    .query_raw(
                        "SELECT open_time_ms FROM raw_market_data WHERE exchange = $1 AND symbol = $2 AND interval = $3 ORDER BY 1",
                        params,
                    )
                    .await?;
                pin_mut!(rows);
                let mut v = Vec::new();
                while let Some(r) = rows.try_next().await? {
                    v.push(r.get::<_, i64>(0));
                }
                Ok::<_, tokio_postgres::Error>(v)
            })
            .map_err(self.db(format!("reading the open times of {exchange} {symbol} {interval}")))?;
            let (gaps, misaligned) = match interval.parse::<Interval>() {
                Ok(iv) => {
                    let rep = gap_report(&times, iv);
                    (rep.gaps, rep.misaligned)
                }
                Err(_) => (Vec::new(), 0),
            };
            out.push(PgSeriesInfo {
                exchange,
                symbol,
                interval,
                rows: times.len(),
                first_open_time_ms: times.first().copied(),
                last_open_time_ms: times.last().copied(),
                gaps,
                misaligned,
            });
        }
        Ok(out)
    }
}

const KEY: [&str; 4] = ["exchange", "symbol", "interval", "open_time_ms"];

/// Rows read so far, optional columns as options until the chunk is complete.
#[derive(Default)]
struct Chunk {
    open_time: Vec<i64>,
    ohlcv: [Vec<f64>; 5],
    quote_volume: Vec<Option<f64>>,
    trades: Vec<Option<i64>>,
    taker_buy_base: Vec<Option<f64>>,
    taker_buy_quote: Vec<Option<f64>>,
}

impl Chunk {
    fn push(&mut self, r: &tokio_postgres::Row) {
        self.open_time.push(r.get(0));
        for (k, col) in self.ohlcv.iter_mut().enumerate() {
            col.push(r.get(k + 1));
        }
        self.quote_volume.push(r.get(6));
        self.trades.push(r.get(7));
        self.taker_buy_base.push(r.get(8));
        self.taker_buy_quote.push(r.get(9));
    }

    fn into_bars(self, series: &str) -> Result<Bars> {
        fn all<T: Copy>(v: Vec<Option<T>>) -> Option<Vec<T>> {
            v.into_iter().collect()
        }
        let [open, high, low, close, volume] = self.ohlcv;
        let tbb = all(self.taker_buy_base);
        let tbq = all(self.taker_buy_quote);
        let (taker_buy_base, taker_buy_quote) = match (tbb, tbq) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            _ => (None, None),
        };
        let cols = BarColumns {
            open_time: self.open_time,
            open,
            high,
            low,
            close,
            volume,
            quote_volume: all(self.quote_volume),
            trades: all(self.trades).map(|v| v.into_iter().map(|t| t.max(0) as u64).collect()),
            taker_buy_base,
            taker_buy_quote,
        };
        Bars::from_columns(cols).map_err(|source| PgError::BadStoredBars { series: series.to_string(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_names() {
        assert!(check_exchange("bybit-linear").is_ok());
        for bad in ["", "Bybit", "a b", "x;drop", &"a".repeat(33)] {
            assert!(check_exchange(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upsert_sql_counts() {
        let s = upsert_sql("t1", "s1", "a, b, c", &["a"], &["b", "c"]);
        assert!(s.contains("ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b, c = EXCLUDED.c"), "{s}");
        assert!(s.contains("WHERE (t.b, t.c) IS DISTINCT FROM (EXCLUDED.b, EXCLUDED.c)"), "{s}");
    }
}
