//! Synthetic series shared by the plot tests, and the sample folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// 2023-01-01T00:00:00Z.
pub const T0: i64 = 1_672_531_200_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// Four hours in milliseconds.
pub const H4: i64 = 4 * 3_600_000;

/// `n` pseudo-random returns (a fixed LCG), mean `drift`, spread about `scale`.
pub fn returns(n: usize, seed: u64, drift: f64, scale: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            let mut u = 0.0;
            for _ in 0..4 {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                u += (s >> 11) as f64 / (1u64 << 53) as f64;
            }
            drift + scale * (u - 2.0) * 1.7
        })
        .collect()
}

/// Open times of `n` 4-hour bars from [`T0`].
pub fn times(n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| T0 + i * H4).collect()
}

/// Copies `file` to `$VANE_REPORT_SAMPLES/name` when that variable is set (to look at).
pub fn keep(file: &Path, name: &str) {
    if let Ok(dir) = std::env::var("VANE_REPORT_SAMPLES") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(file, dir.join(name)).unwrap();
    }
}

/// Decodes a PNG, checks its size, that it is not blank and that text is drawn; returns the
/// image for colour counts.
pub fn check_png(file: &Path, size: (u32, u32)) -> image::RgbImage {
    let img = image::open(file).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), size);
    let total = (img.width() * img.height()) as usize;
    let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    assert!(white < total * 97 / 100, "mostly blank: {white} of {total} white");
    let dark = img.pixels().filter(|p| p.0.iter().all(|&v| v < 80)).count();
    assert!(dark > 1000, "{dark} dark pixels: the text is drawn");
    img
}

/// Pixels of exactly colour `c`.
pub fn count(img: &image::RgbImage, c: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == c).count()
}
