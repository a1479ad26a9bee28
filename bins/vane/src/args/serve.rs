//! `vane serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::DataDir;

/// Serves the HTTP API until Ctrl-C / SIGTERM.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port, printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder.
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
}
