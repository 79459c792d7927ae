//! Running rule packs: the wasmtime engine and sandbox, loading and validating components,
//! the compile cache, the embedded built-in packs and the registry that ties them together.

pub mod bindings;
pub mod builtin;
pub mod cache;
pub mod engine;
pub mod errors;
pub mod loader;
pub mod registry;
pub mod sandbox;
pub mod types;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use engine::{PackEngine, PackEngineBuilder};
pub use errors::PackError;
pub use loader::{LoadTimings, PackPre};
pub use registry::PackRegistry;
pub use sandbox::SandboxLimits;

/// A file handed to a pack: path relative to the repository root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub content: String,
}

/// Where a pack came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackOrigin {
    /// Embedded in this binary.
    Builtin(&'static str),
    /// Loaded with `--pack FILE`.
    File(PathBuf),
}

/// The bytes of a pack component and where they came from.
#[derive(Debug, Clone)]
pub struct PackSource {
    origin: PackOrigin,
    bytes: Arc<[u8]>,
    sha256: String,
    /// Metadata known without running the pack (built-in packs embed it).
    embedded_info: Option<&'static str>,
}

impl PackSource {
    /// A built-in pack with the metadata its build embedded beside it.
    pub fn builtin(
        name: &'static str,
        bytes: &'static [u8],
        info_json: &'static str,
    ) -> PackSource {
        PackSource {
            embedded_info: Some(info_json),
            ..PackSource::new(PackOrigin::Builtin(name), bytes.into())
        }
    }

    pub fn from_bytes(origin: PackOrigin, bytes: Vec<u8>) -> PackSource {
        PackSource::new(origin, bytes.into())
    }

    /// Reads a third-party pack from disk.
    pub fn from_file(path: &Path) -> Result<PackSource, PackError> {
        let bytes = std::fs::read(path).map_err(|source| PackError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(PackSource::new(
            PackOrigin::File(path.to_owned()),
            bytes.into(),
        ))
    }

    fn new(origin: PackOrigin, bytes: Arc<[u8]>) -> PackSource {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        PackSource {
            origin,
            bytes,
            sha256,
            embedded_info: None,
        }
    }

    pub fn origin(&self) -> &PackOrigin {
        &self.origin
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Metadata embedded at build time, as JSON.
    pub fn embedded_info(&self) -> Option<&'static str> {
        self.embedded_info
    }

    pub fn is_builtin(&self) -> bool {
        matches!(self.origin, PackOrigin::Builtin(_))
    }

    /// How to name this pack in messages before its `info()` is known.
    pub fn label(&self) -> String {
        match &self.origin {
            PackOrigin::Builtin(name) => format!("built-in pack {name}"),
            PackOrigin::File(path) => path.display().to_string(),
        }
    }

    /// `builtin` or the file path, for `sluice packs`.
    pub fn origin_text(&self) -> String {
        match &self.origin {
            PackOrigin::Builtin(_) => "builtin".to_owned(),
            PackOrigin::File(path) => path.display().to_string(),
        }
    }
}
