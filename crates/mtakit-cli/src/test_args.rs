//! Test helpers shared by the unit tests of the modules that turn
//! `mtakit serve`'s flags into settings.

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, ServeArgs};

/// `mtakit serve FLAGS`, parsed.
pub(crate) fn try_serve_args(flags: &[&str]) -> Result<ServeArgs, clap::Error> {
    let argv = ["mtakit", "serve"].iter().chain(flags);
    Cli::try_parse_from(argv).map(|cli| match cli.command {
        Command::Serve(args) => args,
        Command::Load(_) => unreachable!("parsed serve"),
    })
}

/// `mtakit serve FLAGS`, parsed; panics if they do not parse.
pub(crate) fn serve_args(flags: &[&str]) -> ServeArgs {
    try_serve_args(flags).unwrap()
}

/// Asserts that `mtakit serve --help` states each flag's default as
/// `[default: VALUE]`; `expected` pairs argument ids with values.
pub(crate) fn assert_help_defaults(expected: &[(&str, String)]) {
    let mut cli = Cli::command();
    cli.build();
    let serve = cli.find_subcommand("serve").unwrap();
    for (id, value) in expected {
        let arg = serve
            .get_arguments()
            .find(|a| a.get_id() == *id)
            .unwrap_or_else(|| panic!("no argument {id}"));
        let help = arg.get_help().unwrap().to_string().replace('\n', " ");
        assert!(
            help.contains(&format!("[default: {value}]")),
            "{id}: {help}"
        );
    }
}
