//! `vane report --run ID`: one self-contained HTML tearsheet of a recorded run (docs/runs.md).
//!
//! The run's `returns.csv` gives the trading panels (metrics by `vane_backtest::metrics::compute`
//! at the run interval's periods per year, cumulative returns with drawdowns, underwater, monthly
//! returns, return distribution, rolling Sharpe, the worst drawdowns), its `history.csv` the loss
//! curve, its `plots/*.svg` the rest (reliability diagram, …). A run without returns gets the
//! training panels and a line saying which verbs record returns.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;
use vane_artifact::runs::{PLOTS_DIR, ReturnRow, RunRecord, RunsDir};
use vane_core::{Interval, Timestamp};
use vane_report::{Bins, LossSeries, ReturnSeries};

use crate::args::report::ReportArgs;
use crate::output::Render;

/// The verbs that record `returns.csv`.
const RETURN_VERBS: &str = "train-test and wfo";

#[derive(Serialize)]
pub(crate) struct ReportOutput {
    /// Run id.
    run: String,
    /// The HTML file written.
    path: PathBuf,
    /// The panels in it, in order.
    panels: Vec<String>,
    /// Whether the run had returns (the trading panels).
    returns: bool,
}

impl Render for ReportOutput {
    fn human(&self) -> String {
        String::new()
    }
    fn status(&self) -> Option<String> {
        let extra = if self.returns {
            String::new()
        } else {
            format!(" (no returns.csv: training panels only; {RETURN_VERBS} record returns)")
        };
        Some(format!("wrote {} ({} panels){extra}", self.path.display(), self.panels.len()))
    }
}

/// One figure of the tearsheet.
struct Panel {
    title: String,
    svg: String,
}

pub(crate) fn run(a: ReportArgs) -> Result<ReportOutput> {
    let runs = RunsDir::new(a.runs.path());
    let record = runs.load(&a.run)?;
    let dir = runs.run_dir(&a.run)?;
    let out = a.out.clone().unwrap_or_else(|| dir.join("report.html"));
    if out.extension().is_none_or(|e| e != "html" && e != "htm") {
        return Err(crate::failure::usage(format!("--out {}: expected a .html file", out.display())));
    }
    let history = runs.history(&a.run)?;
    let mut returns = runs.returns(&a.run)?;
    returns.sort_by_key(|r| r.open_time_ms);

    let mut notes: Vec<String> = Vec::new();
    let mut panels: Vec<Panel> = Vec::new();
    let mut trading: Vec<(String, String)> = Vec::new();
    let mut worst: Vec<vane_report::DrawdownPeriod> = Vec::new();
    if !returns.is_empty() {
        let ppy = periods_per_year(&record, &returns, &mut notes);
        let (t, r) = trading_panels(&record, &returns, ppy, &mut panels, &mut worst)
            .with_context(|| format!("the returns of run {} ({})", record.id, dir.join("returns.csv").display()))?;
        trading = trading_table(&vane_backtest::metrics::compute(&r, ppy, None, &[]), ppy, t.len());
    } else {
        notes.push(format!(
            "This run recorded no returns (returns.csv), so the report has no trading panels: {RETURN_VERBS} \
             record the returns of their test split; `vane train` records training metrics only."
        ));
    }
    if !history.is_empty() {
        let valid: Vec<f64> = history.iter().map(|h| h.valid_loss.unwrap_or(f64::NAN)).collect();
        let best = valid
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i + 1);
        let series = LossSeries {
            title: format!("Loss per epoch: {} {}", record.model, record.verb),
            train: history.iter().map(|h| h.train_loss).collect(),
            valid,
            best_epoch: best,
        };
        let svg =
            vane_report::loss_curve_svg_string(&series).with_context(|| format!("the history of run {}", record.id))?;
        panels.push(Panel { title: "Loss curve".into(), svg });
    }
    // The run's own SVG plots, inlined (the PNGs are the same figures).
    let plots = dir.join(PLOTS_DIR);
    let mut svgs: Vec<PathBuf> = std::fs::read_dir(&plots)
        .map(|d| {
            d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "svg")).collect()
        })
        .unwrap_or_default();
    svgs.sort();
    for p in svgs {
        let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        let name = p.file_stem().map(|s| s.to_string_lossy().replace('_', " ")).unwrap_or_default();
        let title = format!("{}{}", name.get(..1).unwrap_or("").to_uppercase(), name.get(1..).unwrap_or(""));
        panels.push(Panel { title, svg: strip_prolog(&text).to_string() });
    }

    let html = render(&record, &trading, &worst, &panels, &notes);
    vane_artifact::write_atomic(&out, html.as_bytes())?;
    Ok(ReportOutput {
        run: record.id,
        path: out,
        panels: panels.into_iter().map(|p| p.title).collect(),
        returns: !returns.is_empty(),
    })
}

/// The run interval's periods per year; without a known interval, inferred from the median
/// spacing of the open times (and said so).
fn periods_per_year(record: &RunRecord, returns: &[ReturnRow], notes: &mut Vec<String>) -> f64 {
    if let Some(i) = record.interval.as_deref().and_then(|s| s.parse::<Interval>().ok()) {
        return i.periods_per_year();
    }
    let mut gaps: Vec<i64> =
        returns.windows(2).map(|w| w[1].open_time_ms - w[0].open_time_ms).filter(|g| *g > 0).collect();
    gaps.sort_unstable();
    let ppy = gaps.get(gaps.len() / 2).map_or(365.0, |g| 365.0 * 86_400_000.0 / *g as f64);
    notes.push(format!(
        "The run records no bar interval; annualised with {ppy:.0} periods per year from the median spacing of its returns."
    ));
    ppy
}

/// The trading panels; returns the open times and returns they drew.
fn trading_panels(
    record: &RunRecord,
    rows: &[ReturnRow],
    ppy: f64,
    panels: &mut Vec<Panel>,
    worst: &mut Vec<vane_report::DrawdownPeriod>,
) -> vane_report::Result<(Vec<i64>, Vec<f64>)> {
    let t: Vec<i64> = rows.iter().map(|r| r.open_time_ms).collect();
    let r: Vec<f64> = rows.iter().map(|r| r.ret).collect();
    let name = format!("{} {}", record.model, record.symbols.join(","));
    let series = [ReturnSeries::new(name.trim(), r.clone())];
    panels.push(Panel {
        title: "Cumulative returns and drawdown".into(),
        svg: vane_report::equity_svg_string(&t, &series, "Cumulative return (net of costs)")?,
    });
    panels
        .push(Panel { title: "Underwater".into(), svg: vane_report::underwater_svg_string(&t, &series, "Drawdown")? });
    let (years, months) = vane_report::monthly_returns(&t, &r)?;
    panels.push(Panel {
        title: "Monthly returns".into(),
        svg: vane_report::heatmap_svg_string(&vane_report::monthly_heatmap(&years, &months, "Monthly returns"))?,
    });
    panels.push(Panel {
        title: "Distribution of returns".into(),
        svg: vane_report::return_histogram_svg_string(&r, Bins::default(), "Returns per period")?,
    });
    // A rolling window of about a month of periods, at least 10 and at most half the series.
    let window = ((ppy / 12.0).round() as usize).clamp(10, (r.len() / 2).max(2));
    if r.len() > window {
        panels.push(Panel {
            title: "Rolling Sharpe ratio".into(),
            svg: vane_report::rolling_sharpe_svg_string(
                &t,
                &series,
                window,
                ppy,
                &format!("Rolling Sharpe ratio ({window} periods)"),
            )?,
        });
    }
    *worst = vane_report::drawdown_periods(&t, &r)?;
    worst.truncate(5);
    Ok((t, r))
}

fn pct(x: f64) -> String {
    if x.is_finite() { format!("{:.2} %", 100.0 * x) } else { "–".into() }
}

fn fixed(x: f64) -> String {
    if x.is_finite() { format!("{x:.3}") } else { "–".into() }
}

fn trading_table(m: &vane_backtest::metrics::Metrics, ppy: f64, n: usize) -> Vec<(String, String)> {
    vec![
        ("Periods".into(), format!("{n} ({ppy:.0} per year)")),
        ("Total return".into(), pct(m.total_return)),
        ("CAGR".into(), pct(m.cagr)),
        ("Sharpe ratio".into(), fixed(m.sharpe)),
        ("Sortino ratio".into(), fixed(m.sortino)),
        ("Calmar ratio".into(), fixed(m.calmar)),
        ("Max drawdown".into(), pct(m.max_drawdown)),
        ("Annual volatility".into(), pct(m.annual_volatility)),
        ("Win rate (periods)".into(), pct(m.win_rate)),
        ("Profitable periods".into(), pct(m.profitable_periods)),
        ("Profit factor".into(), fixed(m.profit_factor)),
        ("Recovery factor".into(), fixed(m.recovery_factor)),
        ("Max consecutive losses".into(), m.max_consecutive_losses.to_string()),
        ("Max consecutive wins".into(), m.max_consecutive_wins.to_string()),
    ]
}

/// An SVG document without its XML declaration, to inline it in HTML.
fn strip_prolog(svg: &str) -> &str {
    let s = svg.trim_start();
    if s.starts_with("<?xml") { s.find("?>").map_or(s, |i| s[i + 2..].trim_start()) } else { s }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:24px auto;max-width:960px;\
color:#222}h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}\
.meta{color:#555;font-size:13px}table{border-collapse:collapse;font-size:14px;margin:8px 0}td,th{padding:3px 12px;\
border-bottom:1px solid #eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.tables{display:flex;gap:32px;flex-wrap:wrap}.note{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px;\
font-size:14px}figure{margin:12px 0}figure svg{max-width:100%;height:auto}";

fn render(
    record: &RunRecord,
    trading: &[(String, String)],
    worst: &[vane_report::DrawdownPeriod],
    panels: &[Panel],
    notes: &[String],
) -> String {
    let mut h = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(h, "<title>vane run {}</title><style>{STYLE}</style></head><body>", esc(&record.id));
    let _ = write!(h, "<h1>{} {} — {}</h1>", esc(&record.verb), esc(&record.model), esc(&record.symbols.join(", ")));
    let finished = record.finished_ms.map_or("not finished".to_string(), |f| Timestamp(f).to_string());
    let _ = write!(
        h,
        "<p class=\"meta\">run {} · interval {} · status {:?} · started {} · ended {} · vane {}</p>",
        esc(&record.id),
        esc(record.interval.as_deref().unwrap_or("–")),
        record.status,
        Timestamp(record.created_ms),
        finished,
        esc(&record.environment.vane_version)
    );
    for n in notes {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    h.push_str("<h2>Metrics</h2><div class=\"tables\">");
    if !trading.is_empty() {
        h.push_str("<table class=\"metrics\"><tr><th colspan=\"2\">Trading (returns.csv, net of costs)</th></tr>");
        for (k, v) in trading {
            let _ = write!(h, "<tr><td>{}</td><td class=\"n\">{}</td></tr>", esc(k), esc(v));
        }
        h.push_str("</table>");
    }
    h.push_str("<table class=\"metrics\"><tr><th colspan=\"2\">Recorded by the run</th></tr>");
    if record.metrics.is_empty() {
        h.push_str("<tr><td colspan=\"2\">none</td></tr>");
    }
    for (k, v) in &record.metrics {
        let v = v.map_or("–".to_string(), |x| {
            if x.fract() == 0.0 && x.abs() < 1e9 { format!("{x:.0}") } else { format!("{x:.4}") }
        });
        let _ = write!(h, "<tr><td>{}</td><td class=\"n\">{}</td></tr>", esc(k), v);
    }
    h.push_str("</table></div>");
    if !worst.is_empty() {
        h.push_str("<h2>Worst drawdowns</h2><table><tr><th>started</th><th>valley</th><th>recovered</th><th>depth</th><th>periods</th></tr>");
        for d in worst {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                Timestamp(d.start_ms),
                Timestamp(d.valley_ms),
                d.end_ms.map_or("not yet".to_string(), |e| Timestamp(e).to_string()),
                pct(d.depth),
                d.periods
            );
        }
        h.push_str("</table>");
    }
    for p in panels {
        let _ = write!(h, "<h2>{}</h2><figure>{}</figure>", esc(&p.title), p.svg);
    }
    if !record.notes.is_empty() {
        h.push_str("<h2>Notes</h2><ul>");
        for n in &record.notes {
            let _ = write!(h, "<li>{}</li>", esc(n));
        }
        h.push_str("</ul>");
    }
    let config = serde_json::to_string_pretty(&record.config).unwrap_or_default();
    let _ = write!(h, "<h2>Configuration</h2><pre>{}</pre>", esc(&config));
    let _ = write!(h, "<p class=\"meta\">command: {}</p>", esc(&record.environment.command_line.join(" ")));
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xml_prolog_is_dropped_for_inlining() {
        assert_eq!(strip_prolog("<?xml version=\"1.0\"?>\n<svg a=\"1\"/>"), "<svg a=\"1\"/>");
        assert_eq!(strip_prolog("<svg/>"), "<svg/>");
    }
}
