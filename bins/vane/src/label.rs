//! `vane label` and `vane split`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::json;
use vane_core::{Bars, Span};
use vane_labeling::barrier::{Touch, TripleBarrier, Vertical};
use vane_labeling::deadzone::DeadZone;
use vane_labeling::fixed::FixedHorizon;
use vane_labeling::ladder::{LadderConfig, expected_returns};
use vane_labeling::percentile::PercentileThresholds;
use vane_market_data::{read_csv, read_parquet_file};
use vane_validation::{Cpcv, PurgedKFold, WalkForward, WindowUnit, horizon_spans};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Kind {
    Fixed,
    Deadzone,
    Percentile,
    TripleBarrier,
    ExpectedReturn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TouchArg {
    Close,
    HighLow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum VerticalArg {
    Zero,
    Sign,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LabelArgs {
    /// Candles (.csv in the fixture schema or .parquet).
    #[arg(long)]
    input: PathBuf,
    /// The labeller.
    #[arg(long, value_enum)]
    kind: Kind,
    /// Output CSV: `open_time_ms` and the label columns; empty fields where there is no label.
    #[arg(long)]
    output: PathBuf,
    /// Bars ahead (fixed, deadzone, percentile: 6; triple-barrier: 12; expected-return: 100).
    #[arg(long)]
    horizon: Option<usize>,
    /// fixed: the dead band θ.
    #[arg(long, default_value_t = 0.01)]
    theta: f64,
    /// deadzone: half-width of the dead zone.
    #[arg(long, default_value_t = 0.0005)]
    deadzone_eps: f64,
    /// deadzone: weight of dead-zone samples.
    #[arg(long, default_value_t = 0.2)]
    deadzone_weight: f64,
    /// percentile: SELL below this quantile of the training returns.
    #[arg(long, default_value_t = 0.30)]
    percentile_sell: f64,
    /// percentile: BUY above this quantile of the training returns.
    #[arg(long, default_value_t = 0.70)]
    percentile_buy: f64,
    /// percentile: the first share of the rows that is the training window.
    #[arg(long, default_value_t = 0.7)]
    train_fraction: f64,
    /// triple-barrier: returns in σ.
    #[arg(long, default_value_t = 60)]
    sigma_window: usize,
    /// triple-barrier: upper barrier in σ.
    #[arg(long, default_value_t = 1.2)]
    up_k_sigma: f64,
    /// triple-barrier: lower barrier in σ.
    #[arg(long, default_value_t = 1.2)]
    dn_k_sigma: f64,
    /// triple-barrier: path prices.
    #[arg(long, value_enum, default_value = "close")]
    touch: TouchArg,
    /// triple-barrier: label at the vertical barrier.
    #[arg(long, value_enum, default_value = "zero")]
    vertical: VerticalArg,
    /// triple-barrier: skip bars whose σ is below this.
    #[arg(long, default_value_t = 0.0)]
    min_ret: f64,
    /// expected-return: stop distance.
    #[arg(long, default_value_t = 0.011)]
    stop: f64,
    /// expected-return: final target.
    #[arg(long, default_value_t = 0.058)]
    final_target: f64,
    /// expected-return: cost per fill in bps of its notional.
    #[arg(long, default_value_t = 0.0)]
    fee_bps: f64,
}

fn load(path: &std::path::Path) -> Result<Bars> {
    let parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    Ok(if parquet { read_parquet_file(path)? } else { read_csv(path, None)? })
}

pub(crate) fn label(a: LabelArgs) -> Result<()> {
    let bars = load(&a.input)?;
    let c = bars.close();
    let t = bars.open_time();
    let mut out = String::new();
    let row = |out: &mut String, i: usize, cells: Option<String>, empty: &str| {
        let _ = writeln!(out, "{},{}", t[i], cells.unwrap_or_else(|| empty.to_string()));
    };
    let labelled = match a.kind {
        Kind::Fixed | Kind::Percentile => {
            let h = a.horizon.unwrap_or(6);
            let labels = if a.kind == Kind::Fixed {
                FixedHorizon::new(h, a.theta)?.label(c)
            } else {
                if !(a.train_fraction > 0.0 && a.train_fraction <= 1.0) {
                    bail!("--train-fraction {} must be in (0, 1]", a.train_fraction);
                }
                let cut = ((c.len() as f64) * a.train_fraction).round() as usize;
                let th = PercentileThresholds::fit(&c[..cut], h, a.percentile_sell, a.percentile_buy)?;
                eprintln!(
                    "percentile thresholds fitted on the first {cut} bars: SELL below {}, BUY above {}",
                    th.sell, th.buy
                );
                th.label(c)
            };
            out.push_str("open_time_ms,label,ret\n");
            for (i, v) in labels.values.iter().enumerate() {
                row(&mut out, i, v.map(|v| format!("{},{}", v.signal, v.ret)), ",");
            }
            labels.labeled()
        }
        Kind::Deadzone => {
            let labels = DeadZone::new(a.horizon.unwrap_or(6), a.deadzone_eps, a.deadzone_weight)?.label(c);
            out.push_str("open_time_ms,label,ret,weight\n");
            for (i, v) in labels.values.iter().enumerate() {
                row(&mut out, i, v.map(|v| format!("{},{},{}", u8::from(v.up), v.ret, v.weight)), ",,");
            }
            labels.labeled()
        }
        Kind::TripleBarrier => {
            let tb = TripleBarrier {
                touch: match a.touch {
                    TouchArg::Close => Touch::Close,
                    TouchArg::HighLow => Touch::HighLow,
                },
                vertical: match a.vertical {
                    VerticalArg::Zero => Vertical::Zero,
                    VerticalArg::Sign => Vertical::Sign,
                },
                min_ret: a.min_ret,
                ..TripleBarrier::new(a.horizon.unwrap_or(12), a.sigma_window, a.up_k_sigma, a.dn_k_sigma)?
            };
            let labels = tb.label(&bars)?;
            out.push_str("open_time_ms,label,touch_index,ret\n");
            for (i, v) in labels.values.iter().enumerate() {
                row(&mut out, i, v.map(|v| format!("{},{},{}", v.label, v.touch_index, v.ret)), ",,");
            }
            labels.labeled()
        }
        Kind::ExpectedReturn => {
            let cfg = LadderConfig {
                stop: a.stop,
                final_target: a.final_target,
                horizon: a.horizon.unwrap_or(100),
                fee_bps: a.fee_bps,
                ..LadderConfig::default()
            };
            let labels = expected_returns(&bars, &cfg)?;
            out.push_str("open_time_ms,er_long,er_short,exit_long,exit_short\n");
            for (i, v) in labels.values.iter().enumerate() {
                row(
                    &mut out,
                    i,
                    v.map(|v| format!("{},{},{},{}", v.er_long, v.er_short, v.exit_long, v.exit_short)),
                    ",,,",
                );
            }
            labels.labeled()
        }
    };
    std::fs::write(&a.output, out).with_context(|| format!("writing {}", a.output.display()))?;
    eprintln!("{labelled} of {} bars labelled -> {}", bars.len(), a.output.display());
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scheme {
    WalkForward,
    PurgedKfold,
    Cpcv,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SplitArgs {
    /// Number of samples (rows).
    #[arg(long)]
    rows: usize,
    /// The splitter.
    #[arg(long, value_enum)]
    scheme: Scheme,
    /// Each sample's label looks this many bars ahead (its span is [t, t+H]); used for purging.
    #[arg(long, default_value_t = 0)]
    label_horizon: usize,
    /// walk-forward: training window, bars.
    #[arg(long, default_value_t = 500)]
    train: usize,
    /// walk-forward: test window, bars.
    #[arg(long, default_value_t = 100)]
    test: usize,
    /// walk-forward: advance per fold (default: the test size).
    #[arg(long)]
    step: Option<usize>,
    /// walk-forward: expanding instead of rolling training windows.
    #[arg(long)]
    expanding: bool,
    /// walk-forward: bars between training and test.
    #[arg(long, default_value_t = 0)]
    gap: usize,
    /// purged-kfold: number of folds.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// purged-kfold / cpcv: bars embargoed after each test window.
    #[arg(long, default_value_t = 0)]
    embargo: usize,
    /// cpcv: number of groups N.
    #[arg(long, default_value_t = 6)]
    groups: usize,
    /// cpcv: test groups per split k.
    #[arg(long, default_value_t = 2)]
    test_groups: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn pairs(r: &[std::ops::Range<usize>]) -> Vec<[usize; 2]> {
    r.iter().map(|r| [r.start, r.end]).collect()
}

pub(crate) fn split(a: SplitArgs) -> Result<()> {
    let spans: Vec<Span> = horizon_spans(a.rows, a.label_horizon);
    let (folds, paths) = match a.scheme {
        Scheme::WalkForward => {
            let wf = WalkForward {
                unit: WindowUnit::Bars,
                train: a.train,
                test: a.test,
                step: a.step.unwrap_or(a.test),
                expanding: a.expanding,
                gap: a.gap,
            };
            let f = wf.folds(&(0..a.rows as i64).collect::<Vec<_>>(), &spans)?;
            (f.into_iter().map(|f| (f.train, vec![f.test])).collect::<Vec<_>>(), None)
        }
        Scheme::PurgedKfold => {
            let f = PurgedKFold { k: a.k, embargo: a.embargo }.folds(&spans)?;
            (f.into_iter().map(|f| (f.train, vec![f.test])).collect(), None)
        }
        Scheme::Cpcv => {
            let plan = Cpcv { n_groups: a.groups, k_test: a.test_groups, embargo: a.embargo }.plan(&spans)?;
            (plan.splits.into_iter().map(|s| (s.train, s.test)).collect(), Some(plan.paths))
        }
    };
    if a.json {
        let folds_json: Vec<_> =
            folds.iter().map(|(tr, te)| json!({ "train": pairs(tr), "test": pairs(te) })).collect();
        let mut j = json!({ "scheme": format!("{:?}", a.scheme).to_lowercase(), "rows": a.rows, "label_horizon": a.label_horizon, "folds": folds_json });
        if let Some(p) = paths {
            j["paths"] = json!(p);
        }
        println!("{}", serde_json::to_string(&j)?);
    } else {
        for (i, (tr, te)) in folds.iter().enumerate() {
            let n: usize = tr.iter().map(|r| r.len()).sum();
            println!("fold {i}: train {n} rows {:?}, test {:?}", pairs(tr), pairs(te));
        }
    }
    Ok(())
}
