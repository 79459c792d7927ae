//! Enforcement decisions (issue 10, in progress: decided and recorded here, not yet applied by
//! the reconciler). Every change sluice makes to someone else's object is recorded on that
//! object, in the `sluice.dev/enforcement` annotation, as (field, value before, value
//! applied), so that reversal restores exactly what was there — and only if nobody changed the
//! field since.

pub mod change;
pub mod record;
pub mod sync;

pub use change::{FieldChange, Restore};
pub use record::{ANNOTATION, EnforcementRecord, RecordError};
