//! `.sluice.yml`: per-repository configuration that disables rules, remaps their severity,
//! ignores findings by path (and line) and passes options to packs.
//!
//! The file is looked up at each scanned root ([`file`]), parsed and checked against the
//! loaded packs ([`parse`]) and applied to each root's findings ([`apply`]). It is the first
//! post-processing step: inline suppressions, baselines and the command-line filters all see
//! findings as the configuration left them.

pub mod apply;
mod error;
pub mod file;
mod parse;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::pack::types::PackInfo;

pub use error::ConfigError;
pub use parse::{Config, IgnoreEntry, PackConfig, RuleConfig, parse};

/// Where a scan's configuration comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConfigSource {
    /// No configuration (`--no-config`; also the library default).
    #[default]
    Disabled,
    /// `.sluice.yml` at each scanned root, else `.github/.sluice.yml`.
    Discover,
    /// `--config FILE`: this file for every root; it must exist.
    File(PathBuf),
}

/// Loads configurations for scan roots, each file once.
#[derive(Debug)]
pub struct ConfigLoader<'p> {
    source: ConfigSource,
    packs: Vec<&'p PackInfo>,
    /// The `--config` file, loaded up front so a missing one is reported even if nothing
    /// else could be scanned.
    fixed: Option<Arc<Config>>,
    loaded: BTreeMap<PathBuf, Arc<Config>>,
}

impl<'p> ConfigLoader<'p> {
    /// `packs` are every loaded pack: rule ids, pack ids and option names are checked
    /// against them.
    pub fn new(source: ConfigSource, packs: Vec<&'p PackInfo>) -> Result<Self, ConfigError> {
        let fixed = match &source {
            ConfigSource::File(path) => {
                if !path.exists() {
                    return Err(ConfigError::Missing { path: path.clone() });
                }
                Some(Arc::new(load(path, &packs)?))
            }
            ConfigSource::Disabled | ConfigSource::Discover => None,
        };
        Ok(ConfigLoader {
            source,
            packs,
            fixed,
            loaded: BTreeMap::new(),
        })
    }

    /// The configuration that applies to findings under `root`, if any.
    pub fn for_root(&mut self, root: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        match &self.source {
            ConfigSource::Disabled => Ok(None),
            ConfigSource::File(_) => Ok(self.fixed.clone()),
            ConfigSource::Discover => {
                let Some(path) = file::find(root)? else {
                    return Ok(None);
                };
                if let Some(config) = self.loaded.get(&path) {
                    return Ok(Some(Arc::clone(config)));
                }
                let config = Arc::new(load(&path, &self.packs)?);
                self.loaded.insert(path, Arc::clone(&config));
                Ok(Some(config))
            }
        }
    }
}

impl ConfigLoader<'_> {
    /// The configuration of a root whose files were fetched rather than found on disk (a
    /// GitHub repository): `files` are the configuration files the repository has, by
    /// repository-relative path, and `root` is how its paths are shown (`owner/repo@sha`).
    /// The same places and the same ambiguity rule as [`file::find`] apply.
    pub fn for_fetched(
        &mut self,
        root: &Path,
        files: &BTreeMap<String, String>,
    ) -> Result<Option<Arc<Config>>, ConfigError> {
        match &self.source {
            ConfigSource::Disabled => Ok(None),
            ConfigSource::File(_) => Ok(self.fixed.clone()),
            ConfigSource::Discover => {
                let shown = |name: &str| PathBuf::from(format!("{}:{name}", root.display()));
                for names in file::PLACES {
                    let present: Vec<&str> = names
                        .iter()
                        .copied()
                        .filter(|name| files.contains_key(*name))
                        .collect();
                    match present.as_slice() {
                        [] => continue,
                        [one] => {
                            let text = files.get(*one).map_or("", String::as_str);
                            return Ok(Some(Arc::new(parse(&shown(one), text, &self.packs)?)));
                        }
                        [first, second, ..] => {
                            return Err(ConfigError::Ambiguous {
                                first: shown(first),
                                second: shown(second),
                            });
                        }
                    }
                }
                Ok(None)
            }
        }
    }
}

/// Reads and checks one configuration file.
pub fn load(path: &Path, packs: &[&PackInfo]) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text, packs)
}
