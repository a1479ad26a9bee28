//! The reliability diagram: a PNG of the right size with the curve, the diagonal and text; an
//! SVG with the title, the ECE and the legend; bad bins are errors naming the bin; two series
//! (raw and calibrated) each with their own curve, bars, ECE and count.

use vane_report::reliability::{
    ReliabilitySeries, SIZE, ece, reliability_png_series, reliability_svg_series, reliability_svg_series_string,
};
use vane_report::{ReliabilityPoint, reliability_png, reliability_svg, reliability_svg_string};

/// An overconfident model's top-label bins (bins below 0.3 are empty for three classes).
fn points() -> Vec<ReliabilityPoint> {
    let mut v = vec![ReliabilityPoint { confidence: f64::NAN, accuracy: f64::NAN, count: 0 }; 3];
    for (confidence, accuracy, count) in [
        (0.36, 0.35, 40),
        (0.45, 0.41, 180),
        (0.55, 0.47, 260),
        (0.65, 0.52, 230),
        (0.75, 0.60, 150),
        (0.85, 0.66, 90),
        (0.96, 0.80, 50),
    ] {
        v.push(ReliabilityPoint { confidence, accuracy, count });
    }
    v
}

#[test]
fn ece_of_the_points_by_hand() {
    // Σ n|acc − conf| = 40·0.01 + 180·0.04 + 260·0.08 + 230·0.13 + 150·0.15 + 90·0.19 + 50·0.16
    //                 = 0.4 + 7.2 + 20.8 + 29.9 + 22.5 + 17.1 + 8.0 = 105.9, over N = 1000.
    assert!((ece(&points()).unwrap() - 0.1059).abs() < 1e-12);
    assert_eq!(ece(&[]), None);
}

#[test]
fn png_has_the_size_the_curve_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("reliability.png");
    reliability_png(&p, &points(), "gbdt: top-label reliability").unwrap();
    let img = image::open(&p).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), SIZE);
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
    let (model, bars) = (count([31, 119, 180]), count([158, 202, 225]));
    assert!(model > 1000 && bars > 1000, "model {model}, bars {bars}");
    let dark = img.pixels().filter(|p| p.0.iter().all(|&v| v < 80)).count();
    assert!(dark > 2000, "{dark} dark pixels: the text is drawn");
    if let Ok(out) = std::env::var("VANE_RELIABILITY_KEEP") {
        std::fs::copy(&p, out).unwrap();
    }
}

#[test]
fn svg_contains_the_title_ece_and_legend() {
    let svg = reliability_svg_string(&points(), "gbdt: top-label reliability").unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    for text in [
        "gbdt: top-label reliability (ECE 0.106)",
        "perfectly calibrated",
        "model: ECE 0.106, n = 1000",
        "confidence",
        "observed accuracy",
        "samples",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("reliability.svg");
    reliability_svg(&p, &points(), "gbdt: top-label reliability").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);
}

#[test]
fn bad_bins_are_errors_and_empty_input_draws() {
    let mut p = points();
    p[5].accuracy = 1.5;
    let e = reliability_svg_string(&p, "x").unwrap_err().to_string();
    assert!(e.contains("reliability bin 5: accuracy 1.5"), "{e}");
    let mut p = points();
    p[4].confidence = f64::NAN;
    assert!(reliability_svg_string(&p, "x").unwrap_err().to_string().contains("bin 4: confidence NaN"));
    assert!(reliability_svg_string(&[], "").unwrap().contains("Reliability (ECE n/a)"));
}

/// The same model calibrated: closer to the diagonal, fewer rows (the later windows only).
fn calibrated() -> Vec<ReliabilityPoint> {
    [(0.35, 0.34, 60), (0.45, 0.44, 200), (0.55, 0.57, 220), (0.65, 0.63, 120), (0.76, 0.72, 30)]
        .into_iter()
        .map(|(confidence, accuracy, count)| ReliabilityPoint { confidence, accuracy, count })
        .collect()
}

#[test]
fn two_series_draw_both_curves_bars_and_legends() {
    // Σ n|acc − conf| = 60·0.01 + 200·0.01 + 220·0.02 + 120·0.02 + 30·0.04
    //                 = 0.6 + 2.0 + 4.4 + 2.4 + 1.2 = 10.6, over N = 630.
    assert!((ece(&calibrated()).unwrap() - 10.6 / 630.0).abs() < 1e-12);
    let (raw, cal) = (points(), calibrated());
    let series = [
        ReliabilitySeries { label: "raw (windows 1..5)", points: &raw },
        ReliabilitySeries { label: "shipped (calibrated, windows 2..5)", points: &cal },
    ];
    let title = "global: out-of-sample reliability, raw and calibrated";
    let svg = reliability_svg_series_string(&series, title).unwrap();
    for text in [
        title,
        "raw (windows 1..5): ECE 0.106, n = 1000",
        "shipped (calibrated, windows 2..5): ECE 0.017, n = 630",
        "gap per bin (shipped)",
        "perfectly calibrated",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    // The title carries no single ECE when the legend has two.
    assert!(!svg.contains(&format!("{title} (ECE")), "one ECE in the title");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("reliability.svg");
    reliability_svg_series(&p, &series, title).unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), svg);

    let p = dir.path().join("reliability.png");
    reliability_png_series(&p, &series, title).unwrap();
    let img = image::open(&p).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), SIZE);
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
    // Both curves (blue, orange) and both series' bars (light blue, light orange).
    let (blue, orange) = (count([31, 119, 180]), count([255, 127, 14]));
    let (blue_bars, orange_bars) = (count([158, 202, 225]), count([253, 190, 133]));
    assert!(blue > 1000 && orange > 1000, "curves: blue {blue}, orange {orange}");
    assert!(blue_bars > 500 && orange_bars > 300, "bars: blue {blue_bars}, orange {orange_bars}");
    if let Ok(out) = std::env::var("VANE_RELIABILITY2_KEEP") {
        std::fs::copy(&p, out).unwrap();
    }
}

#[test]
fn one_series_through_the_series_api_is_the_old_diagram() {
    let raw = points();
    let one = [ReliabilitySeries { label: "model", points: &raw }];
    assert_eq!(reliability_svg_series_string(&one, "t").unwrap(), reliability_svg_string(&raw, "t").unwrap());
    // A bad bin of the second series names it.
    let mut bad = calibrated();
    bad[1].accuracy = -0.1;
    let two = [one[0], ReliabilitySeries { label: "shipped", points: &bad }];
    let e = reliability_svg_series_string(&two, "t").unwrap_err().to_string();
    assert!(e.contains("series \"shipped\": reliability bin 1: accuracy -0.1"), "{e}");
    let five = [one[0]; 5];
    let e = reliability_svg_series_string(&five, "t").unwrap_err().to_string();
    assert!(e.contains("at most 4 series, got 5"), "{e}");
}
