//! How a trading bot embeds vane: load a trained model folder once, then feed each closed bar
//! as it arrives and act on the decision. It depends on the `vane` facade only.
//!
//! `cargo run --release -p vane --example bot [ARTIFACTS_DIR]` (from the repository root) — with
//! no trained model at that path (default `vane-demo/artifacts`, written by `vane demo`), it
//! first trains a quick seed 001 model on the bundled real candles (`fixtures/`) into a
//! temporary folder.

use std::path::PathBuf;

use vane::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let symbol = Symbol::new("BTCUSDT")?;
    // The bundled candles: ./fixtures from the repository root, else the source tree's.
    let fixtures = vane::pipeline::demo::fixtures_dir(None)?;
    let bars = read_csv(&fixtures.join("BTCUSDT_4h.csv"), Some(Interval::H4))?;
    let tmp = std::env::temp_dir().join(format!("vane-bot-{}", std::process::id()));
    let mut arts = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "vane-demo/artifacts".into()));
    if AnyPredictor::resolve(&arts, &symbol, None).is_err() {
        println!("no model in {}: training a quick one on the bundled candles", arts.display());
        let store = ParquetStore::new(tmp.join("data"));
        for s in ["BTCUSDT", "ETHUSDT"] {
            let candles = read_csv(&fixtures.join(format!("{s}_4h.csv")), Some(Interval::H4))?;
            store.append(&Symbol::new(s)?, Interval::H4, &candles)?;
        }
        arts = tmp.join("artifacts");
        train(&store, &arts, &TrainConfig::default(), Mode::Fast, false)?;
    }
    let model = AnyPredictor::resolve(&arts, &symbol, None)?;
    println!("model {} ({}) trained on {} bars", model.model_id(), model.model_kind(), model.interval());

    // The live loop: one closed bar at a time (here replayed from the fixture).
    let mut stream = model.stream(&symbol)?;
    let mut position = Signal::Hold;
    let mut changes = 0;
    let mut last = None;
    for bar in bars.iter() {
        let Some(forecast) = stream.on_bar(&bar)? else { continue }; // still warming up
        last = Some(forecast.clone());
        let Some(signal) = forecast.signal else { continue }; // a regressor without a decision rule
        if signal != Signal::Hold && signal != position {
            position = signal;
            changes += 1;
            if changes <= 5 {
                println!("{} {signal} (confidence {:.3})", forecast.as_of, forecast.confidence.unwrap_or(f64::NAN));
            }
        }
    }
    println!("{changes} position changes over {} bars; last position {position}", bars.len());
    // The same forecast as a batch prediction on all the bars.
    let batch = model.predict(&symbol, &bars)?;
    assert_eq!(Some(&batch), last.as_ref(), "streaming and batch agree");
    println!("last forecast: {}", describe(&batch));
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn describe(f: &Forecast) -> String {
    let signal = f.signal.map_or_else(|| "no signal".to_string(), |s| s.to_string());
    match (f.probs, f.expected_return) {
        (Some(p), _) => format!(
            "{} {signal} at {} (BUY {:.3} SELL {:.3} HOLD {:.3}; {} model {})",
            f.symbol, f.as_of, p.buy, p.sell, p.hold, f.model_kind, f.model_id_used
        ),
        (None, er) => format!("{} {signal} at {}: expected return {er:?} ({})", f.symbol, f.as_of, f.model_kind),
    }
}
