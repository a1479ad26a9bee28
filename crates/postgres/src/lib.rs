//! The PostgreSQL store of vane (seed 004): versioned migrations, raw candles
//! (`raw_market_data`), features and targets (`processed_market_data`), models
//! (`model_metadata`), what each training run used (`training_sequences`), predictions
//! (`model_predictions`) and analytics views over them that Metabase or `psql` read directly.
//! Schema, migrations and CLI: `docs/postgres.md`; the views and their queries:
//! `docs/analytics.md`.
//!
//! ```no_run
//! use vane_core::{Interval, Symbol, Timestamp};
//! use vane_postgres::PgStore;
//!
//! let mut store = PgStore::connect("postgres://vane@127.0.0.1:5555/vane")?;
//! store.migrate()?;
//! let bars = vane_market_data::read_csv("BTCUSDT_15m.csv".as_ref(), Some(Interval::M15))?;
//! let symbol = Symbol::new("BTCUSDT")?;
//! let report = store.upsert_bars("bybit-linear", &symbol, Interval::M15, &bars)?;
//! println!("{} inserted, {} updated", report.inserted, report.updated);
//! let back = store.read_bars(Some("bybit-linear"), &symbol, Interval::M15, Timestamp(i64::MIN), Timestamp(i64::MAX))?;
//! # let _ = back;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Driver
//!
//! [`tokio_postgres`]: its `binary_copy::BinaryCopyInWriter` streams typed rows in PostgreSQL's
//! binary `COPY` format, the fastest way to load rows; sqlx 0.9 offers only a raw `COPY` (the
//! caller encodes the bytes). Every Postgres driver brings tokio, which the data crates below
//! `models` must not pull, so the store is its own crate. Its API is **blocking**: [`PgStore`]
//! owns a current-thread tokio runtime and one connection, so the CLI and the pipeline stay
//! synchronous. Do not call it from inside another tokio runtime (use `spawn_blocking`).
//!
//! # Writes
//!
//! Bulk writes ([`PgStore::upsert_bars`], [`PgStore::upsert_processed`],
//! [`PgStore::upsert_predictions`]) run in one transaction: binary `COPY` into a temporary
//! staging table, then `INSERT … ON CONFLICT DO UPDATE` into the table. Writing the same rows
//! again changes nothing and is counted (inserted / updated / unchanged); a failure anywhere —
//! a bad row half-way through the `COPY`, a dropped connection — rolls everything back.
//!
//! # Schema
//!
//! Data methods check once per connection that the database's schema is exactly the one this
//! binary embeds: behind → [`PgError::NotMigrated`] ("run `vane db migrate`"; nothing is
//! migrated implicitly), ahead → [`PgError::SchemaTooNew`].
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Raw candles: bulk upsert, streaming reads, the series inventory.
pub mod bars;
/// Incremental exchange download into `raw_market_data`.
pub mod download;
/// Errors of this crate.
pub mod error;
/// Versioned migrations and the schema check.
pub mod migrate;
/// Models, training sequences, predictions and the analytics views.
pub mod models;
pub mod prepare;
pub mod processed;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use bars::{PgImportReport, PgSeriesInfo, SeriesRef, UpsertReport};
pub use error::{PgError, Result};
pub use migrate::{AppliedMigration, MIGRATIONS, Migration, SchemaStatus};
pub use models::{DailyMetrics, LadderMetrics, ModelMetadata, PredictionRow, SymbolMetrics, TrainingSequence};
pub use prepare::{PrepareOptions, PrepareReport, ladder_class, prepare_rows};
pub use processed::{ProcessedRows, processed_feature_columns};

/// The exchange name [`PgStore`] writes when a CSV import does not say (seed 004 trades Bybit
/// linear futures only).
pub const DEFAULT_EXCHANGE: &str = "bybit-linear";

/// A connection to the PostgreSQL store, with a blocking API (see the crate docs).
pub struct PgStore {
    // Field order matters: the client goes before the runtime that drives its connection.
    client: tokio_postgres::Client,
    rt: tokio::runtime::Runtime,
    server: String,
    database: String,
    schema_checked: AtomicBool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("server", &self.server).field("database", &self.database).finish()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` or the key=value
    /// form). An unreachable server is [`PgError::Unreachable`], naming `host:port`, never the
    /// password. Connecting changes nothing in the database.
    pub fn connect(url: &str) -> Result<PgStore> {
        Self::connect_with_timeout(url, Duration::from_secs(10))
    }

    /// [`connect`](PgStore::connect) with a connection timeout.
    pub fn connect_with_timeout(url: &str, timeout: Duration) -> Result<PgStore> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| PgError::BadUrl { url: redact(url), reason: e.to_string() })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("vane");
        }
        let server = server_of(&config);
        let user = config.get_user().unwrap_or("").to_string();
        let database = config.get_dbname().map(str::to_string).unwrap_or_else(|| user.clone());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(PgError::Runtime)?;
        let client = rt.block_on(async {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok::<_, tokio_postgres::Error>(client)
        });
        let client = client.map_err(|source| PgError::Unreachable {
            server: server.clone(),
            database: database.clone(),
            user,
            source,
        })?;
        let store = PgStore { client, rt, server, database, schema_checked: AtomicBool::new(false) };
        store
            .rt
            .block_on(store.client.batch_execute("SET TIME ZONE 'UTC'"))
            .map_err(store.db("setting the session"))?;
        Ok(store)
    }

    /// `host:port` of the server (the socket folder for a Unix socket).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The database name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The driver's client, for queries this crate does not wrap (async: drive it with
    /// [`PgStore::block_on`]).
    pub fn client(&self) -> &tokio_postgres::Client {
        &self.client
    }

    /// Runs a future on the store's runtime (which also drives the connection).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Maps a driver error to [`PgError::Db`] naming what was being done.
    pub(crate) fn db(&self, during: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> PgError {
        let (server, during) = (self.server.clone(), during.into());
        move |source| PgError::Db { server, during, source }
    }

    /// Checks (once per connection) that the schema is the one this binary embeds.
    pub(crate) fn require_schema(&self) -> Result<()> {
        if self.schema_checked.load(Ordering::Relaxed) {
            return Ok(());
        }
        let status = self.status()?;
        let binary = migrate::latest_version();
        if status.database_version > binary {
            return Err(PgError::SchemaTooNew {
                server: self.server.clone(),
                database: status.database_version,
                binary,
            });
        }
        if !status.pending.is_empty() {
            return Err(PgError::NotMigrated {
                server: self.server.clone(),
                database: status.database_version,
                binary,
            });
        }
        migrate::check_checksums(self, &status)?;
        self.schema_checked.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// `host:port` of the first host in `config` (Unix sockets: the folder and port).
fn server_of(config: &tokio_postgres::Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) if h.contains(':') => format!("[{h}]:{port}"),
        Some(tokio_postgres::config::Host::Tcp(h)) => format!("{h}:{port}"),
        Some(tokio_postgres::config::Host::Unix(p)) => format!("{}:{port}", p.display()),
        None => match config.get_hostaddrs().first() {
            Some(a) => format!("{a}:{port}"),
            None => format!("localhost:{port}"),
        },
    }
}

/// `url` with its password (URL or `password=` form) replaced by `***`.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (auth_end, _) = rest.char_indices().find(|&(_, c)| c == '/' || c == '?').unwrap_or((rest.len(), '/'));
        if let Some(at) = rest[..auth_end].rfind('@') {
            let userinfo = &rest[..at];
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***{}", &rest[at..]);
            }
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|kv| if kv.starts_with("password=") { "password=***".to_string() } else { kv.to_string() })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://vane:s3cret@db:5555/vane"), "postgres://vane:***@db:5555/vane");
        assert_eq!(redact("postgres://vane@db/vane"), "postgres://vane@db/vane");
        assert_eq!(redact("host=db password=s3cret user=v"), "host=db password=*** user=v");
    }

    #[test]
    fn bad_url_is_usage_and_hides_the_password() {
        let e = PgStore::connect("postgres://vane:s3cret@db:notaport/vane").unwrap_err();
        assert!(matches!(e, PgError::BadUrl { .. }), "{e}");
        assert_eq!(e.class(), vane_core::ErrorClass::Usage);
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
