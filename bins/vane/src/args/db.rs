//! `vane db migrate|status`, and the `--database-url` option the data verbs share.

/// `vane db`: the PostgreSQL store's schema (docs/postgres.md).
#[derive(Debug, clap::Args)]
pub(crate) struct DbArgs {
    #[command(subcommand)]
    pub(crate) command: DbCommand,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DbCommand {
    /// Apply the pending migrations (idempotent; a schema newer than this vane is refused).
    Migrate(DbUrl),
    /// The applied and pending migrations.
    Status(DbUrl),
}

/// `--database-url` of `vane db` (default: the `DATABASE_URL` environment variable).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DbUrl {
    /// PostgreSQL URL, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

/// `--database-url` of the data verbs: the PostgreSQL store instead of the parquet store.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PgOption {
    /// Use the PostgreSQL store at URL instead of the parquet store (`--database-url` without a
    /// value: the URL in $DATABASE_URL). Run `vane db migrate` on the database first.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub(crate) database_url: Option<String>,
}
