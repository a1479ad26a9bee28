//! Property tests over the parsers of outside data (issue 12): the candle CSV and the kline JSON
//! pages of Binance (spot and USDT-M share one format) and Bybit. Arbitrary bytes and structured
//! mutations of valid inputs: never a panic, and a rejected input is an error with a message
//! naming the input.
//!
//! A fixed seed and 64 cases by default (CI); set `VANE_PROPTEST_CASES=5000` for a longer run.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::Value;
use vane_core::{Interval, Timestamp};
use vane_market_data::client::parse_page;
use vane_market_data::csv::read_csv_from;
use vane_market_data::{Exchange, TimeRange};

fn config() -> Config {
    let cases = std::env::var("VANE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, rng_seed: RngSeed::Fixed(0x5eed_0012), failure_persistence: None, ..Config::default() }
}

const T0: i64 = 1_704_067_200_000;

/// A valid candle CSV of `n` 1-minute rows with every optional column.
fn valid_csv(n: usize) -> String {
    let mut s = String::from(
        "open_time_ms,open,high,low,close,volume,close_time_ms,quote_volume,trades,taker_buy_base_volume,taker_buy_quote_volume\n",
    );
    for i in 0..n as i64 {
        let t = T0 + i * 60_000;
        let p = 100.0 + i as f64;
        s.push_str(&format!("{t},{p},{},{},{p},2.5,{},250.5,7,1.25,125.25\n", p + 1.0, p - 1.0, t + 59_999));
    }
    s
}

/// A valid page of `n` 1-minute klines in `exchange`'s format.
fn valid_page(exchange: Exchange, n: usize) -> String {
    let rows: Vec<String> = (0..n as i64)
        .map(|i| {
            let t = T0 + i * 60_000;
            let p = 100.0 + i as f64;
            match exchange {
                Exchange::BybitLinear => {
                    format!(r#"["{t}","{p}","{}","{}","{p}","2.5","250.5"]"#, p + 1.0, p - 1.0)
                }
                _ => format!(
                    r#"[{t},"{p}","{}","{}","{p}","2.5",{},"250.5",7,"1.25","125.25","0"]"#,
                    p + 1.0,
                    p - 1.0,
                    t + 59_999
                ),
            }
        })
        .collect();
    match exchange {
        Exchange::BybitLinear => {
            let newest_first: Vec<String> = rows.into_iter().rev().collect();
            format!(
                r#"{{"retCode":0,"retMsg":"OK","result":{{"category":"linear","symbol":"BTCUSDT","list":[{}]}},"retExtInfo":{{}},"time":0}}"#,
                newest_first.join(",")
            )
        }
        _ => format!("[{}]", rows.join(",")),
    }
}

const EXCHANGES: [Exchange; 3] = [Exchange::BinanceSpot, Exchange::BinanceUsdm, Exchange::BybitLinear];

fn window() -> (Timestamp, Timestamp) {
    (Timestamp(T0), Timestamp(T0 + 1000 * 60_000 - 1))
}

/// Checks one CSV input: no panic (the test harness catches one), an error names the file.
fn check_csv(bytes: &[u8], interval: Option<Interval>) {
    let path = Path::new("prop.csv");
    match read_csv_from(bytes, path, interval) {
        Ok(bars) => {
            // What is accepted is valid: every bar passes the candle checks.
            assert!(bars.iter().all(|b| b.problem().is_none()));
        }
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains("prop.csv"), "{m}");
            assert!(m.len() < 4000, "an error of {} bytes", m.len());
        }
    }
    // The import path with the time range check as well.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prop.csv");
    std::fs::write(&p, bytes).unwrap();
    if let Err(e) = vane_market_data::read_market_csv(&p, interval, TimeRange::at(Timestamp(T0 + 86_400_000))) {
        assert!(e.to_string().contains("prop.csv"), "{e}");
    }
}

fn check_page(exchange: Exchange, body: &str) {
    let (start, end) = window();
    match parse_page(exchange, body, Interval::M1, start, end) {
        Ok(bars) => {
            assert!(bars.iter().all(|b| b.problem().is_none() && b.open_time >= start && b.open_time <= end));
        }
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains(exchange.as_str()), "{m}");
            assert!(m.len() < 4000, "an error of {} bytes", m.len());
        }
    }
}

/// One edit of a text: replace, insert or delete a byte, duplicate or drop a line.
#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    DupLine(usize),
    DropLine(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        Just(b','),
        Just(b'\n'),
        Just(b'-'),
        Just(b'.'),
        Just(b'e'),
        Just(b'"'),
        Just(b'9'),
        Just(b'0'),
        Just(0u8),
        Just(0x1b),
        Just(b'['),
        Just(b']'),
        Just(b'{'),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::DupLine),
        any::<usize>().prop_map(Edit::DropLine),
    ]
}

fn apply(text: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut v = text.to_vec();
    for e in edits {
        if v.is_empty() {
            break;
        }
        match *e {
            Edit::Replace(i, b) => {
                let i = i % v.len();
                v[i] = b;
            }
            Edit::Insert(i, b) => {
                let i = i % (v.len() + 1);
                v.insert(i, b);
            }
            Edit::Delete(i, n) => {
                let i = i % v.len();
                let j = (i + n).min(v.len());
                v.drain(i..j);
            }
            Edit::DupLine(k) | Edit::DropLine(k) => {
                let mut lines: Vec<Vec<u8>> = v.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let k = k % lines.len();
                if matches!(e, Edit::DupLine(_)) {
                    let l = lines[k].clone();
                    lines.insert(k, l);
                } else {
                    lines.remove(k);
                }
                v = lines.join(&b'\n');
            }
        }
    }
    v
}

/// A JSON value a hostile server might put in a field.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(Value::Bool(true)),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<u64>().prop_map(|u| Value::String(u.to_string())),
        any::<i64>().prop_map(|u| Value::String(u.to_string())),
        Just(Value::String("NaN".into())),
        Just(Value::String("inf".into())),
        Just(Value::String("-1".into())),
        Just(Value::String("1e308".into())),
        Just(Value::String(String::new())),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(Value::Array(vec![])),
        Just(serde_json::json!({"a": 1})),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_csv(&bytes, Some(Interval::M1));
        check_csv(&bytes, None);
    }

    #[test]
    fn csv_mutations_never_panic(n in 1usize..8, edits in proptest::collection::vec(edit(), 1..6)) {
        let text = apply(valid_csv(n).as_bytes(), &edits);
        check_csv(&text, Some(Interval::M1));
        check_csv(&text, None);
    }

    #[test]
    fn csv_arbitrary_header_then_valid_rows(header in "[a-z_,]{0,120}") {
        let rows = valid_csv(3);
        let body = rows.split_once('\n').unwrap().1;
        check_csv(format!("{header}\n{body}").as_bytes(), Some(Interval::M1));
    }

    #[test]
    fn kline_pages_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let body = String::from_utf8_lossy(&bytes);
        for ex in EXCHANGES {
            check_page(ex, &body);
        }
    }

    #[test]
    fn kline_pages_text_mutations_never_panic(n in 0usize..6, edits in proptest::collection::vec(edit(), 1..6)) {
        for ex in EXCHANGES {
            let body = apply(valid_page(ex, n).as_bytes(), &edits);
            check_page(ex, &String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn kline_pages_field_mutations_never_panic(
        n in 1usize..6,
        row in any::<usize>(),
        field in 0usize..14,
        value in hostile_value(),
        truncate in proptest::option::of(0usize..14),
    ) {
        for ex in EXCHANGES {
            let mut v: Value = serde_json::from_str(&valid_page(ex, n)).unwrap();
            let list = match ex {
                Exchange::BybitLinear => v.pointer_mut("/result/list").unwrap(),
                _ => &mut v,
            };
            let rows = list.as_array_mut().unwrap();
            let k = row % rows.len();
            let r = rows[k].as_array_mut().unwrap();
            if field < r.len() {
                r[field] = value.clone();
            } else {
                r.push(value.clone());
            }
            if let Some(t) = truncate {
                r.truncate(t);
            }
            check_page(ex, &v.to_string());
        }
    }

    #[test]
    fn kline_pages_envelope_mutations_never_panic(value in hostile_value(), key in prop_oneof![
        Just("/retCode"), Just("/retMsg"), Just("/result"), Just("/result/list"), Just("/result/list/0"),
    ]) {
        let mut v: Value = serde_json::from_str(&valid_page(Exchange::BybitLinear, 3)).unwrap();
        if let Some(slot) = v.pointer_mut(key) {
            *slot = value.clone();
        }
        check_page(Exchange::BybitLinear, &v.to_string());
        // A Binance page that is not an array of arrays.
        check_page(Exchange::BinanceSpot, &serde_json::json!([value]).to_string());
        check_page(Exchange::BinanceSpot, &value.to_string());
    }
}

#[test]
fn valid_inputs_parse() {
    let b = read_csv_from(valid_csv(5).as_bytes(), Path::new("v.csv"), Some(Interval::M1)).unwrap();
    assert_eq!(b.len(), 5);
    let (start, end) = window();
    for ex in EXCHANGES {
        assert_eq!(parse_page(ex, &valid_page(ex, 5), Interval::M1, start, end).unwrap().len(), 5, "{ex}");
    }
}
