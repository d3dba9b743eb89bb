//! The manual: documentation that is not about one item.
//!
//! - [`security`]: each threat, the default that meets it, and the test
//!   that proves it.
//! - [`rfc_compliance`]: which RFCs are covered and how.

pub mod rfc_compliance;
pub mod security;
