//! Invariants every indicator must keep, on the real fixtures and on proptest random walks:
//! streaming == batch, reset == fresh, truncation invariance, `is_ready`/`warmup` agreement,
//! invalid bars skipped without touching the state, and never an infinity.

use proptest::prelude::*;
use vane_core::{Bar, Bars, Interval, Timestamp};
use vane_indicators::average::*;
use vane_indicators::momentum::*;
use vane_indicators::trend::*;
use vane_indicators::volatility::*;
use vane_indicators::volume::*;
use vane_indicators::{Indicator, Outputs, run_columns};
use vane_testkit::fixture_bars;

/// Columns of an output, NaN-filled when absent.
fn row<O: Outputs>(o: Option<O>) -> Vec<f64> {
    let mut v = vec![f64::NAN; O::WIDTH];
    if let Some(o) = o {
        o.write(&mut v);
    }
    v
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// Checks every invariant of one indicator on one series.
fn check<I: Indicator + Clone>(name: &str, fresh: &I, bars: &[Bar]) -> Result<(), String> {
    let series = Bars::from_bars(bars).map_err(|e| e.to_string())?;
    // Batch (run_columns) and a hand-driven stream agree bit for bit.
    let batch = run_columns(&mut fresh.clone(), &series);
    let mut s = fresh.clone();
    let mut outputs = Vec::with_capacity(bars.len());
    for (i, b) in bars.iter().enumerate() {
        let o = s.update(b);
        // Ready exactly after `warmup` valid bars, and output exactly when ready.
        if o.is_some() != (i >= s.warmup()) || s.is_ready() != (i >= s.warmup()) {
            return Err(format!(
                "{name}: bar {i}: output {} / is_ready {} but warmup {}",
                o.is_some(),
                s.is_ready(),
                s.warmup()
            ));
        }
        let r = row(o);
        if r.iter().any(|v| v.is_infinite()) {
            return Err(format!("{name}: bar {i}: infinite output {r:?}"));
        }
        let col: Vec<f64> = batch.iter().map(|c| c[i]).collect();
        if !same(&r, &col) {
            return Err(format!("{name}: bar {i}: stream {r:?} != batch {col:?}"));
        }
        outputs.push(r);
    }
    // reset() behaves as a fresh instance.
    s.reset();
    let again = run_columns(&mut s, &series);
    if (0..batch.len()).any(|c| !same(&again[c], &batch[c])) {
        return Err(format!("{name}: results after reset differ"));
    }
    // Truncation invariance: the prefix computed alone gives the same rows.
    for cut in [1, bars.len() / 3, bars.len() / 2 + 1, bars.len().saturating_sub(1)] {
        let part = run_columns(&mut fresh.clone(), &Bars::from_bars(&bars[..cut]).unwrap());
        for c in 0..part.len() {
            if !same(&part[c], &batch[c][..cut]) {
                return Err(format!("{name}: truncation at {cut} changes column {c}"));
            }
        }
    }
    // An invalid bar inserted in the middle is skipped: no output for it, and every later
    // output is what the clean series gives.
    let k = bars.len() / 2;
    for bad in [
        Bar { close: f64::NAN, ..bars[k] },
        Bar { high: f64::INFINITY, ..bars[k] },
        Bar { low: -1.0, ..bars[k] },
        Bar { volume: f64::NAN, ..bars[k] },
        Bar { high: bars[k].low * 0.5, ..bars[k] },
    ] {
        let mut s = fresh.clone();
        for b in &bars[..k] {
            s.update(b);
        }
        if s.update(&bad).is_some() {
            return Err(format!("{name}: an invalid bar produced an output"));
        }
        for (i, b) in bars.iter().enumerate().skip(k) {
            if !same(&row(s.update(b)), &outputs[i]) {
                return Err(format!("{name}: after an invalid bar, bar {i} differs"));
            }
        }
    }
    Ok(())
}

macro_rules! all_indicators {
    ($bars:expr) => {{
        let b: &[Bar] = $bars;
        let results = [
            check("SMA", &SimpleMovingAverage::new(30).unwrap(), b),
            check("EMA", &ExponentialMovingAverage::new(50).unwrap(), b),
            check("KAMA", &KaufmanAdaptiveMovingAverage::new(30).unwrap(), b),
            check("T3", &TillsonT3::new(5, 0.7).unwrap(), b),
            check("RSI", &RelativeStrengthIndex::new(14).unwrap(), b),
            check("MACD", &MovingAverageConvergenceDivergence::new(12, 26, 9).unwrap(), b),
            check("STOCH", &Stochastic::new(14, 3, 3).unwrap(), b),
            check("CCI", &CommodityChannelIndex::new(20).unwrap(), b),
            check("WILLR", &WilliamsR::new(14).unwrap(), b),
            check("ROC", &RateOfChange::new(10).unwrap(), b),
            check("MOM", &Momentum::new(10).unwrap(), b),
            check("ULTOSC", &UltimateOscillator::new(7, 14, 28).unwrap(), b),
            check("MFI", &MoneyFlowIndex::new(14).unwrap(), b),
            check("TRIX", &Trix::new(30).unwrap(), b),
            check("PPO", &PercentagePriceOscillator::new(12, 26).unwrap(), b),
            check("AROON", &Aroon::new(14).unwrap(), b),
            check("DPO", &DetrendedPriceOscillator::new(20).unwrap(), b),
            check("WaveTrend", &WaveTrend::new(10, 21).unwrap(), b),
            check("DX", &DirectionalMovement::new(14).unwrap(), b),
            check("ADX", &AverageDirectionalIndex::new(14).unwrap(), b),
            check("SAR", &ParabolicSar::new(0.02, 0.2).unwrap(), b),
            check("Ichimoku", &Ichimoku::new(9, 26, 52, 26).unwrap(), b),
            check("Vortex", &Vortex::new(14).unwrap(), b),
            check("TRANGE", &TrueRange::new(), b),
            check("ATR", &AverageTrueRange::new(14).unwrap(), b),
            check("NATR", &NormalizedAverageTrueRange::new(14).unwrap(), b),
            check("BBANDS", &BollingerBands::new(20, 2.0, 2.0).unwrap(), b),
            check("Donchian", &DonchianChannel::new(20).unwrap(), b),
            check("LogReturn", &LogReturn::new(6).unwrap(), b),
            check("RealizedVol", &RealizedVolatility::new(20).unwrap(), b),
            check("OBV", &OnBalanceVolume::new(), b),
            check("AD", &AccumulationDistribution::new(), b),
            check("ADOSC", &ChaikinOscillator::new(3, 10).unwrap(), b),
            check("CMF", &ChaikinMoneyFlow::new(20).unwrap(), b),
            check("VolumeSma", &VolumeSma::new(30).unwrap(), b),
            check("NormalizedObv", &NormalizedObv::new(20).unwrap(), b),
        ];
        results.into_iter().filter_map(|r| r.err()).collect::<Vec<_>>()
    }};
}

#[test]
fn every_indicator_on_every_fixture() {
    for (file, iv) in [
        ("BTCUSDT_4h.csv", Interval::H4),
        ("ETHUSDT_4h.csv", Interval::H4),
        ("SOLUSDT_15m.csv", Interval::M15),
        ("bybit_perp/BTCUSDT_1m.csv", Interval::M1),
        ("coinbase/ETHUSD_1m.csv", Interval::M1),
    ] {
        let bars: Vec<Bar> = fixture_bars(file, iv).iter().collect();
        let errors = all_indicators!(&bars);
        assert!(errors.is_empty(), "{file}:\n{}", errors.join("\n"));
    }
}

/// A random walk with flat stretches, zero-range bars and zero volume mixed in.
fn walk() -> impl Strategy<Value = Vec<Bar>> {
    proptest::collection::vec((-0.03f64..0.03, 0.0f64..0.02, 0.0f64..0.02, 0u8..10, 0.0f64..1000.0), 60..260).prop_map(
        |steps| {
            let mut price = 100.0;
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (r, up, dn, kind, vol))| {
                    let open = price;
                    if kind != 0 {
                        price *= 1.0 + r;
                    }
                    let close = price;
                    let (high, low, volume) = match kind {
                        0 => (open, open, 0.0),                       // zero-range, zero-volume bar
                        1 => (open.max(close), open.min(close), vol), // no wicks
                        _ => (open.max(close) * (1.0 + up), open.min(close) * (1.0 - dn), vol),
                    };
                    Bar::ohlcv(Timestamp(i as i64 * 60_000), open, high, low, close, volume)
                })
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn every_indicator_on_random_walks(bars in walk()) {
        let errors = all_indicators!(&bars);
        prop_assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
}

#[test]
fn degenerate_series_never_panic_or_yield_inf() {
    let flat: Vec<Bar> = (0..120).map(|i| Bar::ohlcv(Timestamp(i * 60_000), 50.0, 50.0, 50.0, 50.0, 0.0)).collect();
    let errors = all_indicators!(&flat);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // On a flat, volume-less series the TA-Lib conventions give these exact values.
    let f = Bars::from_bars(&flat).unwrap();
    let last = |cols: Vec<Vec<f64>>| cols.iter().map(|c| *c.last().unwrap()).collect::<Vec<_>>();
    assert_eq!(last(run_columns(&mut RelativeStrengthIndex::new(14).unwrap(), &f)), vec![0.0]);
    assert_eq!(last(run_columns(&mut Stochastic::new(14, 3, 3).unwrap(), &f)), vec![0.0, 0.0]);
    assert_eq!(last(run_columns(&mut WilliamsR::new(14).unwrap(), &f)), vec![0.0]);
    assert_eq!(last(run_columns(&mut CommodityChannelIndex::new(20).unwrap(), &f)), vec![0.0]);
    assert_eq!(last(run_columns(&mut MoneyFlowIndex::new(14).unwrap(), &f)), vec![0.0]);
    assert_eq!(last(run_columns(&mut DirectionalMovement::new(14).unwrap(), &f)), vec![0.0, 0.0, 0.0]);
    assert_eq!(last(run_columns(&mut AverageTrueRange::new(14).unwrap(), &f)), vec![0.0]);
    let bb = last(run_columns(&mut BollingerBands::new(20, 2.0, 2.0).unwrap(), &f));
    assert_eq!(&bb[..3], &[50.0, 50.0, 50.0]);
    assert!(bb[3].is_nan(), "%B is undefined when the bands coincide");
    assert_eq!(bb[4], 0.0);
    let cmf = last(run_columns(&mut ChaikinMoneyFlow::new(20).unwrap(), &f));
    assert!(cmf[0].is_nan(), "CMF is undefined without volume");
    // Too few bars: no output at all, no panic.
    for n in 0..5 {
        let errors = all_indicators!(&flat[..n.max(1)]);
        assert!(errors.is_empty(), "{} bars: {}", n, errors.join("\n"));
    }
}

#[test]
fn bad_parameters_are_clear_errors() {
    let e = RelativeStrengthIndex::new(1).unwrap_err();
    assert_eq!(e.to_string(), "invalid parameter for RSI: period = 1, must be ≥ 2");
    assert!(SimpleMovingAverage::new(0).is_err());
    assert!(BollingerBands::new(20, f64::NAN, 2.0).is_err());
    assert!(ParabolicSar::new(0.3, 0.2).unwrap_err().to_string().contains("acceleration"));
    assert!(TillsonT3::new(5, f64::INFINITY).is_err());
}
