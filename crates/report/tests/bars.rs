//! Per-window bars: a PNG with both series, an SVG with one rectangle per finite value, gaps
//! said in the title and legend, bad input named.

mod common;

use common::{check_png, count, keep};
use vane_report::bars::SIZE;
use vane_report::{BarSeries, WindowBars, window_bars_png, window_bars_svg, window_bars_svg_string};

fn bars() -> WindowBars {
    WindowBars {
        title: "lorentzian WFO: sharpe_ratio per window".into(),
        metric: "sharpe_ratio".into(),
        axis: "window".into(),
        labels: (0..8).map(|i| i.to_string()).collect(),
        series: vec![
            BarSeries::new("in-sample", vec![2.1, 1.8, 2.5, 1.2, 3.0, 2.2, 1.9, 2.4]),
            BarSeries::new("out-of-sample", vec![0.9, -0.4, 1.6, f64::NAN, 0.3, -1.2, 0.8, 1.1]),
        ],
        percent: false,
    }
}

#[test]
fn png_draws_both_series() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bars.png");
    window_bars_png(&p, &bars()).unwrap();
    let img = check_png(&p, SIZE);
    let (a, b) = (count(&img, [31, 119, 180]), count(&img, [255, 127, 14]));
    assert!(a > 3000 && b > 1000, "in-sample {a}, oos {b}");
    keep(&p, "bars.png");
    let mut many = bars();
    many.labels = (0..40).map(|i| format!("{i}")).collect();
    many.series =
        vec![BarSeries::new("oos total_return", (0..40).map(|i| ((i * 37 % 11) as f64 - 4.0) / 100.0).collect())];
    many.percent = true;
    many.metric = "total_return".into();
    many.title = String::new();
    window_bars_png(&p, &many).unwrap();
    check_png(&p, SIZE);
    keep(&p, "bars_many.png");
}

#[test]
fn svg_has_a_bar_per_finite_value_and_says_the_gap() {
    let svg = window_bars_svg_string(&bars()).unwrap();
    // Filled rectangles of each colour: 8 bars + the legend box; 7 bars + the legend box.
    assert_eq!(svg.matches("fill=\"#1F77B4\"").count(), 9, "in-sample bars");
    assert_eq!(svg.matches("fill=\"#FF7F0E\"").count(), 8, "oos bars");
    for text in ["sharpe_ratio per window (1 n/a)", "out-of-sample (1 n/a)", "in-sample", "\nn/a\n", "-1.20", "window"]
    {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bars.svg");
    window_bars_svg(&p, &bars()).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);
}

#[test]
fn bad_input_is_named_and_all_nan_draws() {
    let mut b = bars();
    b.series[1].values.pop();
    let e = window_bars_svg_string(&b).unwrap_err().to_string();
    assert!(e.contains("\"out-of-sample\" has 7 values but there are 8 labels"), "{e}");
    let mut b = bars();
    b.labels.clear();
    assert!(window_bars_svg_string(&b).unwrap_err().to_string().contains("no windows"));
    let mut b = bars();
    b.series.clear();
    assert!(window_bars_svg_string(&b).unwrap_err().to_string().contains("0 series"));
    let mut b = bars();
    b.series = vec![BarSeries::new("oos", vec![f64::NAN; 8])];
    assert!(window_bars_svg_string(&b).unwrap().contains("(8 n/a)"));
}

#[test]
fn long_labels_are_spaced() {
    let mut b = bars();
    b.labels = (0..30).map(|i| format!("2023-{:02}-{:02}", 1 + i / 28, 1 + i % 28)).collect();
    b.series = vec![BarSeries::new("oos", (0..30).map(|i| (i as f64 - 12.0) / 10.0).collect())];
    let svg = window_bars_svg_string(&b).unwrap();
    let shown = b.labels.iter().filter(|l| svg.contains(&format!("\n{l}\n"))).count();
    assert!((2..=10).contains(&shown), "{shown} of 30 date labels drawn");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("dates.png");
    window_bars_png(&p, &b).unwrap();
    check_png(&p, SIZE);
    keep(&p, "bars_dates.png");
}
