fn main() -> std::process::ExitCode {
    authd::cli::run()
}
