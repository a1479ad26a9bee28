//! The `vane` binary: everything lives in the `vane_cli` library.

/// mimalloc instead of the system allocator: glibc's malloc hands the large buffers of a
/// training step (matmul outputs, activations saved for the backward pass) back to the OS
/// between steps and the next step faults them in again, zero-filled — a fifth of a CNN-LSTM
/// step on the build machine (docs/benchmarks.md). mimalloc keeps and reuses them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    vane_cli::run(std::env::args_os())
}
