#!/usr/bin/env python3
"""Prints vane's criterion medians next to TA-Lib's times on the same data, with ratios.

    cargo bench -p vane-indicators --bench indicators
    python3 benches/talib_timing.py > target/bench-data/talib_times.json
    python3 benches/compare_talib.py
"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
crit = root / "target/criterion"
talib = json.loads((root / "target/bench-data/talib_times.json").read_text())

def vane_ms(group, name):
    p = crit / group / name / "new/estimates.json"
    return json.loads(p.read_text())["median"]["point_estimate"] / 1e6 if p.exists() else None

# vane indicator -> the TA-Lib calls it covers (DX gives +DI, -DI and DX; AROON gives up/down/osc).
pairs = {
    "SMA": ["SMA"], "EMA": ["EMA"], "KAMA": ["KAMA"], "T3": ["T3"], "RSI": ["RSI"], "MACD": ["MACD"],
    "STOCH": ["STOCH"], "CCI": ["CCI"], "WILLR": ["WILLR"], "ROC": ["ROC"], "MOM": ["MOM"],
    "ULTOSC": ["ULTOSC"], "MFI": ["MFI"], "TRIX": ["TRIX"], "PPO": ["PPO"], "AROON": ["AROON", "AROONOSC"],
    "DX": ["DX", "PLUS_DI", "MINUS_DI"], "ADX": ["ADX"], "SAR": ["SAR"], "TRANGE": ["TRANGE"], "ATR": ["ATR"],
    "NATR": ["NATR"], "BBANDS": ["BBANDS"], "OBV": ["OBV"], "AD": ["AD"], "ADOSC": ["ADOSC"],
}
print(f"{'indicator':<10} {'vane ms':>9} {'TA-Lib ms':>10} {'vane/TA-Lib':>12}")
for name, calls in pairs.items():
    v = vane_ms("indicator_1M", name)
    t = sum(talib[c] for c in calls)
    if v is not None:
        print(f"{name:<10} {v:9.2f} {t:10.2f} {v / t:12.2f}")
for group, what in [("set_1M", "fresh frame"), ("set_1M_reused", "reused frame")]:
    s = vane_ms(group, "talib")
    if s is not None:
        print(f"talib set, 47 columns in one pass, {what}: {s:.1f} ms; sum of the 29 TA-Lib calls: {talib['_talib_set_sum']:.1f} ms; ratio {s / talib['_talib_set_sum']:.2f}")
for st in ["full", "talib", "v1"]:
    p = crit / "stream_per_bar" / st / "new/estimates.json"
    if p.exists():
        print(f"streaming {st}: {json.loads(p.read_text())['median']['point_estimate']:.0f} ns per bar")
print(f"TA-Lib {talib['_talib_version']}, {talib['_bars']} bars")
