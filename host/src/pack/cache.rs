//! On-disk cache of compiled packs and their metadata.
//!
//! Compiling a component costs hundreds of milliseconds; loading a compiled artifact costs about
//! one. Artifacts are native code, so loading one is only safe if this host wrote it: the cache
//! directory is created private to the user (0700), every artifact carries a header with the
//! SHA-256 of its payload, and a file is refused unless it is owned by the current user and
//! writable by nobody else. wasmtime additionally refuses artifacts from another version or
//! engine configuration. Keys combine the wasm's SHA-256 with the engine's configuration key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 16] = b"sluice-artifact1";

/// A directory of compiled pack artifacts.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    /// The user this process writes files as; only their files are trusted.
    uid: u32,
}

/// Why a cache entry was not used (never fatal: the pack is compiled instead).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache I/O on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing cache file {}: {reason}", path.display())]
    Untrusted { path: PathBuf, reason: String },
}

impl CompileCache {
    /// Uses `dir`, creating it private to the current user.
    pub fn open(dir: impl Into<PathBuf>) -> Result<CompileCache, CacheError> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        let uid = probe_uid(&dir)?;
        check_owner(&dir, uid)?;
        Ok(CompileCache { dir, uid })
    }

    /// `$XDG_CACHE_HOME/sluice`, else `$HOME/.cache/sluice`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|home| PathBuf::from(home).join(".cache"))
            })?;
        Some(base.join("sluice"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache key of a wasm file for a given engine configuration.
    pub fn key(wasm_sha256: &str, config_key: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(wasm_sha256.as_bytes());
        hasher.update(b"\0");
        hasher.update(config_key.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// The payload stored under `key` with `extension`, if present and trustworthy.
    pub fn get(&self, key: &str, extension: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let path = self.path(key, extension);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Io { path, source }),
        };
        check_owner(&path, self.uid)?;
        let untrusted = |reason: &str| CacheError::Untrusted {
            path: path.clone(),
            reason: reason.to_owned(),
        };
        let header_len = MAGIC.len() + 32;
        if bytes.len() < header_len || &bytes[..MAGIC.len()] != MAGIC {
            return Err(untrusted("not written by sluice"));
        }
        let (header, payload) = bytes.split_at(header_len);
        if Sha256::digest(payload).as_slice() != &header[MAGIC.len()..] {
            return Err(untrusted("content does not match its checksum"));
        }
        Ok(Some(payload.to_vec()))
    }

    /// Stores `payload` under `key` atomically (write to a temporary file, then rename).
    pub fn put(&self, key: &str, extension: &str, payload: &[u8]) -> Result<(), CacheError> {
        let path = self.path(key, extension);
        let io = |source| CacheError::Io {
            path: path.clone(),
            source,
        };
        let mut tmp = tempfile_in(&self.dir).map_err(io)?;
        tmp.1.write_all(MAGIC).map_err(io)?;
        tmp.1.write_all(&Sha256::digest(payload)).map_err(io)?;
        tmp.1.write_all(payload).map_err(io)?;
        tmp.1.sync_all().map_err(io)?;
        drop(tmp.1);
        fs::rename(&tmp.0, &path).map_err(|source| {
            let _ = fs::remove_file(&tmp.0);
            CacheError::Io {
                path: path.clone(),
                source,
            }
        })
    }

    fn path(&self, key: &str, extension: &str) -> PathBuf {
        self.dir.join(format!("{key}.{extension}"))
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = dir.join(format!(".tmp-{}-{nonce}", std::process::id()));
    let file = options.open(&path)?;
    Ok((path, file))
}

fn create_private_dir(dir: &Path) -> Result<(), CacheError> {
    let io = |source| CacheError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io)
}

/// The owner of a file this process just created: its effective uid, without libc.
fn probe_uid(dir: &Path) -> Result<u32, CacheError> {
    let (path, file) = tempfile_in(dir).map_err(|source| CacheError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let uid = file_uid(&file);
    drop(file);
    let _ = fs::remove_file(&path);
    Ok(uid)
}

#[cfg(unix)]
fn file_uid(file: &fs::File) -> u32 {
    use std::os::unix::fs::MetadataExt;
    file.metadata().map_or(u32::MAX, |m| m.uid())
}

#[cfg(not(unix))]
fn file_uid(_file: &fs::File) -> u32 {
    0
}

#[cfg(unix)]
fn check_owner(path: &Path, me: u32) -> Result<(), CacheError> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).map_err(|source| CacheError::Io {
        path: path.to_owned(),
        source,
    })?;
    let untrusted = |reason: String| CacheError::Untrusted {
        path: path.to_owned(),
        reason,
    };
    if meta.file_type().is_symlink() {
        return Err(untrusted("it is a symbolic link".to_owned()));
    }
    if meta.uid() != me {
        return Err(untrusted(format!(
            "owned by uid {} instead of {me}",
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(untrusted(format!(
            "writable by other users (mode {:o})",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner(_path: &Path, _me: u32) -> Result<(), CacheError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = CompileCache::open(dir.path().join("c")).expect("open cache");
        assert!(cache.get("k", "bin").expect("read").is_none());
        cache.put("k", "bin", b"payload").expect("write");
        assert_eq!(
            cache.get("k", "bin").expect("read"),
            Some(b"payload".to_vec())
        );

        let path = cache.dir().join("k.bin");
        let mut bytes = fs::read(&path).expect("read raw");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).expect("tamper");
        assert!(matches!(
            cache.get("k", "bin"),
            Err(CacheError::Untrusted { .. })
        ));

        fs::write(&path, b"raw native code").expect("foreign file");
        assert!(matches!(
            cache.get("k", "bin"),
            Err(CacheError::Untrusted { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_files_writable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = CompileCache::open(dir.path()).expect("open cache");
        cache.put("k", "bin", b"payload").expect("write");
        let path = cache.dir().join("k.bin");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).expect("chmod");
        let err = cache
            .get("k", "bin")
            .expect_err("world-writable file must be refused");
        assert!(err.to_string().contains("writable by other users"), "{err}");
    }
}
