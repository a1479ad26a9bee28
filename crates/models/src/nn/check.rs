//! Range checks shared by every config's `validate()`: each error names the config and the field.

use crate::error::{Result, config_err};

/// `value ≥ 1`.
pub(crate) fn positive(owner: &str, field: &str, value: usize) -> Result<()> {
    if value == 0 { config_err(format!("{owner}.{field} must be ≥ 1, got 0")) } else { Ok(()) }
}

/// A dropout probability: finite and in `[0, 1)`.
pub(crate) fn probability(owner: &str, field: &str, p: f64) -> Result<()> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        config_err(format!("{owner}.{field} must be in [0, 1), got {p}"))
    }
}

/// `n_heads` divides `width` (both ≥ 1).
pub(crate) fn heads_divide(owner: &str, width_field: &str, width: usize, n_heads: usize) -> Result<()> {
    positive(owner, width_field, width)?;
    positive(owner, "n_heads", n_heads)?;
    if width.is_multiple_of(n_heads) {
        Ok(())
    } else {
        config_err(format!("{owner}.n_heads {n_heads} must divide {width_field} {width}"))
    }
}
