//! `vane report`.

use std::path::PathBuf;

use super::runs::RunsDirArg;

#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// The run to report on (see `vane runs list`).
    #[arg(long, value_name = "ID")]
    pub(crate) run: String,
    #[command(flatten)]
    pub(crate) runs: RunsDirArg,
    /// Where to write the HTML tearsheet (default: <runs-dir>/<ID>/report.html).
    #[arg(long, value_name = "FILE.html")]
    pub(crate) out: Option<PathBuf>,
}
