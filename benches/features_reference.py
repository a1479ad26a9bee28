#!/usr/bin/env python3
"""The pandas + TA-Lib reference for vane's `talib` feature set (47 columns), as a pandas user
writes it: TA-Lib's 29 calls on numpy arrays (35 columns) plus pandas rolling windows for the 12
columns TA-Lib has no call for (CMF 20, Donchian 20, Vortex 14, Ichimoku 9/26/52 raw and shifted),
with the definitions of docs/indicators.md.

Optional bench dependencies (never needed by the tests):

    python3 -m venv /tmp/talibenv && /tmp/talibenv/bin/pip install TA-Lib pandas pyarrow numpy

Usage (benches/data_path.sh runs it on the CSV the Rust bench writes):

    features_reference.py IN.csv                 # JSON: median ms of compute only and of the job end to end
    features_reference.py IN.csv --job OUT.parquet   # the job once (for /usr/bin/time -v)
    features_reference.py IN.csv --check VANE.parquet  # compare every column with vane's output

The job end to end: `pd.read_csv` → the 47 columns → `DataFrame.to_parquet` (pandas' defaults:
pyarrow, snappy).
"""
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
import talib

COLUMNS = [
    "rsi_14", "macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9", "adx_14", "plus_di_14",
    "minus_di_14", "dx_14", "atr_14", "natr_14", "trange", "bb_upper_20_2", "bb_middle_20_2",
    "bb_lower_20_2", "ema_50", "sma_30", "stoch_slowk_14_3_3", "stoch_slowd_14_3_3", "cci_20",
    "willr_14", "roc_10", "ultosc_7_14_28", "mfi_14", "obv", "ad", "adosc_3_10", "sar_0.02_0.2",
    "aroon_up_14", "aroon_down_14", "aroonosc_14", "trix_30", "mom_10", "ppo_12_26_sma", "kama_30",
    "t3_5_0.7", "cmf_20", "donchian_upper_20", "donchian_lower_20", "donchian_middle_20",
    "vortex_plus_14", "vortex_minus_14", "ichimoku_tenkan_9", "ichimoku_kijun_26",
    "ichimoku_senkou_a_raw", "ichimoku_senkou_b_raw", "ichimoku_senkou_a_shift26",
    "ichimoku_senkou_b_shift26",
]


def features(df):
    """The 47 columns of vane's `talib` set, in its order."""
    h = df["high"].to_numpy(dtype=np.float64)
    l = df["low"].to_numpy(dtype=np.float64)
    c = df["close"].to_numpy(dtype=np.float64)
    v = df["volume"].to_numpy(dtype=np.float64)
    out = {}
    out["rsi_14"] = talib.RSI(c, 14)
    out["macd_12_26_9"], out["macd_signal_12_26_9"], out["macd_hist_12_26_9"] = talib.MACD(c, 12, 26, 9)
    out["adx_14"] = talib.ADX(h, l, c, 14)
    out["plus_di_14"] = talib.PLUS_DI(h, l, c, 14)
    out["minus_di_14"] = talib.MINUS_DI(h, l, c, 14)
    out["dx_14"] = talib.DX(h, l, c, 14)
    out["atr_14"] = talib.ATR(h, l, c, 14)
    out["natr_14"] = talib.NATR(h, l, c, 14)
    out["trange"] = talib.TRANGE(h, l, c)
    out["bb_upper_20_2"], out["bb_middle_20_2"], out["bb_lower_20_2"] = talib.BBANDS(c, 20, 2, 2, 0)
    out["ema_50"] = talib.EMA(c, 50)
    out["sma_30"] = talib.SMA(c, 30)
    out["stoch_slowk_14_3_3"], out["stoch_slowd_14_3_3"] = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    out["cci_20"] = talib.CCI(h, l, c, 20)
    out["willr_14"] = talib.WILLR(h, l, c, 14)
    out["roc_10"] = talib.ROC(c, 10)
    out["ultosc_7_14_28"] = talib.ULTOSC(h, l, c, 7, 14, 28)
    out["mfi_14"] = talib.MFI(h, l, c, v, 14)
    out["obv"] = talib.OBV(c, v)
    out["ad"] = talib.AD(h, l, c, v)
    out["adosc_3_10"] = talib.ADOSC(h, l, c, v, 3, 10)
    out["sar_0.02_0.2"] = talib.SAR(h, l, 0.02, 0.2)
    out["aroon_down_14"], out["aroon_up_14"] = talib.AROON(h, l, 14)
    out["aroonosc_14"] = talib.AROONOSC(h, l, 14)
    out["trix_30"] = talib.TRIX(c, 30)
    out["mom_10"] = talib.MOM(c, 10)
    out["ppo_12_26_sma"] = talib.PPO(c, 12, 26, 0)
    out["kama_30"] = talib.KAMA(c, 30)
    out["t3_5_0.7"] = talib.T3(c, 5, 0.7)

    # The 12 columns TA-Lib has no call for: pandas rolling windows.
    hs, ls, cs, vs = df["high"], df["low"], df["close"], df["volume"]
    rng = hs - ls
    mfm = (((cs - ls) - (hs - cs)) / rng).where(rng != 0, 0.0)
    out["cmf_20"] = (mfm * vs).rolling(20).sum() / vs.rolling(20).sum()
    upper, lower = hs.rolling(20).max(), ls.rolling(20).min()
    out["donchian_upper_20"], out["donchian_lower_20"] = upper, lower
    out["donchian_middle_20"] = (upper + lower) / 2
    prev_c, prev_h, prev_l = cs.shift(1), hs.shift(1), ls.shift(1)
    tr = np.maximum(hs, prev_c) - np.minimum(ls, prev_c)
    tr_sum = tr.rolling(14).sum()
    out["vortex_plus_14"] = (hs - prev_l).abs().rolling(14).sum() / tr_sum
    out["vortex_minus_14"] = (ls - prev_h).abs().rolling(14).sum() / tr_sum
    tenkan = (hs.rolling(9).max() + ls.rolling(9).min()) / 2
    kijun = (hs.rolling(26).max() + ls.rolling(26).min()) / 2
    span_a = (tenkan + kijun) / 2
    span_b = (hs.rolling(52).max() + ls.rolling(52).min()) / 2
    out["ichimoku_tenkan_9"], out["ichimoku_kijun_26"] = tenkan, kijun
    out["ichimoku_senkou_a_raw"], out["ichimoku_senkou_b_raw"] = span_a, span_b
    out["ichimoku_senkou_a_shift26"] = span_a.shift(26)
    out["ichimoku_senkou_b_shift26"] = span_b.shift(26)
    return {name: out[name] for name in COLUMNS}


def job(csv_path, out_path):
    """The feature job end to end: CSV → 47 columns → parquet."""
    df = pd.read_csv(csv_path)
    cols = features(df)
    frame = pd.DataFrame({"open_time_ms": df["open_time_ms"], **{k: np.asarray(v) for k, v in cols.items()}})
    frame.to_parquet(out_path, index=False)


def median_ms(f, repeat=5):
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def check(csv_path, vane_parquet):
    """Every column against vane's: TA-Lib's exactly where vane is TA-Lib-exact, pandas' rolling
    sums within rounding."""
    ref = features(pd.read_csv(csv_path))
    vane = pd.read_parquet(vane_parquet)
    worst = {}
    for name in COLUMNS:
        a = np.asarray(ref[name], dtype=np.float64)
        b = vane[name].to_numpy(dtype=np.float64, na_value=np.nan)
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if not np.array_equal(nan_a, nan_b):
            k = int(np.argmax(nan_a != nan_b))
            raise SystemExit(f"{name}: NaN pattern differs first at row {k} (reference {a[k]}, vane {b[k]})")
        ok = ~nan_a
        # Relative to the column's typical size: running sums (TA-Lib's and pandas' alike) leave
        # rounding residue of ~1e-13 where a value crosses zero.
        scale = max(float(np.mean(np.abs(a[ok]))), 1e-300) if ok.any() else 1.0
        rel = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(a[ok]), scale)
        worst[name] = float(rel.max()) if rel.size else 0.0
    bad = {k: v for k, v in worst.items() if v > 1e-6}
    print(json.dumps({"columns": len(worst), "max_rel_diff": max(worst.values()), "over_1e-6": bad}))
    if bad:
        raise SystemExit(1)


def main():
    csv_path = sys.argv[1]
    if len(sys.argv) > 3 and sys.argv[2] == "--job":
        t = time.perf_counter()
        job(csv_path, sys.argv[3])
        print(f"{(time.perf_counter() - t) * 1000.0:.0f}", file=sys.stderr)
        return
    if len(sys.argv) > 3 and sys.argv[2] == "--check":
        check(csv_path, sys.argv[3])
        return
    df = pd.read_csv(csv_path)
    out = {
        "compute_ms": median_ms(lambda: features(df)),
        "read_csv_ms": median_ms(lambda: pd.read_csv(csv_path)),
        "end_to_end_ms": median_ms(lambda: job(csv_path, "/tmp/vane_features_reference.parquet")),
        "talib": talib.__version__,
        "pandas": pd.__version__,
        "bars": int(len(df)),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
