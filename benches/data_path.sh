#!/usr/bin/env bash
# The data path vs pandas + TA-Lib, in one run on the same 1,000,000 SYNTHETIC 1m bars:
#   * the `talib` set (47 columns), compute only: vane (fresh and reused frame) vs TA-Lib's 29 calls
#     + pandas rolling windows for the 12 columns TA-Lib lacks (benches/features_reference.py);
#   * the feature job end to end, CSV → 47 columns → parquet: vane's `features` path vs
#     pd.read_csv + the above + DataFrame.to_parquet;
#   * the same on one core (taskset -c 0), peak memory of the job (/usr/bin/time -v), the
#     streaming per-bar update, and that both sides compute the same columns.
#
# Usage:
#   python3 -m venv /tmp/talibenv && /tmp/talibenv/bin/pip install TA-Lib pandas pyarrow numpy
#   PYTHON=/tmp/talibenv/bin/python benches/data_path.sh
#   BEFORE=/path/to/an/older/data_path/binary PYTHON=... benches/data_path.sh   # adds "before" rows
#
# The vane side is the bench binary of crates/indicators/benches/data_path.rs (release profile),
# which runs the same library calls as `vane features --input X.csv --set talib --output Y.parquet`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
BEFORE=${BEFORE:-}
BIN=$(cargo bench -p vane-indicators --bench data_path --offline --no-run 2>&1 |
    sed -n 's/.*Executable.*(\(.*data_path-[0-9a-f]*\)).*/\1/p' | tail -1)
[ -x "$BIN" ] || { echo "could not build the data_path bench" >&2; exit 1; }
CSV=target/bench-data/data_path_1m.csv
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

peak_kb() { /usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'; }

echo "vane, 2 cores ..." >&2
"$BIN" > "$OUT/vane.json"
echo "vane, 1 core ..." >&2
taskset -c 0 "$BIN" > "$OUT/vane1.json"
echo '{}' > "$OUT/before.json"; echo '{}' > "$OUT/before1.json"
if [ -n "$BEFORE" ]; then
    echo "before, 2 cores / 1 core ..." >&2
    "$BEFORE" "$CSV" > "$OUT/before.json"
    taskset -c 0 "$BEFORE" "$CSV" > "$OUT/before1.json"
fi
echo "pandas + TA-Lib, 2 cores / 1 core ..." >&2
"$PY" benches/features_reference.py "$CSV" > "$OUT/ref.json"
taskset -c 0 "$PY" benches/features_reference.py "$CSV" > "$OUT/ref1.json"
echo "peak memory and column check ..." >&2
{
    echo "{\"vane\": $(peak_kb "$BIN" job "$CSV" "$OUT/v.parquet"),"
    if [ -n "$BEFORE" ]; then echo "\"before\": $(peak_kb "$BEFORE" job "$CSV" "$OUT/b.parquet"),"; fi
    echo "\"reference\": $(peak_kb "$PY" benches/features_reference.py "$CSV" --job "$OUT/r.parquet")}"
} > "$OUT/peak.json"
"$PY" benches/features_reference.py "$CSV" --check "$OUT/v.parquet" > "$OUT/check.json"
# The job once per process, the sides alternating round by round (on a shared machine this is the
# fairest figure: every side sees the same background load). pandas' time is taken inside Python,
# after its imports.
echo "one-shot jobs, alternating ..." >&2
ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); }
: > "$OUT/oneshot.txt"
for _ in 1 2 3 4 5; do
    v=$(ms "$BIN" job "$CSV" "$OUT/v.parquet")
    b=0; if [ -n "$BEFORE" ]; then b=$(ms "$BEFORE" job "$CSV" "$OUT/b.parquet"); fi
    r=$("$PY" benches/features_reference.py "$CSV" --job "$OUT/r.parquet" 2>&1 >/dev/null)
    echo "$v $b $r" >> "$OUT/oneshot.txt"
done

"$PY" - "$OUT" <<'EOF'
import json, pathlib, sys
d = pathlib.Path(sys.argv[1])
j = {k: json.loads((d / f"{k}.json").read_text()) for k in ["vane", "vane1", "before", "before1", "ref", "ref1", "peak", "check"]}
print(f"1,000,000 SYNTHETIC 1m bars ({j['vane']['csv']}); TA-Lib {j['ref']['talib']}, pandas {j['ref']['pandas']}")
print(f"columns check (reference vs vane): {j['check']}")
print()
print("| job | cores | pandas + TA-Lib ms | vane before ms | vane ms | before / ref | vane / ref |")
print("|---|---|---|---|---|---|---|")
def row(name, key, ref_key, cores):
    v, b, r = (j["vane1" if cores == 1 else "vane"], j["before1" if cores == 1 else "before"], j["ref1" if cores == 1 else "ref"])
    rv = r[ref_key]
    bv = b.get(key)
    bs, br = (f"{bv:,.0f}", f"{bv / rv:.2f}×") if bv else ("–", "–")
    print(f"| {name} | {cores} | {rv:,.0f} | {bs} | {v[key]:,.0f} | {br} | {v[key] / rv:.2f}× |")
for cores in (2, 1):
    row("`talib` set compute, fresh frame", "compute_fresh_ms", "compute_ms", cores)
    row("`talib` set compute, reused frame", "compute_reused_ms", "compute_ms", cores)
    row("CSV → 47 columns → parquet, end to end", "end_to_end_ms", "end_to_end_ms", cores)
print()
print("| part (vane, 2 cores) | before ms | vane ms | pandas ms |")
print("|---|---|---|---|")
for k, rk in [("read_csv_ms", "read_csv_ms"), ("compute_fresh_ms", "compute_ms"), ("write_parquet_ms", None)]:
    b = j["before"].get(k)
    print(f"| {k} | {b if b else '–'} | {j['vane'][k]} | {j['ref'][rk] if rk else '–'} |")
print()
print(f"streaming per-bar update: talib {j['vane']['stream_talib_ns_per_bar']} ns, full {j['vane']['stream_full_ns_per_bar']} ns"
      f" (before: {j['before'].get('stream_talib_ns_per_bar', '–')} / {j['before'].get('stream_full_ns_per_bar', '–')} ns)")
rounds = [list(map(float, l.split())) for l in (d / "oneshot.txt").read_text().split("\n") if l.strip()]
med = lambda k: sorted(r[k] for r in rounds)[len(rounds) // 2]
v, b, r = med(0), med(1), med(2)
print(f"the job once per process, 5 alternating rounds, median ms: vane {v:,.0f} ({v / r:.2f}×)"
      + (f", before {b:,.0f} ({b / r:.2f}×)" if b else "") + f", pandas + TA-Lib {r:,.0f}")
p = j["peak"]
print("peak RSS of the job once (MiB): " + ", ".join(f"{k} {v / 1024:,.0f}" for k, v in p.items()))
print(f"parquet bytes: vane {j['vane']['parquet_bytes']:,}" + (f", before {j['before']['parquet_bytes']:,}" if j['before'] else ""))
EOF
