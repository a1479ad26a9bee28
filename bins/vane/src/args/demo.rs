//! `vane demo`.

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Where the demo writes its store and artifacts.
    #[arg(long, default_value = "vane-demo")]
    pub(crate) dir: PathBuf,
    /// The bundled fixtures folder (default: ./fixtures, else the one in the source tree).
    #[arg(long)]
    pub(crate) fixtures: Option<PathBuf>,
}
