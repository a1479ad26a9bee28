//! `vane db migrate|status`, and opening the PostgreSQL store for the data verbs.

use std::fmt::Write as _;

use anyhow::Result;
use vane_postgres::{PgStore, SchemaStatus};

use crate::args::db::{DbArgs, DbCommand};
use crate::failure::usage;
use crate::output::Render;

/// Connects to `url`, or to `$DATABASE_URL` when `url` is `None` or empty.
pub(crate) fn open(url: Option<&str>) -> Result<PgStore> {
    let url = match url.filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        None => std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()).ok_or_else(|| {
            usage("no database: pass --database-url postgres://USER@HOST:PORT/DATABASE or set DATABASE_URL")
        })?,
    };
    Ok(PgStore::connect(&url)?)
}

/// What `vane db` reports: the schema's state (and, for `migrate`, what it applied).
#[derive(serde::Serialize)]
pub(crate) struct DbReport {
    #[serde(flatten)]
    status: SchemaStatus,
    #[serde(skip)]
    migrate: bool,
}

pub(crate) fn run(a: DbArgs) -> Result<DbReport> {
    match a.command {
        DbCommand::Migrate(u) => {
            let mut store = open(u.database_url.as_deref())?;
            Ok(DbReport { status: store.migrate()?, migrate: true })
        }
        DbCommand::Status(u) => {
            let store = open(u.database_url.as_deref())?;
            Ok(DbReport { status: store.status()?, migrate: false })
        }
    }
}

impl Render for DbReport {
    fn human(&self) -> String {
        let s = &self.status;
        let mut out = String::new();
        if self.migrate {
            if s.newly_applied.is_empty() {
                let _ = writeln!(
                    out,
                    "schema of {} at {} is up to date (version {})",
                    s.database, s.server, s.database_version
                );
            } else {
                for (v, name) in &s.newly_applied {
                    let _ = writeln!(out, "applied {v:04} {name}");
                }
                let _ =
                    writeln!(out, "schema of {} at {} is now at version {}", s.database, s.server, s.database_version);
            }
            return out;
        }
        let _ = writeln!(
            out,
            "database {} at {}: schema version {} (this vane: {})",
            s.database, s.server, s.database_version, s.binary_version
        );
        for m in &s.applied {
            let unknown = if m.known { "" } else { "  (unknown to this vane)" };
            let _ = writeln!(out, "  applied  {:04} {:<24} {}{unknown}", m.version, m.name, m.applied_at);
        }
        for (v, name) in &s.pending {
            let _ = writeln!(out, "  pending  {v:04} {name}");
        }
        if !s.pending.is_empty() {
            let _ = writeln!(out, "run `vane db migrate` to apply the pending migrations");
        }
        out
    }
    fn failure(&self) -> Option<String> {
        let s = &self.status;
        s.is_newer_than_binary().then(|| {
            format!(
                "the database's schema version {} is newer than this vane knows ({}); use a newer vane",
                s.database_version, s.binary_version
            )
        })
    }
}
