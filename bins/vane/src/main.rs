//! The `vane` binary: everything lives in the `vane_cli` library.

/// mimalloc instead of the system allocator: glibc's malloc hands the large buffers of a
/// training step (matmul outputs, activations saved for the backward pass) back to the OS
/// between steps and the next step faults them in again, zero-filled — a fifth of a CNN-LSTM
/// step on the build machine (docs/benchmarks.md, "The allocator"). mimalloc keeps and reuses
/// them, given a long enough purge delay ([`allocator_settings`]).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's purge delay (milliseconds) unless the environment sets `MIMALLOC_PURGE_DELAY`:
/// with mimalloc's default (1 s) a TFT training step took 600–660 ms on the build machine, with
/// 10 s 357–376 ms (the freed buffers were returned to the OS and faulted in again). Memory a
/// long-running `vane serve` frees still goes back to the OS, 10 s later.
const PURGE_DELAY_MS: &str = "10000";

/// mimalloc reads its settings from the environment when the process starts, and setting them
/// from code needs its `unsafe` C API (the workspace forbids `unsafe`). So, on Unix, when
/// `MIMALLOC_PURGE_DELAY` is not set, the process replaces itself (`exec`, same PID, same
/// arguments, stdin/stdout/stderr and signals untouched) with the same binary and that variable
/// set. Setting the variable yourself (any value; mimalloc's default is 1000) skips this; if the
/// `exec` fails, vane runs on with mimalloc's defaults.
#[cfg(unix)]
fn allocator_settings() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        cmd.arg0(arg0);
    }
    // `exec` returns only when it failed: carry on with the defaults.
    let _failed = cmd.args(args).env(VAR, PURGE_DELAY_MS).exec();
}

fn main() -> std::process::ExitCode {
    #[cfg(unix)]
    allocator_settings();
    vane_cli::run(std::env::args_os())
}
