//! The report a scan produces, and every format it can be rendered in.

pub mod github;
pub mod json;
pub mod markdown;
mod model;
pub mod rule_docs;
pub mod sarif;
pub mod table;

pub use model::{
    ErrorKind, Finding, PackSummary, Report, ReportRule, ScanError, ScannedRepository, Summary,
    SuppressedFinding, Suppression,
};
