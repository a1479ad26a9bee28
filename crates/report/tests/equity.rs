//! Equity and underwater plots: PNGs of the right size with every series drawn, SVGs with one
//! line per series, bad input named.

mod common;

use common::{check_png, count, keep, returns, times};
use vane_report::equity::{SIZE, UNDERWATER_SIZE};
use vane_report::{ReturnSeries, equity_png, equity_svg, equity_svg_string, underwater_png, underwater_svg_string};

fn two() -> (Vec<i64>, Vec<ReturnSeries>) {
    let n = 1500;
    (
        times(n),
        vec![
            ReturnSeries::new("strategy", returns(n, 1, 0.0006, 0.012)),
            ReturnSeries::new("buy and hold", returns(n, 2, 0.0002, 0.02)),
        ],
    )
}

#[test]
fn equity_png_draws_both_series() {
    let (t, s) = two();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("equity.png");
    equity_png(&p, &t, &s, "BTCUSDT 4h: strategy vs buy and hold").unwrap();
    let img = check_png(&p, SIZE);
    let (a, b) = (count(&img, [31, 119, 180]), count(&img, [255, 127, 14]));
    assert!(a > 1000 && b > 1000, "strategy {a}, benchmark {b}");
    keep(&p, "equity.png");
}

#[test]
fn equity_svg_has_a_line_per_series_in_each_panel() {
    let (t, s) = two();
    let svg = equity_svg_string(&t, &s, "stitched <OOS>").unwrap();
    assert!(svg.starts_with("<svg"));
    // Two cumulative curves and two drawdown curves.
    // Each series: its cumulative curve, its legend line and its drawdown curve.
    assert_eq!(svg.matches("stroke=\"#1F77B4\"").count(), 3);
    assert_eq!(svg.matches("stroke=\"#FF7F0E\"").count(), 3);
    for text in ["stitched &lt;OOS&gt;", "strategy (", "buy and hold (", "drawdown", "cumulative return", "2023-"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    // Thinned: 1500 points per series become at most ~1600 (no thinning needed) and the file stays small.
    let one = equity_svg_string(&t, &s[..1], "").unwrap();
    assert!(one.contains("Cumulative return"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("equity.svg");
    equity_svg(&p, &t, &s, "stitched <OOS>").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);
}

#[test]
fn long_series_are_thinned_in_svg() {
    let n = 100_000;
    let t: Vec<i64> = (0..n as i64).map(|i| common::T0 + i * 60_000).collect();
    let s = vec![ReturnSeries::new("oos", returns(n, 3, 0.00001, 0.001))];
    let svg = equity_svg_string(&t, &s, "").unwrap();
    assert!(svg.len() < 200_000, "{} bytes", svg.len());
}

#[test]
fn underwater_draws_and_names_the_worst_drawdown() {
    let (t, s) = two();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("underwater.png");
    underwater_png(&p, &t, &s, "").unwrap();
    let img = check_png(&p, UNDERWATER_SIZE);
    keep(&p, "underwater.png");
    assert!(count(&img, [31, 119, 180]) > 500);
    let svg = underwater_svg_string(&t, &s[..1], "Underwater").unwrap();
    assert_eq!(svg.matches("stroke=\"#1F77B4\"").count(), 1, "one curve, the legend is a filled box");
    assert!(svg.contains("strategy (max -"), "legend with max drawdown");
    let e = underwater_svg_string(&t[1..], &s, "").unwrap_err().to_string();
    assert!(e.contains("1500 returns but there are 1499 open times"), "{e}");
}

#[test]
fn short_and_single_period_series_draw() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("short.png");
    let t: Vec<i64> = (0..20).map(|i| common::T0 + i * common::DAY_MS).collect();
    let s = vec![ReturnSeries::new("stitched OOS", returns(20, 7, 0.002, 0.02))];
    equity_png(&p, &t, &s, "stitched out-of-sample equity").unwrap();
    check_png(&p, SIZE);
    keep(&p, "equity_short.png");
    let one = vec![ReturnSeries::new("one", vec![-0.02])];
    equity_png(&p, &t[..1], &one, "").unwrap();
    check_png(&p, SIZE);
    keep(&p, "equity_one.png");
    assert!(underwater_svg_string(&t[..1], &[ReturnSeries::new("flat", vec![0.0])], "").is_ok());
}
