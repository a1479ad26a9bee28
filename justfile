# vane recipes. Each is a plain cargo command; `just --list` shows them.

# Run the whole test suite (the README's test command).
test:
    cargo test --workspace

# Formatting and clippy, as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# The demo on the bundled real candles.
demo:
    cargo run --release -p vane-cli -- demo

# Criterion benchmarks (store, CSV, indicators and feature sets on synthetic data).
bench:
    cargo bench -p vane-market-data --bench store
    cargo bench -p vane-indicators --bench indicators

# Indicator timings against TA-Lib on the same data (needs `pip install TA-Lib numpy`).
bench-talib:
    cargo bench -p vane-indicators --bench indicators
    python3 benches/talib_timing.py > target/bench-data/talib_times.json
    python3 benches/compare_talib.py

# Download seed 001's universe (Binance spot 4h, 3 years) into data/.
download-seed001:
    cargo run --release -p vane-cli -- download --exchange binance-spot --symbols-file examples/universes/binance_spot_majors.txt --interval 4h --since-days 1095

# Download seed 004's universe (Bybit linear perpetuals 15m, 3 years) into data/.
download-seed004:
    cargo run --release -p vane-cli -- download --exchange bybit-linear --symbols-file examples/universes/bybit_linear_51.txt --interval 15m --since-days 1095

# Seed 001 end to end on stored candles (download first: `just download-seed001`).
seed001:
    cargo run --release -p vane-cli -- train --config examples/seed001.toml --mode quality
    cargo run --release -p vane-cli -- predict --symbol BTCUSDT
    cargo run --release -p vane-cli -- predict --symbol ETHUSDT

# Seed 003 on the bundled BTCUSDT 4h candles: train/test of the Lorentzian network, walk-forward
# optimisation of the kNN scan and of the network; the runs land in vane-seed003/runs (the dashboard:
# `vane serve --runs-dir vane-seed003/runs`, then open http://127.0.0.1:8080/).
seed003:
    cargo run --release -p vane-cli -- import --csv fixtures/BTCUSDT_4h.csv --symbol BTCUSDT --interval 4h --data-dir vane-seed003/data
    cargo run --release -p vane-cli -- train-test --model lorentzian --symbol BTCUSDT --interval 4h --data-days 90 --test-size 0.2 --epochs 50 --lr 0.001 --batch-size 64 --data-dir vane-seed003/data --save-path vane-seed003/models/trained --runs-dir vane-seed003/runs
    cargo run --release -p vane-cli -- wfo --model lorentzian-knn --symbol BTCUSDT --interval 4h --data-days 180 --window-size 30 --test-size 7 --optimize-metric sharpe_ratio --data-dir vane-seed003/data --out vane-seed003/models/wfo-knn --runs-dir vane-seed003/runs
    cargo run --release -p vane-cli -- wfo --model lorentzian --symbol BTCUSDT --interval 4h --data-days 180 --window-size 30 --test-size 7 --epochs 30 --optimize-metric sharpe_ratio --data-dir vane-seed003/data --out vane-seed003/models/wfo-lorentzian --runs-dir vane-seed003/runs
    cargo run --release -p vane-cli -- runs list --runs-dir vane-seed003/runs

# Seed 004 end to end against a local PostgreSQL (.ci/pg.sh starts a throwaway one), on the
# SYNTHETIC 15m candles examples/seed004/README.md trains tft_tiny on (BTCUSDT, ETHUSDT, 120 days):
# db migrate, import, prepare (49 features + ladder targets), train tft_tiny for one epoch (its
# walk-forward predictions, model and splits into the database), predict, the analytics views.
# Its own database `vane_seed004` (re-running is idempotent); files in vane-seed004/.
seed004:
    #!/usr/bin/env bash
    set -euo pipefail
    eval "$(bash .ci/pg.sh)"
    psql "$DATABASE_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = 'vane_seed004'" | grep -q 1 || psql "$DATABASE_URL" -qc "CREATE DATABASE vane_seed004"
    URL="${DATABASE_URL%/*}/vane_seed004"
    cargo build --release -p vane-cli
    vane=./target/release/vane
    python3 examples/seed004/synth_15m.py vane-seed004/synth 120
    $vane db migrate --database-url "$URL"
    for s in BTCUSDT ETHUSDT; do $vane import --database-url "$URL" --csv vane-seed004/synth/${s}_15m.csv --symbol $s --interval 15m; done
    $vane prepare --database-url "$URL" --symbols BTCUSDT,ETHUSDT --interval 15m
    $vane train --config examples/seed004/tft_tiny.toml --database-url "$URL" --set train.epochs=1 --artifacts-dir vane-seed004/artifacts --runs-dir vane-seed004/runs
    model=$(psql "$URL" -tAc "SELECT model_id FROM model_metadata ORDER BY created_at DESC LIMIT 1")
    for s in BTCUSDT ETHUSDT; do $vane predict --database-url "$URL" --symbol $s --model-id "$model" --artifacts-dir vane-seed004/artifacts; done
    psql "$URL" -c "SELECT model_id, kind, artifact_path, metrics->'walk_forward_regression'->'pooled' AS wf_pooled FROM model_metadata"
    psql "$URL" -c "SELECT symbol, split, window_index, to_timestamp(start_ms/1000) AS start_time, to_timestamp(end_ms/1000) AS end_time, rows FROM training_sequences ORDER BY symbol, window_index, split"
    psql "$URL" -c "SELECT symbol, count(*) AS rows, count(realised) AS realised, min(open_time) AS first, max(open_time) AS last FROM model_predictions GROUP BY symbol"
    psql "$URL" -c "SELECT * FROM model_symbol_metrics"
    psql "$URL" -c "SELECT * FROM model_symbol_ladder"
    psql "$URL" -c "SELECT * FROM model_daily_metrics ORDER BY day DESC, symbol LIMIT 6"
    psql "$URL" -c "SELECT symbol, open_time, horizon, prediction, realised FROM model_predictions WHERE realised IS NULL ORDER BY symbol"

# The three sequence models on the demo's store (run `just demo` first).
# Seed 000's stack, fast sanity, on the bundled real 1 s day (offline; docs/stacking.md).
seed000:
    cargo run --release -p vane-cli -- import --csv fixtures/coinbase/BTCUSD_1s.csv --symbol BTCUSD --interval 1s --data-dir vane-seed000/data
    cargo run --release -p vane-cli -- stack train --config examples/seed000.toml --fast-sanity --symbols BTCUSD --data-dir vane-seed000/data --artifacts-dir vane-seed000/artifacts --runs-dir vane-seed000/runs
    cargo run --release -p vane-cli -- stack predict --tags 1s,10s,15s --symbol BTCUSD --data-dir vane-seed000/data --artifacts-dir vane-seed000/artifacts --json

sequence:
    cargo run --release -p vane-cli -- train --config examples/sequence/hrm.toml --data-dir vane-demo/data --artifacts-dir vane-demo/artifacts
    cargo run --release -p vane-cli -- train --config examples/sequence/cnn_lstm.toml --data-dir vane-demo/data --artifacts-dir vane-demo/artifacts
    cargo run --release -p vane-cli -- train --config examples/sequence/tft_expected_return.toml --data-dir vane-demo/data --artifacts-dir vane-demo/artifacts

# Training throughput of the sequence models beside PyTorch (needs `pip install torch`).
bench-train:
    cargo build --release -p vane-cli
    for m in hrm cnn-lstm tft; do ./target/release/vane bench-train --model $m --json; python3 benches/torch_models.py --model $m --json; done

# The bot example: load artifacts, feed bars one at a time, act on decisions.
bot:
    cargo run --release -p vane --example bot

# What CI runs.
ci:
    bash .ci/run

# The HTTP API over the demo's store and models (run `just demo` first; put a token of 16+
# characters in vane-demo/token.txt to allow train=true, cancel and reload).
serve:
    cargo run --release -p vane-cli -- serve --data-dir vane-demo/data --artifacts-dir vane-demo/artifacts --token-file vane-demo/token.txt --model-tag global --stream-symbols BTCUSDT,ETHUSDT

# A separate worker process for the service's training jobs.
worker:
    cargo run --release -p vane-cli -- worker --data-dir vane-demo/data --artifacts-dir vane-demo/artifacts

# The service's loopback load test and new-bar-to-stream time.
bench-serve:
    cargo bench -p vane-server --bench load
