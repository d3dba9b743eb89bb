//! Waiting from Python: with the GIL released, in short slices between
//! which Ctrl-C is checked.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// How long one slice of a wait lasts.
const SLICE: Duration = Duration::from_millis(100);

/// A timeout given in seconds.
pub(crate) fn seconds(timeout: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(timeout)
        .map_err(|_| PyValueError::new_err("timeout must be a non-negative number of seconds"))
}

/// Calls `attempt` with the length of a slice, with the GIL released, until
/// it succeeds or `timeout` has passed; then returns its last outcome.
/// Ctrl-C between slices raises `KeyboardInterrupt`.
pub(crate) fn sliced<T: Send, E: Send>(
    py: Python<'_>,
    timeout: Duration,
    attempt: impl Fn(Duration) -> Result<T, E> + Sync,
) -> PyResult<Result<T, E>> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let slice = left.min(SLICE);
        match py.detach(|| attempt(slice)) {
            Ok(value) => return Ok(Ok(value)),
            Err(last) if left.is_zero() => return Ok(Err(last)),
            Err(_) => py.check_signals()?,
        }
    }
}
