//! Feature sets: leakage proof (truncation invariance at many random cuts), streaming ==
//! batch, shapes, and column values checked against the TA-Lib oracle and independent formulas.

use rand::{Rng, SeedableRng};
use vane_core::{Bar, Bars, Interval, Timestamp};
use vane_indicators::{FeatureFrame, FeatureSet};
use vane_testkit::{fixture_bars, fixtures_dir};

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn fixtures() -> Vec<(&'static str, Bars, Interval)> {
    [
        ("BTCUSDT_4h.csv", Interval::H4),
        ("ETHUSDT_4h.csv", Interval::H4),
        ("SOLUSDT_15m.csv", Interval::M15),
        ("bybit_perp/BTCUSDT_1m.csv", Interval::M1),
        ("coinbase/ETHUSD_1m.csv", Interval::M1),
    ]
    .into_iter()
    .map(|(f, iv)| (f, fixture_bars(f, iv), iv))
    .collect()
}

fn assert_prefix(full: &FeatureFrame, part: &FeatureFrame, what: &str) {
    assert_eq!(part.names(), full.names());
    for (k, (a, b)) in part.columns().iter().zip(full.columns()).enumerate() {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                same(*x, *y),
                "{what}: column {} row {i}: {x} on the cut series, {y} on the full one",
                full.names()[k]
            );
        }
    }
}

#[test]
fn every_set_is_truncation_invariant_at_random_cuts() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    for (file, bars, _) in fixtures() {
        for set in FeatureSet::ALL {
            let full = set.compute(&bars);
            for _ in 0..12 {
                let cut = rng.random_range(1..bars.len());
                let part = set.compute(&bars.slice(0..cut));
                assert_prefix(&full, &part, &format!("{set} on {file} cut at {cut}"));
            }
        }
    }
}

#[test]
fn streaming_rows_equal_the_batch_frame_and_never_inf() {
    for (file, bars, _) in fixtures() {
        for set in FeatureSet::ALL {
            let frame = set.compute(&bars);
            let mut s = set.stream();
            let mut row = vec![0.0; s.names().len()];
            for (i, bar) in bars.iter().enumerate() {
                s.update(&bar, &mut row);
                for (k, v) in row.iter().enumerate() {
                    assert!(!v.is_infinite(), "{set} {file} row {i} {}: {v}", frame.names()[k]);
                    assert!(same(*v, frame.columns()[k][i]), "{set} {file} row {i} {}", frame.names()[k]);
                }
            }
        }
    }
}

#[test]
fn shapes_names_and_versions() {
    let counts = [
        (FeatureSet::Talib, 47),
        (FeatureSet::V1, 14),
        (FeatureSet::Full, 49),
        (FeatureSet::Regime, 4),
        (FeatureSet::Lorentzian, 5),
    ];
    for (set, n) in counts {
        let cols = set.columns();
        assert_eq!(cols.len(), n, "{set}");
        let mut uniq = cols.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), n, "{set} has duplicate names");
        assert_eq!(set.name().parse::<FeatureSet>().unwrap(), set);
        assert_eq!(set.version(), 1);
    }
    assert!("v2".parse::<FeatureSet>().unwrap_err().to_string().contains("talib, v1, full, regime or lorentzian"));
    // After warm-up (the 52+26 Ichimoku shift is the longest) a full row on real data is complete.
    let frame = FeatureSet::Full.compute(&fixture_bars("BTCUSDT_4h.csv", Interval::H4));
    assert!(frame.row(200).iter().all(|v| v.is_finite()), "{:?}", frame.row(200));
}

/// The oracle's column `name`.
fn oracle(name: &str) -> Vec<f64> {
    let mut rdr = csv::Reader::from_path(fixtures_dir().join("oracle/indicators_BTCUSDT_4h.csv")).unwrap();
    let k = rdr.headers().unwrap().iter().position(|h| h == name).unwrap_or_else(|| panic!("no oracle column {name}"));
    rdr.records().map(|r| r.unwrap()[k].parse::<f64>().unwrap_or(f64::NAN)).collect()
}

fn close_enough(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() {
            assert!(g.is_nan(), "{what} row {i}: expected NaN, got {g}");
        } else {
            assert!((g - w).abs() <= 1e-9 * w.abs().max(1e-6), "{what} row {i}: {g} vs {w}");
        }
    }
}

#[test]
fn v1_columns_follow_their_formulas() {
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let f = FeatureSet::V1.compute(&bars);
    let c = bars.close();
    let col = |n: &str| f.column(n).unwrap().to_vec();
    close_enough(&col("rsi_14"), &oracle("rsi_14"), "rsi_14");
    close_enough(&col("adx_14"), &oracle("adx_14"), "adx_14");
    close_enough(&col("cmf_20"), &oracle("cmf_20"), "cmf_20");
    let by_close = |o: Vec<f64>| o.iter().zip(c).map(|(x, c)| x / c).collect::<Vec<_>>();
    close_enough(&col("macd_hist"), &by_close(oracle("macd_hist_12_26_9")), "macd_hist");
    close_enough(&col("atr_norm"), &by_close(oracle("atr_14")), "atr_norm");
    let ema = oracle("ema_50");
    close_enough(&col("ema50_dist"), &c.iter().zip(&ema).map(|(c, e)| (c - e) / e).collect::<Vec<_>>(), "ema50_dist");
    let (up, mid, lo) = (oracle("bb_upper_20_2"), oracle("bb_middle_20_2"), oracle("bb_lower_20_2"));
    let pctb: Vec<f64> = (0..c.len()).map(|i| (c[i] - lo[i]) / (up[i] - lo[i])).collect();
    let width: Vec<f64> = (0..c.len()).map(|i| (up[i] - lo[i]) / mid[i]).collect();
    close_enough(&col("bb_pctb"), &pctb, "bb_pctb");
    close_enough(&col("bb_width"), &width, "bb_width");
    // Returns, realised volatility, volume features and scale-free OBV by direct formulas.
    let v = bars.volume();
    let r1 = col("r_1");
    let r6 = col("r_6");
    let rv = col("rv_20");
    let vol_rel = col("vol_rel");
    let obv_norm = col("obv_norm");
    let obv = oracle("obv");
    for i in [40usize, 500, 2189] {
        assert!((r1[i] - (c[i] / c[i - 1]).ln()).abs() < 1e-15);
        assert!((r6[i] - (c[i] / c[i - 6]).ln()).abs() < 1e-15);
        let rets: Vec<f64> = (i - 19..=i).map(|j| (c[j] / c[j - 1]).ln()).collect();
        let m = rets.iter().sum::<f64>() / 20.0;
        let sd = (rets.iter().map(|r| (r - m).powi(2)).sum::<f64>() / 19.0).sqrt();
        assert!((rv[i] - sd).abs() < 1e-12 * sd, "rv_20 row {i}: {} vs {sd}", rv[i]);
        let sma30 = v[i - 29..=i].iter().sum::<f64>() / 30.0;
        assert!((vol_rel[i] - v[i] / sma30).abs() < 1e-12);
        let vsum: f64 = v[i - 29..=i].iter().sum();
        assert!((obv_norm[i] - (obv[i] - obv[i - 30]) / vsum).abs() < 1e-9);
        assert_eq!(col("log_volume")[i], v[i].ln_1p());
    }
    assert!(r1[0].is_nan() && rv[19].is_nan() && rv[20].is_finite());
}

#[test]
fn full_columns_follow_their_formulas() {
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let f = FeatureSet::Full.compute(&bars);
    let col = |n: &str| f.column(n).unwrap().to_vec();
    let (c, h, l, o) = (bars.close(), bars.high(), bars.low(), bars.open());
    for name in
        ["adx_14", "rsi_14", "cci_20", "willr_14", "roc_10", "mfi_14", "cmf_20", "vortex_plus_14", "vortex_minus_14"]
    {
        close_enough(&col(name), &oracle(name), name);
    }
    close_enough(&col("ultosc"), &oracle("ultosc_7_14_28"), "ultosc");
    close_enough(&col("stoch_k"), &oracle("stoch_slowk_14_3_3"), "stoch_k");
    close_enough(&col("aroon_osc_14"), &oracle("aroonosc_14"), "aroon_osc_14");
    let rel = |o: Vec<f64>| o.iter().zip(c).map(|(x, c)| (c - x) / c).collect::<Vec<_>>();
    close_enough(&col("sar_dist"), &rel(oracle("sar_0.02_0.2")), "sar_dist");
    let (tk, kj) = (oracle("ichimoku_tenkan_9"), oracle("ichimoku_kijun_26"));
    close_enough(
        &col("ichimoku_tk_diff"),
        &(0..c.len()).map(|i| (tk[i] - kj[i]) / c[i]).collect::<Vec<_>>(),
        "ichimoku_tk_diff",
    );
    let (sa, sb) = (oracle("ichimoku_senkou_a_shift26"), oracle("ichimoku_senkou_b_shift26"));
    let cloud: Vec<f64> = (0..c.len()).map(|i| (c[i] - (sa[i] + sb[i]) / 2.0) / c[i]).collect();
    close_enough(&col("ichimoku_cloud_dist"), &cloud, "ichimoku_cloud_dist");
    let (du, dl) = (oracle("donchian_upper_20"), oracle("donchian_lower_20"));
    close_enough(
        &col("donchian_pos"),
        &(0..c.len()).map(|i| (c[i] - dl[i]) / (du[i] - dl[i])).collect::<Vec<_>>(),
        "donchian_pos",
    );
    let (pdi, mdi) = (oracle("plus_di_14"), oracle("minus_di_14"));
    close_enough(&col("di_diff"), &(0..c.len()).map(|i| (pdi[i] - mdi[i]) / 100.0).collect::<Vec<_>>(), "di_diff");
    let i = 1000;
    assert!((col("hl_range")[i] - (h[i] - l[i]) / c[i]).abs() < 1e-15);
    assert!((col("body")[i] - (c[i] - o[i]) / o[i]).abs() < 1e-15);
    assert!((col("ret_16")[i] - (c[i] / c[i - 16] - 1.0)).abs() < 1e-15);
    assert!((col("dpo_20_norm")[i] - (c[i - 11] - c[i - 19..=i].iter().sum::<f64>() / 20.0) / c[i]).abs() < 1e-12);
    // 2023-01-01 00:00 UTC was a Sunday; bar 1 opens 04:00, bar 6 is Monday 00:00.
    assert_eq!((col("hour")[0], col("day_of_week")[0], col("is_weekend")[0]), (0.0, 6.0, 1.0));
    assert_eq!((col("hour")[1], col("day_of_week")[6], col("is_weekend")[6]), (4.0, 0.0, 0.0));
}

#[test]
fn regime_features_by_hand() {
    let bars = fixture_bars("SOLUSDT_15m.csv", Interval::M15);
    let f = FeatureSet::Regime.compute(&bars);
    assert_eq!(f.names(), &["tod_sin", "tod_cos", "sigma_60", "volume_z_60"]);
    // Bar 24 opens at 06:00 UTC: a quarter of the day.
    assert!((f.column("tod_sin").unwrap()[24] - 1.0).abs() < 1e-15);
    assert!(f.column("tod_cos").unwrap()[24].abs() < 1e-15);
    let v = bars.volume();
    let i = 700;
    let w = &v[i - 59..=i];
    let m = w.iter().sum::<f64>() / 60.0;
    let sd = (w.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 59.0).sqrt();
    assert!((f.column("volume_z_60").unwrap()[i] - (v[i] - m) / sd).abs() < 1e-9);
    assert!(f.column("sigma_60").unwrap()[59].is_nan() && f.column("sigma_60").unwrap()[60].is_finite());
}

/// jdehorty's features re-derived with plain loops (no shared code with the crate).
#[test]
fn lorentzian_features_match_a_direct_transcription_of_the_script() {
    let bars = fixture_bars("ETHUSDT_4h.csv", Interval::H4);
    let f = FeatureSet::Lorentzian.compute(&bars);
    let (h, l, c) = (bars.high(), bars.low(), bars.close());
    let n = c.len();
    // f3: CCI(close, 20) normalised by its running min/max.
    let mut cci = vec![f64::NAN; n];
    for i in 19..n {
        let w = &c[i - 19..=i];
        let m = w.iter().sum::<f64>() / 20.0;
        let md = w.iter().map(|x| (x - m).abs()).sum::<f64>() / 20.0;
        cci[i] = (c[i] - m) / (0.015 * md);
    }
    let norm = |xs: &[f64]| {
        let (mut lo, mut hi) = (10e10f64, -10e10f64);
        xs.iter()
            .map(|&x| {
                if x.is_nan() {
                    return f64::NAN;
                }
                lo = lo.min(x);
                hi = hi.max(x);
                (x - lo) / (hi - lo).max(10e-10)
            })
            .collect::<Vec<_>>()
    };
    let f3 = norm(&cci);
    // f2: WaveTrend(10, 11) with Pine EMAs, normalised.
    let ema = |xs: &[f64], len: usize| {
        let k = 2.0 / (len as f64 + 1.0);
        let mut prev: Option<f64> = None;
        xs.iter()
            .map(|&x| {
                if x.is_nan() {
                    return f64::NAN;
                }
                let v = prev.map_or(x, |p| k * x + (1.0 - k) * p);
                prev = Some(v);
                v
            })
            .collect::<Vec<_>>()
    };
    let ap: Vec<f64> = (0..n).map(|i| (h[i] + l[i] + c[i]) / 3.0).collect();
    let esa = ema(&ap, 10);
    let dev: Vec<f64> = (0..n).map(|i| (ap[i] - esa[i]).abs()).collect();
    let d = ema(&dev, 10);
    let ci: Vec<f64> = (0..n).map(|i| if i == 0 { f64::NAN } else { (ap[i] - esa[i]) / (0.015 * d[i]) }).collect();
    let wt1 = ema(&ci, 11);
    let diff: Vec<f64> =
        (0..n).map(|i| if i < 4 { f64::NAN } else { wt1[i] - (wt1[i - 3..=i].iter().sum::<f64>() / 4.0) }).collect();
    let f2 = norm(&diff);
    // f4: the script's ADX(20) from bar 0 with nz() = 0.
    let len = 20.0;
    let (mut trs, mut ps, mut ms) = (0.0f64, 0.0f64, 0.0f64);
    let mut dx = Vec::with_capacity(n);
    for i in 0..n {
        let (ph, pl, pc) = if i == 0 { (0.0, 0.0, 0.0) } else { (h[i - 1], l[i - 1], c[i - 1]) };
        let tr = (h[i] - l[i]).max((h[i] - pc).abs()).max((l[i] - pc).abs());
        let p = if h[i] - ph > pl - l[i] { (h[i] - ph).max(0.0) } else { 0.0 };
        let m = if pl - l[i] > h[i] - ph { (pl - l[i]).max(0.0) } else { 0.0 };
        trs = trs - trs / len + tr;
        ps = ps - ps / len + p;
        ms = ms - ms / len + m;
        let (dip, dim) = (ps / trs * 100.0, ms / trs * 100.0);
        dx.push((dip - dim).abs() / (dip + dim) * 100.0);
    }
    let mut adx = vec![f64::NAN; n];
    let mut a = dx[..20].iter().sum::<f64>() / 20.0;
    adx[19] = a;
    for i in 20..n {
        a = (dx[i] + 19.0 * a) / 20.0;
        adx[i] = a;
    }
    let f4: Vec<f64> = adx.iter().map(|x| x / 100.0).collect();
    for (name, want) in [("f2_wt_10_11", &f2), ("f3_cci_20", &f3), ("f4_adx_20", &f4)] {
        close_enough(f.column(name).unwrap(), want, name);
    }
    // f1 is RSI(14)/100 (TradingView's rsi is Wilder's, as TA-Lib's).
    let rsi = FeatureSet::Talib.compute(&bars);
    let f1: Vec<f64> = rsi.column("rsi_14").unwrap().iter().map(|r| r / 100.0).collect();
    close_enough(f.column("f1_rsi_14").unwrap(), &f1, "f1_rsi_14");
    assert!(f.row(100).iter().all(|v| (0.0..=1.0).contains(v)), "{:?}", f.row(100));
}

#[test]
fn multi_timeframe_join_has_no_look_ahead() {
    // SOLUSDT 15m with 1h features: the 1h bar opening at T closes at T + 1h, i.e. with the 15m
    // bar opening at T + 45m; from that bar on (and not before) its features are visible.
    let m15 = fixture_bars("SOLUSDT_15m.csv", Interval::M15);
    let h1 = vane_market_data::resample(&m15, Interval::M15, Interval::H1, false).unwrap();
    let coarse = FeatureSet::V1.compute(&h1);
    let joined = FeatureSet::V1.compute_multi_timeframe(&m15, Interval::M15, Interval::H1).unwrap();
    assert_eq!(joined.names().len(), 28);
    assert_eq!(joined.names()[14], "1h_r_1");
    let fine_rsi = joined.column("1h_rsi_14").unwrap();
    let coarse_rsi = coarse.column("rsi_14").unwrap();
    for (i, &t) in m15.open_time().iter().enumerate() {
        // The last 1h bar closed by the end of this 15m bar.
        let visible = coarse.open_time().iter().rposition(|&ct| ct + 3_600_000 <= t + 900_000);
        let want = visible.map_or(f64::NAN, |k| coarse_rsi[k]);
        assert!(same(fine_rsi[i], want), "row {i}: {} vs {want}", fine_rsi[i]);
    }
    // Truncated anywhere — mid-bucket included — earlier rows do not change.
    for cut in [5, 6, 7, 8, 333, 1000] {
        let part = FeatureSet::V1.compute_multi_timeframe(&m15.slice(0..cut), Interval::M15, Interval::H1).unwrap();
        assert_prefix(&joined, &part, &format!("mtf cut {cut}"));
    }
    assert!(FeatureSet::V1.compute_multi_timeframe(&m15, Interval::M15, Interval::M15).is_err());
}

#[test]
fn multi_timeframe_skips_a_partial_first_bucket() {
    // Data entering a 1h bucket at :30 must not produce a 1h bar with a wrong open.
    let bars: Vec<Bar> = (2..40)
        .map(|i| {
            Bar::ohlcv(Timestamp(i * 900_000), 10.0 + i as f64, 11.0 + i as f64, 9.0 + i as f64, 10.5 + i as f64, 1.0)
        })
        .collect();
    let b = Bars::from_bars(&bars).unwrap();
    let identity = Identity { names: vec!["open".into(), "volume".into()] };
    let mut s = vane_indicators::sets::MultiTimeframe::new(Box::new(identity), Interval::M15, Interval::H1).unwrap();
    let frame = vane_indicators::sets::compute_stream(&mut s, &b);
    let open = frame.column("1h_open").unwrap();
    assert!(open[0].is_nan() && open[1].is_nan(), "partial first bucket ignored");
    // Bar 5 (index 5 = 01:45) closes the 01:00 bucket, whose open is the 01:00 bar's.
    assert!(open[4].is_nan());
    assert_eq!(open[5], 14.0);
    assert_eq!(frame.column("1h_volume").unwrap()[5], 4.0);
}

/// Emits the coarse bar itself, to observe the aggregation.
struct Identity {
    names: Vec<String>,
}

impl vane_indicators::FeatureStream for Identity {
    fn names(&self) -> &[String] {
        &self.names
    }
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = bar.open;
        out[1] = bar.volume;
    }
    fn reset(&mut self) {}
}
