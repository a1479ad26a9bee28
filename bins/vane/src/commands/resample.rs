//! `vane resample`.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use vane_artifact::check_output;
use vane_core::Interval;
use vane_market_data::{ParquetStore, read_csv, resample, write_csv};

use crate::args::data::ResampleArgs;
use crate::failure::usage;
use crate::output::Render;

#[derive(Serialize)]
pub(crate) struct Resampled {
    from: Interval,
    from_rows: usize,
    to: Interval,
    to_rows: usize,
    path: PathBuf,
}

pub(crate) fn run(a: ResampleArgs) -> Result<Resampled> {
    if let Some(out) = &a.output {
        let inputs: Vec<&std::path::Path> = a.input.iter().map(|p| p.as_path()).collect();
        check_output(out, &inputs, &[("the bar store", &a.data.data_dir)])?;
    }
    let store = ParquetStore::new(&a.data.data_dir);
    let src = match (&a.input, &a.symbol) {
        (Some(p), _) => read_csv(p, Some(a.from)).map_err(|e| super::with_interval_hint(e, p, a.from, "--from"))?,
        (None, Some(s)) => store.read(s, a.from)?,
        (None, None) => return Err(usage("give --symbol or --input")),
    };
    let out = resample(&src, a.from, a.to, a.keep_partial)?;
    let path = match (&a.output, &a.symbol) {
        (Some(p), _) => {
            write_csv(p, &out, Some(a.to))?;
            p.clone()
        }
        (None, Some(s)) => {
            store.write(s, a.to, &out)?;
            store.path(s, a.to)
        }
        (None, None) => return Err(usage("--output is required when reading from --input")),
    };
    Ok(Resampled { from: a.from, from_rows: src.len(), to: a.to, to_rows: out.len(), path })
}

impl Render for Resampled {
    fn human(&self) -> String {
        format!(
            "resampled {} {} bars into {} {} bars in {}",
            self.from_rows,
            self.from,
            self.to_rows,
            self.to,
            self.path.display()
        )
    }
}
