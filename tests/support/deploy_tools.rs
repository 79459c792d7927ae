//! The deployment tools (installed by `deploy/tools/install.sh`, never taken from PATH) and
//! the renderings of `deploy/kustomize` and `deploy/helm/sluice` they produce.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ lives in the repository root")
        .to_owned()
}

/// The project-local tools, as `deploy/tools/install.sh` lays them out.
#[derive(Debug)]
pub struct Tools {
    pub dir: PathBuf,
}

impl Tools {
    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }

    pub fn kubectl(&self) -> Command {
        self.command("kubectl")
    }

    pub fn helm(&self) -> Command {
        let mut command = self.command("helm");
        // Helm keeps caches and plugins under the home directory; none are needed to render.
        let home = self.dir.join("helm-home");
        command
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"));
        command
    }

    pub fn command(&self, name: &str) -> Command {
        let path = self.bin(name);
        assert!(
            path.is_file(),
            "{} is missing after deploy/tools/install.sh",
            path.display()
        );
        let mut command = Command::new(path);
        command.current_dir(repo_root());
        command
    }
}

/// Runs `deploy/tools/install.sh` once per test process; a failed install fails the test.
pub fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let root = repo_root();
        let output = Command::new("bash")
            .arg(root.join("deploy/tools/install.sh"))
            .current_dir(&root)
            .output()
            .expect("run deploy/tools/install.sh");
        assert!(
            output.status.success(),
            "deploy/tools/install.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let dir = std::env::var_os("SLUICE_TOOLS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".tools"));
        Tools { dir }
    })
}

/// Runs a command and returns its standard output; panics with both streams on failure.
pub fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("start the tool");
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("tool output is UTF-8")
}

/// Both output streams, for assertions on a tool's messages.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `kubectl kustomize DIR` (DIR relative to the repository root, or absolute).
pub fn kustomize(dir: &str) -> String {
    run_ok(tools().kubectl().args(["kustomize", dir]))
}

/// The release name and namespace the install guide uses.
pub const RELEASE: &str = "sluice";
pub const NAMESPACE: &str = "sluice-system";

/// `helm template` of the chart with `--set` values, CRDs included.
pub fn helm_template(sets: &[&str]) -> String {
    let args: Vec<String> = sets
        .iter()
        .flat_map(|s| ["--set".into(), s.to_string()])
        .collect();
    helm_template_args(&args)
}

/// `helm template` of the chart with extra arguments (`--values FILE`, ...), CRDs included.
pub fn helm_template_args(extra: &[String]) -> String {
    let mut command = tools().helm();
    command.args([
        "template",
        RELEASE,
        "deploy/helm/sluice",
        "--namespace",
        NAMESPACE,
        "--include-crds",
    ]);
    command.args(extra);
    run_ok(&mut command)
}

/// The documents of a multi-document YAML stream (empty documents dropped).
pub fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("rendered YAML parses"))
        .filter(|v| !v.is_null())
        .collect()
}

/// An object's identity: kind, namespace, name.
pub fn key(obj: &Value) -> (String, String, String) {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        s(&obj["kind"]),
        s(&obj["metadata"]["namespace"]),
        s(&obj["metadata"]["name"]),
    )
}

/// Objects by identity; a duplicate identity fails the test.
pub fn by_key(objects: Vec<Value>) -> BTreeMap<(String, String, String), Value> {
    let mut map = BTreeMap::new();
    for obj in objects {
        let k = key(&obj);
        assert!(map.insert(k.clone(), obj).is_none(), "{k:?} rendered twice");
    }
    map
}

/// The one object of this kind and name.
pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
}

/// Writes objects as one multi-document YAML file.
pub fn write_yaml(path: &Path, objects: &[&Value]) {
    let text: Vec<String> = objects
        .iter()
        .map(|o| serde_yaml::to_string(o).expect("serialise an object"))
        .collect();
    std::fs::write(path, text.join("---\n")).expect("write YAML");
}
