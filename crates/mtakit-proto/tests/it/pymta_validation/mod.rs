//! pymta's own test suite, ported (part 3 of 3):
//! `tests/validation_schema_test.py` (pymta.md §3.8) and
//! `tests/validator_test.py` (§3.9) against `Command::parse`,
//! `ReversePath::parse`, `MailParams::parse`, the SASL decoders and the
//! session's replies; then one test per pymta bug in pymta.md §5 items 1-12
//! proving the fix.

mod fixed_bugs;
mod helpers;
mod schema;
mod validator;
