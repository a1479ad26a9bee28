//! Errors of vane-server.

use std::net::SocketAddr;

/// What can go wrong starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listening address cannot be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime cannot be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A configuration that cannot be served (the message names the setting).
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// The job queue cannot be opened or run.
    #[error("job queue: {0}")]
    Jobs(String),
    /// Serving failed after the listener was bound.
    #[error("serving on {addr} failed: {source}")]
    Serve {
        /// The bound address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl ServerError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            ServerError::Bind { .. } => ErrorClass::Io,
            ServerError::Config { .. } => ErrorClass::Usage,
            ServerError::Jobs { .. } => ErrorClass::Io,
            ServerError::Runtime { .. } => ErrorClass::Internal,
            ServerError::Serve { .. } => ErrorClass::Io,
        }
    }
}

/// Result type of vane-server.
pub type Result<T> = std::result::Result<T, ServerError>;
