#!/usr/bin/env python3
"""GBDT fit time at scale on SYNTHETIC data (labelled as such): 200 000 rows, 14 standard-normal
features, a 4-value categorical `symbol`, 3 classes from a noisy nonlinear score. Writes the CSVs
and times LightGBM (100 trees, learning rate 0.05, depth 6, default threads and one thread); then
time vane on the same file:

    python3 benches/gbdt_synthetic.py
    vane tabular --model gbdt --train target/bench-data/synthetic_gbdt_200k.csv \
        --test target/bench-data/synthetic_gbdt_test.csv --target label --categorical symbol \
        --iterations 100 --eval-fraction 0 [--json]        # RAYON_NUM_THREADS=1 for one thread
"""
import json
import pathlib
import time

import lightgbm
import numpy as np
import pandas as pd

root = pathlib.Path(__file__).resolve().parent.parent / "target/bench-data"
root.mkdir(parents=True, exist_ok=True)
r = np.random.default_rng(7)
n = 200_000
X = r.normal(size=(n, 14))
z = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + r.normal(scale=1.5, size=n)
y = np.digitize(z, [-0.6, 0.6])
df = pd.DataFrame(X, columns=[f"x{i}" for i in range(14)])
df["symbol"] = r.choice(["A", "B", "C", "D"], n)
df["label"] = y
df.to_csv(root / "synthetic_gbdt_200k.csv", index=False)
df.iloc[:1000].to_csv(root / "synthetic_gbdt_test.csv", index=False)

Xc = df.drop(columns=["label"])
Xc["symbol"] = Xc["symbol"].astype("category")
out = {"lightgbm": lightgbm.__version__}
for threads in (None, 1):
    p = dict(objective="multiclass", num_class=3, learning_rate=0.05, max_depth=6, num_leaves=63, n_estimators=100,
             verbose=-1)
    if threads:
        p["n_jobs"] = threads
    m = lightgbm.LGBMClassifier(**p)
    t = time.perf_counter()
    m.fit(Xc, y)
    out["fit_seconds_" + ("1_thread" if threads else "default_threads")] = time.perf_counter() - t
print(json.dumps(out, indent=1))
