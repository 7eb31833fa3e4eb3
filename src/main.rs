//! Thin entry point: run the CLI, print any error, exit with 0 (clean), 1 (findings) or 2
//! (error). A closed pipe on stdout (`leakhound scan | head`) is not an error.

fn main() {
    let status = match leakhound::cli::run() {
        Ok(status) => status,
        Err(error) => {
            if error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                0
            } else {
                eprintln!("leakhound: error: {error:#}");
                leakhound::cli::EXIT_ERROR
            }
        }
    };
    std::process::exit(status);
}
