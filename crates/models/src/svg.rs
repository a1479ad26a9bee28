//! The loss-curve SVG written next to `history.json` (train and validation loss per epoch).

use std::fmt::Write;

use crate::train::EpochRecord;

/// A 640×360 SVG with the train (blue) and validation (orange) loss per epoch and the best epoch
/// marked.
pub fn loss_curve(history: &[EpochRecord]) -> String {
    let (w, h, m) = (640.0, 360.0, 48.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    s.push_str(r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    let vals: Vec<f64> = history.iter().flat_map(|r| [r.train_loss, r.val_loss]).filter(|v| v.is_finite()).collect();
    if history.is_empty() || vals.is_empty() {
        s.push_str("<text x=\"20\" y=\"30\">no epochs</text></svg>\n");
        return s;
    }
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n = history.len();
    let x = |i: usize| m + (w - 2.0 * m) * if n > 1 { i as f64 / (n - 1) as f64 } else { 0.5 };
    let y = |v: f64| h - m - (h - 2.0 * m) * (v - lo) / span;
    let _ = write!(
        s,
        r##"<line x1="{m}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/><line x1="{m}" y1="{m}" x2="{m}" y2="{b}" stroke="#333"/>"##,
        b = h - m,
        r = w - m
    );
    let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">epoch</text>"#, w / 2.0, h - 12.0);
    let _ = write!(s, r#"<text x="6" y="{}">{hi:.4}</text><text x="6" y="{}">{lo:.4}</text>"#, m, h - m);
    for (name, color, pick) in [
        ("train loss", "#1f77b4", (|r: &EpochRecord| r.train_loss) as fn(&EpochRecord) -> f64),
        ("validation loss", "#ff7f0e", |r: &EpochRecord| r.val_loss),
    ] {
        let pts: Vec<String> = history
            .iter()
            .enumerate()
            .filter(|(_, r)| pick(r).is_finite())
            .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(pick(r))))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"><title>{name}</title></polyline>"#,
            pts.join(" ")
        );
    }
    if let Some((i, r)) = history.iter().enumerate().rfind(|(_, r)| r.best) {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#d62728"><title>best epoch {}</title></circle>"##,
            x(i),
            y(r.val_loss),
            r.epoch
        );
    }
    let _ = write!(
        s,
        r##"<text x="{l}" y="20" fill="#1f77b4">train</text><text x="{l2}" y="20" fill="#ff7f0e">validation</text>"##,
        l = w - 200.0,
        l2 = w - 150.0
    );
    s.push_str("</svg>\n");
    s
}
