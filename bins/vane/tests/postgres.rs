//! The CLI against a real PostgreSQL: `vane db migrate|status`, `vane import`, `vane data info`,
//! `vane export` and `vane download` with `--database-url`, in a throwaway database created from
//! `DATABASE_URL` (skipped without it; failing with `VANE_REQUIRE_POSTGRES=1`).

mod common;

use common::{exit, fixture, vane};
use serde_json::Value;
use vane_core::{Interval, Symbol};
use vane_postgres::PgStore;
use vane_testkit::{Flavor, MockExchange, fixture_bars};

struct TestDb {
    url: String,
    name: String,
    admin_url: String,
}

fn test_db() -> Option<TestDb> {
    let required = common::required("VANE_REQUIRE_POSTGRES");
    let skip = |why: String| {
        assert!(!required, "PostgreSQL is required here (VANE_REQUIRE_POSTGRES=1 or CI=true) but {why}");
        eprintln!("skipping: {why} (set DATABASE_URL, e.g. `eval \"$(bash .ci/pg.sh)\"`)");
        None
    };
    let Ok(admin_url) = std::env::var("DATABASE_URL") else { return skip("DATABASE_URL is not set".into()) };
    let admin = match PgStore::connect(&admin_url) {
        Ok(s) => s,
        Err(e) => return skip(format!("the database is unreachable: {e}")),
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("vane_cli_test_{}_{nanos}", std::process::id());
    admin.block_on(admin.client().batch_execute(&format!("CREATE DATABASE {name}"))).expect("create database");
    let (head, _) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    Some(TestDb { url: format!("{base}/{name}"), name, admin_url })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(admin) = PgStore::connect(&self.admin_url) {
            let _ = admin
                .block_on(admin.client().batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
        }
    }
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failed(out: &std::process::Output, code: i32, words: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    for w in words {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
}

#[test]
fn db_migrate_import_info_export_round_trip() {
    let Some(db) = test_db() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let url = db.url.as_str();
    let csv = fixture("BTCUSDT_4h.csv");
    let csv = csv.to_str().unwrap();
    let import = ["import", "--database-url", url, "--csv", csv, "--symbol", "BTCUSDT", "--interval", "4h", "--json"];

    // Before migrating: import refuses and says what to run.
    failed(&vane(&import, cwd), exit::USAGE, &["vane db migrate"]);
    let status: Value =
        serde_json::from_str(&ok(&vane(&["db", "status", "--database-url", url, "--json"], cwd))).unwrap();
    assert_eq!(status["database_version"], 0);
    assert_eq!(status["pending"].as_array().unwrap().len(), vane_postgres::MIGRATIONS.len());

    let m: Value = serde_json::from_str(&ok(&vane(&["db", "migrate", "--database-url", url, "--json"], cwd))).unwrap();
    assert_eq!(m["newly_applied"].as_array().unwrap().len(), vane_postgres::MIGRATIONS.len());
    let again = ok(&vane(&["db", "migrate", "--database-url", url], cwd));
    assert!(again.contains("up to date"), "{again}");
    let human = ok(&vane(&["db", "status", "--database-url", url], cwd));
    assert!(human.contains("applied  0001 raw_market_data"), "{human}");

    let j: Value = serde_json::from_str(&ok(&vane(&import, cwd))).unwrap();
    let n = fixture_bars("BTCUSDT_4h.csv", Interval::H4).len() as u64;
    assert_eq!(
        (j["exchange"].as_str(), j["upsert"]["inserted"].as_u64(), j["total"].as_u64()),
        (Some("bybit-linear"), Some(n), Some(n))
    );
    // Again: every row is a counted duplicate, nothing changes.
    let j: Value = serde_json::from_str(&ok(&vane(&import, cwd))).unwrap();
    assert_eq!((j["upsert"]["inserted"].as_u64(), j["upsert"]["unchanged"].as_u64()), (Some(0), Some(n)));

    let info: Value =
        serde_json::from_str(&ok(&vane(&["data", "info", "--database-url", url, "--json"], cwd))).unwrap();
    let s = &info["series"][0];
    assert_eq!(
        (s["symbol"].as_str(), s["interval"].as_str(), s["rows"].as_u64()),
        (Some("BTCUSDT"), Some("4h"), Some(n))
    );
    let human = ok(&vane(&["data", "info", "--database-url", url], cwd));
    assert!(human.contains("bybit-linear") && human.contains("BTCUSDT"), "{human}");

    // Export from Postgres == export of the same CSV through the parquet store, byte for byte.
    ok(&vane(&["import", "--csv", csv, "--symbol", "BTCUSDT", "--interval", "4h"], cwd));
    ok(&vane(&["export", "--symbol", "BTCUSDT", "--interval", "4h", "--csv", "from_parquet.csv"], cwd));
    ok(&vane(
        &["export", "--database-url", url, "--symbol", "BTCUSDT", "--interval", "4h", "--csv", "from_pg.csv"],
        cwd,
    ));
    let (a, b) =
        (std::fs::read(cwd.join("from_parquet.csv")).unwrap(), std::fs::read(cwd.join("from_pg.csv")).unwrap());
    assert!(a == b, "the two exports differ");

    // A symbol not in the store: a usage error naming it and what is stored.
    let out =
        vane(&["export", "--database-url", url, "--symbol", "DOGEUSDT", "--interval", "4h", "--csv", "x.csv"], cwd);
    failed(&out, exit::USAGE, &["DOGEUSDT 4h", "bybit-linear BTCUSDT 4h"]);
    assert!(!cwd.join("x.csv").exists());
}

#[test]
fn download_into_postgres_then_resume() {
    let Some(db) = test_db() else { return };
    PgStore::connect(&db.url).unwrap().migrate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let mock = MockExchange::start(Flavor::BybitLinear, Symbol::new("BTCUSDT").unwrap(), Interval::H4, bars.clone());
    let url = mock.url();
    let args = [
        "download",
        "--exchange",
        "bybit-linear",
        "--symbols",
        "BTCUSDT",
        "--interval",
        "4h",
        "--since",
        "2023-01-01",
        "--until",
        "2024-01-01",
        "--base-url",
        &url,
        "--database-url",
        &db.url,
        "--json",
    ];
    let j: Value = serde_json::from_str(&ok(&vane(&args, dir.path()))).unwrap();
    let d = &j["downloads"][0];
    assert_eq!(
        (d["rows_added"].as_u64(), d["stored_rows"].as_u64()),
        (Some(bars.len() as u64), Some(bars.len() as u64))
    );
    assert_eq!(d["report"]["gaps"], serde_json::json!([]));
    let store = PgStore::connect(&db.url).unwrap();
    let stored = store
        .read_bars(
            Some("bybit-linear"),
            &Symbol::new("BTCUSDT").unwrap(),
            Interval::H4,
            vane_core::Timestamp(i64::MIN),
            vane_core::Timestamp(i64::MAX),
        )
        .unwrap();
    assert_eq!(stored.open_time(), bars.open_time());
    assert_eq!(stored.close(), bars.close());
    assert!(!dir.path().join("data").exists(), "nothing goes to the parquet store");
    // Nothing new: a second run makes no request.
    let before = mock.requests().len();
    let j: Value = serde_json::from_str(&ok(&vane(&args, dir.path()))).unwrap();
    assert_eq!(j["downloads"][0]["rows_added"], 0);
    assert_eq!(mock.requests().len(), before);
}

#[test]
fn an_unreachable_database_is_a_network_error_naming_host_and_port() {
    let dir = tempfile::tempdir().unwrap();
    let out = vane(&["db", "migrate", "--database-url", "postgres://vane:hunter2@127.0.0.1:1/vane"], dir.path());
    failed(&out, exit::NETWORK, &["127.0.0.1:1"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    let csv = fixture("BTCUSDT_4h.csv");
    let out = vane(
        &[
            "import",
            "--database-url",
            "postgres://vane@127.0.0.1:1/vane",
            "--csv",
            csv.to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
            "--interval",
            "4h",
        ],
        dir.path(),
    );
    failed(&out, exit::NETWORK, &["127.0.0.1:1"]);
    assert!(!dir.path().join("data").exists(), "nothing written elsewhere");
}
