//! Helpers shared by the workspace integration tests: running the real `sluice` binary and
//! building the test rule packs under `tests/packs/`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A temporary path as the `&str` a command line takes.
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ lives in the repository root")
        .to_owned()
}

/// A `sluice` command with a private compile cache, run from the repository root.
pub fn sluice() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .current_dir(repo_root())
        .env("SLUICE_CACHE_DIR", cache_dir())
        .env_remove("SLUICE_LOG")
        .env("NO_COLOR", "1");
    command
}

/// One compile cache for the whole test run, so each pack is compiled once.
fn cache_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let dir = exe
            .parent()
            .expect("test binary has a directory")
            .join("sluice-test-cache");
        std::fs::create_dir_all(&dir).expect("create test cache dir");
        dir
    })
}

/// A temporary directory holding `files` (path relative to it, content).
pub fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary repository");
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write file");
    }
    dir
}

/// Runs `sluice` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    sluice().args(args).output().expect("run sluice")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The process's exit code (panics if it was killed by a signal: that is a crash).
pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or_else(|| {
        panic!(
            "sluice was killed by a signal\nstdout:\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

/// Parses `--format json` output.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "output is not JSON ({e})\nstdout:\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

/// Builds every crate of the test-pack workspace (`tests/packs`) for wasm32-wasip2 once per
/// test binary and returns the `.wasm` path of `package`.
pub fn test_pack(package: &str) -> PathBuf {
    static BUILT: OnceLock<Vec<sluice_pack_build::BuiltPack>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let root = repo_root();
        let manifest = root.join("tests/packs/Cargo.toml");
        let packages = test_pack_packages(&manifest);
        let refs: Vec<&str> = packages.iter().map(String::as_str).collect();
        let exe = std::env::current_exe().expect("test binary path");
        let target = exe
            .ancestors()
            .find(|dir| dir.file_name().is_some_and(|n| n == "deps"))
            .and_then(Path::parent)
            .and_then(Path::parent)
            .map_or_else(|| root.join("target"), Path::to_owned)
            .join("sluice-test-packs");
        sluice_pack_build::PackBuild::new(&manifest, &refs)
            .target_dir(target)
            .profile("release")
            .run()
            .unwrap_or_else(|message| panic!("{message}"))
    });
    built
        .iter()
        .find(|p| p.package == package)
        .unwrap_or_else(|| panic!("no test pack named {package} in tests/packs"))
        .wasm
        .clone()
}

/// The members of the test-pack workspace that are packs (directories with a Cargo.toml whose
/// crate type includes cdylib).
fn test_pack_packages(manifest: &Path) -> Vec<String> {
    let dir = manifest.parent().expect("manifest has a directory");
    let mut packages = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read tests/packs") {
        let path = entry.expect("dir entry").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !text.contains("cdylib") {
            continue;
        }
        if let Some(name) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
        {
            packages.push(name.to_owned());
        }
    }
    packages.sort();
    packages
}
