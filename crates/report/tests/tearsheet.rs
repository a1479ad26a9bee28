//! The HTML tearsheet: the metrics and inline SVG panels are in the page, nothing is loaded from
//! outside, caller strings are escaped, and the file is written whole.

mod common;

use common::{returns, times};
use vane_report::{
    BarSeries, Format, LossSeries, MetricRow, Panel, ReturnSeries, Tearsheet, WindowBars, loss_curve_svg_string,
    tearsheet_html, window_bars_svg_string, write_tearsheet,
};

fn sheet() -> Tearsheet {
    let n = 2400;
    let mut t = Tearsheet::new(
        "lorentzian WFO on BTCUSDT 4h",
        times(n),
        ReturnSeries::new("strategy (OOS)", returns(n, 1, 0.0005, 0.01)),
        2190.0,
    );
    t.benchmark = Some(ReturnSeries::new("buy and hold", returns(n, 2, 0.0002, 0.018)));
    t.subtitle = vec![
        ("run".into(), "20230101-wfo-lorentzian-1a2b".into()),
        ("model".into(), "lorentzian".into()),
        ("symbol".into(), "BTCUSDT".into()),
        ("interval".into(), "4h".into()),
    ];
    t.metric_columns = vec!["Strategy".into(), "Buy and hold".into()];
    t.metrics = vec![
        MetricRow { name: "Total return".into(), values: vec![Some(1.2345), Some(-0.0512)], format: Format::Percent },
        MetricRow { name: "Sharpe ratio".into(), values: vec![Some(1.874), Some(0.21)], format: Format::Ratio },
        MetricRow { name: "Deflated Sharpe (p)".into(), values: vec![Some(0.91), None], format: Format::Ratio },
        MetricRow { name: "Max consecutive losses".into(), values: vec![Some(7.0), Some(9.0)], format: Format::Int },
    ];
    let loss = LossSeries {
        title: "loss per epoch".into(),
        train: vec![1.1, 0.9, 0.8, 0.75],
        valid: vec![1.0, 0.95, 0.93, 0.94],
        best_epoch: Some(3),
        step: String::new(),
    };
    let bars = WindowBars {
        title: String::new(),
        metric: "sharpe_ratio".into(),
        axis: "window".into(),
        labels: (0..6).map(|i| i.to_string()).collect(),
        series: vec![
            BarSeries::new("in-sample", vec![2.0, 1.5, 2.2, 1.1, 2.8, 1.9]),
            BarSeries::new("out-of-sample", vec![0.8, -0.3, f64::NAN, 0.4, 1.2, 0.1]),
        ],
        percent: false,
    };
    t.extra_panels = vec![
        Panel { title: "Sharpe per window".into(), svg: window_bars_svg_string(&bars).unwrap() },
        Panel { title: "Loss curve".into(), svg: loss_curve_svg_string(&loss).unwrap() },
    ];
    t
}

#[test]
fn html_has_metrics_and_inline_panels_and_loads_nothing() {
    let html = tearsheet_html(&sheet()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for text in [
        "lorentzian WFO on BTCUSDT 4h",
        "20230101-wfo-lorentzian-1a2b",
        "period: <b>2023-01-01 to 2024-02-04</b> (2400 periods)",
        "<td>Total return</td><td>123.45%</td><td class=\"neg\">-5.12%</td>",
        "<td>Sharpe ratio</td><td>1.87</td><td>0.21</td>",
        "<td>Deflated Sharpe (p)</td><td>0.91</td><td>-</td>",
        "<td>Max consecutive losses</td><td>7</td><td>9</td>",
        "Worst drawdowns",
        "Monthly returns",
        "Rolling Sharpe (800 periods, about 133 days)",
        "Sharpe per window",
        "loss per epoch",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }
    // 4 standard panels + 2 extra, all inline.
    assert_eq!(html.matches("<svg").count(), 6);
    assert_eq!(html.matches("</svg>").count(), 6);
    let lower = html.to_ascii_lowercase();
    for bad in ["src=\"http", "href=\"http", "src='http", "href='http", "url(http", "<script", "<link", "@import"] {
        assert!(!lower.contains(bad), "external reference or script: {bad:?}");
    }
    // SVG namespaces are identifiers, not loads; nothing else names a URL.
    let urls = lower.matches("http://").count() + lower.matches("https://").count();
    assert_eq!(urls, lower.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(), "only SVG namespaces");
    if let Ok(dir) = std::env::var("VANE_REPORT_SAMPLES") {
        std::fs::create_dir_all(&dir).unwrap();
        write_tearsheet(&std::path::Path::new(&dir).join("tearsheet.html"), &sheet()).unwrap();
    }
}

#[test]
fn caller_strings_are_escaped() {
    let mut t = sheet();
    t.title = "<script>alert(1)</script>".into();
    t.subtitle.push(("note\"".into(), "a & b <i>".into()));
    t.metrics[0].name = "<b>bold</b>".into();
    t.strategy.name = "<img src=x>".into();
    t.extra_panels[0].title = "<script>x</script>".into();
    let html = tearsheet_html(&t).unwrap();
    assert!(!html.contains("<script"), "unescaped script");
    assert!(!html.contains("<img"), "unescaped series name");
    assert!(html.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"));
    assert!(html.contains("<span>note&quot;: <b>a &amp; b &lt;i&gt;</b></span>"));
    assert!(html.contains("<td>&lt;b&gt;bold&lt;/b&gt;</td>"));
    // A panel that is not plain SVG is refused.
    t.extra_panels[0].svg = "<svg><script>alert(1)</script></svg>".into();
    let e = tearsheet_html(&t).unwrap_err().to_string();
    assert!(e.contains("is not a plain SVG document"), "{e}");
}

#[test]
fn bad_input_is_named_and_the_file_is_written_whole() {
    let mut t = sheet();
    t.metrics[1].values.pop();
    let e = tearsheet_html(&t).unwrap_err().to_string();
    assert!(e.contains("\"Sharpe ratio\" has 1 values but the table has 2 columns"), "{e}");
    let mut t = sheet();
    t.times_ms.pop();
    assert!(tearsheet_html(&t).unwrap_err().to_string().contains("2400 returns but there are 2399 open times"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("report.html");
    write_tearsheet(&p, &sheet()).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), tearsheet_html(&sheet()).unwrap());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    let e = write_tearsheet(&dir.path().join("missing/report.html"), &sheet()).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn minimal_sheet_without_benchmark_or_metrics() {
    let t = Tearsheet::new("short", times(30), ReturnSeries::new("oos", returns(30, 3, 0.001, 0.01)), 2190.0);
    let html = tearsheet_html(&t).unwrap();
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(html.contains("<th>Value</th>") && html.contains("no metrics given"));
    assert!(html.contains("Rolling Sharpe (10 periods"), "a third of 30 periods");
}
