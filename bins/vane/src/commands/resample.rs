//! `vane resample`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Serialize;
use vane_core::Interval;
use vane_market_data::{ParquetStore, read_csv, resample, write_csv};

use crate::args::data::ResampleArgs;
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
    let store = ParquetStore::new(&a.data.data_dir);
    let src = match (&a.input, &a.symbol) {
        (Some(p), _) => read_csv(p, Some(a.from))?,
        (None, Some(s)) => store.read(s, a.from)?,
        (None, None) => bail!("give --symbol or --input"),
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
        (None, None) => bail!("--output is required when reading from --input"),
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
