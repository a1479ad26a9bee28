//! Shared helpers for the CLI integration tests: run the binary (with a deadline for cases that
//! used to hang), and assert an exit code plus the words an error must contain.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether a service a test needs (PostgreSQL, Chromium) must be there: `flag=1`
/// (`VANE_REQUIRE_POSTGRES`, `VANE_REQUIRE_CHROMIUM`, set by `.ci/run`) or any CI run (`CI=true`).
/// A required service that is missing fails the test instead of skipping it.
pub fn required(flag: &str) -> bool {
    std::env::var(flag).is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Exit codes of `vane` by error class (documented in `docs/reliability.md`).
pub mod exit {
    /// The run finished but reported a failure (for example a partial download).
    pub const FAILURE: i32 = 1;
    /// Bad arguments: a flag value, a combination of flags, an output path.
    pub const USAGE: i32 = 2;
    /// Bad input data: a file's contents, a config, an artifact.
    pub const DATA: i32 = 3;
    /// A file system error.
    pub const IO: i32 = 4;
    /// The exchange could not be reached or answered with an error.
    pub const NETWORK: i32 = 5;
    /// A bug in vane (a panic).
    pub const INTERNAL: i32 = 70;
}

/// The fixtures folder of the workspace.
pub fn fixture(rel: &str) -> PathBuf {
    vane_testkit::fixtures_dir().join(rel)
}

/// Runs `vane args` in `cwd`.
pub fn vane(args: &[&str], cwd: &Path) -> Output {
    vane_within(args, cwd, Duration::from_secs(120))
}

/// Runs `vane args` in `cwd`, killing it and failing the test if it runs longer than `deadline`
/// (how the cases that used to hang are tested).
pub fn vane_within(args: &[&str], cwd: &Path, deadline: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vane"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vane");
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait vane") {
            break s;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vane {args:?} did not finish within {deadline:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

/// Asserts success and returns stdout.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Asserts the run failed with exit `code` (not a signal, so not a crash) and that stderr contains
/// every one of `needles`; returns stderr.
pub fn fails(out: &Output, code: i32, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}, got {:?}\nstdout:\n{}\nstderr:\n{stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    for n in needles {
        assert!(stderr.contains(n), "stderr does not mention {n:?}:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "a panic:\n{stderr}");
    stderr
}

/// Imports the bundled BTCUSDT 4h candles into `dir/data`.
pub fn store_btc(dir: &Path) {
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir));
}

/// The process's standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
