//! `vane predict`.

use anyhow::Result;
use vane_core::{DAY_MS, Prediction, Timestamp};
use vane_market_data::{DownloadRequest, Downloader, ParquetStore, RetryPolicy, Sleeper};
use vane_pipeline::Predictor;

use crate::args::predict::PredictArgs;
use crate::output::Render;

pub(crate) fn run(a: PredictArgs) -> Result<Prediction> {
    let predictor = Predictor::for_symbol(&a.artifacts_dir, &a.symbol)?;
    let interval = predictor.schema().interval;
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

impl Render for Prediction {
    fn human(&self) -> String {
        let p = &self.probs;
        format!(
            "{} {} at {} (confidence {:.3}; BUY {:.3} SELL {:.3} HOLD {:.3}; model {})",
            self.symbol, self.signal, self.as_of, self.confidence, p.buy, p.sell, p.hold, self.model_id_used
        )
    }
    fn compact(&self) -> bool {
        true
    }
}
