//! The `vane` binary: everything lives in the `vane_cli` library.
fn main() -> std::process::ExitCode {
    vane_cli::run(std::env::args_os())
}
