//! Predicted-vs-realised scatter and variable-importance bars: PNGs that decode and are not
//! blank, SVGs with one circle per drawn point and one bar per variable, the statistics in the
//! title checked by hand, bad input named.

mod common;

use common::{check_png, count, keep, returns};
use vane_report::{
    Importance, Scatter, fit_stats, importance_png, importance_svg, importance_svg_string, scatter_png, scatter_svg,
    scatter_svg_string,
};

/// Realised returns and predictions that follow them loosely (about 1 % spread).
fn scatter(n: usize) -> Scatter {
    let realised = returns(n, 7, 0.0, 0.012);
    let noise = returns(n, 11, 0.0, 0.008);
    let predicted = realised.iter().zip(&noise).map(|(y, e)| 0.5 * y + e).collect();
    Scatter {
        title: "tft: predicted vs realised (validation, epoch 5)".into(),
        quantity: "expected return".into(),
        predicted,
        realised,
        percent: true,
    }
}

#[test]
fn scatter_png_draws_the_points_and_the_diagonal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("scatter.png");
    scatter_png(&p, &scatter(600)).unwrap();
    let img = check_png(&p, vane_report::scatter::SIZE);
    // The dashed y = x line in red.
    assert!(count(&img, [214, 39, 40]) > 300, "diagonal drawn");
    keep(&p, "scatter.png");
    // Many points are drawn at a stride.
    scatter_png(&p, &scatter(50_000)).unwrap();
    check_png(&p, vane_report::scatter::SIZE);
    keep(&p, "scatter_many.png");
}

#[test]
fn scatter_svg_has_one_circle_per_drawn_point_and_the_stats() {
    let s = scatter(300);
    let svg = scatter_svg_string(&s).unwrap();
    let circles = svg.matches("<circle").count();
    let legend = 1;
    let stats = fit_stats(&s.predicted, &s.realised).unwrap();
    // The points outside the 0.5–99.5 % range are counted in the legend instead.
    let drawn = number_before(&svg, " drawn").expect("the legend says how many are drawn");
    let outside = number_before(&svg, " outside the axes)").unwrap_or(0);
    assert_eq!(circles, drawn + legend, "{circles} circles, {drawn} drawn");
    assert_eq!(drawn + outside, 300, "{drawn} drawn, {outside} outside");
    assert!(outside <= 6, "{outside} outside");
    for text in [
        "tft: predicted vs realised (validation, epoch 5)",
        &format!("R² {:.3}, MAE {:.2}%", stats.r2, 100.0 * stats.mae),
        "n = 300",
        "y = x (perfect forecast)",
        "predicted expected return",
        "realised expected return",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let many = scatter_svg_string(&scatter(20_000)).unwrap();
    assert!(many.matches("<circle").count() <= vane_report::scatter::MAX_POINTS + 1);
    assert!(many.contains("drawn of 20000"), "the legend says the stride");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.svg");
    scatter_svg(&p, &s).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);
}

#[test]
fn perfect_and_constant_forecasts() {
    let y = vec![0.01, -0.02, 0.03, 0.0];
    let st = fit_stats(&y, &y).unwrap();
    assert_eq!((st.r2, st.mae, st.rmse, st.direction_accuracy), (1.0, 0.0, 0.0, 1.0));
    // A single sample (constant realised values): R² is undefined, the plot still draws.
    let one = Scatter { predicted: vec![0.5], realised: vec![0.5], ..Scatter::default() };
    let svg = scatter_svg_string(&one).unwrap();
    assert!(svg.contains("R² n/a") && svg.contains("n = 1"), "single point");
}

#[test]
fn scatter_bad_input_is_named() {
    let mut s = scatter(10);
    s.realised.pop();
    let e = scatter_svg_string(&s).unwrap_err().to_string();
    assert!(e.contains("10 predicted values but 9 realised values"), "{e}");
    let mut s = scatter(10);
    s.predicted[3] = f64::NAN;
    let e = scatter_svg_string(&s).unwrap_err().to_string();
    assert!(e.contains("predicted value 3 is NaN"), "{e}");
    let e = scatter_svg_string(&Scatter::default()).unwrap_err().to_string();
    assert!(e.contains("no samples"), "{e}");
}

fn importance(n: usize) -> Importance {
    let names: Vec<String> = (0..n).map(|i| format!("feature_{i:02}")).collect();
    let raw: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 37) % 17) as f64).collect();
    let total: f64 = raw.iter().sum();
    Importance {
        title: "tft: variable selection (validation, epoch 5)".into(),
        axis: "mean variable-selection weight".into(),
        names,
        values: raw.iter().map(|v| v / total).collect(),
        top: 0,
    }
}

#[test]
fn importance_png_grows_with_the_bars() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("importance.png");
    let imp = importance(49);
    importance_png(&p, &imp).unwrap();
    let img = check_png(&p, imp.size());
    assert_eq!(img.height(), 130 + 49 * vane_report::importance::ROW);
    assert!(count(&img, [31, 119, 180]) > 49 * 100, "bars drawn");
    keep(&p, "importance.png");
    let few = importance(5);
    importance_png(&p, &few).unwrap();
    check_png(&p, few.size());
    keep(&p, "importance_few.png");
}

#[test]
fn importance_svg_has_one_bar_per_variable_largest_on_top() {
    let imp = importance(12);
    let svg = importance_svg_string(&imp).unwrap();
    assert_eq!(svg.matches("fill=\"#1F77B4\"").count(), 12, "one bar per variable");
    for name in &imp.names {
        assert!(svg.contains(&format!("\n{name}\n")), "label {name}");
    }
    // Largest on top: the labels' y coordinates follow the ranking.
    let ys: Vec<f64> = imp.ranked().iter().map(|(n, _)| text_y(&svg, n)).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]), "labels top to bottom by rank: {ys:?}");
    // Capped: the title says how many were left out.
    let capped = Importance { top: 5, ..importance(49) };
    let svg = importance_svg_string(&capped).unwrap();
    assert_eq!(svg.matches("fill=\"#1F77B4\"").count(), 5);
    assert!(svg.contains("(top 5 of 49)"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("i.svg");
    importance_svg(&p, &imp).unwrap();
    assert!(std::fs::read_to_string(&p).unwrap().starts_with("<svg"));
}

/// The `y` of the SVG `<text>` element whose text is `label`.
fn text_y(svg: &str, label: &str) -> f64 {
    let at = svg.find(&format!("\n{label}\n")).unwrap_or_else(|| panic!("no label {label}"));
    let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
    let y = &tag[tag.find(" y=\"").unwrap() + 4..];
    y[..y.find('"').unwrap()].parse().unwrap()
}

/// The number just before `suffix` in `text`, if `suffix` occurs.
fn number_before(text: &str, suffix: &str) -> Option<usize> {
    let at = text.find(suffix)?;
    let digits: String = text[..at].chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

#[test]
fn importance_bad_input_is_named() {
    let mut imp = importance(4);
    imp.values.pop();
    let e = importance_svg_string(&imp).unwrap_err().to_string();
    assert!(e.contains("3 values but 4 names"), "{e}");
    let mut imp = importance(4);
    imp.values[2] = f64::INFINITY;
    let e = importance_svg_string(&imp).unwrap_err().to_string();
    assert!(e.contains("\"feature_02\" is inf"), "{e}");
    let e = importance_svg_string(&Importance::default()).unwrap_err().to_string();
    assert!(e.contains("no variables"), "{e}");
    // Negative (permutation) importances draw from the smallest.
    let neg = Importance {
        values: vec![0.2, -0.05, 0.1],
        names: vec!["a".into(), "b".into(), "c".into()],
        ..Importance::default()
    };
    assert_eq!(importance_svg_string(&neg).unwrap().matches("fill=\"#1F77B4\"").count(), 3);
}
