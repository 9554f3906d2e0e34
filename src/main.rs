fn main() -> std::process::ExitCode {
    cnpg_lint::cli::main()
}
