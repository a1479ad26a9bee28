//! Errors of vane-market-data.

use std::path::PathBuf;

/// Everything that can go wrong reading, storing or downloading candles.
#[derive(Debug, thiserror::Error)]
pub enum MarketDataError {
    /// Invalid core value (symbol, interval, bar).
    #[error(transparent)]
    Core(#[from] vane_core::CoreError),
    /// Atomic-write and artifact-contract errors.
    #[error(transparent)]
    File(#[from] vane_artifact::ArtifactError),
    /// A filesystem operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file that is not in the candle schema. Nothing was written.
    #[error("{file}:{line}: column {column}: {message}")]
    Csv {
        /// The file.
        file: PathBuf,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// The column name (or `-` when the whole row is at fault).
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A parquet file that could not be read or written.
    #[error("parquet {path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A store file whose contents do not match the checksums written with it (a flipped bit,
    /// a torn copy): nothing of it is used.
    #[error("{path} is corrupt: {message}; nothing of it was used (delete it and download or import the series again)")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// The store's folder is a file.
    #[error("the data folder {path} is a file, not a folder: point --data-dir at a folder")]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// A stored series whose open times are outside the range of market data (imported before
    /// the range was checked): downloads refuse to continue it.
    #[error("{path}: {message}; delete it and import or download the series again")]
    StoredOutOfRange {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A transport failure (connection refused or reset, timeout) that outlasted the retries.
    #[error("{exchange}: request {url} failed after {attempts} attempt(s): {message}")]
    Transport {
        /// Which exchange.
        exchange: &'static str,
        /// The request.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last error.
        message: String,
    },
    /// The exchange answered with an HTTP error status.
    #[error("{exchange}: HTTP {status} for {url} (after {attempts} attempt(s)): {body}")]
    Http {
        /// Which exchange.
        exchange: &'static str,
        /// The request.
        url: String,
        /// The status code.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// The start of the response body.
        body: String,
    },
    /// The exchange answered with an API-level error (Binance `{code,msg}`, Bybit `retCode`).
    #[error("{exchange}: API error {code}: {message} ({url})")]
    Api {
        /// Which exchange.
        exchange: &'static str,
        /// The request.
        url: String,
        /// The exchange's error code.
        code: i64,
        /// The exchange's message.
        message: String,
    },
    /// An exchange URL that cannot work (not http/https, not a URL): nothing was sent.
    #[error("{exchange}: bad exchange URL {url:?}: {message} (check --base-url)")]
    BadUrl {
        /// Which exchange.
        exchange: &'static str,
        /// The URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The exchange answered a page with bars outside the requested window (it ignores the
    /// start time): the download cannot advance.
    #[error("{exchange}: the page for {url} does not advance: {message}")]
    NoProgress {
        /// Which exchange.
        exchange: &'static str,
        /// The request.
        url: String,
        /// What came back.
        message: String,
    },
    /// A response that is not in the exchange's documented format.
    #[error("{exchange}: malformed response from {url}: {message}")]
    Malformed {
        /// Which exchange.
        exchange: &'static str,
        /// The request.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A download that stopped early. Everything fetched before the failure was stored;
    /// running the download again resumes at `resume_from`.
    #[error(
        "download of {symbol} {interval} stopped after storing {stored} new bar(s); {}: {source}",
        resume_hint(source, *resume_from)
    )]
    Interrupted {
        /// The instrument.
        symbol: String,
        /// The bar length.
        interval: String,
        /// New bars stored by this run.
        stored: usize,
        /// Where the next run starts.
        resume_from: vane_core::Timestamp,
        /// Why it stopped.
        #[source]
        source: Box<MarketDataError>,
    },
    /// A bad symbol in a universe file.
    #[error("{path}:{line}: {source}")]
    Universe {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong with the symbol.
        #[source]
        source: vane_core::CoreError,
    },
    /// An argument out of its domain (an interval the exchange lacks, a bad range...).
    #[error("{0}")]
    InvalidArgument(String),
}

impl MarketDataError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { op, path: path.into(), source }
    }

    pub(crate) fn parquet(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        Self::Parquet { path: path.into(), message: e.to_string() }
    }
}

impl MarketDataError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            MarketDataError::Core(e) => e.class(),
            MarketDataError::File(e) => e.class(),
            MarketDataError::Io { .. } => ErrorClass::Io,
            MarketDataError::Csv { .. } => ErrorClass::Data,
            MarketDataError::Parquet { .. } => ErrorClass::Data,
            MarketDataError::Corrupt { .. } => ErrorClass::Data,
            MarketDataError::NotAFolder { .. } => ErrorClass::Usage,
            MarketDataError::StoredOutOfRange { .. } => ErrorClass::Data,
            MarketDataError::BadUrl { .. } => ErrorClass::Usage,
            MarketDataError::NoProgress { .. } => ErrorClass::Network,
            MarketDataError::Transport { .. } => ErrorClass::Network,
            MarketDataError::Http { .. } => ErrorClass::Network,
            MarketDataError::Api { .. } => ErrorClass::Network,
            MarketDataError::Malformed { .. } => ErrorClass::Network,
            MarketDataError::Interrupted { source, .. } => source.class(),
            MarketDataError::Universe { .. } => ErrorClass::Data,
            MarketDataError::InvalidArgument { .. } => ErrorClass::Usage,
        }
    }
}

impl MarketDataError {
    /// Whether trying again later may succeed (a dropped connection, a timeout, a rate limit,
    /// a 5xx, a cut-off body). Permanent errors — a bad URL, an interval or symbol the exchange
    /// lacks, a 4xx other than 429, an exchange that ignores the start time — are not retried
    /// and a download stopped by one does not say "run it again".
    pub fn is_transient(&self) -> bool {
        match self {
            MarketDataError::Transport { .. } | MarketDataError::Malformed { .. } => true,
            MarketDataError::Http { status, .. } => matches!(status, 403 | 408 | 418 | 429 | 500..=599),
            MarketDataError::Interrupted { source, .. } => source.is_transient(),
            _ => false,
        }
    }
}

fn resume_hint(source: &MarketDataError, resume_from: vane_core::Timestamp) -> String {
    if source.is_transient() {
        format!("run it again to resume from {resume_from}")
    } else {
        format!("the stored bars end before {resume_from}; running it again will not help until the cause is fixed")
    }
}

/// Result type of vane-market-data.
pub type Result<T> = std::result::Result<T, MarketDataError>;
