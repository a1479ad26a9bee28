//! `vane report --run ID`: one self-contained HTML tearsheet of a recorded run (docs/runs.md).
//!
//! A run with `returns.csv` gets vane-report's tearsheet ([`vane_report::tearsheet_html`]): the
//! trading metrics computed by `vane_backtest::metrics::compute` at the run interval's periods
//! per year, then the run's recorded metrics; cumulative return with drawdown, rolling Sharpe,
//! monthly returns, the return distribution and the worst drawdowns; then the training panels.
//! The training panels are the loss curve from `history.csv` and every `plots/*.svg` of the run
//! (reliability diagram, …). A run without returns gets a page of its recorded metrics, training
//! panels, notes and config, saying which verbs record returns.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;
use vane_artifact::runs::{PLOTS_DIR, ReturnRow, RunRecord, RunStatus, RunsDir};
use vane_core::{Interval, Timestamp};
use vane_report::tearsheet::escape as esc;
use vane_report::{Format, LossSeries, MetricRow, Panel, ReturnSeries, Tearsheet};

use crate::args::report::ReportArgs;
use crate::output::Render;

/// The verbs that record `returns.csv`.
const RETURN_VERBS: &str = "train-test and wfo";

/// The panels vane-report's tearsheet draws from the returns, in its order.
const RETURN_PANELS: [&str; 4] =
    ["Cumulative return and drawdown (underwater)", "Rolling Sharpe", "Monthly returns", "Distribution of returns"];

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
            format!(" (the run has no returns.csv: training panels only; {RETURN_VERBS} record returns)")
        };
        let n = self.panels.len();
        Some(format!("wrote {} ({n} panel{}){extra}", self.path.display(), if n == 1 { "" } else { "s" }))
    }
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

    // The training panels: the loss curve from history.csv, then the run's own SVG plots.
    let mut svgs: Vec<PathBuf> = std::fs::read_dir(dir.join(PLOTS_DIR))
        .map(|d| {
            d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "svg")).collect()
        })
        .unwrap_or_default();
    svgs.sort();
    // The run's own loss curve (the model folder's) wins over one drawn from history.csv.
    let has_loss_plot = svgs.iter().any(|p| p.file_stem().is_some_and(|n| n.to_string_lossy().contains("loss_curve")));
    let mut panels: Vec<Panel> = Vec::new();
    if !history.is_empty() && !has_loss_plot {
        let valid: Vec<f64> = history.iter().map(|h| h.valid_loss.unwrap_or(f64::NAN)).collect();
        // The epoch the run kept (its `best_epoch` metric), else the lowest validation loss.
        let kept = record
            .metrics
            .get("best_epoch")
            .copied()
            .flatten()
            .map(|e| e as usize)
            .filter(|e| (1..=valid.len()).contains(e));
        let best = kept.or_else(|| {
            valid
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i + 1)
        });
        let series = LossSeries {
            title: format!("Loss per epoch: {} {}", record.model, record.verb),
            train: history.iter().map(|h| h.train_loss).collect(),
            valid,
            best_epoch: best,
            step: String::new(),
        };
        let svg =
            vane_report::loss_curve_svg_string(&series).with_context(|| format!("the history of run {}", record.id))?;
        panels.push(Panel { title: "Loss curve".into(), svg: strip_prolog(&svg).to_string() });
    }
    for p in svgs {
        let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        let name = p.file_stem().map(|s| s.to_string_lossy().replace('_', " ")).unwrap_or_default();
        let title = format!("{}{}", name.get(..1).unwrap_or("").to_uppercase(), name.get(1..).unwrap_or(""));
        panels.push(Panel { title, svg: strip_prolog(&text).to_string() });
    }
    let titles: Vec<String> = panels.iter().map(|p| p.title.clone()).collect();

    let (html, names) = if returns.is_empty() {
        (training_only(&record, &panels), titles)
    } else {
        let t = tearsheet(&record, &returns, panels);
        let html = vane_report::tearsheet_html(&t)
            .with_context(|| format!("the returns of run {} ({})", record.id, dir.join("returns.csv").display()))?;
        (html, RETURN_PANELS.iter().map(|s| s.to_string()).chain(titles).collect())
    };
    vane_artifact::write_atomic(&out, html.as_bytes())?;
    Ok(ReportOutput { run: record.id, path: out, panels: names, returns: !returns.is_empty() })
}

/// The run interval's periods per year; without a known interval, inferred from the median
/// spacing of the open times (and said so in the note).
fn periods_per_year(record: &RunRecord, returns: &[ReturnRow]) -> (f64, Option<String>) {
    if let Some(i) = record.interval.as_deref().and_then(|s| s.parse::<Interval>().ok()) {
        return (i.periods_per_year(), None);
    }
    let mut gaps: Vec<i64> =
        returns.windows(2).map(|w| w[1].open_time_ms - w[0].open_time_ms).filter(|g| *g > 0).collect();
    gaps.sort_unstable();
    let ppy = gaps.get(gaps.len() / 2).map_or(365.0, |g| 365.0 * 86_400_000.0 / *g as f64);
    (ppy, Some(format!("{ppy:.0} periods per year, from the spacing of the returns (no interval recorded)")))
}

/// How a recorded metric reads best.
fn format_of(name: &str, v: Option<f64>) -> Format {
    if v.is_some_and(|x| x.fract() == 0.0 && x.abs() < 1e9) {
        Format::Int
    } else if ["return", "drawdown", "win_rate", "profitable", "exposure", "cagr", "volatility"]
        .iter()
        .any(|k| name.contains(k))
    {
        Format::Percent
    } else {
        Format::Ratio
    }
}

/// vane-report's tearsheet of a run with returns: the trading metrics computed from them, then
/// the run's recorded metrics (`run: <name>`), then `panels`.
fn tearsheet(record: &RunRecord, rows: &[ReturnRow], panels: Vec<Panel>) -> Tearsheet {
    let (ppy, note) = periods_per_year(record, rows);
    let t: Vec<i64> = rows.iter().map(|r| r.open_time_ms).collect();
    let r: Vec<f64> = rows.iter().map(|r| r.ret).collect();
    let m = vane_backtest::metrics::compute(&r, ppy, None, &[]);
    let name = format!("{} {}", record.model, record.symbols.join(","));
    let title = format!(
        "{} {} on {} {}",
        record.model,
        record.verb,
        record.symbols.join(", "),
        record.interval.as_deref().unwrap_or("")
    );
    let mut ts = Tearsheet::new(title.trim(), t, ReturnSeries::new(name.trim(), r), ppy);
    let windows: std::collections::BTreeSet<usize> = rows.iter().map(|x| x.window).collect();
    ts.subtitle = vec![
        ("run".into(), record.id.clone()),
        ("status".into(), status_name(record.status).into()),
        ("started".into(), format!("{} UTC", minute(record.created_ms))),
        ("windows".into(), windows.len().to_string()),
    ];
    ts.subtitle.extend(note.map(|n| ("annualised".to_string(), n)));
    let row = |n: &str, v: f64, f: Format| MetricRow::new(n, Some(v), f);
    ts.metrics = vec![
        row("Total return", m.total_return, Format::Percent),
        row("CAGR", m.cagr, Format::Percent),
        row("Sharpe ratio", m.sharpe, Format::Ratio),
        row("Sortino ratio", m.sortino, Format::Ratio),
        row("Calmar ratio", m.calmar, Format::Ratio),
        row("Max drawdown", m.max_drawdown, Format::Percent),
        row("Annual volatility", m.annual_volatility, Format::Percent),
        row("Win rate (periods)", m.win_rate, Format::Percent),
        row("Profitable periods", m.profitable_periods, Format::Percent),
        row("Profit factor", m.profit_factor, Format::Ratio),
        row("Recovery factor", m.recovery_factor, Format::Ratio),
        row("Max consecutive losses", m.max_consecutive_losses as f64, Format::Int),
        row("Max consecutive wins", m.max_consecutive_wins as f64, Format::Int),
        row("Periods per year", ppy, Format::Int),
    ];
    for (k, v) in &record.metrics {
        ts.metrics.push(MetricRow::new(format!("run: {k}"), *v, format_of(k, *v)));
    }
    ts.extra_panels = panels;
    ts
}

fn status_name(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Running => "running",
        RunStatus::Finished => "finished",
        RunStatus::Failed => "failed",
    }
}

/// `2026-11-27 16:23` (UTC).
fn minute(ms: i64) -> String {
    Timestamp(ms).to_string().chars().take(16).map(|c| if c == 'T' { ' ' } else { c }).collect()
}

/// An SVG document without its XML declaration, to inline it in HTML.
fn strip_prolog(svg: &str) -> &str {
    let s = svg.trim_start();
    if s.starts_with("<?xml") { s.find("?>").map_or(s, |i| s[i + 2..].trim_start()) } else { s }
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:24px auto;max-width:960px;\
color:#1d1f23;background:#f4f5f7;padding:0 16px}h1{font-size:24px;margin-bottom:4px}h2{font-size:17px;\
margin:28px 0 8px;color:#2b3a55}.meta{color:#555;font-size:13px}table{border-collapse:collapse;font-size:14px;\
margin:8px 0;background:#fff}td,th{padding:4px 12px;border-bottom:1px solid #eceef1;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.note{background:#fff8e1;border-left:4px solid #f0b400;\
padding:8px 12px;font-size:14px}figure{margin:12px 0;background:#fff;border:1px solid #dde0e5;border-radius:6px;\
padding:8px}figure svg{display:block;max-width:100%;height:auto}pre{background:#fff;padding:8px;font-size:12px;\
overflow-x:auto}";

/// The page of a run without returns: its recorded metrics, the training panels, notes and
/// config, with a line saying which verbs record returns. Self-contained like the tearsheet.
fn training_only(record: &RunRecord, panels: &[Panel]) -> String {
    let mut h = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    let title = format!(
        "{} {} on {} {}",
        record.model,
        record.verb,
        record.symbols.join(", "),
        record.interval.as_deref().unwrap_or("")
    );
    let title = esc(title.trim());
    let _ = write!(h, "<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n");
    let took =
        record.finished_ms.map_or(String::new(), |f| format!(" · took {:.1} s", (f - record.created_ms) as f64 / 1e3));
    let _ = writeln!(
        h,
        "<p class=\"meta\">run {} · status {} · started {} UTC{took} · vane {}</p>",
        esc(&record.id),
        status_name(record.status),
        minute(record.created_ms),
        esc(&record.environment.vane_version)
    );
    let _ = writeln!(
        h,
        "<p class=\"note\">This run recorded no returns (returns.csv), so there are no trading panels: \
         {RETURN_VERBS} record the returns of their test split; <code>vane train</code> records training \
         metrics only.</p>"
    );
    h.push_str("<h2>Metrics</h2>\n<table class=\"metrics\">\n<tr><th>Recorded by the run</th><th></th></tr>\n");
    if record.metrics.is_empty() {
        h.push_str("<tr><td colspan=\"2\">none</td></tr>\n");
    }
    for (k, v) in &record.metrics {
        let _ = writeln!(h, "<tr><td>{}</td><td class=\"n\">{}</td></tr>", esc(k), crate::commands::runs::num(*v));
    }
    h.push_str("</table>\n");
    for p in panels {
        let _ = writeln!(h, "<h2>{}</h2>\n<figure>{}</figure>", esc(&p.title), p.svg);
    }
    if !record.notes.is_empty() {
        h.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in &record.notes {
            let _ = writeln!(h, "<li>{}</li>", esc(n));
        }
        h.push_str("</ul>\n");
    }
    let config = serde_json::to_string_pretty(&record.config).unwrap_or_default();
    let _ = writeln!(h, "<h2>Configuration</h2>\n<pre>{}</pre>", esc(&config));
    let _ = writeln!(h, "<p class=\"meta\">command: {}</p>", esc(&record.environment.command_line.join(" ")));
    h.push_str("</body>\n</html>\n");
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

    #[test]
    fn recorded_metrics_read_as_counts_percentages_or_ratios() {
        assert_eq!(format_of("windows", Some(3.0)), Format::Int);
        assert_eq!(format_of("oos_total_return", Some(0.12)), Format::Percent);
        assert_eq!(format_of("log_loss", Some(1.1)), Format::Ratio);
    }
}
