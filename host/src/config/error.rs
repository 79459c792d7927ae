//! Why a configuration file could not be used. Every one is a usage error (exit 2).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {} does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "two configuration files: {} and {}; keep one",
        first.display(),
        second.display()
    )]
    Ambiguous { first: PathBuf, second: PathBuf },
    /// Bad YAML or a bad value, located rustc-style.
    #[error("{message}\n  --> {}:{line}:{column}", path.display())]
    Invalid {
        path: PathBuf,
        line: u32,
        column: u32,
        message: String,
    },
}
