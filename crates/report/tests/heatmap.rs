//! Heatmaps: monthly returns, metric correlation and confusion matrix as PNGs of their size that
//! are not blank, SVGs with one cell per entry and the labels; bad shapes named.

mod common;

use common::{check_png, keep, returns, times};
use vane_report::{
    CellFormat, Heatmap, Scale, confusion_heatmap, correlation_heatmap, heatmap_png, heatmap_svg, heatmap_svg_string,
    monthly_heatmap, monthly_returns,
};

fn monthly() -> Heatmap {
    let n = 6 * 500;
    let (years, months) = monthly_returns(&times(n), &returns(n, 5, 0.0004, 0.01)).unwrap();
    monthly_heatmap(&years, &months, "BTCUSDT 4h: monthly returns")
}

fn names() -> Vec<String> {
    [
        "total_return",
        "win_rate",
        "max_drawdown",
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "profit_factor",
        "max_consecutive_losses",
    ]
    .map(String::from)
    .to_vec()
}

fn correlation() -> Heatmap {
    let runs = 30;
    let base = returns(runs, 9, 0.0, 1.0);
    let columns: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            let noise = returns(runs, 20 + k as u64, 0.0, 1.0);
            let sign = if k % 3 == 2 { -1.0 } else { 1.0 };
            base.iter().zip(&noise).map(|(b, e)| sign * b + 0.3 * k as f64 * e).collect()
        })
        .collect();
    correlation_heatmap(&names(), &columns, "").unwrap()
}

#[test]
fn monthly_heatmap_png_and_svg() {
    let h = monthly();
    assert_eq!(h.row_labels, vec!["2023", "2024"]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("monthly.png");
    heatmap_png(&p, &h).unwrap();
    check_png(&p, h.size());
    keep(&p, "monthly.png");
    let svg = heatmap_svg_string(&h).unwrap();
    for text in ["BTCUSDT 4h: monthly returns", "Jan", "Dec", "2023", "2024", "%"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    // 24 cells (each a fill and a white border) + 48 colour-bar steps + the frame + the background.
    assert_eq!(svg.matches("<rect").count(), 24 * 2 + 48 + 1 + 1);
    let p = dir.path().join("monthly.svg");
    heatmap_svg(&p, &h).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);
}

#[test]
fn correlation_heatmap_numbers_long_names() {
    let h = correlation();
    assert!((h.values[0][1] - h.values[1][0]).abs() < 1e-15);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("corr.png");
    heatmap_png(&p, &h).unwrap();
    check_png(&p, h.size());
    keep(&p, "correlation.png");
    let svg = heatmap_svg_string(&h).unwrap();
    assert!(svg.contains("1 total_return") && svg.contains("8 max_consecutive_losses"), "rows numbered");
    assert!(svg.contains("1.00"), "diagonal printed");
}

#[test]
fn confusion_png_shows_counts_and_shares() {
    let classes: Vec<String> = ["down", "flat", "up"].map(String::from).to_vec();
    let h = confusion_heatmap(
        &classes,
        &[vec![120, 30, 50], vec![40, 60, 45], vec![35, 25, 140]],
        "gbdt: confusion (test split)",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("confusion.png");
    heatmap_png(&p, &h).unwrap();
    check_png(&p, h.size());
    keep(&p, "confusion.png");
    let svg = heatmap_svg_string(&h).unwrap();
    for text in ["120", "60.0%", "predicted class", "true class", "down", "up"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
}

#[test]
fn bad_shapes_are_named() {
    let mut h = monthly();
    h.values[1].pop();
    let e = heatmap_svg_string(&h).unwrap_err().to_string();
    assert!(e.contains("values row 1 has 11 cells but there are 12 column labels"), "{e}");
    let h = Heatmap {
        title: "t".into(),
        row_labels: vec![],
        col_labels: vec!["a".into()],
        row_axis: String::new(),
        col_axis: String::new(),
        values: vec![],
        text: vec![],
        format: CellFormat::Fixed(2),
        scale: Scale::Diverging { limit: Some(-1.0) },
    };
    assert!(heatmap_svg_string(&h).unwrap_err().to_string().contains("0 rows and 1 columns"));
    let mut h = monthly();
    h.scale = Scale::Sequential { max: Some(f64::NAN) };
    assert!(heatmap_svg_string(&h).unwrap_err().to_string().contains("scale end NaN"));
}
