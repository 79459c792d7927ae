//! The set of packs a run uses: built-in and third-party, loaded lazily, with their metadata
//! known up front (from the metadata cache, or by loading) so file matching can decide which
//! packs need to run at all.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::pack::PackSource;
use crate::pack::cache::CompileCache;
use crate::pack::engine::PackEngine;
use crate::pack::errors::PackError;
use crate::pack::loader::{LoadTimings, PackPre};
use crate::pack::types::PackInfo;

/// One registered pack.
#[derive(Debug)]
pub struct RegisteredPack {
    pub source: PackSource,
    /// Known metadata, or why the pack cannot be used.
    pub info: Result<PackInfo, PackError>,
    loaded: OnceLock<Result<(PackPre, LoadTimings), PackError>>,
}

impl RegisteredPack {
    /// Whether this pack can run.
    pub fn usable(&self) -> Option<&PackInfo> {
        self.info.as_ref().ok()
    }
}

/// All packs of a run.
#[derive(Debug)]
pub struct PackRegistry {
    engine: PackEngine,
    packs: Vec<RegisteredPack>,
}

impl PackRegistry {
    /// Registers `sources`, learning each pack's metadata. Third-party packs may not reuse a
    /// built-in pack's id or rule-id prefix; later duplicates of an id are refused.
    pub fn new(engine: PackEngine, sources: Vec<PackSource>) -> PackRegistry {
        let mut registry = PackRegistry {
            engine,
            packs: Vec::with_capacity(sources.len()),
        };
        for source in sources {
            let pack = registry.register(source);
            registry.packs.push(pack);
        }
        registry.check_conflicts();
        registry
    }

    pub fn engine(&self) -> &PackEngine {
        &self.engine
    }

    pub fn packs(&self) -> &[RegisteredPack] {
        &self.packs
    }

    /// The loaded pack at `index`, loading it on first use. The component's own `info()` must
    /// match the metadata the registry went by, or the pack is refused.
    pub fn load(&self, index: usize) -> Result<&(PackPre, LoadTimings), &PackError> {
        let pack = &self.packs[index];
        pack.loaded
            .get_or_init(|| {
                let (loaded, timings) = self.engine.load(&pack.source)?;
                if let Ok(known) = &pack.info
                    && loaded.info() != known
                {
                    return Err(PackError::InvalidInfo(format!(
                        "{}: the component's info() differs from its recorded metadata",
                        pack.source.label()
                    )));
                }
                Ok((loaded, timings))
            })
            .as_ref()
    }

    fn register(&self, source: PackSource) -> RegisteredPack {
        if let Some(json) = source.embedded_info() {
            let info = serde_json::from_str::<PackInfo>(json)
                .map_err(|e| PackError::InvalidInfo(format!("embedded metadata: {e}")))
                .and_then(|info| crate::pack::loader::validate_info(&info).map(|()| info));
            return RegisteredPack {
                source,
                info,
                loaded: OnceLock::new(),
            };
        }
        let cache = self.engine.cache().map(|cache| {
            let key = CompileCache::key(source.sha256(), self.engine.config_key());
            (cache, key)
        });
        // Only metadata this host validated is ever written to the cache.
        if let Some((cache, key)) = &cache
            && let Ok(Some(json)) = cache.get(key, "info.json")
            && let Ok(info) = serde_json::from_slice::<PackInfo>(&json)
        {
            return RegisteredPack {
                source,
                info: Ok(info),
                loaded: OnceLock::new(),
            };
        }
        let loaded = OnceLock::new();
        let info = self.engine.load(&source).map(|(pack, timings)| {
            let info = pack.info().clone();
            if let Some((cache, key)) = &cache
                && let Ok(json) = serde_json::to_vec(&info)
                && let Err(e) = cache.put(key, "info.json", &json)
            {
                tracing::warn!("could not cache pack metadata: {e}");
            }
            let _ = loaded.set(Ok((pack, timings)));
            info
        });
        RegisteredPack {
            source,
            info,
            loaded,
        }
    }

    fn check_conflicts(&mut self) {
        let mut prefix_owner: HashMap<String, String> = HashMap::new();
        let mut id_owner: HashMap<String, String> = HashMap::new();
        for pack in self.packs.iter().filter(|p| p.source.is_builtin()) {
            if let Ok(info) = &pack.info {
                for rule in &info.rules {
                    prefix_owner.insert(rule_prefix(&rule.id).to_owned(), info.id.clone());
                }
            }
        }
        for pack in &mut self.packs {
            let Ok(info) = &pack.info else { continue };
            if let Some(other) = id_owner.get(&info.id) {
                pack.info = Err(PackError::DuplicatePack {
                    id: info.id.clone(),
                    other: other.clone(),
                });
                continue;
            }
            if !pack.source.is_builtin() {
                let reserved = info.rules.iter().find_map(|rule| {
                    let prefix = rule_prefix(&rule.id);
                    prefix_owner
                        .get(prefix)
                        .map(|owner| (rule.id.clone(), prefix.to_owned(), owner.clone()))
                });
                if let Some((rule, prefix, owner)) = reserved {
                    pack.info = Err(PackError::ReservedPrefix {
                        rule,
                        prefix,
                        owner,
                    });
                    continue;
                }
            }
            id_owner.insert(info.id.clone(), pack.source.label());
        }
    }
}

/// `FG` for `FG-001`.
fn rule_prefix(rule_id: &str) -> &str {
    rule_id
        .split_once('-')
        .map_or(rule_id, |(prefix, _)| prefix)
}
