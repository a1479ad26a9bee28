//! Return histogram and rolling Sharpe: PNGs of their size that are not blank, SVGs with one
//! line per series and the labels, bad input named.

mod common;

use common::{check_png, count, keep, returns, times};
use vane_report::distribution::{HISTOGRAM_SIZE, ROLLING_SIZE};
use vane_report::{
    Bins, ReturnSeries, histogram, return_histogram_png, return_histogram_svg, return_histogram_svg_string,
    rolling_sharpe_png, rolling_sharpe_svg_string,
};

#[test]
fn histogram_png_and_svg() {
    let mut r = returns(1500, 4, 0.0003, 0.01);
    r[7] = f64::NAN;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hist.png");
    return_histogram_png(&p, &r, Bins::FreedmanDiaconis, "BTCUSDT 4h: returns").unwrap();
    let img = check_png(&p, HISTOGRAM_SIZE);
    assert!(count(&img, [214, 39, 40]) > 100, "mean line");
    keep(&p, "histogram.png");
    let svg = return_histogram_svg_string(&r, Bins::Count(30), "").unwrap();
    let h = histogram(&r, Bins::Count(30)).unwrap();
    assert_eq!(h.counts.iter().sum::<usize>(), 1499);
    // One rectangle per bin, plus the background, the legend's background and frame and the
    // legend's box.
    assert_eq!(svg.matches("<rect").count(), h.counts.len() + 4);
    for text in ["Distribution of returns (n = 1499, 1 non-finite left out)", "normal fit", "mean +", "30 bins"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let p = dir.path().join("hist.svg");
    return_histogram_svg(&p, &r, Bins::Count(30), "").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);
}

#[test]
fn rolling_sharpe_png_and_svg() {
    let n = 1500;
    let t = times(n);
    let s = vec![
        ReturnSeries::new("strategy", returns(n, 1, 0.0006, 0.012)),
        ReturnSeries::new("buy and hold", returns(n, 2, 0.0002, 0.02)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rolling.png");
    rolling_sharpe_png(&p, &t, &s, 180, 2190.0, "Rolling Sharpe (30 days)").unwrap();
    let img = check_png(&p, ROLLING_SIZE);
    assert!(count(&img, [31, 119, 180]) > 500 && count(&img, [255, 127, 14]) > 500);
    keep(&p, "rolling_sharpe.png");
    let svg = rolling_sharpe_svg_string(&t, &s, 180, 2190.0, "").unwrap();
    assert_eq!(svg.matches("stroke=\"#1F77B4\"").count(), 2, "curve and legend");
    assert_eq!(svg.matches("stroke=\"#FF7F0E\"").count(), 2, "curve and legend");
    assert!(svg.contains("Rolling Sharpe (180 periods)"));
    // Too short for the window: drawn, and said.
    let short =
        rolling_sharpe_svg_string(&t[..10], &[ReturnSeries::new("s", vec![0.01; 10])], 180, 2190.0, "").unwrap();
    assert!(short.contains("undefined: fewer than 180 periods"));
    let e = rolling_sharpe_svg_string(&t, &s, 1, 2190.0, "").unwrap_err().to_string();
    assert!(e.contains("window 1 must be at least 2"), "{e}");
}
