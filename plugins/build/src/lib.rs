//! Builds rule-pack crates for `wasm32-wasip2` from a build script.
//!
//! The host embeds its built-in packs and the test suite builds hostile packs; both need a
//! nested `cargo build` for another target. That nested build gets its own target directory
//! (sharing the outer one would deadlock on its lock) and a cleaned environment (the outer
//! build's flags, wrappers and target settings must not leak into the wasm build).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every pack is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// One nested build of pack crates.
#[derive(Debug, Clone)]
pub struct PackBuild {
    manifest: PathBuf,
    packages: Vec<String>,
    target_dir: PathBuf,
    profile: String,
}

/// A built pack: its package name and the path of its `.wasm` component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPack {
    pub package: String,
    pub wasm: PathBuf,
}

impl PackBuild {
    /// Builds `packages` of the workspace at `manifest` (a `Cargo.toml`).
    pub fn new(manifest: impl Into<PathBuf>, packages: &[&str]) -> PackBuild {
        PackBuild {
            manifest: manifest.into(),
            packages: packages.iter().map(|p| (*p).to_owned()).collect(),
            target_dir: PathBuf::from("target/sluice-packs"),
            profile: "release".to_owned(),
        }
    }

    /// Where the nested build puts its artifacts.
    #[must_use]
    pub fn target_dir(mut self, dir: impl Into<PathBuf>) -> PackBuild {
        self.target_dir = dir.into();
        self
    }

    /// Cargo profile of the nested build.
    #[must_use]
    pub fn profile(mut self, profile: &str) -> PackBuild {
        profile.clone_into(&mut self.profile);
        self
    }

    /// Runs the build; `Err` carries a message for the person reading the build log.
    ///
    /// Each package's library is built as a `cdylib` with `cargo rustc --crate-type cdylib`,
    /// so pack crates can declare only `rlib`: a crate that declares `cdylib` gets no hash in
    /// its native file names, and the host links the built-in packs natively twice (build
    /// script and tests), which would make those names collide.
    pub fn run(&self) -> Result<Vec<BuiltPack>, String> {
        ensure_target_installed()?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        for package in &self.packages {
            let mut command = Command::new(&cargo);
            command
                .arg("rustc")
                .arg("--manifest-path")
                .arg(&self.manifest)
                .arg("--package")
                .arg(package)
                .arg("--lib")
                .arg("--crate-type")
                .arg("cdylib")
                .arg("--target")
                .arg(TARGET)
                .arg("--profile")
                .arg(&self.profile)
                .arg("--target-dir")
                .arg(&self.target_dir);
            for var in LEAKY_ENV {
                command.env_remove(var);
            }
            let status = command
                .status()
                .map_err(|e| format!("cannot run cargo to build the rule packs: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "building the rule pack {package} for {TARGET} failed; see the cargo output above"
                ));
            }
        }
        let profile_dir = if self.profile == "dev" {
            "debug"
        } else {
            self.profile.as_str()
        };
        self.packages
            .iter()
            .map(|package| {
                let wasm = self
                    .target_dir
                    .join(TARGET)
                    .join(profile_dir)
                    .join(format!("{}.wasm", package.replace('-', "_")));
                if wasm.is_file() {
                    Ok(BuiltPack {
                        package: package.clone(),
                        wasm,
                    })
                } else {
                    Err(format!("{package} built but {} is missing", wasm.display()))
                }
            })
            .collect()
    }
}

/// Variables cargo sets for the outer build that would change or break the nested one.
const LEAKY_ENV: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_PKG_NAME",
    "TARGET",
    "HOST",
    "OUT_DIR",
    "PROFILE",
    "OPT_LEVEL",
    "DEBUG",
    "NUM_JOBS",
    "CARGO_CFG_TARGET_FEATURE",
    "RUSTDOC",
];

/// The nested build's target directory, next to the outer build's: the `target` directory is
/// found from the build script's `OUT_DIR` (`<target>/[<triple>/]<profile>/build/<pkg>/out`).
pub fn target_dir_beside(out_dir: &Path, name: &str) -> PathBuf {
    let build = out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "build"));
    match build.and_then(Path::parent).and_then(Path::parent) {
        Some(target) => target.join(name),
        None => out_dir.join(name),
    }
}

/// `rust-toolchain.toml` names the target, but rustup only installs listed targets when it
/// installs the toolchain itself; on a machine that already had the toolchain we add it here.
fn ensure_target_installed() -> Result<(), String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(TARGET).is_dir() {
        return Ok(());
    }
    let toolchain = sysroot
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!("cargo::warning=installing the {TARGET} target with rustup (toolchain {toolchain})");
    let mut command = Command::new("rustup");
    command.args(["target", "add", TARGET]);
    if !toolchain.is_empty() {
        command.args(["--toolchain", &toolchain]);
    }
    let status = command.status().map_err(|e| {
        format!("the {TARGET} target is missing and rustup could not be run ({e}); install it with `rustup target add {TARGET}`")
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`rustup target add {TARGET}` failed; the built-in rule packs need that target"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_target_dir_from_out_dir() {
        let out = Path::new("/t/target/release/build/sluice-abc/out");
        assert_eq!(
            target_dir_beside(out, "packs"),
            PathBuf::from("/t/target/packs")
        );
        let cross = Path::new("/t/target/x86_64-unknown-linux-gnu/debug/build/s-1/out");
        assert_eq!(
            target_dir_beside(cross, "packs"),
            PathBuf::from("/t/target/x86_64-unknown-linux-gnu/packs")
        );
    }
}
