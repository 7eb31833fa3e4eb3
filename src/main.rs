//! Thin entry point: run the CLI, print any error, exit with 0 (clean), 1 (findings) or 2
//! (error). A closed pipe on stdout (`leakhound scan | head -1`) exits 141, as a writer killed
//! by SIGPIPE does in a shell: never 0, which would turn a gate with findings green.

/// 128 + SIGPIPE, what `$?` shows for a pipe writer killed by the signal.
const EXIT_BROKEN_PIPE: i32 = 141;

fn main() {
    let status = match leakhound::cli::run() {
        Ok(status) => status,
        Err(error) => {
            if error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                EXIT_BROKEN_PIPE
            } else {
                eprintln!(
                    "leakhound: error: {}",
                    leakhound::error::one_line(error.as_ref())
                );
                leakhound::cli::EXIT_ERROR
            }
        }
    };
    std::process::exit(status);
}
