//! Generated bindings, one module per supported `sluice:pack` interface version (Zed's pattern).
//! Each module converts its generated types into the host's own (`pack::types`), so supporting
//! a new version means adding a module here and a match arm in the loader.

pub mod v0_1;

/// Interface versions this host can run, for error messages.
pub const SUPPORTED: &[&str] = &["0.1"];

/// The export name prefix every pack has, whatever its version.
pub const RULES_EXPORT_PREFIX: &str = "sluice:pack/rules@";
