//! Text on the PNG plots, set glyph by glyph at its pen position plus its left side bearing.
//!
//! plotters 0.3.7's `ab_glyph` renderer draws each glyph's ink box at the pen position and drops
//! the glyph's left side bearing, so a glyph with a wide bearing ("." or ":") is drawn too far
//! left and one with a narrow or negative bearing ("T") too far right: "BTCUSDT" came out as
//! "B TCUSD T" and "1.050" as "1. 050". [`Glyphs`] wraps a backend and draws text itself, with
//! the same advances, kerning, anchors, rotation and baseline (half the font size below the top
//! of the layout box) as plotters, but each glyph at its true place. Everything else is passed
//! to the wrapped backend. SVG plots are unaffected: their text is drawn by the viewer.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform};

use crate::font::DEJAVU_SANS;

/// The vendored font, parsed once.
fn dejavu() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok()).as_ref()
}

/// A pixel of a glyph's ink: position relative to the top left of the layout box, and coverage.
type Ink = (i32, i32, f32);

/// The ink of `text` at `size` pixels: each glyph at its pen position (advances and kerning, as
/// plotters lays it out) plus its own bearing, the baseline `size / 2` below the top.
pub(crate) fn ink(text: &str, size: f64) -> Vec<Ink> {
    let Some(font) = dejavu() else { return Vec::new() };
    let font = font.as_scaled(size as f32);
    let baseline = size as f32 / 2.0;
    let mut out = Vec::new();
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern(p, id);
        }
        prev = Some(id);
        let glyph = id.with_scale_and_position(font.scale(), point(pen, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let (x0, y0) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|x, y, c| {
                if c > 0.0 {
                    out.push((x0 + x as i32, y0 + y as i32, c));
                }
            });
        }
        pen += font.h_advance(id);
    }
    out
}

/// A backend that sets text with [`ink`] and hands everything else to the backend it wraps.
pub(crate) struct Glyphs<B>(pub B);

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        if dejavu().is_none() {
            return self.0.draw_text(text, style, pos);
        }
        let ((min_x, min_y), (max_x, max_y)) =
            style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans: FontTransform = style.transform();
        let (w, h) = self.get_size();
        for (x, y, c) in ink(text, style.size()) {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let ink = BackendColor { alpha: color.alpha * f64::from(c.min(1.0)), rgb: color.rgb };
                self.0.draw_pixel((x, y), ink)?;
            }
        }
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    use super::*;
    use crate::font::{FAMILY, register};

    const SIZE: f64 = 48.0;
    const LEFT: i32 = 10;

    /// Which columns of a white buffer hold ink after `text` is drawn at [`SIZE`] px, left edge at
    /// [`LEFT`], through [`Glyphs`] (`wrapped`) or plotters' own text path.
    fn columns(text: &str, wrapped: bool) -> Vec<bool> {
        register().unwrap();
        let (w, h) = (400u32, 80u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let bitmap = BitMapBackend::with_buffer(&mut buf, (w, h));
            let style = (FAMILY, SIZE).into_font().color(&BLACK);
            if wrapped {
                let mut b = Glyphs(bitmap);
                b.draw_text(text, &style, (LEFT, 10)).unwrap();
                b.present().unwrap();
            } else {
                let mut b = bitmap;
                b.draw_text(text, &style, (LEFT, 10)).unwrap();
                b.present().unwrap();
            }
        }
        (0..w as usize).map(|x| (0..h as usize).any(|y| buf[(y * w as usize + x) * 3] < 128)).collect()
    }

    /// Blank columns left and right of the ink of `text` inside its layout box, drawn at 48 px.
    fn margins(text: &str, wrapped: bool) -> (i32, i32) {
        let cols = columns(text, wrapped);
        let first = cols.iter().position(|&c| c).unwrap() as i32;
        let last = cols.iter().rposition(|&c| c).unwrap() as i32;
        let width = crate::common::text_width(text, SIZE) as i32;
        (first - LEFT, LEFT + width - 1 - last)
    }

    #[test]
    fn a_symmetric_glyph_sits_in_the_middle_of_its_advance() {
        // DejaVu's ".", ":", "T", "H", "0" and "-" have equal side bearings, so their ink must be
        // centred in their layout box. plotters' own path drew every glyph's ink at the pen
        // position (the left bearing dropped): "." hugged the digit before it and left a gap after
        // it ("1. 050"), "T" sat right of its place after a "D" ("BTCUSD T").
        for text in [".", ":", "T", "H", "0", "-", "T.T", "H:H"] {
            let (left, right) = margins(text, true);
            assert!((left - right).abs() <= 1, "{text:?}: {left} blank columns on the left, {right} on the right");
        }
        // "D" and "T" set together: the blank between them is D's right bearing plus T's left
        // one (about 1.5 px at 48 px), not the 6 px plotters drew.
        let cols = columns("DT", true);
        let first = cols.iter().position(|&c| c).unwrap();
        let last = cols.iter().rposition(|&c| c).unwrap();
        let widest = cols[first..=last].split(|&c| c).map(<[bool]>::len).max().unwrap();
        assert!(widest <= 3, "a blank run of {widest} columns inside \"DT\"");
    }

    #[test]
    fn plotters_own_text_path_drops_the_bearing() {
        // Why Glyphs exists: if a plotters upgrade places glyphs right, this fails and the
        // wrapper can go.
        let (left, right) = margins(".", false);
        assert!(right - left >= 4, "{left} {right}");
    }

    #[test]
    fn ink_spans_the_advance_width() {
        // The ink of "TT" begins near 0 and ends near the layout width (T's bearings are ~0).
        let xs: Vec<i32> = ink("TT", SIZE).iter().map(|p| p.0).collect();
        let (lo, hi) = (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
        let width = crate::common::text_width("TT", SIZE) as i32;
        assert!(lo.abs() <= 1, "{lo}");
        assert!((hi - width).abs() <= 2, "{hi} vs {width}");
    }
}
