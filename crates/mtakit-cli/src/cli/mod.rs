//! The command line: `mtakit serve` and its flags.
//!
//! The flag names are a contract (see DESIGN.md, "The `mtakit` command"):
//! tests and users depend on them.

mod command;
mod serve_args;
#[cfg(test)]
mod tests;
mod values;

pub(crate) use command::{Cli, Command};
pub(crate) use serve_args::ServeArgs;
pub(crate) use values::Extension;
#[cfg(test)]
use values::LineEndings;
