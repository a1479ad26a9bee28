//! Versioned migrations: SQL files embedded in the binary (`crates/postgres/migrations/`),
//! recorded in `vane_schema_migrations(version, name, applied_at, checksum)`, each applied in
//! its own transaction under an advisory lock (two `vane db migrate` at once apply each
//! migration once). Migrating twice changes nothing; a database whose schema is newer than this
//! binary is refused, and so is one whose applied migrations differ from the embedded ones.

use serde::Serialize;

use crate::PgStore;
use crate::error::{PgError, Result};

/// One embedded migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Its version (the file's number); versions increase by one from 1.
    pub version: i64,
    /// Its name (the file's name without number and extension).
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

impl Migration {
    /// CRC-32 of the SQL, as 8 hex digits: what `vane_schema_migrations.checksum` records.
    pub fn checksum(&self) -> String {
        format!("{:08x}", crc32fast::hash(self.sql.as_bytes()))
    }
}

/// Every migration this binary knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "raw_market_data", sql: include_str!("../migrations/0001_raw_market_data.sql") },
    Migration {
        version: 2,
        name: "processed_market_data",
        sql: include_str!("../migrations/0002_processed_market_data.sql"),
    },
    Migration { version: 3, name: "models", sql: include_str!("../migrations/0003_models.sql") },
    Migration { version: 4, name: "analytics_views", sql: include_str!("../migrations/0004_analytics_views.sql") },
];

/// The newest version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// A migration recorded in the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// When it was applied (RFC 3339, UTC).
    pub applied_at: String,
    /// The recorded checksum.
    pub checksum: String,
    /// Whether this binary knows the version (false: the database is newer).
    pub known: bool,
}

/// Where a database's schema stands against this binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// `host:port`.
    pub server: String,
    /// The database.
    pub database: String,
    /// The newest applied version (0: none).
    pub database_version: i64,
    /// The newest version this binary knows.
    pub binary_version: i64,
    /// Applied migrations, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// Known migrations not applied yet: (version, name).
    pub pending: Vec<(i64, String)>,
    /// What [`PgStore::migrate`] applied in this call (empty for a status).
    pub newly_applied: Vec<(i64, String)>,
}

impl SchemaStatus {
    /// Whether the database is newer than this binary.
    pub fn is_newer_than_binary(&self) -> bool {
        self.database_version > self.binary_version
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS vane_schema_migrations (
    version    BIGINT      PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    checksum   TEXT        NOT NULL
)";

/// `pg_advisory_xact_lock` key of migrations ("vane" in ASCII).
const LOCK_KEY: i64 = 0x7661_6e65;

impl PgStore {
    /// The schema's state; changes nothing (a database never migrated has no applied versions).
    pub fn status(&self) -> Result<SchemaStatus> {
        let rows = self.block_on(async {
            let exists = self
                .client
                .query_one("SELECT to_regclass('vane_schema_migrations') IS NOT NULL", &[])
                .await?
                .get::<_, bool>(0);
            if !exists {
                return Ok(Vec::new());
            }
            self.client
                .query(
                    "SELECT version, name, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), checksum
                     FROM vane_schema_migrations ORDER BY version",
                    &[],
                )
                .await
        });
        let rows = rows.map_err(self.db("reading vane_schema_migrations"))?;
        let applied: Vec<AppliedMigration> = rows
            .iter()
            .map(|r| {
                let version: i64 = r.get(0);
                AppliedMigration {
                    version,
                    name: r.get(1),
                    applied_at: r.get(2),
                    checksum: r.get(3),
                    known: MIGRATIONS.iter().any(|m| m.version == version),
                }
            })
            .collect();
        let pending = MIGRATIONS
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .map(|m| (m.version, m.name.to_string()))
            .collect();
        Ok(SchemaStatus {
            server: self.server.clone(),
            database: self.database.clone(),
            database_version: applied.iter().map(|a| a.version).max().unwrap_or(0),
            binary_version: latest_version(),
            applied,
            pending,
            newly_applied: Vec::new(),
        })
    }

    /// Applies every pending migration, each in its own transaction, and returns the status
    /// afterwards. Idempotent. Refuses (changing nothing) a schema newer than this binary or an
    /// applied migration whose checksum differs from the embedded one.
    pub fn migrate(&mut self) -> Result<SchemaStatus> {
        self.block_on(self.client.batch_execute(CREATE_TABLE)).map_err(self.db("creating vane_schema_migrations"))?;
        let before = self.status()?;
        if before.is_newer_than_binary() {
            return Err(PgError::SchemaTooNew {
                server: self.server.clone(),
                database: before.database_version,
                binary: before.binary_version,
            });
        }
        check_checksums(self, &before)?;
        let mut newly = Vec::new();
        for m in MIGRATIONS {
            if before.applied.iter().any(|a| a.version == m.version) {
                continue;
            }
            let server = self.server.clone();
            let Self { client, rt, .. } = self;
            let applied = rt.block_on(async {
                let tx = client.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY]).await?;
                // Another process may have applied it while we waited for the lock.
                let done =
                    tx.query_opt("SELECT 1 FROM vane_schema_migrations WHERE version = $1", &[&m.version]).await?;
                if done.is_some() {
                    tx.rollback().await?;
                    return Ok(false);
                }
                tx.batch_execute(m.sql).await?;
                tx.execute(
                    "INSERT INTO vane_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    &[&m.version, &m.name, &m.checksum()],
                )
                .await?;
                tx.commit().await?;
                Ok::<_, tokio_postgres::Error>(true)
            });
            let applied = applied.map_err(|source| PgError::Db {
                server,
                during: format!("applying migration {} ({})", m.version, m.name),
                source,
            })?;
            if applied {
                newly.push((m.version, m.name.to_string()));
            }
        }
        let mut after = self.status()?;
        if after.is_newer_than_binary() {
            return Err(PgError::SchemaTooNew {
                server: self.server.clone(),
                database: after.database_version,
                binary: after.binary_version,
            });
        }
        after.newly_applied = newly;
        self.schema_checked.store(false, std::sync::atomic::Ordering::Relaxed);
        Ok(after)
    }
}

/// Refuses applied migrations whose checksum differs from this binary's.
pub(crate) fn check_checksums(store: &PgStore, status: &SchemaStatus) -> Result<()> {
    for a in &status.applied {
        if let Some(m) = MIGRATIONS.iter().find(|m| m.version == a.version)
            && m.checksum() != a.checksum
        {
            return Err(PgError::MigrationChanged {
                server: store.server.clone(),
                version: a.version,
                name: a.name.clone(),
                recorded: a.checksum.clone(),
                embedded: m.checksum(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_by_one_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(!m.sql.trim().is_empty());
        }
        assert_eq!(latest_version(), MIGRATIONS.len() as i64);
    }
}
