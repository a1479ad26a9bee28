//! `vane serve`.

use anyhow::Result;
use vane_server::ServeConfig;

use crate::args::serve::ServeArgs;

pub(crate) fn run(a: ServeArgs) -> Result<()> {
    vane_server::run(ServeConfig { addr: a.addr, artifacts_dir: a.artifacts_dir, data_dir: a.data.data_dir })?;
    Ok(())
}
