//! `data.days` (`vane train --days N`): the last N days of stored data, counted back from the last
//! stored bar of the job's symbols, and the data summary the checklist warns on.

use vane_core::{Bar, Bars, Interval, Symbol, Timestamp};
use vane_market_data::ParquetStore;
use vane_models::TrainConfig;
use vane_models::train::{Checklist, ChecklistInputs};
use vane_pipeline::sequence::{SequenceData, SequenceJob, prepare, read_bars};

const DAY: i64 = 86_400_000;
const H1: i64 = 3_600_000;
/// 2024-01-01 00:00 UTC.
const T0: i64 = 1_704_067_200_000;

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

/// `n` hourly bars from `start`, a deterministic wiggly walk.
fn bars(start: i64, n: usize) -> Bars {
    let mut c = 100.0f64;
    let v: Vec<Bar> = (0..n)
        .map(|i| {
            let o = c;
            c *= 1.0 + 0.012 * ((i as f64 * 0.7).sin() + 0.5 * (i as f64 * 1.9).cos());
            Bar::ohlcv(Timestamp(start + i as i64 * H1), o, o.max(c) * 1.002, o.min(c) * 0.998, c, 10.0 + i as f64)
        })
        .collect();
    Bars::from_bars(&v).unwrap()
}

/// BTCUSDT: 30 days of 1h bars; ETHUSDT: 20 days ending one day before BTCUSDT's last bar.
fn store(dir: &std::path::Path) -> ParquetStore {
    let st = ParquetStore::new(dir);
    st.write(&sym("BTCUSDT"), Interval::H1, &bars(T0, 30 * 24)).unwrap();
    st.write(&sym("ETHUSDT"), Interval::H1, &bars(T0 + 9 * DAY, 20 * 24)).unwrap();
    st
}

fn data(days: Option<u32>) -> SequenceData {
    SequenceData {
        symbols: vec![sym("BTCUSDT"), sym("ETHUSDT")],
        interval: Interval::H1,
        seq_len: 5,
        horizon: 3,
        days,
        ..SequenceData::default()
    }
}

#[test]
fn days_selects_the_last_n_days_counted_back_from_the_last_stored_bar() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let last = T0 + (30 * 24 - 1) * H1;
    // All.
    let all = read_bars(&st, &data(None)).unwrap();
    assert_eq!(all.iter().map(Bars::len).collect::<Vec<_>>(), vec![720, 480]);
    // 3 days = 72 hourly bars of BTCUSDT; ETHUSDT stops a day earlier, so 48 of its bars fall in.
    let three = read_bars(&st, &data(Some(3))).unwrap();
    assert_eq!(three.iter().map(Bars::len).collect::<Vec<_>>(), vec![72, 48]);
    assert_eq!(*three[0].open_time().last().unwrap(), last);
    assert_eq!(three[0].open_time()[0], last + H1 - 3 * DAY);
    assert_eq!(three[1].open_time()[0], last + H1 - 3 * DAY);
    // max_bars applies after days.
    let capped = read_bars(&st, &SequenceData { max_bars: 10, ..data(Some(3)) }).unwrap();
    assert_eq!(capped.iter().map(Bars::len).collect::<Vec<_>>(), vec![10, 10]);
    // More days than stored: everything, and the summary says how many days there were.
    let many = read_bars(&st, &data(Some(400))).unwrap();
    assert_eq!(many.iter().map(Bars::len).collect::<Vec<_>>(), vec![720, 480]);

    let p = prepare(&st, &data(Some(10))).unwrap();
    assert!((p.data.days - 10.0).abs() < 1e-9, "{}", p.data.days);
    assert_eq!(p.data.requested_days, Some(10));
    assert_eq!(p.data.label_counts.iter().sum::<usize>(), p.train.len() + p.valid.len());
    let p = prepare(&st, &data(Some(400))).unwrap();
    assert!((p.data.days - 30.0).abs() < 1e-9, "{}", p.data.days);
    let c =
        Checklist::evaluate(&TrainConfig::default(), &ChecklistInputs { data: Some(&p.data), ..Default::default() });
    assert!(c.warnings.iter().any(|w| w.contains("asked for the last 400 days") && w.contains("30.0 days")), "{c:?}");

    // Five days of hourly bars still make windows; the checklist warns on them.
    let p = prepare(&st, &data(Some(5))).unwrap();
    assert!((p.data.days - 5.0).abs() < 1e-9);
    let c =
        Checklist::evaluate(&TrainConfig::default(), &ChecklistInputs { data: Some(&p.data), ..Default::default() });
    assert!(c.warnings.iter().any(|w| w.contains("5.0 days") && w.contains("under 7 days")), "{c:?}");

    // --days 0 is refused, naming the flag.
    let job = SequenceJob { data: data(Some(0)), ..SequenceJob::default() };
    assert!(job.validate().unwrap_err().to_string().contains("--days"));
}
