//! Errors of vane-postgres.

use vane_core::ErrorClass;

/// Everything that can go wrong talking to the PostgreSQL store. Messages name the server as
/// `host:port` and the database, never the password.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// A database URL that cannot be parsed.
    #[error(
        "invalid database URL {url:?}: {reason} (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, from --database-url or DATABASE_URL)"
    )]
    BadUrl {
        /// The URL with any password replaced by `***`.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The server could not be reached or refused the connection.
    #[error(
        "cannot connect to PostgreSQL at {server} (database {database:?}, user {user:?}); is the server running and is --database-url / DATABASE_URL right?"
    )]
    Unreachable {
        /// `host:port` (or the socket folder).
        server: String,
        /// The database name.
        database: String,
        /// The user name.
        user: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A statement failed.
    #[error("PostgreSQL at {server}: {during} failed")]
    Db {
        /// `host:port`.
        server: String,
        /// What was being done.
        during: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database's schema is newer than this binary knows.
    #[error(
        "the database at {server} has schema version {database}, newer than this vane knows ({binary}); use a newer vane (nothing was changed)"
    )]
    SchemaTooNew {
        /// `host:port`.
        server: String,
        /// The newest applied migration.
        database: i64,
        /// The newest migration this binary embeds.
        binary: i64,
    },
    /// The schema is missing or behind this binary.
    #[error(
        "the database at {server} is at schema version {database} but this vane needs {binary}; run `vane db migrate --database-url URL` first"
    )]
    NotMigrated {
        /// `host:port`.
        server: String,
        /// The newest applied migration (0: none).
        database: i64,
        /// The newest migration this binary embeds.
        binary: i64,
    },
    /// An applied migration whose recorded checksum differs from the one embedded here.
    #[error(
        "migration {version} ({name}) applied in the database at {server} has checksum {recorded}, this vane's has {embedded}: the database was migrated by a different build; refusing to continue"
    )]
    MigrationChanged {
        /// `host:port`.
        server: String,
        /// The migration's version.
        version: i64,
        /// Its name.
        name: String,
        /// The checksum in `vane_schema_migrations`.
        recorded: String,
        /// The checksum of the embedded SQL.
        embedded: String,
    },
    /// A series that is not in the store.
    #[error("{what} is not in the database at {server}{hint}")]
    NotFound {
        /// What was asked for (`BTCUSDT 15m in raw_market_data`).
        what: String,
        /// `host:port`.
        server: String,
        /// What is there instead.
        hint: String,
    },
    /// An argument out of its domain.
    #[error("{0}")]
    InvalidArgument(String),
    /// Stored rows that do not make a valid bar series.
    #[error("stored bars of {series} are not a valid series")]
    BadStoredBars {
        /// The series.
        series: String,
        /// Why.
        #[source]
        source: vane_core::CoreError,
    },
    /// A bar series that cannot be built.
    #[error(transparent)]
    Core(#[from] vane_core::CoreError),
    /// A market-data error (CSV import, exchange download).
    #[error(transparent)]
    MarketData(#[from] vane_market_data::MarketDataError),
    /// The expected-return labels could not be computed (`vane prepare`).
    #[error(transparent)]
    Labeling(#[from] vane_labeling::LabelError),
    /// The internal runtime could not be started.
    #[error("cannot start the database client's runtime")]
    Runtime(#[source] std::io::Error),
}

impl PgError {
    /// The error's class: usage (a bad URL, an unmigrated schema, a series not stored), data
    /// (a newer or changed schema, invalid stored rows), network (the server is unreachable or
    /// the connection broke), internal (a statement the server rejected).
    pub fn class(&self) -> ErrorClass {
        match self {
            PgError::BadUrl { .. }
            | PgError::NotMigrated { .. }
            | PgError::NotFound { .. }
            | PgError::InvalidArgument(_) => ErrorClass::Usage,
            PgError::SchemaTooNew { .. } | PgError::MigrationChanged { .. } | PgError::BadStoredBars { .. } => {
                ErrorClass::Data
            }
            PgError::Unreachable { .. } => ErrorClass::Network,
            PgError::Db { source, .. } => db_class(source),
            PgError::Core(e) => e.class(),
            PgError::MarketData(e) => e.class(),
            PgError::Labeling(e) => e.class(),
            PgError::Runtime(_) => ErrorClass::Io,
        }
    }
}

/// The class of a driver error: a closed or broken connection is a network error, SQLSTATE
/// classes 22 (data exception) and 23 (integrity) are bad data, 28 (authorisation) and 3D (no
/// such database) bad arguments, anything else a bug.
fn db_class(e: &tokio_postgres::Error) -> ErrorClass {
    if e.is_closed() {
        return ErrorClass::Network;
    }
    match e.code().map(|c| c.code()) {
        None => ErrorClass::Network,
        Some(c) if c.starts_with("22") || c.starts_with("23") => ErrorClass::Data,
        Some(c) if c.starts_with("28") || c.starts_with("3D") => ErrorClass::Usage,
        Some(c) if c.starts_with("08") || c.starts_with("57") => ErrorClass::Network,
        Some(_) => ErrorClass::Internal,
    }
}

/// Result type of vane-postgres.
pub type Result<T> = std::result::Result<T, PgError>;
