//! Everything that can go wrong with a pack, typed so the report can say exactly what happened.

use std::path::PathBuf;
use std::time::Duration;

/// A pack failed to load or to run. The scan goes on without it; the report lists the error.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("not a valid WebAssembly component: {0}")]
    InvalidComponent(String),

    #[error("not a sluice rule pack: {0}")]
    NotAPack(String),

    #[error(
        "pack implements interface {found}, but this sluice supports {supported}; rebuild the pack against a supported `sluice:pack` version"
    )]
    InterfaceMismatch { found: String, supported: String },

    #[error("pack needs a capability the sandbox does not grant: {0}")]
    ForbiddenImport(String),

    #[error("pack exceeded its time limit of {}", humantime(*.0))]
    Timeout(Duration),

    #[error("pack exceeded its memory limit of {} MiB", .0 / (1024 * 1024))]
    OutOfMemory(u64),

    #[error(
        "pack returned more than {} MiB from one call; its output was discarded",
        .0 / (1024 * 1024)
    )]
    OutputTooLarge(usize),

    #[error("pack overflowed its stack (runaway recursion?)")]
    StackOverflow,

    #[error("pack crashed: {0}")]
    Trap(String),

    #[error("pack reported an error: {0}")]
    Failed(String),

    #[error("pack metadata is invalid: {0}")]
    InvalidInfo(String),

    #[error("pack id `{id}` is already used by {other}")]
    DuplicatePack { id: String, other: String },

    #[error("rule id `{rule}` uses the prefix `{prefix}` owned by the built-in pack `{owner}`")]
    ReservedPrefix {
        rule: String,
        prefix: String,
        owner: String,
    },

    #[error("cannot read pack file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("internal error in the pack host: {0}")]
    Host(String),
}

impl PackError {
    /// Short machine-readable kind for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            PackError::InvalidComponent(_) => "invalid-component",
            PackError::NotAPack(_) => "not-a-pack",
            PackError::InterfaceMismatch { .. } => "interface-mismatch",
            PackError::ForbiddenImport(_) => "forbidden-import",
            PackError::Timeout(_) => "timeout",
            PackError::OutOfMemory(_) => "out-of-memory",
            PackError::OutputTooLarge(_) => "output-too-large",
            PackError::StackOverflow => "stack-overflow",
            PackError::Trap(_) => "trap",
            PackError::Failed(_) => "pack-failed",
            PackError::InvalidInfo(_) => "invalid-info",
            PackError::DuplicatePack { .. } => "duplicate-pack",
            PackError::ReservedPrefix { .. } => "reserved-prefix",
            PackError::Read { .. } => "io",
            PackError::Host(_) => "host",
        }
    }
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
