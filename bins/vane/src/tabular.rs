//! `vane tabular`: train and evaluate a tabular model on any CSV.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;
use vane_tabular::lorentzian::scan;
use vane_tabular::{Dataset, Gbdt, GbdtConfig, Logistic, Objective, majority};
use vane_validation::metrics::{accuracy, log_loss, macro_f1};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Model {
    Gbdt,
    Logistic,
    Lorentzian,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TabularArgs {
    /// The model.
    #[arg(long, value_enum)]
    model: Model,
    /// Training CSV (header row; empty or `nan` fields are missing values).
    #[arg(long)]
    train: PathBuf,
    /// Test CSV with the same columns.
    #[arg(long)]
    test: PathBuf,
    /// The class column (any values: they are sorted into classes 0..k).
    #[arg(long)]
    target: String,
    /// Comma-separated categorical columns (e.g. symbol).
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// Columns to ignore (e.g. open_time_ms).
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
    /// gbdt: maximum trees.
    #[arg(long, default_value_t = 500)]
    iterations: usize,
    /// gbdt: learning rate.
    #[arg(long, default_value_t = 0.05)]
    learning_rate: f64,
    /// gbdt: tree depth.
    #[arg(long, default_value_t = 6)]
    depth: usize,
    /// gbdt: the last share of the training rows used for early stopping (0 = none).
    #[arg(long, default_value_t = 0.2)]
    eval_fraction: f64,
    /// logistic: L2 strength λ (= 1/C).
    #[arg(long, default_value_t = 1.0)]
    lambda: f64,
    /// Write the test predictions (class probabilities) here.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .with_context(|| format!("{}: empty file", path.display()))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(|s| s.trim().to_string()).collect()).collect();
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != header.len()) {
        bail!("{}:{}: {} fields, the header has {}", path.display(), i + 2, r.len(), header.len());
    }
    Ok(Table { header, rows })
}

fn dataset(
    t: &Table,
    path: &Path,
    target: &str,
    categorical: &[String],
    drop: &[String],
) -> Result<(Dataset, Vec<String>)> {
    let ti = t
        .header
        .iter()
        .position(|h| h == target)
        .with_context(|| format!("{}: no target column {target:?}", path.display()))?;
    let mut d = Dataset::default();
    for (j, name) in t.header.iter().enumerate() {
        if j == ti || drop.contains(name) {
            continue;
        }
        if categorical.contains(name) {
            d.categorical_names.push(name.clone());
            d.categorical.push(t.rows.iter().map(|r| r[j].clone()).collect());
        } else {
            let col: Result<Vec<f64>> = t
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let f = r[j].as_str();
                    if f.is_empty() || f.eq_ignore_ascii_case("nan") {
                        Ok(f64::NAN)
                    } else {
                        f.parse::<f64>().ok().filter(|v| v.is_finite()).with_context(|| {
                            format!(
                                "{}:{}: column {name}: {f:?} is not a number (mark it --categorical?)",
                                path.display(),
                                i + 2
                            )
                        })
                    }
                })
                .collect();
            d.numeric_names.push(name.clone());
            d.numeric.push(col?);
        }
    }
    let y = t.rows.iter().map(|r| r[ti].clone()).collect();
    Ok((d, y))
}

pub(crate) fn run(a: TabularArgs) -> Result<()> {
    let (train_t, test_t) = (read(&a.train)?, read(&a.test)?);
    if train_t.header != test_t.header {
        bail!("{} and {} have different columns", a.train.display(), a.test.display());
    }
    let (train, ytr) = dataset(&train_t, &a.train, &a.target, &a.categorical, &a.drop)?;
    let (test, yte) = dataset(&test_t, &a.test, &a.target, &a.categorical, &a.drop)?;
    let classes: Vec<String> = ytr.iter().chain(&yte).cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let k = classes.len();
    if k < 2 {
        bail!("the target {:?} has a single value", a.target);
    }
    let idx = |v: &String| classes.iter().position(|c| c == v).expect("collected above");
    let ytr_i: Vec<usize> = ytr.iter().map(idx).collect();
    let yte_i: Vec<usize> = yte.iter().map(idx).collect();
    let started = Instant::now();
    let probs = match a.model {
        Model::Gbdt => {
            let n = train.rows();
            let cut = ((n as f64) * (1.0 - a.eval_fraction.clamp(0.0, 0.5))).round() as usize;
            let obj = if k == 2 { Objective::Binary } else { Objective::Multiclass { classes: k } };
            let cfg = GbdtConfig {
                objective: obj,
                iterations: a.iterations,
                learning_rate: a.learning_rate,
                depth: a.depth,
                early_stopping_rounds: (cut < n).then_some(50),
                ..GbdtConfig::default()
            };
            let yf: Vec<f64> = ytr_i.iter().map(|&c| c as f64).collect();
            let (fit_idx, ev_idx): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| i < cut);
            let fit = train.take(&fit_idx);
            let ev = train.take(&ev_idx);
            let ey: Vec<f64> = ev_idx.iter().map(|&i| yf[i]).collect();
            let model = Gbdt::fit(&cfg, &fit, &yf[..cut], None, (cut < n).then_some((&ev, ey.as_slice())))?;
            eprintln!("gbdt: {} trees", model.trees());
            model.predict_proba(&test)?
        }
        Model::Logistic => Logistic::fit(&train, &ytr_i, k, a.lambda)?.predict_proba(&test)?,
        Model::Lorentzian => {
            // Every test row scans the last `max_bars_back` (2000) complete training rows with
            // the script's rules (k = 8); its class probabilities are the neighbours' shares.
            let rows = |d: &Dataset| {
                (0..d.rows()).map(|r| d.numeric.iter().map(|c| c[r]).collect::<Vec<f64>>()).collect::<Vec<_>>()
            };
            let (tr_rows, te_rows) = (rows(&train), rows(&test));
            let complete: Vec<usize> =
                (0..tr_rows.len()).filter(|&r| tr_rows[r].iter().all(|v| v.is_finite())).collect();
            let window = &complete[complete.len().saturating_sub(2000)..];
            let first = window.first().copied().unwrap_or(0);
            te_rows
                .iter()
                .map(|q| {
                    if q.iter().any(|v| !v.is_finite()) {
                        return vec![1.0 / k as f64; k];
                    }
                    let found = scan(q, first, window.iter().map(|&j| (j, &tr_rows[j][..])), 8);
                    let mut p = vec![0.0; k];
                    for j in &found {
                        p[ytr_i[*j]] += 1.0 / found.len() as f64;
                    }
                    if found.is_empty() { vec![1.0 / k as f64; k] } else { p }
                })
                .collect()
        }
    };
    let fit_seconds = started.elapsed().as_secs_f64();
    let pred: Vec<usize> =
        probs.iter().map(|p| p.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).map_or(0, |m| m.0)).collect();
    let base = majority(&ytr_i, k);
    let base_class = base.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).map_or(0, |m| m.0);
    let base_probs = vec![base.clone(); yte_i.len()];
    let report = json!({
        "model": format!("{:?}", a.model).to_lowercase(),
        "classes": classes,
        "train_rows": train.rows(),
        "test_rows": test.rows(),
        "fit_seconds": fit_seconds,
        "test": {
            "accuracy": accuracy(&yte_i, &pred)?,
            "macro_f1": macro_f1(&yte_i, &pred)?,
            "log_loss": log_loss(&yte_i, &probs)?,
        },
        "majority_baseline": {
            "accuracy": accuracy(&yte_i, &vec![base_class; yte_i.len()])?,
            "macro_f1": macro_f1(&yte_i, &vec![base_class; yte_i.len()])?,
            "log_loss": log_loss(&yte_i, &base_probs)?,
        },
    });
    if let Some(out) = &a.output {
        let mut s = format!("{}\n", classes.iter().map(|c| format!("p_{c}")).collect::<Vec<_>>().join(","));
        for p in &probs {
            s.push_str(&p.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","));
            s.push('\n');
        }
        std::fs::write(out, s).with_context(|| format!("writing {}", out.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{:?}: fit {:.2}s; test accuracy {:.4}, macro-F1 {:.4}, log-loss {:.4} (majority: {:.4} / {:.4} / {:.4})",
            a.model,
            fit_seconds,
            report["test"]["accuracy"].as_f64().unwrap_or(f64::NAN),
            report["test"]["macro_f1"].as_f64().unwrap_or(f64::NAN),
            report["test"]["log_loss"].as_f64().unwrap_or(f64::NAN),
            report["majority_baseline"]["accuracy"].as_f64().unwrap_or(f64::NAN),
            report["majority_baseline"]["macro_f1"].as_f64().unwrap_or(f64::NAN),
            report["majority_baseline"]["log_loss"].as_f64().unwrap_or(f64::NAN),
        );
    }
    Ok(())
}
