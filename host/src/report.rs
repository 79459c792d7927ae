//! The report a scan produces, and every format it can be rendered in.

pub mod json;
mod model;
pub mod rule_docs;
pub mod sarif;
pub mod table;

pub use model::{ErrorKind, Finding, PackSummary, Report, ReportRule, ScanError, Summary};
