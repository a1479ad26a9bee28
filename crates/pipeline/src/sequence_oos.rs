//! What a sequence run predicted out of sample and which bars each split used, for stores that
//! keep them (the PostgreSQL store's `model_predictions` and `training_sequences`):
//! [`SequenceReport::oos_predictions`](crate::sequence::SequenceReport::oos_predictions) and
//! [`SequenceReport::splits`](crate::sequence::SequenceReport::splits).

use serde::Serialize;
use vane_core::Symbol;

use crate::sequence::{Candidate, RawData, SequenceData};

/// One out-of-sample prediction of the walk-forward: window `window`'s model (trained on earlier
/// bars only, purged) at the bar opening at `open_time_ms` of `symbol`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OosPrediction {
    /// The walk-forward window (1-based).
    pub window: usize,
    /// The instrument.
    pub symbol: Symbol,
    /// Open time of the window's last bar (the bar the prediction is made at).
    pub open_time_ms: i64,
    /// Regression: the point prediction (the quantile nearest 0.5 for the TFT).
    /// Classification: P(BUY) − P(SELL), a signed score.
    pub prediction: f64,
    /// Classification: the probabilities in `Signal::ALL` order (BUY, SELL, HOLD), uncalibrated.
    pub probabilities: Option<Vec<f64>>,
    /// The realised target the run scores against (the label's value: for expected-return
    /// labels `er_long − er_short` of the ladder, as the model's f32 target).
    pub realised: f64,
    /// The realised class index (classification; the regression target's class otherwise).
    pub realised_class: usize,
}

/// The bars one split of one window used for one symbol: every input window of its samples lies
/// in `[first_open_time_ms, last_open_time_ms]` (the samples' labels look `horizon` bars further).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SplitUse {
    /// 0: the shipped model's split; k ≥ 1: walk-forward window k.
    pub window: usize,
    /// `train`, `validation` (the shipped model's validation split, a window's inner
    /// early-stopping slice) or `test` (a window's out-of-sample block).
    pub split: &'static str,
    /// The instrument.
    pub symbol: Symbol,
    /// Open time of the first bar of the earliest input window.
    pub first_open_time_ms: i64,
    /// Open time of the last sample's bar.
    pub last_open_time_ms: i64,
    /// Samples.
    pub rows: usize,
}

/// The symbol index and open time of matrix row `row`.
pub(crate) fn row_symbol_time(raw: &RawData, row: usize) -> Option<(usize, i64)> {
    let segs = raw.matrix.segments();
    let s = segs.iter().position(|seg| seg.rows.contains(&row))?;
    let t = *raw.segment_times.get(s)?.get(row - segs[s].rows.start)?;
    Some((s, t))
}

/// Per symbol, the bars that the samples ending at matrix rows `rows` used.
pub(crate) fn split_uses(
    raw: &RawData,
    d: &SequenceData,
    rows: impl Iterator<Item = usize>,
    window: usize,
    split: &'static str,
) -> Vec<SplitUse> {
    let mut out: Vec<Option<SplitUse>> = vec![None; d.symbols.len()];
    for row in rows {
        let Some((s, t)) = row_symbol_time(raw, row) else { continue };
        let first = row_symbol_time(raw, row + 1 - d.seq_len.min(row + 1)).map_or(t, |(_, f)| f);
        let Some(symbol) = d.symbols.get(s) else { continue };
        let u = out[s].get_or_insert_with(|| SplitUse {
            window,
            split,
            symbol: symbol.clone(),
            first_open_time_ms: first,
            last_open_time_ms: t,
            rows: 0,
        });
        u.first_open_time_ms = u.first_open_time_ms.min(first);
        u.last_open_time_ms = u.last_open_time_ms.max(t);
        u.rows += 1;
    }
    out.into_iter().flatten().collect()
}

/// The walk-forward's out-of-sample rows of one window: candidate indices `test` (into `cands`,
/// the window's candidates with their classes), their point predictions and probabilities.
pub(crate) fn oos_rows(
    raw: &RawData,
    d: &SequenceData,
    cands: &[Candidate],
    window: usize,
    test: &[usize],
    predictions: &[f64],
    probabilities: Option<&[Vec<f64>]>,
) -> Vec<OosPrediction> {
    test.iter()
        .enumerate()
        .filter_map(|(j, &i)| {
            let c = cands.get(i)?;
            let (s, _) = row_symbol_time(raw, c.row)?;
            Some(OosPrediction {
                window,
                symbol: d.symbols.get(s)?.clone(),
                open_time_ms: c.time,
                prediction: *predictions.get(j)?,
                probabilities: probabilities.and_then(|p| p.get(j).cloned()),
                realised: f64::from(c.value),
                realised_class: c.class,
            })
        })
        .collect()
}
