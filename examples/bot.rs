//! How a trading bot embeds vane: load the trained artifacts once, then feed each closed bar
//! as it arrives and act on the decision.
//!
//! `cargo run --release -p vane-pipeline --example bot [ARTIFACTS_DIR]` — with no trained
//! artifacts at that path (default `vane-demo/artifacts`, written by `vane demo`), it first
//! trains a quick model on the bundled candles into a temporary folder.

use vane_core::{Interval, Signal, Symbol};
use vane_market_data::ParquetStore;
use vane_market_data::testing::fixture_bars;
use vane_pipeline::{Mode, Predictor, TrainConfig, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let symbol = Symbol::new("BTCUSDT")?;
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let tmp = std::env::temp_dir().join(format!("vane-bot-{}", std::process::id()));
    let mut arts = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "vane-demo/artifacts".into()));
    if Predictor::for_symbol(&arts, &symbol).is_err() {
        println!("no artifacts in {}: training a quick model on the bundled candles", arts.display());
        let store = ParquetStore::new(tmp.join("data"));
        for s in ["BTCUSDT", "ETHUSDT"] {
            store.append(&Symbol::new(s)?, Interval::H4, &fixture_bars(&format!("{s}_4h.csv"), Interval::H4))?;
        }
        arts = tmp.join("artifacts");
        train(&store, &arts, &TrainConfig::default(), Mode::Fast, false)?;
    }
    let predictor = Predictor::for_symbol(&arts, &symbol)?;
    println!("model {} from {}", predictor.model_id(), predictor.dir().display());

    // The live loop: one closed bar at a time (here replayed from the fixture).
    let mut stream = predictor.stream(symbol.clone())?;
    let mut position = Signal::Hold;
    let mut changes = 0;
    for bar in bars.iter() {
        let Some(decision) = stream.on_bar(&bar)? else { continue }; // still warming up
        if decision.signal != Signal::Hold && decision.signal != position {
            position = decision.signal;
            changes += 1;
            if changes <= 5 {
                println!("{} {} (confidence {:.3})", decision.as_of, decision.signal, decision.confidence);
            }
        }
    }
    println!("{changes} position changes over {} bars; last position {position}", bars.len());
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
