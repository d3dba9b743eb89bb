//! `mtakit`: a development SMTP server built on the `mtakit` crate. All of
//! it lives in the `mtakit_cli` library; this binary only runs it.

fn main() -> std::process::ExitCode {
    mtakit_cli::main()
}
