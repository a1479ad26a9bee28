#!/usr/bin/env python3
"""LightGBM and CatBoost on the same seed 001 dataset as `vane tabular --model gbdt`.

    cargo run --release -p vane-tabular --example fixture_dataset
    pip install lightgbm catboost scikit-learn pandas
    python3 benches/gbdt_compare.py            # prints JSON per library

Same protocol as the CLI: multiclass, learning rate 0.05, depth 6, at most 500 trees, early
stopping (50 rounds) on the last 20 % of the (time-ordered) training rows, `symbol` categorical;
test log-loss and macro-F1 on the held-out later period. Fit time is wall clock of `fit` with
the library's default threads and with one thread.
"""
import json
import pathlib
import time

import catboost
import lightgbm
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, log_loss

root = pathlib.Path(__file__).resolve().parent.parent / "target/bench-data"
train = pd.read_csv(root / "gbdt_train.csv")
test = pd.read_csv(root / "gbdt_test.csv")
classes = sorted(set(train.label) | set(test.label))
ytr = train.label.map(classes.index).to_numpy()
yte = test.label.map(classes.index).to_numpy()
feats = [c for c in train.columns if c not in ("open_time_ms", "label")]
cut = int(round(len(train) * 0.8))
out = {}

for threads in (None, 1):
    tag = "default_threads" if threads is None else "1_thread"
    Xtr = train[feats].copy()
    Xte = test[feats].copy()
    Xtr["symbol"] = Xtr["symbol"].astype("category")
    Xte["symbol"] = pd.Categorical(Xte["symbol"], categories=Xtr["symbol"].cat.categories)
    params = dict(objective="multiclass", num_class=len(classes), learning_rate=0.05, max_depth=6, num_leaves=63,
                  n_estimators=500, verbose=-1)
    if threads:
        params["n_jobs"] = threads
    m = lightgbm.LGBMClassifier(**params)
    t = time.perf_counter()
    m.fit(Xtr.iloc[:cut], ytr[:cut], eval_set=[(Xtr.iloc[cut:], ytr[cut:])], callbacks=[lightgbm.early_stopping(50, verbose=False)])
    fit = time.perf_counter() - t
    p = m.predict_proba(Xte)
    out[f"lightgbm_{tag}"] = {"fit_seconds": fit, "trees": int(m.best_iteration_ or m.n_estimators), "log_loss": log_loss(yte, p, labels=range(len(classes))),
                              "macro_f1": f1_score(yte, p.argmax(1), average="macro")}

    c = catboost.CatBoostClassifier(loss_function="MultiClass", learning_rate=0.05, depth=6, iterations=500,
                                    od_type="Iter", od_wait=50, use_best_model=True, verbose=False,
                                    thread_count=threads or -1, random_seed=0)
    t = time.perf_counter()
    c.fit(train[feats].iloc[:cut], ytr[:cut], cat_features=["symbol"], eval_set=(train[feats].iloc[cut:], ytr[cut:]))
    fit = time.perf_counter() - t
    p = c.predict_proba(test[feats])
    out[f"catboost_{tag}"] = {"fit_seconds": fit, "trees": int(c.get_best_iteration() + 1), "log_loss": log_loss(yte, p, labels=range(len(classes))),
                              "macro_f1": f1_score(yte, p.argmax(1), average="macro")}

out["versions"] = {"lightgbm": lightgbm.__version__, "catboost": catboost.__version__}
print(json.dumps(out, indent=1))
