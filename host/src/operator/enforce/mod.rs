//! Enforcement (DESIGN §8): what a subject's state calls for under its policies
//! ([`plan`]), applied to objects and undone exactly ([`target`], [`sync`]), alerts
//! ([`alert`]), and the pass over one subject ([`subject`]).
//!
//! Every change sluice makes to someone else's object is recorded on that object, in the
//! `sluice.dev/enforcement` annotation, as (field, value before, value applied), so that
//! reversal restores exactly what was there — and only if nobody changed the field since.

pub mod alert;
pub mod change;
pub mod plan;
pub mod record;
pub mod restore_all;
pub mod subject;
pub mod sync;
pub mod target;

pub use change::{FieldChange, Restore};
pub use record::{ANNOTATION, EnforcementRecord, RecordError};
pub use subject::{Enforced, SubjectInput, enforce};
