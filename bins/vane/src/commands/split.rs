//! `vane split`.

use std::ops::Range;

use anyhow::Result;
use clap::ValueEnum as _;
use serde::Serialize;
use vane_validation::{Cpcv, PurgedKFold, WalkForward, WindowUnit, horizon_spans};

use crate::args::split::{Scheme, SplitArgs};
use crate::failure::usage;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Fold {
    train: Vec<[usize; 2]>,
    test: Vec<[usize; 2]>,
}

#[derive(Serialize)]
pub(crate) struct Splits {
    scheme: String,
    rows: usize,
    label_horizon: usize,
    folds: Vec<Fold>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paths: Option<serde_json::Value>,
}

fn pairs(r: &[Range<usize>]) -> Vec<[usize; 2]> {
    r.iter().map(|r| [r.start, r.end]).collect()
}

fn fold(train: &[Range<usize>], test: &[Range<usize>]) -> Fold {
    Fold { train: pairs(train), test: pairs(test) }
}

/// The most rows `vane split` lays out (each row's label span takes 16 bytes, walk-forward 8
/// more for its time): 10 million rows is about 240 MB.
const MAX_ROWS: usize = 10_000_000;

pub(crate) fn run(a: SplitArgs) -> Result<Splits> {
    if a.rows == 0 || a.rows > MAX_ROWS {
        return Err(usage(format!("--rows {} must be in 1..={MAX_ROWS}", a.rows)));
    }
    foreign_flags(&a)?;
    let spans = horizon_spans(a.rows, a.label_horizon);
    let (folds, paths) = match a.scheme {
        Scheme::WalkForward => {
            let step = a.step.unwrap_or(a.test);
            let wf = WalkForward {
                unit: WindowUnit::Bars,
                train: a.train,
                test: a.test,
                step,
                expanding: a.expanding,
                gap: a.gap,
            };
            let f = wf.folds(&(0..a.rows as i64).collect::<Vec<_>>(), &spans)?;
            if f.is_empty() {
                return Err(usage(format!(
                    "no walk-forward fold fits in --rows {}: one needs --train {} + --gap {} + --test {} = {} rows; lower --train/--test or raise --rows",
                    a.rows,
                    a.train,
                    a.gap,
                    a.test,
                    a.train + a.gap + a.test
                )));
            }
            (f.iter().map(|f| fold(&f.train, std::slice::from_ref(&f.test))).collect(), None)
        }
        Scheme::PurgedKfold => {
            let f = PurgedKFold { k: a.k, embargo: a.embargo }.folds(&spans)?;
            (f.iter().map(|f| fold(&f.train, std::slice::from_ref(&f.test))).collect(), None)
        }
        Scheme::Cpcv => {
            let plan = Cpcv { n_groups: a.groups, k_test: a.test_groups, embargo: a.embargo }.plan(&spans)?;
            (plan.splits.iter().map(|s| fold(&s.train, &s.test)).collect(), Some(serde_json::to_value(&plan.paths)?))
        }
    };
    // The scheme as the flag spells it (`walk-forward`, `purged-kfold`, `cpcv`).
    let scheme = a.scheme.to_possible_value().map_or_else(|| format!("{:?}", a.scheme), |v| v.get_name().into());
    Ok(Splits { scheme, rows: a.rows, label_horizon: a.label_horizon, folds, paths })
}

/// Flags of another scheme are refused rather than silently ignored (`--scheme purged-kfold
/// --train 100` would otherwise print folds that look like they used it). A flag counts as given
/// when its value differs from its default.
fn foreign_flags(a: &SplitArgs) -> Result<()> {
    let given: [(&str, bool, &[Scheme]); 8] = [
        ("--train", a.train != 500, &[Scheme::WalkForward]),
        ("--test", a.test != 100, &[Scheme::WalkForward]),
        ("--step", a.step.is_some(), &[Scheme::WalkForward]),
        ("--expanding", a.expanding, &[Scheme::WalkForward]),
        ("--gap", a.gap != 0, &[Scheme::WalkForward]),
        ("--k", a.k != 5, &[Scheme::PurgedKfold]),
        ("--embargo", a.embargo != 0, &[Scheme::PurgedKfold, Scheme::Cpcv]),
        ("--groups", a.groups != 6, &[Scheme::Cpcv]),
    ];
    let test_groups = ("--test-groups", a.test_groups != 2, &[Scheme::Cpcv][..]);
    for (flag, set, schemes) in given.into_iter().chain(std::iter::once(test_groups)) {
        if set && !schemes.contains(&a.scheme) {
            let name = |s: &Scheme| s.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
            let used_by: Vec<String> = schemes.iter().map(name).collect();
            return Err(usage(format!(
                "{flag} is a {} parameter; --scheme {} does not use it (drop it, or pick that scheme)",
                used_by.join(" / "),
                name(&a.scheme)
            )));
        }
    }
    Ok(())
}

impl Render for Splits {
    fn human(&self) -> String {
        let mut s = String::new();
        for (i, f) in self.folds.iter().enumerate() {
            let n: usize = f.train.iter().map(|r| r[1] - r[0]).sum();
            s.push_str(&format!("fold {i}: train {n} rows {:?}, test {:?}\n", f.train, f.test));
        }
        s
    }
    fn compact(&self) -> bool {
        true
    }
}
