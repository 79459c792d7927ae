//! The scan pipeline: collect files → match them to packs → run packs → build the report.

pub mod collect;
pub mod filter;
pub mod matcher;
pub mod remote;
pub mod result_cache;
pub mod run;

pub use collect::{CollectOptions, Collected, CollectedFile};
pub use filter::FindingFilter;
pub use matcher::PackMatcher;
pub use result_cache::{ResultCache, ResultKey};
pub use run::{RemoteSource, ScanOptions, ScanSetupError, scan, scan_with};
