//! Candles and symbol lists from files given on a command line or in a config.

use std::path::Path;

use vane_core::{Bars, Interval, Symbol, Timestamp};

use crate::csv::read_csv;
use crate::error::{MarketDataError, Result};
use crate::store::read_parquet_file;

/// Whether `path` ends in `.parquet` (any case).
pub fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Candles from a `.parquet` file (as the store writes it) or else a CSV in the fixture schema
/// (checked against `interval` when given).
pub fn read_bars_file(path: &Path, interval: Option<Interval>) -> Result<Bars> {
    if is_parquet(path) { read_parquet_file(path) } else { read_csv(path, interval) }
}

/// [`read_bars_file`] plus the bars' interval: `interval` when given, else inferred from the open
/// times ([`Interval::infer`]; `None` when unknown). Every bar must be aligned to it.
pub fn read_bars_file_with_interval(path: &Path, interval: Option<Interval>) -> Result<(Bars, Option<Interval>)> {
    let bars = read_bars_file(path, interval)?;
    let interval = interval.or_else(|| Interval::infer(bars.open_time()));
    if let Some(iv) = interval
        && let Some(&t) = bars.open_time().iter().find(|&&t| !iv.is_aligned(Timestamp(t)))
    {
        return Err(MarketDataError::InvalidArgument(format!(
            "{}: bar at {} is not aligned to {iv}",
            path.display(),
            Timestamp(t)
        )));
    }
    Ok((bars, interval))
}

/// Reads a symbol universe: one symbol per line, blank lines and `#` comments ignored. A bad
/// symbol is an error naming the file and line.
pub fn read_universe(path: &Path) -> Result<Vec<Symbol>> {
    let text = std::fs::read_to_string(path).map_err(|e| MarketDataError::io("reading", path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let s = line.split('#').next().unwrap_or("").trim();
        if !s.is_empty() {
            let symbol = Symbol::new(s).map_err(|source| MarketDataError::Universe {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })?;
            out.push(symbol);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn universe_skips_comments_and_names_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.txt");
        std::fs::write(&p, "# majors\nBTCUSDT\n\nETHUSDT # second\n").unwrap();
        assert_eq!(read_universe(&p).unwrap(), vec![Symbol::new("BTCUSDT").unwrap(), Symbol::new("ETHUSDT").unwrap()]);
        std::fs::write(&p, "BTCUSDT\neth-usdt\n").unwrap();
        let e = read_universe(&p).unwrap_err().to_string();
        assert!(e.contains("u.txt:2") && e.contains("invalid symbol"), "{e}");
        assert!(is_parquet(Path::new("a.PARQUET")) && !is_parquet(Path::new("a.csv")));
    }
}
