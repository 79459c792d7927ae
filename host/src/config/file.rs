//! Finding a root's configuration file.

use std::path::{Path, PathBuf};

use crate::config::ConfigError;

/// Where a configuration is looked for, in order: the root itself, then `.github/` (for
/// repositories that keep their root free of tool files). Each place accepts both spellings.
pub const PLACES: [[&str; 2]; 2] = [
    [".sluice.yml", ".sluice.yaml"],
    [".github/.sluice.yml", ".github/.sluice.yaml"],
];

/// The configuration file of `root`, if it has one. Both spellings in one place is an error:
/// silently preferring one would leave the other's settings unexplained.
pub fn find(root: &Path) -> Result<Option<PathBuf>, ConfigError> {
    for names in PLACES {
        let present: Vec<PathBuf> = names
            .iter()
            .map(|name| in_root(root, name))
            .filter(|path| path.is_file())
            .collect();
        match present.as_slice() {
            [] => continue,
            [one] => return Ok(Some(one.clone())),
            [first, second, ..] => {
                return Err(ConfigError::Ambiguous {
                    first: first.clone(),
                    second: second.clone(),
                });
            }
        }
    }
    Ok(None)
}

/// `root/name`, without a leading `./` when the root is the current directory, so messages
/// name the file the way the user would.
fn in_root(root: &Path, name: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(name)
    } else {
        root.join(name)
    }
}

/// Whether `relative` (a repository-relative path) is where a configuration file lives.
pub fn is_config_path(relative: &str) -> bool {
    PLACES.iter().flatten().any(|name| *name == relative)
}
