//! Triage after the packs have run: inline suppressions and baselines decide which findings are
//! accepted risks rather than news.

pub mod baseline;
pub mod suppress;
