//! `vane predict`.

use anyhow::Result;
use vane_core::{DAY_MS, Timestamp};
use vane_market_data::{DownloadRequest, Downloader, ParquetStore, RetryPolicy, Sleeper};
use vane_pipeline::{AnyPredictor, Forecast, Predict};

use crate::args::predict::PredictArgs;
use crate::output::Render;

pub(crate) fn run(a: PredictArgs) -> Result<Forecast> {
    let predictor = AnyPredictor::resolve(&a.artifacts_dir, &a.symbol, a.model_id.as_ref())?;
    let interval = predictor.interval();
    let store = ParquetStore::new(&a.data.data_dir);
    if a.refresh {
        let client = a.exchange.client(a.base_url.as_deref(), RetryPolicy::default(), Sleeper::default());
        let since = Timestamp(Timestamp::now().0 - i64::from(a.since_days) * DAY_MS);
        let req = DownloadRequest { symbol: a.symbol.clone(), interval, since, until: None };
        Downloader::new(client.as_ref(), &store).download(&req, &mut |_| {})?;
    }
    // Stored bars are closed bars only (downloads never store the open one).
    Ok(predictor.predict(&a.symbol, &store.read(&a.symbol, interval)?)?)
}

impl Render for Forecast {
    fn human(&self) -> String {
        let signal = self.signal.map_or_else(|| "no signal".to_string(), |s| s.to_string());
        let model = format!("{} model {}", self.model_kind, self.model_id_used);
        match (self.probs, self.expected_return) {
            (Some(p), _) => format!(
                "{} {signal} at {} (confidence {:.3}; BUY {:.3} SELL {:.3} HOLD {:.3}; {model})",
                self.symbol,
                self.as_of,
                self.confidence.unwrap_or(f64::NAN),
                p.buy,
                p.sell,
                p.hold
            ),
            (None, er) => format!(
                "{} {signal} at {}: expected return {:+.5} ({model})",
                self.symbol,
                self.as_of,
                er.unwrap_or(f64::NAN)
            ),
        }
    }
    fn compact(&self) -> bool {
        true
    }
}
