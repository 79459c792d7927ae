//! What a pack said about a fetched commit, kept so that it is never asked again.
//!
//! A pack's output for a repository at a commit is a pure function of the pack (its wasm, by
//! SHA-256), the options it was given and the files it read; a commit's files never change.
//! So the raw output (findings and file errors, before configuration, suppressions, baseline
//! and filters, which are applied afresh on every scan) is cached per (repository, commit,
//! pack, options, input files), in memory and under `<cache dir>/results/` (0700, files 0600,
//! written atomically). Only fetched roots are cached: a directory on disk has no commit to
//! vouch for it. Pack failures (timeouts, traps) are never cached.
//!
//! The key takes each pack on its own rather than the whole pack set: adding a `--pack` does
//! not invalidate what the others said. The input files are in the key too, so a changed
//! `--max-file-size` or `--platform`, which hand a pack other files, cannot hit a stale entry.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::github::cache::{create_private_dir, write_atomic};
use crate::pack::SourceFile;
use crate::pack::types::PackOutput;

/// Entries kept in memory; past it the memory half starts over (the disk half stays).
const MEMORY_ENTRIES: usize = 4096;

/// Cached pack outputs, shared by clones (`Clone + Send + Sync`): one per CLI run, or one for
/// the operator's lifetime.
#[derive(Clone, Default)]
pub struct ResultCache {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, Arc<PackOutput>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl fmt::Debug for ResultCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultCache")
            .field("dir", &self.inner.dir)
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish_non_exhaustive()
    }
}

/// What one pack run on one fetched root depends on.
#[derive(Debug, Clone, Copy)]
pub struct ResultKey<'k> {
    /// `owner/repo`.
    pub repository: &'k str,
    pub commit: &'k str,
    /// SHA-256 of the pack's wasm.
    pub pack_sha256: &'k str,
    pub pack_id: &'k str,
    pub pack_version: &'k str,
    /// The options handed to the pack, in the order given.
    pub options: &'k [(String, String)],
    pub files: &'k [SourceFile],
}

impl ResultKey<'_> {
    /// A file-name-safe digest of every part, each length-prefixed so no two keys collide by
    /// shifting text between parts.
    fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        let mut part = |text: &str| {
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        };
        // The host checks and caps pack output; another host version may do it differently.
        part(concat!("sluice-results-1 ", env!("CARGO_PKG_VERSION")));
        part(self.repository);
        part(self.commit);
        part(self.pack_sha256);
        part(self.pack_id);
        part(self.pack_version);
        part(&self.options.len().to_string());
        for (name, value) in self.options {
            part(name);
            part(value);
        }
        part(&self.files.len().to_string());
        for file in self.files {
            part(&file.path);
            part(&file.content);
        }
        hex::encode(hasher.finalize())
    }
}

impl ResultCache {
    /// A cache under `cache_dir/results`, or in memory only (`None`, or when the directory
    /// cannot be created: a cache that cannot be written only costs pack runs).
    pub fn new(cache_dir: Option<&Path>) -> ResultCache {
        let dir = cache_dir.and_then(|dir| {
            let dir = dir.join("results");
            match create_private_dir(&dir) {
                Ok(()) => Some(dir),
                Err(e) => {
                    tracing::warn!(
                        "scan results are not cached on disk ({}: {e})",
                        dir.display()
                    );
                    None
                }
            }
        });
        ResultCache {
            inner: Arc::new(Inner {
                dir,
                ..Inner::default()
            }),
        }
    }

    /// Pack runs answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.inner.hits.load(Ordering::Relaxed)
    }

    /// Pack runs that had to happen (and were then cached).
    pub fn misses(&self) -> u64 {
        self.inner.misses.load(Ordering::Relaxed)
    }

    /// The cached output for `key`, counting a hit or a miss.
    pub fn get(&self, key: &ResultKey<'_>) -> Option<PackOutput> {
        let digest = key.digest();
        let found = self.lookup(&digest);
        let counter = if found.is_some() {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn lookup(&self, digest: &str) -> Option<PackOutput> {
        if let Some(hit) = self.memory().get(digest) {
            return Some(PackOutput::clone(hit));
        }
        let path = self.inner.dir.as_ref()?.join(digest);
        let bytes = fs::read(path).ok()?;
        // A damaged or older-format entry is a miss; the pack runs and rewrites it.
        let output: PackOutput = serde_json::from_slice(&bytes).ok()?;
        self.remember(digest, Arc::new(output.clone()));
        Some(output)
    }

    pub fn put(&self, key: &ResultKey<'_>, output: &PackOutput) {
        let digest = key.digest();
        if let Some(dir) = &self.inner.dir {
            match serde_json::to_vec(output) {
                Ok(json) => {
                    if let Err(e) = write_atomic(dir, &digest, &json) {
                        tracing::debug!("cannot cache scan result {digest}: {e}");
                    }
                }
                Err(e) => tracing::debug!("cannot serialise scan result {digest}: {e}"),
            }
        }
        self.remember(&digest, Arc::new(output.clone()));
    }

    fn remember(&self, digest: &str, output: Arc<PackOutput>) {
        let mut memory = self.memory();
        if memory.len() >= MEMORY_ENTRIES {
            memory.clear();
        }
        memory.insert(digest.to_owned(), output);
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<PackOutput>>> {
        // Only a map is behind the lock; a panic elsewhere leaves it usable.
        self.inner
            .memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::types::{FileErrorKind, PackFileError};

    fn files() -> Vec<SourceFile> {
        vec![SourceFile {
            path: ".github/workflows/ci.yml".to_owned(),
            content: "on: push\n".to_owned(),
        }]
    }

    fn output() -> PackOutput {
        PackOutput {
            file_errors: vec![PackFileError {
                path: ".github/workflows/ci.yml".to_owned(),
                kind: FileErrorKind::Parse,
                message: "bad".to_owned(),
                span: None,
            }],
            ..PackOutput::default()
        }
    }

    #[test]
    fn outputs_survive_a_new_cache_and_every_part_of_the_key_counts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = files();
        let options = vec![("trusted".to_owned(), "a".to_owned())];
        let key = ResultKey {
            repository: "octo/app",
            commit: "c1",
            pack_sha256: "p1",
            pack_id: "github-actions",
            pack_version: "1.0.0",
            options: &options,
            files: &files,
        };
        let cache = ResultCache::new(Some(dir.path()));
        assert!(cache.get(&key).is_none());
        cache.put(&key, &output());
        let again = ResultCache::new(Some(dir.path()));
        assert_eq!(again.get(&key), Some(output()));
        assert_eq!((again.hits(), again.misses()), (1, 0));

        let other_options = vec![("trusted".to_owned(), "b".to_owned())];
        let mut other_files = files.clone();
        other_files[0].content.push('\n');
        let variants = [
            ResultKey {
                commit: "c2",
                ..key
            },
            ResultKey {
                pack_sha256: "p2",
                ..key
            },
            ResultKey {
                options: &other_options,
                ..key
            },
            ResultKey {
                files: &other_files,
                ..key
            },
        ];
        for variant in &variants {
            assert!(again.get(variant).is_none(), "{variant:?}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let results = dir.path().join("results");
            let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
            assert_eq!(mode(&results), 0o700);
            let entry = fs::read_dir(&results)
                .expect("results dir")
                .next()
                .expect("one entry")
                .expect("entry")
                .path();
            assert_eq!(mode(&entry), 0o600);
        }
    }
}
