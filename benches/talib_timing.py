#!/usr/bin/env python3
"""Time TA-Lib (the Python wheel, which bundles the C library) on the same 1,000,000 synthetic
bars the Rust criterion bench uses (`target/bench-data/synthetic_1m.csv`, written by
`cargo bench -p vane-indicators --bench indicators`).

Prints JSON {name: median milliseconds} for each TA-Lib call that vane's `talib` set makes,
with the same parameters, and their sum. Usage:

    pip install TA-Lib numpy
    python3 benches/talib_timing.py > target/bench-data/talib_times.json
"""
import json
import pathlib
import statistics
import sys
import time

import numpy as np
import talib

root = pathlib.Path(__file__).resolve().parent.parent
data = np.loadtxt(root / "target/bench-data/synthetic_1m.csv", delimiter=",", skiprows=1)
o, h, l, c, v = (np.ascontiguousarray(data[:, k]) for k in range(5))

calls = {
    "SMA": lambda: talib.SMA(c, 30),
    "EMA": lambda: talib.EMA(c, 50),
    "KAMA": lambda: talib.KAMA(c, 30),
    "T3": lambda: talib.T3(c, 5, 0.7),
    "RSI": lambda: talib.RSI(c, 14),
    "MACD": lambda: talib.MACD(c, 12, 26, 9),
    "STOCH": lambda: talib.STOCH(h, l, c, 14, 3, 0, 3, 0),
    "CCI": lambda: talib.CCI(h, l, c, 20),
    "WILLR": lambda: talib.WILLR(h, l, c, 14),
    "ROC": lambda: talib.ROC(c, 10),
    "MOM": lambda: talib.MOM(c, 10),
    "ULTOSC": lambda: talib.ULTOSC(h, l, c, 7, 14, 28),
    "MFI": lambda: talib.MFI(h, l, c, v, 14),
    "TRIX": lambda: talib.TRIX(c, 30),
    "PPO": lambda: talib.PPO(c, 12, 26, 0),
    "AROON": lambda: talib.AROON(h, l, 14),
    "AROONOSC": lambda: talib.AROONOSC(h, l, 14),
    "DX": lambda: talib.DX(h, l, c, 14),
    "PLUS_DI": lambda: talib.PLUS_DI(h, l, c, 14),
    "MINUS_DI": lambda: talib.MINUS_DI(h, l, c, 14),
    "ADX": lambda: talib.ADX(h, l, c, 14),
    "SAR": lambda: talib.SAR(h, l, 0.02, 0.2),
    "TRANGE": lambda: talib.TRANGE(h, l, c),
    "ATR": lambda: talib.ATR(h, l, c, 14),
    "NATR": lambda: talib.NATR(h, l, c, 14),
    "BBANDS": lambda: talib.BBANDS(c, 20, 2, 2, 0),
    "OBV": lambda: talib.OBV(c, v),
    "AD": lambda: talib.AD(h, l, c, v),
    "ADOSC": lambda: talib.ADOSC(h, l, c, v, 3, 10),
}

# The TA-Lib calls vane's `talib` set replaces (every oracle column TA-Lib computes).
TALIB_SET = ["RSI", "MACD", "ADX", "PLUS_DI", "MINUS_DI", "DX", "ATR", "NATR", "TRANGE", "BBANDS", "EMA", "SMA",
             "STOCH", "CCI", "WILLR", "ROC", "ULTOSC", "MFI", "OBV", "AD", "ADOSC", "SAR", "AROON", "AROONOSC",
             "TRIX", "MOM", "PPO", "KAMA", "T3"]

def median_ms(f, repeat=7):
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)

out = {name: median_ms(f) for name, f in calls.items()}
out["_talib_set_sum"] = sum(out[n] for n in TALIB_SET)
out["_talib_version"] = talib.__version__
out["_bars"] = int(len(c))
json.dump(out, sys.stdout, indent=1)
print()
