//! A throwaway database per test, created from `DATABASE_URL` and dropped afterwards. Without
//! `DATABASE_URL` (or with the server unreachable) a test skips with a message — unless
//! `VANE_REQUIRE_POSTGRES=1`, where it fails.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use vane_postgres::PgStore;

/// A database that exists for the life of this value.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    name: String,
    admin_url: String,
}

/// `VANE_REQUIRE_POSTGRES=1` (set by `.ci/run`) or any CI run (`CI=true`): a missing database
/// fails the test instead of skipping it.
fn required() -> bool {
    std::env::var("VANE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| v == "true")
}

fn skip(why: &str) -> Option<TestDb> {
    if required() {
        panic!("PostgreSQL is required here (VANE_REQUIRE_POSTGRES=1 or CI=true) but {why}");
    }
    eprintln!("skipping: {why} (set DATABASE_URL, e.g. `eval \"$(bash .ci/pg.sh)\"`)");
    None
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    match head[scheme_end..].find('/') {
        Some(i) => format!("{}/{db}{query}", &head[..scheme_end + i]),
        None => format!("{head}/{db}{query}"),
    }
}

/// A fresh empty database, or `None` (skip) when no server is configured.
pub fn test_db() -> Option<TestDb> {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else { return skip("DATABASE_URL is not set") };
    let admin = match PgStore::connect(&admin_url) {
        Ok(s) => s,
        Err(e) => return skip(&format!("the database is unreachable: {e}")),
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("vane_test_{}_{}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed));
    admin.block_on(admin.client().batch_execute(&format!("CREATE DATABASE {name}"))).expect("create the test database");
    Some(TestDb { url: with_database(&admin_url, &name), name, admin_url })
}

impl TestDb {
    /// A connection to the test database.
    pub fn store(&self) -> PgStore {
        PgStore::connect(&self.url).expect("connect to the test database")
    }

    /// A connection with the schema migrated.
    pub fn migrated(&self) -> PgStore {
        let mut s = self.store();
        s.migrate().expect("migrate");
        s
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(admin) = PgStore::connect(&self.admin_url) {
            let _ = admin
                .block_on(admin.client().batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
        }
    }
}
