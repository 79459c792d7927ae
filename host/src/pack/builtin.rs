//! The built-in packs, compiled to wasm by `build.rs` and embedded in the binary together with
//! their metadata.

use crate::pack::PackSource;

include!(concat!(env!("OUT_DIR"), "/builtin_packs.rs"));

/// Every embedded pack, in a stable order.
pub fn sources() -> Vec<PackSource> {
    BUILTIN_PACKS
        .iter()
        .map(|(name, bytes, info)| PackSource::builtin(name, bytes, info))
        .collect()
}
