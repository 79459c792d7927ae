//! Write sluice rule packs.
//!
//! A pack is a WebAssembly component that reads one CI platform's pipeline files and returns
//! findings. This crate hides the component-model plumbing: implement [`Pack`], call
//! [`export_pack!`] once, and build with `cargo build --target wasm32-wasip2`. The same crate
//! compiles natively, so rules are unit-tested with plain `cargo test` through [`testing`].
//!
//! Parsing happens inside the pack: [`yaml`] gives a document model with exact positions,
//! [`expr`] finds `${{ … }}` expressions, [`text`] turns byte offsets into spans.

extern crate self as sluice_pack_sdk;

pub mod expr;
pub mod fingerprint;
pub mod image;
pub mod log;
pub mod metadata;
pub mod shell;
pub mod testing;
pub mod text;
mod types;
pub mod yaml;

#[doc(hidden)]
pub mod __private;

pub use types::{
    Confidence, ContentPattern, FileError, FileErrorKind, Finding, Location, Mitigation,
    OptionMeta, Pack, PackInfo, RuleMeta, ScanOutput, ScanRequest, Severity, SourceFile, Span,
};
