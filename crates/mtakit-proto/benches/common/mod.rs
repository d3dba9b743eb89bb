//! What every bench of this crate shares.

use std::time::Duration;

use criterion::Criterion;

/// Short runs: a second of warm-up and three of measurement, 20 samples,
/// so that `cargo bench -p mtakit-proto` finishes in about a minute.
pub(crate) fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}
