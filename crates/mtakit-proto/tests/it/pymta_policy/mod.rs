//! pymta's own test suite, ported to the in-memory session (part 2 of 3):
//! `tests/policy_output_test.py` (pymta.md §3.4), `tests/policy_test.py`
//! (§3.5), `tests/smtp_parameter_validation_test.py` (§3.6) and the intent
//! of `tests/statemachine_test.py` (§3.7) as command-order rules.
//!
//! pymta's policy results map to `Verdict`: `True`/`None` to accept,
//! `False` to reject, `(bool, (code, text))` to `accept_with`/`reject_with`,
//! and `PolicyDecision`'s close flags to `and_close` (close after the reply)
//! and `disconnect` (close before it). `accept_msgdata` is the sink's
//! verdict on `Event::Deliver`.

mod helpers;
mod parameters;
mod policy;
mod policy_output;
mod statemachine;
