//! DejaVu Sans, vendored (`assets/DejaVuSans.ttf`, Bitstream Vera licence: see
//! `assets/LICENSE-DejaVu.txt`), registered as plotters' `sans-serif` family.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::error::{ReportError, Result};

/// The font file.
pub const DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name plots use.
pub const FAMILY: &str = "sans-serif";

/// Registers the vendored font with plotters (once per process); every plot calls it first.
pub fn register() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .all(|style| plotters::style::register_font(FAMILY, style, DEJAVU_SANS).is_ok())
    });
    if ok { Ok(()) } else { Err(ReportError::Font("DejaVuSans.ttf")) }
}
