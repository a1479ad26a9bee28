//! `vane label`: one labeller over a candle file, written as CSV.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum as _;
use serde::Serialize;
use vane_labeling::barrier::TripleBarrier;
use vane_labeling::deadzone::DeadZone;
use vane_labeling::fixed::FixedHorizon;
use vane_labeling::ladder::{LadderConfig, expected_returns};
use vane_labeling::percentile::PercentileThresholds;
use vane_market_data::read_bars_file;

use crate::args::label::{LabelArgs, LabelKind};
use crate::failure::usage;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Labelled {
    labelled: usize,
    bars: usize,
    output: PathBuf,
    /// Percentile labels: the SELL and BUY thresholds and the training rows they were fitted on.
    percentile: Option<(f64, f64, usize)>,
}

/// CSV rows: `open_time_ms,` then the label's cells, or `empty` where a bar has no label.
fn rows<T>(out: &mut String, times: &[i64], values: &[Option<T>], cells: impl Fn(&T) -> String, empty: &str) {
    for (t, v) in times.iter().zip(values) {
        let _ = writeln!(out, "{t},{}", v.as_ref().map_or_else(|| empty.to_string(), &cells));
    }
}

/// Appends a `filled` column (1 = a bar the grid filled in) to the CSV `text` (header + one row
/// per bar).
fn with_filled_column(text: &str, filled: &[bool]) -> String {
    let mut out = String::with_capacity(text.len() + 2 * filled.len() + 8);
    for (i, line) in text.lines().enumerate() {
        let cell = if i == 0 {
            "filled"
        } else if filled[i - 1] {
            "1"
        } else {
            "0"
        };
        let _ = writeln!(out, "{line},{cell}");
    }
    out
}

/// Parameters of another labeller are refused rather than silently ignored (`--kind fixed
/// --sigma-window 5` would otherwise label without it). A parameter counts as given when its
/// value differs from its default.
fn foreign_parameters(a: &LabelArgs) -> Result<()> {
    use LabelKind::*;
    let tb = TripleBarrier;
    let given: [(&str, bool, LabelKind); 14] = [
        ("--theta", a.theta != 0.01, Fixed),
        ("--deadzone-eps", a.deadzone_eps != 0.0005, Deadzone),
        ("--deadzone-weight", a.deadzone_weight != 0.2, Deadzone),
        ("--percentile-sell", a.percentile_sell != 0.30, Percentile),
        ("--percentile-buy", a.percentile_buy != 0.70, Percentile),
        ("--train-fraction", a.train_fraction != 0.7, Percentile),
        ("--sigma-window", a.sigma_window != 60, tb),
        ("--up-k-sigma", a.up_k_sigma != 1.2, tb),
        ("--dn-k-sigma", a.dn_k_sigma != 1.2, tb),
        ("--touch", a.touch != vane_labeling::barrier::Touch::Close, tb),
        ("--vertical", a.vertical != vane_labeling::barrier::Vertical::Zero, tb),
        ("--min-ret", a.min_ret != 0.0, tb),
        ("--stop", a.stop != 0.011, ExpectedReturn),
        ("--final-target", a.final_target != 0.058, ExpectedReturn),
    ];
    let fee = ("--fee-bps", a.fee_bps != 0.0, ExpectedReturn);
    for (flag, set, kind) in given.into_iter().chain(std::iter::once(fee)) {
        if set && kind != a.kind {
            let name = |k: LabelKind| k.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
            return Err(usage(format!(
                "{flag} is a parameter of --kind {}; --kind {} does not use it (drop it, or use --kind {})",
                name(kind),
                name(a.kind),
                name(kind)
            )));
        }
    }
    Ok(())
}

pub(crate) fn run(a: LabelArgs) -> Result<Labelled> {
    foreign_parameters(&a)?;
    vane_artifact::check_output(&a.output, &[&a.input], &[])?;
    let raw = read_bars_file(&a.input, None)?;
    let (bars, filled) = match a.grid {
        Some(iv) => {
            let g = vane_market_data::grid::regularise(&raw, iv)?;
            (g.bars, Some(g.filled))
        }
        None => (raw, None),
    };
    let (c, t) = (bars.close(), bars.open_time());
    let mut out = String::new();
    let mut percentile = None;
    let labelled = match a.kind {
        LabelKind::Fixed | LabelKind::Percentile => {
            let h = a.horizon.unwrap_or(6);
            let labels = if a.kind == LabelKind::Fixed {
                FixedHorizon::new(h, a.theta)?.label(c)
            } else {
                if !(a.train_fraction > 0.0 && a.train_fraction <= 1.0) {
                    return Err(usage(format!("--train-fraction {} must be in (0, 1]", a.train_fraction)));
                }
                let cut = ((c.len() as f64) * a.train_fraction).round() as usize;
                let th = PercentileThresholds::fit(&c[..cut], h, a.percentile_sell, a.percentile_buy)?;
                percentile = Some((th.sell, th.buy, cut));
                th.label(c)
            };
            out.push_str("open_time_ms,label,ret\n");
            rows(&mut out, t, &labels.values, |v| format!("{},{}", v.signal, v.ret), ",");
            labels.labeled()
        }
        LabelKind::Deadzone => {
            let labels = DeadZone::new(a.horizon.unwrap_or(6), a.deadzone_eps, a.deadzone_weight)?.label(c);
            out.push_str("open_time_ms,label,ret,weight\n");
            rows(&mut out, t, &labels.values, |v| format!("{},{},{}", u8::from(v.up), v.ret, v.weight), ",,");
            labels.labeled()
        }
        LabelKind::TripleBarrier => {
            let tb = TripleBarrier {
                touch: a.touch,
                vertical: a.vertical,
                min_ret: a.min_ret,
                ..TripleBarrier::new(a.horizon.unwrap_or(12), a.sigma_window, a.up_k_sigma, a.dn_k_sigma)?
            };
            let labels = tb.label(&bars)?;
            out.push_str("open_time_ms,label,touch_index,ret\n");
            rows(&mut out, t, &labels.values, |v| format!("{},{},{}", v.label, v.touch_index, v.ret), ",,");
            labels.labeled()
        }
        LabelKind::ExpectedReturn => {
            let cfg = LadderConfig {
                stop: a.stop,
                final_target: a.final_target,
                horizon: a.horizon.unwrap_or(100),
                fee_bps: a.fee_bps,
                ..LadderConfig::default()
            };
            let labels = expected_returns(&bars, &cfg)?;
            out.push_str("open_time_ms,er_long,er_short,exit_long,exit_short\n");
            let cells = |v: &vane_labeling::ladder::ExpectedReturn| {
                format!("{},{},{},{}", v.er_long, v.er_short, v.exit_long, v.exit_short)
            };
            rows(&mut out, t, &labels.values, cells, ",,,");
            labels.labeled()
        }
    };
    if let Some(f) = &filled {
        out = with_filled_column(&out, f);
    }
    vane_artifact::write_atomic(&a.output, out.as_bytes())?;
    Ok(Labelled { labelled, bars: bars.len(), output: a.output, percentile })
}

impl Render for Labelled {
    fn human(&self) -> String {
        String::new()
    }
    fn status(&self) -> Option<String> {
        let mut s = String::new();
        if let Some((sell, buy, cut)) = self.percentile {
            s = format!("percentile thresholds fitted on the first {cut} bars: SELL below {sell}, BUY above {buy}\n");
        }
        let mut line = format!("{s}{} of {} bars labelled -> {}", self.labelled, self.bars, self.output.display());
        if self.labelled == 0 {
            line.push_str(
                "\nwarning: no bar has a label: the horizon (or the σ window) is longer than the data; lower --horizon or label more bars",
            );
        }
        Some(line)
    }
}
