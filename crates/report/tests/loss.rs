//! The loss curve: a PNG of the right size that is not blank, an SVG that carries the series.

use vane_report::{LossSeries, loss_curve_png, loss_curve_svg, loss_curve_svg_string};

fn series() -> LossSeries {
    LossSeries {
        title: "hrm: loss per epoch".into(),
        train: vec![1.10, 0.92, 0.80, 0.71, 0.66, 0.61, 0.58, 0.55],
        valid: vec![1.05, 0.95, 0.88, 0.84, 0.83, 0.85, 0.87, 0.90],
        best_epoch: Some(5),
        step: String::new(),
    }
}

#[test]
fn png_has_the_size_and_both_curves() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("loss_curve.png");
    loss_curve_png(&p, &series()).unwrap();
    let img = image::open(&p).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), vane_report::loss::SIZE);
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
    let (white, train, valid, best) =
        (count([255, 255, 255]), count([31, 119, 180]), count([255, 127, 14]), count([214, 39, 40]));
    let total = (img.width() * img.height()) as usize;
    assert!(white < total * 98 / 100, "mostly blank: {white} of {total} white");
    assert!(train > 500 && valid > 500 && best > 20, "train {train}, valid {valid}, best {best}");
    // Text is drawn (dark pixels beyond the axes): the font was found.
    let dark = img.pixels().filter(|p| p.0.iter().all(|&v| v < 80)).count();
    assert!(dark > 2000, "{dark} dark pixels");
    if let Ok(out) = std::env::var("VANE_REPORT_KEEP") {
        std::fs::copy(&p, out).unwrap();
    }
}

#[test]
fn svg_contains_the_series_and_labels() {
    let svg = loss_curve_svg_string(&series()).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    for text in ["train loss", "validation loss", "best epoch 5", "epoch", "loss", "hrm: loss per epoch"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    assert!(svg.contains("#1F77B4") || svg.contains("#1f77b4"), "train colour");
    assert!(svg.matches("<polyline").count() >= 2, "two line series");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("loss_curve.svg");
    loss_curve_svg(&p, &series()).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);
}

#[test]
fn boosted_trees_count_iterations_not_epochs() {
    let s = LossSeries { step: "iteration".into(), ..series() };
    let svg = loss_curve_svg_string(&s).unwrap();
    assert!(svg.contains("best iteration 5") && svg.contains("\niteration\n"), "the step is named: {svg}");
    assert!(!svg.contains("\nepoch\n") && !svg.contains("best epoch"), "no epoch axis or marker left: {svg}");
}

#[test]
fn bad_series_are_errors_and_gaps_are_fine() {
    let mut s = series();
    s.valid.pop();
    assert!(loss_curve_svg_string(&s).unwrap_err().to_string().contains("valid has 7"));
    let mut s = series();
    s.best_epoch = Some(9);
    assert!(loss_curve_svg_string(&s).unwrap_err().to_string().contains("best_epoch 9"));
    let mut s = series();
    s.valid[2] = f64::NAN;
    s.train = vec![f64::NAN; 8];
    loss_curve_svg_string(&s).unwrap();
    loss_curve_svg_string(&LossSeries::default()).unwrap();
}
