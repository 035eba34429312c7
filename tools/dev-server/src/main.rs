//! Runs every route on 127.0.0.1 with the configuration from the environment.

fn main() {
    eprintln!("dev-server: use the library from tests; the command-line server is not built yet");
    std::process::exit(1);
}
