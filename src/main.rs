//! The `seam` binary; all logic lives in the library.
fn main() -> std::process::ExitCode {
    seam::cli::main()
}
