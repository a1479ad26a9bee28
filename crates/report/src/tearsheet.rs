//! A self-contained HTML tearsheet of one run, in the spirit of quantstats' HTML report: a
//! title, a subtitle (run id, model, symbol, interval and the period covered), a metrics table
//! given by the caller, the worst drawdowns, and the panels drawn here from the strategy's
//! returns — cumulative return with the drawdown (underwater) panel (against an optional
//! benchmark), monthly returns heatmap, return distribution and rolling Sharpe — followed by any
//! extra panels the caller passes (a loss curve, a reliability diagram, per-window bars: SVG
//! documents from this crate's `*_svg_string` functions).
//!
//! The page loads nothing: the CSS is inline, every plot is an inline `<svg>`, there are no
//! scripts, and a `Content-Security-Policy` of `default-src 'none'` says so to the browser.
//! Every caller string (titles, labels, metric names) is HTML-escaped.

use std::fmt::Write as _;
use std::path::Path;

use crate::distribution::{Bins, return_histogram_svg_string, rolling_sharpe_svg_string};
use crate::equity::{ReturnSeries, drawdown_periods, equity_svg_string};
use crate::error::{ReportError, Result};
use crate::heatmap::{heatmap_svg_string, monthly_heatmap, monthly_returns};

/// How a metric value is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A fraction as a percentage with two decimals: `0.1234` → `12.34%`.
    Percent,
    /// A ratio with two decimals: `1.234` → `1.23`.
    Ratio,
    /// A whole number: `12.0` → `12`.
    Int,
}

impl Format {
    /// The text of `value`; `-` for None or a non-finite value.
    pub fn format(self, value: Option<f64>) -> String {
        match value.filter(|v| v.is_finite()) {
            None => "-".into(),
            Some(v) => match self {
                Format::Percent => format!("{:.2}%", 100.0 * v),
                Format::Ratio => format!("{v:.2}"),
                Format::Int => format!("{v:.0}"),
            },
        }
    }
}

/// One row of the metrics table: a name and one value per column.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    /// The metric's name as shown.
    pub name: String,
    /// One value per column of [`Tearsheet::metric_columns`] (None: undefined, shown as `-`).
    pub values: Vec<Option<f64>>,
    /// How the values are printed.
    pub format: Format,
}

impl MetricRow {
    /// A row with one value.
    pub fn new(name: impl Into<String>, value: Option<f64>, format: Format) -> Self {
        Self { name: name.into(), values: vec![value], format }
    }
}

/// An extra panel: a title and an SVG document (from one of this crate's `*_svg_string`
/// functions; it is inlined as is, so it must be an `<svg>` element without scripts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    /// Heading above the plot.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// Everything a tearsheet shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Tearsheet {
    /// Page title (e.g. `lorentzian WFO on BTCUSDT 4h`).
    pub title: String,
    /// `(label, value)` pairs under the title (run id, model, symbol, interval); the period
    /// covered by `times_ms` is added after them.
    pub subtitle: Vec<(String, String)>,
    /// Headers of the value columns of the metrics table (empty: one column, `Value`).
    pub metric_columns: Vec<String>,
    /// The metrics table, in order.
    pub metrics: Vec<MetricRow>,
    /// Open times (ms) of the periods of `strategy` (and `benchmark`), non-decreasing.
    pub times_ms: Vec<i64>,
    /// The strategy's per-period returns (e.g. the stitched out-of-sample returns).
    pub strategy: ReturnSeries,
    /// A benchmark over the same periods (e.g. buy and hold).
    pub benchmark: Option<ReturnSeries>,
    /// Periods per year of the interval (4h: 2190), for the rolling Sharpe ratio.
    pub periods_per_year: f64,
    /// Rolling Sharpe window in periods; 0 picks half a year, at most a third of the series and
    /// at least 2.
    pub rolling_window: usize,
    /// Bins of the return histogram.
    pub bins: Bins,
    /// Panels after the standard ones, in order.
    pub extra_panels: Vec<Panel>,
}

impl Tearsheet {
    /// A tearsheet of `strategy` over `times_ms` with no metrics, benchmark or extra panels.
    pub fn new(title: impl Into<String>, times_ms: Vec<i64>, strategy: ReturnSeries, periods_per_year: f64) -> Self {
        Self {
            title: title.into(),
            subtitle: Vec::new(),
            metric_columns: Vec::new(),
            metrics: Vec::new(),
            times_ms,
            strategy,
            benchmark: None,
            periods_per_year,
            rolling_window: 0,
            bins: Bins::FreedmanDiaconis,
            extra_panels: Vec::new(),
        }
    }

    /// The rolling Sharpe window in periods (see [`Tearsheet::rolling_window`]).
    pub fn window(&self) -> usize {
        if self.rolling_window > 0 {
            return self.rolling_window;
        }
        let half_year = (self.periods_per_year / 2.0).round().max(2.0) as usize;
        half_year.min(self.times_ms.len() / 3).max(2)
    }

    fn validate(&self) -> Result<()> {
        let columns = self.metric_columns.len().max(1);
        if let Some(r) = self.metrics.iter().find(|r| r.values.len() != columns) {
            return Err(ReportError::Series(format!(
                "tearsheet metric {:?} has {} values but the table has {columns} columns",
                r.name,
                r.values.len()
            )));
        }
        for p in &self.extra_panels {
            let lower = p.svg.to_ascii_lowercase();
            if !lower.trim_start().starts_with("<svg") || lower.contains("<script") || lower.contains("javascript:") {
                return Err(ReportError::Series(format!(
                    "tearsheet panel {:?} is not a plain SVG document (it must start with <svg and hold no script)",
                    p.title
                )));
            }
        }
        Ok(())
    }
}

/// `s` with `& < > " '` escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(ms: i64) -> String {
    let (y, m, d, ..) = vane_core::Timestamp(ms).to_parts();
    format!("{y}-{m:02}-{d:02}")
}

const CSS: &str = "\
body{margin:0;background:#f4f5f7;color:#1d1f23;font:15px/1.45 'DejaVu Sans',Verdana,sans-serif}\
main{max-width:1340px;margin:0 auto;padding:24px}\
h1{font-size:26px;margin:0 0 6px}\
.sub{color:#555;margin:0 0 20px}.sub span{margin-right:18px;white-space:nowrap}.sub b{color:#1d1f23;font-weight:600}\
.grid{display:grid;grid-template-columns:minmax(320px,410px) minmax(0,920px);gap:20px;align-items:start}\
@media(max-width:900px){.grid{grid-template-columns:1fr}}\
section{background:#fff;border:1px solid #dde0e5;border-radius:6px;padding:14px 16px;margin-bottom:20px}\
h2{font-size:17px;margin:0 0 10px;color:#2b3a55}\
table{border-collapse:collapse;width:100%;font-size:14px}\
th,td{padding:4px 8px;border-bottom:1px solid #eceef1;text-align:right;white-space:nowrap}\
table.metrics td:first-child{white-space:normal}table.dd{font-size:13px}table.dd th,table.dd td{padding:4px 4px}\
th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #c9ced6}\
td.neg{color:#b42318}\
svg{display:block;width:100%;height:auto}\
footer{color:#777;font-size:12px;margin-top:8px}";

/// The tearsheet as one self-contained HTML document (see the module doc).
pub fn tearsheet_html(t: &Tearsheet) -> Result<String> {
    t.validate()?;
    let mut series = vec![t.strategy.clone()];
    series.extend(t.benchmark.iter().cloned());
    crate::equity::validate(&t.times_ms, &series)?;
    let times = &t.times_ms;
    let equity = equity_svg_string(times, &series, "Cumulative return and drawdown")?;
    let (years, months) = monthly_returns(times, &t.strategy.returns)?;
    let monthly =
        heatmap_svg_string(&monthly_heatmap(&years, &months, &format!("Monthly returns: {}", t.strategy.name)))?;
    let hist =
        return_histogram_svg_string(&t.strategy.returns, t.bins, &format!("Returns per period: {}", t.strategy.name))?;
    let window = t.window();
    let rolling = rolling_sharpe_svg_string(
        times,
        &series,
        window,
        t.periods_per_year,
        &format!("Rolling Sharpe ({window} periods, about {:.0} days)", window as f64 * 365.0 / t.periods_per_year),
    )?;
    let worst = drawdown_periods(times, &t.strategy.returns)?;

    let mut h = String::with_capacity(equity.len() + monthly.len() + hist.len() + rolling.len() + 16_384);
    let title = escape(if t.title.is_empty() { "Tearsheet" } else { &t.title });
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n<p class=\"sub\">"
    );
    for (k, v) in &t.subtitle {
        let _ = write!(h, "<span>{}: <b>{}</b></span>", escape(k), escape(v));
    }
    let (first, last) = (times[0], times[times.len() - 1]);
    let _ = writeln!(h, "<span>period: <b>{} to {}</b> ({} periods)</span></p>", date(first), date(last), times.len());

    h.push_str("<div class=\"grid\">\n<div>\n<section><h2>Key metrics</h2>\n<table class=\"metrics\">\n<thead><tr><th>Metric</th>");
    if t.metric_columns.is_empty() {
        h.push_str("<th>Value</th>");
    }
    for c in &t.metric_columns {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.metrics {
        let _ = write!(h, "<tr><td>{}</td>", escape(&r.name));
        for v in &r.values {
            let neg = if v.is_some_and(|v| v < 0.0) { " class=\"neg\"" } else { "" };
            let _ = write!(h, "<td{neg}>{}</td>", escape(&r.format.format(*v)));
        }
        h.push_str("</tr>\n");
    }
    if t.metrics.is_empty() {
        h.push_str("<tr><td colspan=\"2\">no metrics given</td></tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</section>\n");

    h.push_str("<section><h2>Worst drawdowns</h2>\n<table class=\"dd\">\n<thead><tr><th>Start</th><th>Valley</th><th>End</th><th>Periods</th><th>Depth</th></tr></thead>\n<tbody>\n");
    for p in worst.iter().take(5) {
        let end = p.end_ms.map_or_else(|| "ongoing".to_string(), date);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{end}</td><td>{}</td><td class=\"neg\">{:.2}%</td></tr>",
            date(p.start_ms),
            date(p.valley_ms),
            p.periods,
            100.0 * p.depth
        );
    }
    if worst.is_empty() {
        h.push_str("<tr><td colspan=\"5\">no drawdown</td></tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</section>\n</div>\n<div>\n");

    let mut panel = |heading: &str, svg: &str| {
        let _ = write!(h, "<section><h2>{}</h2>\n{}\n</section>\n", escape(heading), svg);
    };
    panel("Cumulative return and drawdown (underwater)", &equity);
    panel("Rolling Sharpe", &rolling);
    panel("Monthly returns", &monthly);
    panel("Distribution of returns", &hist);
    for p in &t.extra_panels {
        panel(&p.title, &p.svg);
    }
    h.push_str(
        "</div>\n</div>\n<footer>Drawn by vane-report. Returns compound as cumprod(1 + r); drawdown is E/cummax(E) − 1 \
         from a starting capital of 1; Sharpe is mean/std (ddof 1)·√(periods per year), no risk-free rate.</footer>\n\
         </main>\n</body>\n</html>\n",
    );
    Ok(h)
}

/// Writes [`tearsheet_html`] to `path` atomically: to a temporary file in the same folder, then
/// renamed over `path`, so a reader never sees half a page.
pub fn write_tearsheet(path: &Path, t: &Tearsheet) -> Result<()> {
    let html = tearsheet_html(t)?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ReportError::Io { path: p, source }
    };
    let name = path.file_name().map_or_else(|| "tearsheet.html".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, html).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path)(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(Format::Percent.format(Some(0.12345)), "12.35%");
        assert_eq!(Format::Ratio.format(Some(-1.234)), "-1.23");
        assert_eq!(Format::Int.format(Some(12.0)), "12");
        assert_eq!(Format::Ratio.format(None), "-");
        assert_eq!(Format::Ratio.format(Some(f64::NAN)), "-");
    }

    #[test]
    fn window_defaults() {
        let s = ReturnSeries::new("s", vec![0.0; 6000]);
        let t = Tearsheet::new("t", (0..6000).collect(), s, 2190.0);
        assert_eq!(t.window(), 1095);
        let s = ReturnSeries::new("s", vec![0.0; 300]);
        let t = Tearsheet::new("t", (0..300).collect(), s, 2190.0);
        assert_eq!(t.window(), 100);
    }
}
