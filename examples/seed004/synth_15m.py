#!/usr/bin/env python3
"""SYNTHETIC 15m candles for smoke-testing examples/seed004/tft_tiny.toml (no real 15m futures
data of four months is bundled: fixtures/SOLUSDT_15m.csv covers two weeks, the Bybit perp 1m
fixture half a day). A geometric random walk with slowly changing volatility, seeded, so every
run writes the same files. NOT market data: scores on it say nothing about a strategy.

    python3 examples/seed004/synth_15m.py OUT_DIR [DAYS]     # writes OUT_DIR/{BTCUSDT,ETHUSDT}_15m.csv
"""
import math
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "synthetic"
days = int(sys.argv[2]) if len(sys.argv) > 2 else 120
os.makedirs(out, exist_ok=True)
bars = days * 96
start = 1_704_067_200_000  # 2024-01-01 00:00 UTC
for k, (symbol, price, base_vol) in enumerate([("BTCUSDT", 42_000.0, 0.0030), ("ETHUSDT", 2_300.0, 0.0038)]):
    rng = random.Random(4004 + k)
    vol = base_vol
    with open(os.path.join(out, f"{symbol}_15m.csv"), "w") as f:
        f.write("open_time_ms,open,high,low,close,volume\n")
        for i in range(bars):
            vol = max(0.3 * base_vol, min(3.0 * base_vol, vol * math.exp(rng.gauss(0.0, 0.05))))
            o = price
            c = o * math.exp(rng.gauss(0.0, vol))
            h = max(o, c) * (1.0 + abs(rng.gauss(0.0, vol / 2)))
            lo = min(o, c) * (1.0 - abs(rng.gauss(0.0, vol / 2)))
            v = 100.0 * math.exp(rng.gauss(0.0, 0.5)) * (1.0 + 50.0 * abs(c / o - 1.0))
            f.write(f"{start + i * 900_000},{o:.4f},{h:.4f},{lo:.4f},{c:.4f},{v:.4f}\n")
            price = c
    print(f"{out}/{symbol}_15m.csv: {bars} bars ({days} days), SYNTHETIC")
