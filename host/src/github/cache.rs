//! What GitHub told us before, in memory and on disk.
//!
//! Two kinds of entries: immutable ones keyed by content (blobs by blob SHA, the file list of a
//! commit by commit SHA), which are never asked for again, and ETag'd answers to mutable
//! requests (ref → commit), which are replayed after a 304. The disk cache lives in
//! `<cache dir>/github/` (0700, files 0600, written atomically); it never holds the token. A
//! cache that cannot be read or written only costs requests, so its failures are logged, not
//! returned.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::github::TreeEntry;

/// A response body with the ETag it came with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Etagged {
    pub etag: String,
    pub body: String,
    /// The next page of a paginated answer (its `Link` header), replayed with the body.
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Default)]
struct Memory {
    blobs: HashMap<String, Arc<[u8]>>,
    trees: HashMap<String, Arc<Vec<TreeEntry>>>,
    etags: HashMap<String, Arc<Etagged>>,
}

/// The shared cache of one client. `host` separates API servers: a blob SHA names the same
/// content everywhere, but a server could lie about it, so one server's answers never serve
/// another's requests.
#[derive(Debug)]
pub struct Cache {
    dir: Option<PathBuf>,
    memory: Mutex<Memory>,
}

impl Cache {
    /// A cache under `dir/github/<hash of the API URL>`, or memory only.
    pub fn new(dir: Option<&Path>, api_url: &str) -> Cache {
        let dir = dir.and_then(|dir| {
            let dir = dir.join("github").join(&key(&[api_url])[..16]);
            match create_private_dir(&dir) {
                Ok(()) => Some(dir),
                Err(e) => {
                    tracing::warn!(
                        "GitHub responses are not cached on disk ({}: {e})",
                        dir.display()
                    );
                    None
                }
            }
        });
        Cache {
            dir,
            memory: Mutex::default(),
        }
    }

    pub fn blob(&self, sha: &str) -> Option<Arc<[u8]>> {
        if let Some(hit) = self.memory().blobs.get(sha) {
            return Some(Arc::clone(hit));
        }
        let bytes: Arc<[u8]> = Arc::from(self.read("blobs", sha)?);
        self.memory()
            .blobs
            .insert(sha.to_owned(), Arc::clone(&bytes));
        Some(bytes)
    }

    pub fn put_blob(&self, sha: &str, bytes: &Arc<[u8]>) {
        self.write("blobs", sha, bytes);
        self.memory()
            .blobs
            .insert(sha.to_owned(), Arc::clone(bytes));
    }

    /// The file list of a commit (`tree_key` names repository and commit).
    pub fn tree(&self, tree_key: &str) -> Option<Arc<Vec<TreeEntry>>> {
        if let Some(hit) = self.memory().trees.get(tree_key) {
            return Some(Arc::clone(hit));
        }
        let bytes = self.read("trees", tree_key)?;
        let entries: Arc<Vec<TreeEntry>> = Arc::new(serde_json::from_slice(&bytes).ok()?);
        self.memory()
            .trees
            .insert(tree_key.to_owned(), Arc::clone(&entries));
        Some(entries)
    }

    pub fn put_tree(&self, tree_key: &str, entries: &Arc<Vec<TreeEntry>>) {
        if let Ok(json) = serde_json::to_vec(entries.as_ref()) {
            self.write("trees", tree_key, &json);
        }
        self.memory()
            .trees
            .insert(tree_key.to_owned(), Arc::clone(entries));
    }

    pub fn etagged(&self, request_key: &str) -> Option<Arc<Etagged>> {
        if let Some(hit) = self.memory().etags.get(request_key) {
            return Some(Arc::clone(hit));
        }
        let bytes = self.read("etags", request_key)?;
        let entry: Arc<Etagged> = Arc::new(serde_json::from_slice(&bytes).ok()?);
        self.memory()
            .etags
            .insert(request_key.to_owned(), Arc::clone(&entry));
        Some(entry)
    }

    pub fn put_etagged(&self, request_key: &str, entry: Etagged) {
        if let Ok(json) = serde_json::to_vec(&entry) {
            self.write("etags", request_key, &json);
        }
        self.memory()
            .etags
            .insert(request_key.to_owned(), Arc::new(entry));
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A panic while holding the lock leaves plain maps behind, still usable.
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self, kind: &str, name: &str) -> Option<Vec<u8>> {
        let path = self.dir.as_ref()?.join(kind).join(name);
        fs::read(path).ok()
    }

    fn write(&self, kind: &str, name: &str, bytes: &[u8]) {
        let Some(dir) = &self.dir else { return };
        let dir = dir.join(kind);
        if let Err(e) = create_private_dir(&dir).and_then(|()| write_atomic(&dir, name, bytes)) {
            tracing::debug!("cannot cache {kind}/{name}: {e}");
        }
    }
}

/// A file-name-safe key for request text (sha256, hex).
pub fn key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes through a private temporary file and a rename, so a reader never sees half a file
/// and concurrent writers of the same (immutable) entry do not interleave.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let temp = dir.join(format!(".tmp-{}-{nonce}-{name}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options
        .open(&temp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| fs::rename(&temp, dir.join(name)));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_new_cache_and_are_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(Some(dir.path()), "https://api.github.com");
        let blob: Arc<[u8]> = Arc::from(&b"on: push\n"[..]);
        cache.put_blob("abc", &blob);
        cache.put_etagged(
            "k",
            Etagged {
                etag: "\"1\"".to_owned(),
                body: "sha".to_owned(),
                next: None,
            },
        );
        let again = Cache::new(Some(dir.path()), "https://api.github.com");
        assert_eq!(again.blob("abc").as_deref(), Some(&b"on: push\n"[..]));
        assert_eq!(again.etagged("k").expect("cached").etag, "\"1\"");
        let other_host = Cache::new(Some(dir.path()), "https://ghe.example/api/v3");
        assert!(other_host.blob("abc").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let root = dir.path().join("github");
            let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
            let host_dir = fs::read_dir(&root)
                .expect("host dir")
                .next()
                .expect("one host")
                .expect("entry")
                .path();
            assert_eq!(mode(&host_dir), 0o700);
            assert_eq!(mode(&host_dir.join("blobs/abc")), 0o600);
        }
    }
}
