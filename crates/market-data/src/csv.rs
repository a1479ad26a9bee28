//! CSV import and export in the fixture schema:
//! `open_time_ms,open,high,low,close,volume[,close_time_ms,quote_volume,trades,taker_buy_base_volume,taker_buy_quote_volume]`.
//!
//! Columns are found by header name, so any order works and unknown columns are ignored.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use vane_core::{BarColumns, Bars, Extras, Interval, Timestamp};

use crate::error::{MarketDataError, Result};
use crate::timerange::TimeRange;
use vane_artifact::write_atomic_with as write_atomic;

const REQUIRED: [&str; 6] = ["open_time_ms", "open", "high", "low", "close", "volume"];

/// The optional columns, each read when present.
const OPTIONAL: [&str; 5] =
    ["close_time_ms", "quote_volume", "trades", "taker_buy_base_volume", "taker_buy_quote_volume"];

/// Reads a candle CSV. Every row is checked (numbers, candle invariants, strictly increasing
/// open times, and with `interval` the alignment and `close_time_ms == open_time_ms + interval − 1`);
/// the first problem is an error naming the file, line and column.
pub fn read_csv(path: &Path, interval: Option<Interval>) -> Result<Bars> {
    read_csv_file(path, interval, None)
}

/// [`read_csv`] over any reader; `path` is only used in error messages.
pub fn read_csv_from(reader: impl std::io::Read, path: &Path, interval: Option<Interval>) -> Result<Bars> {
    read_csv_reader(reader, path, interval, None)
}

/// [`read_csv`] for data from outside (`vane import`): every open time must also lie in `range`
/// (see [`TimeRange`]); one outside is an error naming the file, line and value, with a hint
/// when it looks like seconds or microseconds.
pub fn read_market_csv(path: &Path, interval: Option<Interval>, range: TimeRange) -> Result<Bars> {
    read_csv_file(path, interval, Some(range))
}

/// Reads a whole candle file: the fast parser ([`fast`]) over the bytes when the file starts with
/// a header line, else (or when the fast parser meets anything unusual) the checked streaming
/// reader, which gives every error its message.
fn read_csv_file(path: &Path, interval: Option<Interval>, range: Option<TimeRange>) -> Result<Bars> {
    let file = std::fs::File::open(path).map_err(|e| MarketDataError::io("opening", path, e))?;
    read_csv_reader(file, path, interval, range)
}

/// [`read_csv_file`] over any reader.
fn read_csv_reader(
    mut file: impl std::io::Read,
    path: &Path,
    interval: Option<Interval>,
    range: Option<TimeRange>,
) -> Result<Bars> {
    // Look at the first 64 KiB before reading the rest: a binary file with no newline goes to the
    // streaming reader, which refuses it without buffering it whole.
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_HEADER_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| MarketDataError::io("reading", path, e))?;
    if !bytes.contains(&b'\n') {
        return read_csv_impl(std::io::Cursor::new(bytes).chain(file), path, interval, range);
    }
    file.read_to_end(&mut bytes).map_err(|e| MarketDataError::io("reading", path, e))?;
    if let Some(cols) = fast::parse(&bytes, interval, range) {
        return Ok(Bars::from_columns(cols)?);
    }
    read_csv_impl(bytes.as_slice(), path, interval, range)
}

/// The longest header line read; a longer one is not a candle CSV.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The most characters of an input value echoed in an error message.
const MAX_ECHO_CHARS: usize = 80;

/// `bytes` as text fit for an error message: control and non-UTF-8 bytes escaped, at most
/// `max` characters, with the full length said when cut.
pub(crate) fn echo(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n >= max {
            out.push_str(&format!("… ({} bytes in all)", bytes.len()));
            break;
        }
        if c.is_control() || c == '\u{fffd}' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn read_csv_impl(
    reader: impl std::io::Read,
    path: &Path,
    interval: Option<Interval>,
    range: Option<TimeRange>,
) -> Result<Bars> {
    let err = |line: u64, column: &str, message: String| MarketDataError::Csv {
        file: path.to_path_buf(),
        line,
        column: column.to_string(),
        message,
    };
    // Read the header line with a bound, so a binary file with no newline is refused after
    // 64 KiB instead of being buffered whole (and echoed whole).
    let mut reader = std::io::BufReader::new(reader);
    let mut head = Vec::new();
    (&mut reader)
        .take(MAX_HEADER_BYTES as u64 + 1)
        .read_until(b'\n', &mut head)
        .map_err(|e| MarketDataError::io("reading", path, e))?;
    if head.len() > MAX_HEADER_BYTES && !head.ends_with(b"\n") {
        return Err(err(
            1,
            "-",
            format!(
                "the header line is longer than {MAX_HEADER_BYTES} bytes: not a candle CSV (it starts with \"{}\")",
                echo(&head, MAX_ECHO_CHARS)
            ),
        ));
    }
    let reader = std::io::Cursor::new(head).chain(reader);
    let mut rdr = ::csv::ReaderBuilder::new().has_headers(true).trim(::csv::Trim::All).from_reader(reader);
    let headers = rdr.byte_headers().map_err(|e| err(1, "-", e.to_string()))?.clone();
    let find = |name: &str| headers.iter().position(|h| h == name.as_bytes());
    for name in REQUIRED.iter().chain(OPTIONAL.iter()) {
        let at: Vec<usize> =
            headers.iter().enumerate().filter(|(_, h)| *h == name.as_bytes()).map(|(i, _)| i + 1).collect();
        if at.len() > 1 {
            let list: Vec<String> = at.iter().map(usize::to_string).collect();
            return Err(err(
                1,
                name,
                format!("the header names {name} {} times (columns {}); keep one", at.len(), list.join(", ")),
            ));
        }
    }
    let mut idx = [0usize; 6];
    for (k, name) in REQUIRED.iter().enumerate() {
        idx[k] = find(name).ok_or_else(|| {
            let names: Vec<String> = headers.iter().take(50).map(|h| echo(h, 40)).collect();
            let more =
                if headers.len() > 50 { format!(", … ({} columns in all)", headers.len()) } else { String::new() };
            err(
                1,
                name,
                format!(
                    "missing required column (the header has: {}{more}; required: {})",
                    echo(names.join(", ").as_bytes(), 2000),
                    REQUIRED.join(", ")
                ),
            )
        })?;
    }
    let close_time = find("close_time_ms");
    let qv = find("quote_volume");
    let trades = find("trades");
    let tbb = find("taker_buy_base_volume");
    let tbq = find("taker_buy_quote_volume");
    match (tbb, tbq) {
        (Some(_), None) | (None, Some(_)) => {
            let (has, lacks) = if tbb.is_some() {
                ("taker_buy_base_volume", "taker_buy_quote_volume")
            } else {
                ("taker_buy_quote_volume", "taker_buy_base_volume")
            };
            return Err(err(1, has, format!("{has} comes only with {lacks}: add a {lacks} column or remove {has}")));
        }
        _ => {}
    }
    let extras =
        Extras { quote_volume: qv.is_some(), trades: trades.is_some(), taker_buy: tbb.is_some() && tbq.is_some() };
    let mut cols = BarColumns::with_extras(extras, 1024);
    let mut rec = ::csv::ByteRecord::new();
    loop {
        let more = rdr.read_byte_record(&mut rec).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, "-", e.to_string())
        })?;
        if !more {
            break;
        }
        let line = rec.position().map_or(0, |p| p.line());
        let field = |i: usize, name: &str| -> Result<&str> {
            let raw = rec.get(i).ok_or_else(|| err(line, name, "missing field".into()))?;
            std::str::from_utf8(raw).map_err(|_| err(line, name, "not UTF-8".into()))
        };
        let int = |i: usize, name: &str| -> Result<i64> {
            let s = field(i, name)?;
            s.parse::<i64>()
                .map_err(|_| err(line, name, format!("\"{}\" is not an integer", echo(s.as_bytes(), MAX_ECHO_CHARS))))
        };
        let num = |i: usize, name: &str| -> Result<f64> {
            let s = field(i, name)?;
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(err(line, name, format!("\"{}\" is not a finite number", echo(s.as_bytes(), MAX_ECHO_CHARS)))),
            }
        };
        let t = int(idx[0], REQUIRED[0])?;
        if let Some(p) = range.and_then(|r| r.problem(Timestamp(t))) {
            return Err(err(line, "open_time_ms", p));
        }
        if let Some(iv) = interval {
            if !iv.is_aligned(Timestamp(t)) {
                return Err(err(line, "open_time_ms", format!("{} is not aligned to {iv}", Timestamp(t))));
            }
            if let Some(ci) = close_time {
                let ct = int(ci, "close_time_ms")?;
                if ct != iv.close_time(Timestamp(t)).0 {
                    return Err(err(line, "close_time_ms", format!("{ct} != open_time_ms + {iv} - 1 ms")));
                }
            }
        }
        if let Some(&prev) = cols.open_time.last()
            && t <= prev
        {
            let what = if t == prev { "duplicate" } else { "out of order" };
            return Err(err(
                line,
                "open_time_ms",
                format!("{what}: {} does not come after {}", Timestamp(t), Timestamp(prev)),
            ));
        }
        cols.open_time.push(t);
        cols.open.push(num(idx[1], "open")?);
        cols.high.push(num(idx[2], "high")?);
        cols.low.push(num(idx[3], "low")?);
        cols.close.push(num(idx[4], "close")?);
        cols.volume.push(num(idx[5], "volume")?);
        if let (Some(i), Some(c)) = (qv, cols.quote_volume.as_mut()) {
            c.push(num(i, "quote_volume")?);
        }
        if let (Some(i), Some(c)) = (trades, cols.trades.as_mut()) {
            let v = int(i, "trades")?;
            c.push(u64::try_from(v).map_err(|_| err(line, "trades", format!("{v} is negative")))?);
        }
        if let (Some(i), Some(c)) = (tbb, cols.taker_buy_base.as_mut()) {
            c.push(num(i, "taker_buy_base_volume")?);
        }
        if let (Some(i), Some(c)) = (tbq, cols.taker_buy_quote.as_mut()) {
            c.push(num(i, "taker_buy_quote_volume")?);
        }
        let row = cols.len() - 1;
        if let Some(reason) = cols.row(row).problem() {
            return Err(err(line, "-", reason));
        }
    }
    Ok(Bars::from_columns(cols)?)
}

/// The fast path of CSV import: the whole file in memory, cut into one piece per core at line
/// boundaries, each piece parsed by a plain byte loop (fields split at commas, trimmed of ASCII
/// whitespace and parsed with the same `str::parse` as the checked reader, so the values are the
/// same bits). It accepts exactly the files the checked reader accepts, and no others: at the
/// first thing it does not handle (a quote, a carriage return, a blank line, a field count or
/// value the checked reader would refuse), it gives up and the checked reader reads the file
/// again and says what is wrong, with its line and column.
mod fast {
    use vane_core::{BarColumns, Extras, Interval, Timestamp};

    use super::{OPTIONAL, REQUIRED};
    use crate::timerange::TimeRange;

    /// Bytes per piece below which fewer threads are used.
    const MIN_PIECE_BYTES: usize = 1 << 20;

    /// Where the columns are, from the header.
    struct Layout {
        fields: usize,
        required: [usize; 6],
        close_time: Option<usize>,
        quote_volume: Option<usize>,
        trades: Option<usize>,
        taker_buy: Option<(usize, usize)>,
        extras: Extras,
    }

    fn header(line: &[u8]) -> Option<Layout> {
        if line.contains(&b'"') || line.contains(&b'\r') {
            return None;
        }
        let names: Vec<&[u8]> = line.split(|&b| b == b',').map(<[u8]>::trim_ascii).collect();
        let find = |name: &str| -> Option<Option<usize>> {
            let mut at = names.iter().enumerate().filter(|(_, h)| **h == name.as_bytes()).map(|(i, _)| i);
            let first = at.next();
            if at.next().is_some() { None } else { Some(first) }
        };
        let mut required = [0usize; 6];
        for (k, name) in REQUIRED.iter().enumerate() {
            required[k] = find(name)??;
        }
        let [close_time, quote_volume, trades, tbb, tbq] = OPTIONAL.map(find);
        let taker_buy = match (tbb?, tbq?) {
            (Some(b), Some(q)) => Some((b, q)),
            (None, None) => None,
            _ => return None,
        };
        let (quote_volume, trades) = (quote_volume?, trades?);
        Some(Layout {
            fields: names.len(),
            required,
            close_time: close_time?,
            quote_volume,
            trades,
            taker_buy,
            extras: Extras {
                quote_volume: quote_volume.is_some(),
                trades: trades.is_some(),
                taker_buy: taker_buy.is_some(),
            },
        })
    }

    /// The candles of `bytes` (a header line, then rows), or `None` when the checked reader
    /// must read them.
    pub(super) fn parse(bytes: &[u8], interval: Option<Interval>, range: Option<TimeRange>) -> Option<BarColumns> {
        let nl = bytes.iter().position(|&b| b == b'\n')?;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min((bytes.len() - nl) / MIN_PIECE_BYTES)
            .max(1);
        parse_in(bytes, interval, range, threads)
    }

    /// [`parse`] with the rows cut into `threads` pieces, each parsed on its own thread.
    pub(super) fn parse_in(
        bytes: &[u8],
        interval: Option<Interval>,
        range: Option<TimeRange>,
        threads: usize,
    ) -> Option<BarColumns> {
        let nl = bytes.iter().position(|&b| b == b'\n')?;
        let layout = header(&bytes[..nl])?;
        let pieces = split(&bytes[nl + 1..], threads.max(1));
        let parts: Vec<Option<BarColumns>> = if pieces.len() == 1 {
            vec![rows(pieces[0], &layout, interval, range)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = pieces.iter().map(|p| s.spawn(|| rows(p, &layout, interval, range))).collect();
                handles.into_iter().map(|h| h.join().ok().flatten()).collect()
            })
        };
        let mut parts = parts.into_iter();
        let mut cols = parts.next()??;
        for part in parts {
            let part = part?;
            if let (Some(&last), Some(&first)) = (cols.open_time.last(), part.open_time.first())
                && first <= last
            {
                return None;
            }
            append(&mut cols, part);
        }
        Some(cols)
    }

    /// `body` cut into about `n` pieces, each ending at a newline (the last at the end).
    fn split(body: &[u8], n: usize) -> Vec<&[u8]> {
        let mut pieces = Vec::with_capacity(n);
        let mut start = 0;
        for k in 1..n {
            let target = (body.len() * k / n).max(start);
            let Some(off) = body[target..].iter().position(|&b| b == b'\n') else { break };
            let end = target + off + 1;
            pieces.push(&body[start..end]);
            start = end;
        }
        pieces.push(&body[start..]);
        pieces
    }

    fn append(to: &mut BarColumns, from: BarColumns) {
        fn ext<T>(a: &mut Option<Vec<T>>, b: Option<Vec<T>>) {
            if let (Some(a), Some(b)) = (a.as_mut(), b) {
                a.extend(b);
            }
        }
        to.open_time.extend(from.open_time);
        to.open.extend(from.open);
        to.high.extend(from.high);
        to.low.extend(from.low);
        to.close.extend(from.close);
        to.volume.extend(from.volume);
        ext(&mut to.quote_volume, from.quote_volume);
        ext(&mut to.trades, from.trades);
        ext(&mut to.taker_buy_base, from.taker_buy_base);
        ext(&mut to.taker_buy_quote, from.taker_buy_quote);
    }

    fn int(field: &[u8]) -> Option<i64> {
        std::str::from_utf8(field.trim_ascii()).ok()?.parse().ok()
    }

    fn num(field: &[u8]) -> Option<f64> {
        std::str::from_utf8(field.trim_ascii()).ok()?.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// The rows of one piece, each checked as the checked reader checks it.
    fn rows(piece: &[u8], l: &Layout, interval: Option<Interval>, range: Option<TimeRange>) -> Option<BarColumns> {
        if piece.contains(&b'"') || piece.contains(&b'\r') {
            return None;
        }
        let piece = piece.strip_suffix(b"\n").unwrap_or(piece);
        if piece.is_empty() {
            return Some(BarColumns::with_extras(l.extras, 0));
        }
        let n = piece.iter().filter(|&&b| b == b'\n').count() + 1;
        let mut cols = BarColumns::with_extras(l.extras, n);
        let mut fields: Vec<&[u8]> = Vec::with_capacity(l.fields);
        for line in piece.split(|&b| b == b'\n') {
            fields.clear();
            fields.extend(line.split(|&b| b == b','));
            if line.is_empty() || fields.len() != l.fields {
                return None;
            }
            let t = int(fields[l.required[0]])?;
            if range.is_some_and(|r| r.problem(Timestamp(t)).is_some()) {
                return None;
            }
            if let Some(iv) = interval {
                if !iv.is_aligned(Timestamp(t)) {
                    return None;
                }
                if let Some(ci) = l.close_time
                    && int(fields[ci])? != iv.close_time(Timestamp(t)).0
                {
                    return None;
                }
            }
            if cols.open_time.last().is_some_and(|&prev| t <= prev) {
                return None;
            }
            cols.open_time.push(t);
            cols.open.push(num(fields[l.required[1]])?);
            cols.high.push(num(fields[l.required[2]])?);
            cols.low.push(num(fields[l.required[3]])?);
            cols.close.push(num(fields[l.required[4]])?);
            cols.volume.push(num(fields[l.required[5]])?);
            if let (Some(i), Some(c)) = (l.quote_volume, cols.quote_volume.as_mut()) {
                c.push(num(fields[i])?);
            }
            if let (Some(i), Some(c)) = (l.trades, cols.trades.as_mut()) {
                c.push(u64::try_from(int(fields[i])?).ok()?);
            }
            if let (Some((b, q)), Some(cb), Some(cq)) =
                (l.taker_buy, cols.taker_buy_base.as_mut(), cols.taker_buy_quote.as_mut())
            {
                cb.push(num(fields[b])?);
                cq.push(num(fields[q])?);
            }
            if cols.row(cols.len() - 1).problem().is_some() {
                return None;
            }
        }
        Some(cols)
    }
}

/// Writes bars as CSV (atomically): the OHLCV columns, then `close_time_ms` when `interval`
/// is given, then whichever optional columns the bars carry. Floats are written in Rust's
/// shortest round-trip form, so reading the file back gives the same bits.
pub fn write_csv(path: &Path, bars: &Bars, interval: Option<Interval>) -> Result<()> {
    write_atomic(path, |w, tmp| write_csv_to(w, bars, interval).map_err(|e| MarketDataError::io("writing", tmp, e)))
}

/// [`write_csv`] to any writer.
pub fn write_csv_to(w: &mut impl Write, bars: &Bars, interval: Option<Interval>) -> std::io::Result<()> {
    let c = bars.columns();
    let mut header = REQUIRED.join(",");
    if interval.is_some() {
        header.push_str(",close_time_ms");
    }
    if c.quote_volume.is_some() {
        header.push_str(",quote_volume");
    }
    if c.trades.is_some() {
        header.push_str(",trades");
    }
    if c.taker_buy_base.is_some() {
        header.push_str(",taker_buy_base_volume,taker_buy_quote_volume");
    }
    writeln!(w, "{header}")?;
    for i in 0..c.len() {
        write!(w, "{},{},{},{},{},{}", c.open_time[i], c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i])?;
        if let Some(iv) = interval {
            write!(w, ",{}", iv.close_time(Timestamp(c.open_time[i])).0)?;
        }
        if let Some(v) = &c.quote_volume {
            write!(w, ",{}", v[i])?;
        }
        if let Some(v) = &c.trades {
            write!(w, ",{}", v[i])?;
        }
        if let (Some(b), Some(q)) = (&c.taker_buy_base, &c.taker_buy_quote) {
            write!(w, ",{},{}", b[i], q[i])?;
        }
        writeln!(w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str, iv: Option<Interval>) -> Result<Bars> {
        read_csv_from(s.as_bytes(), Path::new("t.csv"), iv)
    }

    #[test]
    fn reads_fixture_rows_exactly() {
        let s = "open_time_ms,open,high,low,close,volume,close_time_ms,quote_volume,trades,taker_buy_base_volume,taker_buy_quote_volume\n\
                 1672531200000,16541.77,16559.77,16508.39,16533.04,15515.82327,1672545599999,256565046.2444078,529532,7617.41262,125959681.2280884\n";
        let b = read(s, Some(Interval::H4)).unwrap();
        assert_eq!(b.len(), 1);
        let bar = b.get(0).unwrap();
        assert_eq!(bar.open_time.0, 1_672_531_200_000);
        assert_eq!((bar.open, bar.high, bar.low, bar.close), (16541.77, 16559.77, 16508.39, 16533.04));
        assert_eq!(bar.trades, Some(529_532));
        assert_eq!(bar.taker_buy_quote, Some(125_959_681.228_088_4));
        assert_eq!(b.extras(), Extras::BINANCE);
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases = [
            ("open_time_ms,open,high,low,close\n0,1,1,1,1\n", 1, "volume", "missing required column"),
            (
                "open_time_ms,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,x,1,1,1\n",
                3,
                "high",
                "\"x\" is not a finite number",
            ),
            ("open_time_ms,open,high,low,close,volume\n0,1,1,1,1,1\n0,1,1,1,1,1\n", 3, "open_time_ms", "duplicate"),
            (
                "open_time_ms,open,high,low,close,volume\n60000,1,1,1,1,1\n0,1,1,1,1,1\n",
                3,
                "open_time_ms",
                "out of order",
            ),
            ("open_time_ms,open,high,low,close,volume\n0,2,1,1,1,1\n", 2, "-", "high 1 is below"),
            ("open_time_ms,open,high,low,close,volume\n0,1,1,1,1,NaN\n", 2, "volume", "not a finite number"),
            ("open_time_ms,open,high,low,close,volume\n30000,1,1,1,1,1\n", 2, "open_time_ms", "not aligned to 1m"),
            (
                "open_time_ms,open,high,low,close,volume,close_time_ms\n0,1,1,1,1,1,60000\n",
                2,
                "close_time_ms",
                "60000 != open_time_ms + 1m - 1 ms",
            ),
            ("open_time_ms,open,high,low,close,volume,trades\n0,1,1,1,1,1,-3\n", 2, "trades", "-3 is negative"),
            ("open_time_ms,open,high,low,close,volume\n0,1,1,1,1\n", 2, "-", "found record with 5 fields"),
        ];
        for (text, line, column, msg) in cases {
            match read(text, Some(Interval::M1)) {
                Err(MarketDataError::Csv { line: l, column: c, message, file }) => {
                    assert_eq!((l, c.as_str()), (line, column), "{text:?}: {message}");
                    assert!(message.contains(msg), "{message:?} lacks {msg:?}");
                    assert_eq!(file, Path::new("t.csv"));
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    /// The checked reader alone (the reader before the fast path).
    fn checked(s: &str, iv: Option<Interval>) -> Result<Bars> {
        read_csv_impl(s.as_bytes(), Path::new("t.csv"), iv, None)
    }

    #[test]
    fn fast_path_reads_what_the_checked_reader_reads_in_any_number_of_pieces() {
        let mut text = String::from(
            "extra, open_time_ms ,open,high,low,close,volume,close_time_ms,quote_volume,trades,taker_buy_base_volume,taker_buy_quote_volume\n",
        );
        let mut price = 100.0f64;
        for i in 0..500i64 {
            let (o, c) = (price, price * (1.0 + ((i * 7919) % 13 - 6) as f64 * 1e-3));
            price = c;
            let pad = if i % 5 == 0 { "  " } else { "" };
            text.push_str(&format!(
                "x{i},{pad}{},{o},{}, {} ,{c:e},{}{pad},{},0.{i},{},1e-3,2.5\n",
                i * 60_000,
                o.max(c) * 1.001,
                o.min(c) * 0.999,
                i as f64 / 3.0,
                i * 60_000 + 59_999,
                i * 3,
            ));
        }
        let want = checked(&text, Some(Interval::M1)).unwrap();
        for threads in [1, 2, 3, 7] {
            let cols = fast::parse_in(text.as_bytes(), Some(Interval::M1), None, threads).expect("the fast path");
            assert_eq!(Bars::from_columns(cols).unwrap(), want, "{threads} pieces");
        }
        // Without the last newline, and through the public reader.
        let trimmed = text.trim_end();
        assert_eq!(fast::parse_in(trimmed.as_bytes(), Some(Interval::M1), None, 3).map(|c| c.len()), Some(500));
        assert_eq!(read(trimmed, Some(Interval::M1)).unwrap(), want);
    }

    #[test]
    fn fast_path_leaves_anything_unusual_to_the_checked_reader() {
        let head = "open_time_ms,open,high,low,close,volume\n";
        for body in [
            "0,1,1,1,1,1\r\n60000,1,1,1,1,1\r\n",
            "\"0\",1,1,1,1,1\n",
            "0,1,1,1,1,1\n\n60000,1,1,1,1,1\n",
            "0,1,1,1,1\n",
            "0,1,1,1,1,1,1\n",
            "0,1,x,1,1,1\n",
            "0,1,1,1,1,inf\n",
            "60000,1,1,1,1,1\n0,1,1,1,1,1\n",
            "0,1,1,1,1,1\n0,1,1,1,1,1\n",
            "0,2,1,1,1,1\n",
            "30000,1,1,1,1,1\n",
        ] {
            let text = format!("{head}{body}");
            for threads in [1, 2] {
                assert!(fast::parse_in(text.as_bytes(), Some(Interval::M1), None, threads).is_none(), "{body:?}");
            }
            // The public reader then says exactly what the checked reader says.
            let (a, b) = (read(&text, Some(Interval::M1)), checked(&text, Some(Interval::M1)));
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{body:?}");
        }
        for header in ["open,high,low,close,volume\n", "open_time_ms,open,open,high,low,close,volume\n"] {
            assert!(fast::parse_in(format!("{header}0,1,1,1,1,1\n").as_bytes(), None, None, 1).is_none());
        }
    }

    #[test]
    fn columns_by_name_any_order() {
        let b = read("volume,close,low,high,open,open_time_ms,extra\n5,2,1,3,2,0,zzz\n", None).unwrap();
        let bar = b.get(0).unwrap();
        assert_eq!((bar.open, bar.high, bar.low, bar.close, bar.volume), (2.0, 3.0, 1.0, 2.0, 5.0));
        assert_eq!(b.extras(), Extras::default());
    }

    #[test]
    fn write_read_round_trip_is_bit_exact() {
        let s = "open_time_ms,open,high,low,close,volume,close_time_ms,quote_volume,trades,taker_buy_base_volume,taker_buy_quote_volume\n\
                 0,0.1,0.30000000000000004,0.1,0.2,1e-7,59999,123.456,7,0.5,1.25\n\
                 60000,100.5,101,99,100,0,119999,0,0,0,0\n";
        let b = read(s, Some(Interval::M1)).unwrap();
        let mut out = Vec::new();
        write_csv_to(&mut out, &b, Some(Interval::M1)).unwrap();
        let back = read(std::str::from_utf8(&out).unwrap(), Some(Interval::M1)).unwrap();
        assert_eq!(back, b);
        assert!(std::str::from_utf8(&out).unwrap().contains("0.30000000000000004"));
    }
}
