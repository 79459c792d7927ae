//! Builds the built-in rule packs for wasm32-wasip2 and embeds them, so the `sluice` binary is
//! self-contained (`cargo install --path host` works). Each pack's metadata is embedded too
//! (read from the pack crate compiled natively for this script), so the host knows a built-in
//! pack's file patterns without compiling its component.

use std::fmt::Write as _;
use std::path::PathBuf;

use sluice_pack_build::{PackBuild, target_dir_beside};
use sluice_pack_sdk::{Pack, PackInfo, metadata::pack_info_json};

/// Reads a pack's metadata from its natively compiled crate.
type InfoFn = fn() -> PackInfo;

/// Built-in packs: (package name, metadata).
const BUILTIN_PACKS: &[(&str, InfoFn)] = &[
    (
        "sluice-pack-github-actions",
        <sluice_pack_github_actions::GithubActions as Pack>::info,
    ),
    (
        "sluice-pack-gitlab-ci",
        <sluice_pack_gitlab_ci::GitlabCi as Pack>::info,
    ),
    (
        "sluice-pack-azure-pipelines",
        <sluice_pack_azure_pipelines::AzurePipelines as Pack>::info,
    ),
    (
        "sluice-pack-jenkins",
        <sluice_pack_jenkins::Jenkins as Pack>::info,
    ),
    (
        "sluice-pack-tekton",
        <sluice_pack_tekton::Tekton as Pack>::info,
    ),
    (
        "sluice-pack-circleci",
        <sluice_pack_circleci::Circleci as Pack>::info,
    ),
];

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ lives in the workspace root")
        .to_owned();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    println!("cargo::rerun-if-changed={}", root.join("plugins").display());
    println!("cargo::rerun-if-changed={}", root.join("wit").display());
    println!(
        "cargo::rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );

    let packages: Vec<&str> = BUILTIN_PACKS.iter().map(|(package, _)| *package).collect();
    let built = PackBuild::new(root.join("Cargo.toml"), &packages)
        .target_dir(target_dir_beside(&out_dir, "sluice-packs"))
        .profile("pack")
        .run()
        .unwrap_or_else(|message| panic!("{message}"));

    let mut code = String::from(
        "/// (pack id, component bytes, metadata JSON) of every built-in pack.\n\
         pub static BUILTIN_PACKS: &[(&str, &[u8], &str)] = &[\n",
    );
    for ((_, info), pack) in BUILTIN_PACKS.iter().zip(&built) {
        let info = info();
        writeln!(
            code,
            "    ({:?}, include_bytes!({:?}), {:?}),",
            info.id,
            pack.wasm.display().to_string(),
            pack_info_json(&info)
        )
        .expect("writing to a String cannot fail");
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("builtin_packs.rs"), code).expect("write builtin_packs.rs");
}
