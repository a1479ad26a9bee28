//! Degenerate windows in the `v1` and `full` sets: a flat price (zero range) or no volume over a
//! column's window. Such windows are everywhere on a sparse 1-second series put on a regular grid
//! (filled bars: open = high = low = close = previous close, volume 0); the columns that were 0/0
//! there have defined values (`docs/indicators.md`, "Degenerate windows"), warm-up stays NaN, and
//! nothing changes on windows that are not degenerate.

use vane_core::{Bar, Bars, Interval, Timestamp};
use vane_indicators::{FeatureFrame, FeatureSet};
use vane_testkit::fixture_bars;

/// FNV-1a over the bits of every value of a column (every NaN hashed as one canonical NaN, so
/// the hash is of the values, not of a NaN's payload).
fn column_hash(col: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in col {
        let bits = if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() };
        for b in bits.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// The real one-day BTC-USD 1 s fixture (4,063 bars with trades) on its regular 1 s grid.
fn grid_1s() -> Bars {
    let bars = fixture_bars("coinbase/BTCUSD_1s.csv", Interval::S1);
    vane_market_data::regularise(&bars, Interval::S1).unwrap().bars
}

/// The first row from which every column of `f` has been finite once (the end of warm-up).
fn warm_up_end(f: &FeatureFrame) -> usize {
    f.columns().iter().map(|c| c.iter().position(|v| v.is_finite()).unwrap_or(c.len())).max().unwrap_or(0)
}

/// 1-minute bars: `normal` bars of a zig-zag walk with volume, then `flat` bars at the last close
/// with volume 0 (what `regularise` fills an empty interval with).
fn normal_then_flat(normal: usize, flat: usize) -> Bars {
    let mut bars = Vec::new();
    let mut c = 100.0;
    for i in 0..normal {
        let o = c;
        c *= 1.0 + 0.004 * ((i as f64) * 0.7).sin() + if i % 3 == 0 { 0.002 } else { -0.001 };
        let (h, l) = (o.max(c) * 1.002, o.min(c) * 0.998);
        bars.push(Bar::ohlcv(Timestamp(i as i64 * 60_000), o, h, l, c, 5.0 + (i % 7) as f64));
    }
    for i in normal..normal + flat {
        bars.push(Bar::ohlcv(Timestamp(i as i64 * 60_000), c, c, c, c, 0.0));
    }
    Bars::from_bars(&bars).unwrap()
}

/// Each affected column, its degenerate value (`docs/indicators.md`), and how many flat bars
/// after a normal stretch make its window wholly degenerate.
const V1_DEGENERATE: &[(&str, f64, usize)] =
    &[("bb_pctb", 0.5, 20), ("vol_rel", 0.0, 1), ("cmf_20", 0.0, 20), ("obv_norm", 0.0, 30)];
const FULL_DEGENERATE: &[(&str, f64, usize)] = &[
    ("bb_pctb", 0.5, 20),
    ("donchian_pos", 0.5, 20),
    ("close_pos", 0.5, 1),
    ("obv_norm_20", 0.0, 20),
    ("cmf_20", 0.0, 20),
    ("volume_sma_ratio", 0.0, 5),
    ("volume_ratio_20", 0.0, 1),
    ("vortex_plus_14", 1.0, 14),
    ("vortex_minus_14", 1.0, 14),
];

#[test]
fn a_flat_volume_less_stretch_after_a_normal_one_has_the_documented_values() {
    let (normal, flat) = (150, 60);
    let bars = normal_then_flat(normal, flat);
    for (set, table) in [(FeatureSet::V1, V1_DEGENERATE), (FeatureSet::Full, FULL_DEGENERATE)] {
        let f = set.compute(&bars);
        let w = warm_up_end(&f);
        assert!(w < normal, "{set}: warm-up {w}");
        // Every column is finite on every row after warm-up, the flat stretch included.
        for (n, c) in f.names().iter().zip(f.columns()) {
            if let Some(i) = (w..f.len()).find(|&i| !c[i].is_finite()) {
                panic!("{set} {n} row {i}: {}", c[i]);
            }
        }
        for &(name, value, bars_needed) in table {
            let c = f.column(name).unwrap();
            for (i, &v) in c.iter().enumerate().skip(normal + bars_needed - 1) {
                assert_eq!(v, value, "{set} {name} row {i} ({} flat bars)", i + 1 - normal);
            }
            // Before the window is wholly flat the column still reads the normal bars.
            assert_ne!(c[normal - 1], value, "{set} {name} on the last normal bar");
        }
        // Warm-up rows stay NaN.
        assert!(f.column("bb_pctb").unwrap()[..19].iter().all(|v| v.is_nan()), "{set} bb_pctb warm-up");
        assert!(f.column("cmf_20").unwrap()[..19].iter().all(|v| v.is_nan()), "{set} cmf_20 warm-up");
    }
    let f = FeatureSet::V1.compute(&bars);
    assert!(f.column("vol_rel").unwrap()[..29].iter().all(|v| v.is_nan()));
    assert!(f.column("obv_norm").unwrap()[..30].iter().all(|v| v.is_nan()));
    let f = FeatureSet::Full.compute(&bars);
    for n in ["donchian_pos", "volume_ratio_20"] {
        assert!(f.column(n).unwrap()[..19].iter().all(|v| v.is_nan()), "{n}");
    }
    assert!(f.column("volume_sma_ratio").unwrap()[..19].iter().all(|v| v.is_nan()));
    assert!(f.column("vortex_plus_14").unwrap()[..14].iter().all(|v| v.is_nan()));
    assert!(f.column("atr_ratio_14_50").unwrap()[..49].iter().all(|v| v.is_nan()));
    // ATR14/ATR50 on a flat stretch after movement: both decay, the ratio falls towards 0.
    let r = f.column("atr_ratio_14_50").unwrap();
    assert!(r[normal + flat - 1] < r[normal + 10] && r[normal + flat - 1] > 0.0);
}

#[test]
fn a_series_flat_from_its_first_bar_is_defined_after_warm_up() {
    let bars = normal_then_flat(0, 120);
    let v1 = FeatureSet::V1.compute(&bars);
    let full = FeatureSet::Full.compute(&bars);
    for f in [&v1, &full] {
        let w = warm_up_end(f);
        for (n, c) in f.names().iter().zip(f.columns()) {
            assert!(c[w..].iter().all(|v| v.is_finite()), "{n}: {:?}", &c[w..]);
        }
    }
    for &(name, value, _) in V1_DEGENERATE {
        assert_eq!(*v1.column(name).unwrap().last().unwrap(), value, "v1 {name}");
    }
    for &(name, value, _) in FULL_DEGENERATE {
        assert_eq!(*full.column(name).unwrap().last().unwrap(), value, "full {name}");
    }
    // ATR50 = 0: the ratio's limit, 0.
    assert_eq!(*full.column("atr_ratio_14_50").unwrap().last().unwrap(), 0.0);
}

#[test]
fn on_the_1s_grid_every_row_after_warm_up_is_complete() {
    let g = grid_1s();
    assert_eq!(g.len(), 86_395);
    for set in [FeatureSet::V1, FeatureSet::Full] {
        let f = set.compute(&g);
        let w = warm_up_end(&f);
        assert!(w <= 77, "{set}: warm-up {w}");
        // Before: 48.7 % of v1 rows (5,138 of 86,366 30-row windows) and 1.3 % of full rows.
        let complete = (w..f.len()).filter(|&i| f.columns().iter().all(|c| c[i].is_finite())).count();
        assert_eq!(complete, f.len() - w, "{set}: {complete} of {} rows complete", f.len() - w);
        // The ratios stay in their ranges: no rolling-sum residue read as a value.
        for n in ["cmf_20", "bb_pctb", "close_pos"] {
            let Some(c) = f.column(n) else { continue };
            assert!(c[w..].iter().all(|v| (-1.6..=1.6).contains(v)), "{set} {n}");
        }
        if set == FeatureSet::Full {
            for n in ["volume_sma_ratio", "volume_ratio_20", "donchian_pos"] {
                assert!(f.column(n).unwrap()[w..].iter().all(|&v| v >= 0.0), "{n}");
            }
        }
    }
}

#[test]
fn streaming_equals_batch_and_truncation_is_invariant_on_degenerate_series() {
    let grid = grid_1s().slice(0..6_000);
    for (what, bars) in
        [("1s grid", grid), ("normal then flat", normal_then_flat(150, 60)), ("flat", normal_then_flat(0, 90))]
    {
        for set in [FeatureSet::V1, FeatureSet::Full] {
            let frame = set.compute(&bars);
            let mut s = set.stream();
            let mut row = vec![0.0; s.names().len()];
            for (i, bar) in bars.iter().enumerate() {
                s.update(&bar, &mut row);
                for (k, v) in row.iter().enumerate() {
                    assert!(same(*v, frame.columns()[k][i]), "{set} {what} row {i} {}", frame.names()[k]);
                }
            }
            for cut in [1, bars.len() / 3, bars.len() - 7] {
                let part = set.compute(&bars.slice(0..cut));
                for (k, (a, b)) in part.columns().iter().zip(frame.columns()).enumerate() {
                    assert!(a.iter().zip(b).all(|(x, y)| same(*x, *y)), "{set} {what} cut {cut} {}", frame.names()[k]);
                }
            }
        }
    }
}

/// Snapshots of the v1 and full columns on the 4 h fixtures, produced with the code as it was
/// BEFORE degenerate windows were defined (commit 1adcc96): each is `column_hash` of the column,
/// printed by a throwaway test that ran `set.compute(&fixture_bars(file, Interval::H4))` and
/// `column_hash` on every column. The 4 h series have no degenerate window after warm-up, so
/// every value must stay bit-identical.
#[test]
fn the_4h_fixtures_are_bit_identical_to_before() {
    for (set, file, snapshot) in [
        (FeatureSet::V1, "BTCUSDT_4h.csv", V1_BTCUSDT),
        (FeatureSet::V1, "ETHUSDT_4h.csv", V1_ETHUSDT),
        (FeatureSet::Full, "BTCUSDT_4h.csv", FULL_BTCUSDT),
        (FeatureSet::Full, "ETHUSDT_4h.csv", FULL_ETHUSDT),
    ] {
        let f = set.compute(&fixture_bars(file, Interval::H4));
        assert_eq!(f.names().len(), snapshot.len());
        for ((name, c), (want_name, want)) in f.names().iter().zip(f.columns()).zip(snapshot) {
            assert_eq!(name, want_name);
            assert_eq!(column_hash(c), *want, "{set} {file} {name} changed");
        }
    }
}

const V1_BTCUSDT: &[(&str, u64)] = &[
    ("r_1", 0xbe5f08498ee0e63c),
    ("r_6", 0xfec21c7158410359),
    ("rsi_14", 0xb49e80b7c94ddf16),
    ("macd_hist", 0x0c09f99495a4a1c4),
    ("adx_14", 0xb5b2efb415c52f7a),
    ("ema50_dist", 0xc4246efcb291adf8),
    ("atr_norm", 0xb61b3fc655f6de3f),
    ("rv_20", 0x9efa8d20658e7c81),
    ("bb_pctb", 0x4ae42cd0dc852ac3),
    ("bb_width", 0x48365d2d284592b3),
    ("log_volume", 0xae77087629a09ced),
    ("vol_rel", 0x21ba252c978b930d),
    ("cmf_20", 0xb44048572ba97be4),
    ("obv_norm", 0x52fcd348a5d7cc12),
];

const V1_ETHUSDT: &[(&str, u64)] = &[
    ("r_1", 0x34f147ed726fa279),
    ("r_6", 0x8f969e6eb2eafe84),
    ("rsi_14", 0xeeac659ab5695dae),
    ("macd_hist", 0x70e02b5e6bb77518),
    ("adx_14", 0x2246ec935c42183a),
    ("ema50_dist", 0x9d15d3e218fa785c),
    ("atr_norm", 0x4a73ae4f12961e1d),
    ("rv_20", 0x7c668fe7b1cdeaaf),
    ("bb_pctb", 0x0ef3e706de18b99f),
    ("bb_width", 0x64768cb319e08268),
    ("log_volume", 0xfa85dbb5437df85f),
    ("vol_rel", 0xc3f77fe111c68ad5),
    ("cmf_20", 0x2f679bb354140e1a),
    ("obv_norm", 0xb08817dc9784746f),
];

const FULL_BTCUSDT: &[(&str, u64)] = &[
    ("ema_12_dist", 0x84acbe4f9fb443dc),
    ("ema_26_dist", 0xc6e82a33eb8bce7f),
    ("ema_50_dist", 0x61a39b8ab376c461),
    ("adx_14", 0xb5b2efb415c52f7a),
    ("macd_norm", 0xab16201655ff7a19),
    ("macd_hist_norm", 0x0c09f99495a4a1c4),
    ("ichimoku_tk_diff", 0x02c4e5692a87e65b),
    ("ichimoku_cloud_dist", 0xb75e54db3849efac),
    ("sar_dist", 0xde12d58f4c97b8db),
    ("aroon_osc_14", 0x9c9e932909640465),
    ("dpo_20_norm", 0x6370a9de46cfaf0a),
    ("rsi_14", 0xb49e80b7c94ddf16),
    ("rsi_7", 0xfbc7164824376f61),
    ("stoch_k", 0x5055300ee8388e5e),
    ("stoch_d", 0x8ddee413b791b8c7),
    ("cci_20", 0xdfbc971371a4303f),
    ("willr_14", 0xf9c9643f885fe52d),
    ("roc_10", 0xf5483fdaefff3873),
    ("ultosc", 0x6cf5a2bf2e6e0840),
    ("mfi_14", 0x882070847f0a9822),
    ("atr_norm", 0xb61b3fc655f6de3f),
    ("bb_upper_dist", 0x8c4d8ede1b71f5a2),
    ("bb_lower_dist", 0xd9aa0fea6b08db32),
    ("bb_width", 0x48365d2d284592b3),
    ("bb_pctb", 0x4ae42cd0dc852ac3),
    ("donchian_upper_dist", 0xb69b20f293f34ec5),
    ("donchian_lower_dist", 0x7e1dbebbbe6a5d3c),
    ("donchian_pos", 0x6477b86dad28709b),
    ("obv_norm_20", 0x910481d89170e115),
    ("cmf_20", 0xb44048572ba97be4),
    ("volume_sma_ratio", 0x233d8fae47d8ca6c),
    ("volume_ratio_20", 0x9f2a0936149001bf),
    ("vortex_plus_14", 0xc64f296664520c5c),
    ("vortex_minus_14", 0x14ce5bb7a782c0ea),
    ("hour", 0x1d8f7e11b3eb98a9),
    ("day_of_week", 0xdfca249cb861c1e5),
    ("is_weekend", 0x9c95f68b5d8d9105),
    ("ret_1", 0xc613c70390520e8c),
    ("ret_4", 0x86587e5281df1a06),
    ("ret_16", 0x971c2beddf0977f4),
    ("hl_range", 0x9670b877d324cc35),
    ("body", 0xe410d3545c4603d1),
    ("upper_wick", 0x816ed3563f5a901d),
    ("lower_wick", 0x553aba43ac92e671),
    ("close_pos", 0xd3c90754df45d9e0),
    ("di_diff", 0x3cbbc7b68075eceb),
    ("ema_12_26_spread", 0x78612668bc1b0b0d),
    ("rsi_14_change", 0x38c4ac8e1a6f17c0),
    ("atr_ratio_14_50", 0x67c1c3732b65fb3f),
];

const FULL_ETHUSDT: &[(&str, u64)] = &[
    ("ema_12_dist", 0xc7d7a0eefdcdfa57),
    ("ema_26_dist", 0x2b233d087cfae9bb),
    ("ema_50_dist", 0x0bc875bce6b7ebc2),
    ("adx_14", 0x2246ec935c42183a),
    ("macd_norm", 0x13a4dd6317f926c4),
    ("macd_hist_norm", 0x70e02b5e6bb77518),
    ("ichimoku_tk_diff", 0x5005abd70f3f2f46),
    ("ichimoku_cloud_dist", 0xc61e23849eccb165),
    ("sar_dist", 0x08c1195e4827c3d5),
    ("aroon_osc_14", 0x7d2779c384f2c824),
    ("dpo_20_norm", 0x463f09918a4c26f5),
    ("rsi_14", 0xeeac659ab5695dae),
    ("rsi_7", 0x8b0a837ad7fba9c7),
    ("stoch_k", 0x5ca15917b983174d),
    ("stoch_d", 0xd013a39efd5c92ae),
    ("cci_20", 0x1396bf2395976ede),
    ("willr_14", 0x2dfa698a39cd7d8b),
    ("roc_10", 0xf24f67708d7b59e8),
    ("ultosc", 0x21f1f03ca1164829),
    ("mfi_14", 0x6f72a573e4ea2545),
    ("atr_norm", 0x4a73ae4f12961e1d),
    ("bb_upper_dist", 0xe35584abda82aa48),
    ("bb_lower_dist", 0x9cde20c021d6b943),
    ("bb_width", 0x64768cb319e08268),
    ("bb_pctb", 0x0ef3e706de18b99f),
    ("donchian_upper_dist", 0xea657127dce42622),
    ("donchian_lower_dist", 0x7099b750bf96aa71),
    ("donchian_pos", 0xdfc5cd7b8dd3bf30),
    ("obv_norm_20", 0x426fe15aea291359),
    ("cmf_20", 0x2f679bb354140e1a),
    ("volume_sma_ratio", 0x93ae9631517d4d2a),
    ("volume_ratio_20", 0xd70aa81b3a8e7ba7),
    ("vortex_plus_14", 0x0b89527863c7a158),
    ("vortex_minus_14", 0x3b4fa99f1588003b),
    ("hour", 0x1d8f7e11b3eb98a9),
    ("day_of_week", 0xdfca249cb861c1e5),
    ("is_weekend", 0x9c95f68b5d8d9105),
    ("ret_1", 0x8bd6a92e5db2aee6),
    ("ret_4", 0xf696015fbe1e1850),
    ("ret_16", 0x6fff5e62749c9563),
    ("hl_range", 0x342138ada92c5482),
    ("body", 0x619029b69f463b4f),
    ("upper_wick", 0xe5c2cce4d5a1cd1e),
    ("lower_wick", 0x5c834342358343ae),
    ("close_pos", 0x6fd5f3430dcb993b),
    ("di_diff", 0xee729bd64a24c901),
    ("ema_12_26_spread", 0x524821cde01ef7ba),
    ("rsi_14_change", 0x285dd00d5a61ca23),
    ("atr_ratio_14_50", 0xb782db7f007cffad),
];
