#!/usr/bin/env python3
"""GBDT fit time and held-out log-loss at scale on SYNTHETIC data (labelled as such): vane vs
LightGBM, side by side, on the same CSVs.

Data: `--rows` training rows (200 000 and 2 000 000 by default) of 14 standard-normal features, a
4-value categorical `symbol` and 3 classes from a noisy nonlinear score (seed 7); the held-out
test set is a SEPARATE draw of 50 000 rows from the same process (seed 8). Both models: 3-class
softmax, 100 trees, learning rate 0.05, depth 6 (LightGBM: num_leaves 63), no early stopping,
`symbol` categorical.

Timing: the clock covers fit + predicting the test rows for both (vane's `fit_seconds` from
`vane tabular --json`, which covers both; LightGBM's `lightgbm.train` — dataset construction
included — + `predict`, in-process), so CSV parsing is outside it for both. Runs alternate (vane
before, vane after, LightGBM) for each thread count, `--repeats` times; the medians and ranges
are printed with the ratio to LightGBM. On a loaded machine LightGBM's OpenMP threads spin at
their barriers and its 2-thread time collapses (see docs/benchmarks.md); compare 1-thread
figures there, or set OMP_WAIT_POLICY=passive.

    pip install lightgbm pandas numpy            # optional bench dependencies, not test ones
    cargo build --release --offline -p vane-cli
    python3 benches/gbdt_synthetic.py [--rows 200000 2000000] [--repeats 3] [--threads 2 1] \
        [--vane target/release/vane] [--before /tmp/gbdt-before-target/release/vane]

One vane run by hand (RAYON_NUM_THREADS=1 for one thread):

    target/release/vane tabular --model gbdt --train target/bench-data/synthetic_gbdt_200000.csv \
        --test target/bench-data/synthetic_gbdt_test.csv --target label --categorical symbol \
        --iterations 100 --eval-fraction 0 --json
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import time

import lightgbm
import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "target/bench-data"


def draw(n, seed):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 14))
    z = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + r.normal(scale=1.5, size=n)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(14)])
    df["symbol"] = r.choice(["A", "B", "C", "D"], n)
    df["label"] = np.digitize(z, [-0.6, 0.6])
    return df


def csv_for(n, seed, name):
    path = DATA / name
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        draw(n, seed).to_csv(path, index=False)
    return path


def log_loss(y, p):
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-15, 1.0))))


def run_vane(binary, train, test, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "tabular", "--model", "gbdt", "--train", str(train), "--test", str(test),
                          "--target", "label", "--categorical", "symbol", "--iterations", "100",
                          "--eval-fraction", "0", "--json"], env=env, check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    r = r.get("data", r)
    return r["fit_seconds"], r["test"]["log_loss"]


def run_lightgbm(Xtr, ytr, Xte, yte, threads):
    params = dict(objective="multiclass", num_class=3, learning_rate=0.05, max_depth=6, num_leaves=63,
                  num_threads=threads, verbose=-1)
    t = time.perf_counter()
    m = lightgbm.train(params, lightgbm.Dataset(Xtr, label=ytr), num_boost_round=100)
    p = m.predict(Xte)
    return time.perf_counter() - t, log_loss(yte, p)


def frame(df):
    X = df.drop(columns=["label"])
    X["symbol"] = pd.Categorical(X["symbol"], categories=["A", "B", "C", "D"])
    return X, df["label"].to_numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[200_000, 2_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--vane", default=str(ROOT / "target/release/vane"))
    ap.add_argument("--before", help="a second vane binary (the code before a change), timed alongside")
    a = ap.parse_args()
    test = csv_for(50_000, 8, "synthetic_gbdt_test.csv")
    Xte, yte = frame(pd.read_csv(test))
    contenders = ([("vane_before", a.before)] if a.before else []) + [("vane", a.vane)]
    report = {"lightgbm": lightgbm.__version__, "test_rows": len(yte), "results": []}
    for n in a.rows:
        train = csv_for(n, 7, f"synthetic_gbdt_{n}.csv")
        Xtr, ytr = frame(pd.read_csv(train))
        for threads in a.threads:
            times = {name: [] for name, _ in contenders}
            times["lightgbm"] = []
            losses = {}
            for _ in range(a.repeats):
                for name, binary in contenders:
                    s, ll = run_vane(binary, train, test, threads)
                    times[name].append(s)
                    losses[name] = ll
                s, ll = run_lightgbm(Xtr, ytr, Xte, yte, threads)
                times["lightgbm"].append(s)
                losses["lightgbm"] = ll
            lgb = statistics.median(times["lightgbm"])
            row = {"rows": n, "threads": threads}
            for name, ts in times.items():
                med = statistics.median(ts)
                row[name] = {"median_s": round(med, 3), "min_s": round(min(ts), 3), "max_s": round(max(ts), 3),
                             "ratio_to_lightgbm": round(med / lgb, 3), "test_log_loss": round(losses[name], 5)}
                print(f"{n:>9} rows {threads} thr  {name:<12} {med:7.3f} s  (range {min(ts):.3f}–{max(ts):.3f})"
                      f"  {med / lgb:5.2f}× LightGBM  held-out log-loss {losses[name]:.5f}", flush=True)
            report["results"].append(row)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
