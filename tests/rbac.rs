//! Least privilege, proven: every (verb, group, resource, namespace) the operator sent to the
//! fake API server across the whole scenario suite (operator, enforcement and PolicyReport
//! scenarios) is granted by the shipped RBAC, and the shipped RBAC grants nothing that none of
//! them used.
//!
//! The scenario binaries are run again here with `SLUICE_REQUEST_LOG_DIR` set: each harness
//! then leaves the accesses of the operator's own client (not the test's) in that directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

/// The scenario suites whose operator requests are collected.
const SUITES: [&str; 3] = ["operator", "enforcement", "policy_reports"];
/// The namespace the tests run the operator in (its Lease, its Secrets).
const OPERATOR_NAMESPACE: &str = "sluice-system";

/// RBAC files: the base roles and the optional components' roles.
const RBAC_FILES: [&str; 4] = [
    "deploy/kustomize/base/rbac/clusterrole-operator.yaml",
    "deploy/kustomize/base/rbac/role-operator.yaml",
    "deploy/kustomize/components/enforcement/clusterrole-enforcement.yaml",
    "deploy/kustomize/components/policy-reports/clusterrole-policy-reports.yaml",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Access {
    verb: String,
    group: String,
    resource: String,
    /// `*`: cluster-scoped or all namespaces.
    namespace: String,
}

/// One (verb, group, resource) a role grants, and where: `None` everywhere (ClusterRole),
/// else the Role's namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    role: String,
    verb: String,
    group: String,
    resource: String,
    namespace: Option<String>,
}

impl Grant {
    fn allows(&self, access: &Access) -> bool {
        self.verb == access.verb
            && self.group == access.group
            && self.resource == access.resource
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == access.namespace)
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is in the repository root")
        .to_owned()
}

/// The newest build of test binary `name` next to this one (cargo builds every test binary
/// of the workspace before running any).
fn sibling(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .expect("test binary path")
        .parent()
        .expect("deps directory")
        .to_owned();
    let prefix = format!("{name}-");
    std::fs::read_dir(&dir)
        .expect("the deps directory is readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().and_then(|f| f.to_str()).unwrap_or_default();
            file.starts_with(&prefix)
                && p.extension().is_none()
                && file[prefix.len()..].chars().all(|c| c.is_ascii_hexdigit())
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| {
            panic!(
                "no `{name}` test binary in {}: build the suites first (cargo test --release --workspace --no-run)",
                dir.display()
            )
        })
}

fn collect_accesses() -> BTreeSet<Access> {
    let logs = tempfile::tempdir().expect("temporary directory");
    for suite in SUITES {
        let binary = sibling(suite);
        let output = Command::new(&binary)
            .env("SLUICE_REQUEST_LOG_DIR", logs.path())
            .current_dir(repo_root().join("host"))
            .output()
            .expect("the scenario binary runs");
        assert!(
            output.status.success(),
            "{} failed:\n{}\n{}",
            binary.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut accesses = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(logs.path()).expect("logs") {
        files += 1;
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("log");
        for line in text.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let [verb, group, resource, namespace] = fields[..] else {
                panic!("malformed log line {line:?}");
            };
            accesses.insert(Access {
                verb: verb.to_owned(),
                group: if group == "core" {
                    String::new()
                } else {
                    group.to_owned()
                },
                resource: resource.to_owned(),
                namespace: namespace.to_owned(),
            });
        }
    }
    assert!(
        files >= 30,
        "only {files} scenario logs: the suites did not run"
    );
    accesses
}

fn shipped_grants() -> Vec<Grant> {
    let mut grants = Vec::new();
    for file in RBAC_FILES {
        let text = std::fs::read_to_string(repo_root().join(file)).expect("RBAC file");
        for document in serde_yaml::Deserializer::from_str(&text) {
            let object = Value::deserialize(document).expect("YAML");
            let kind = object["kind"].as_str().unwrap_or_default();
            if kind != "ClusterRole" && kind != "Role" {
                continue;
            }
            let role = format!(
                "{kind}/{}",
                object["metadata"]["name"].as_str().unwrap_or_default()
            );
            let namespace = (kind == "Role").then(|| {
                object["metadata"]["namespace"]
                    .as_str()
                    .expect("a Role has a namespace")
                    .to_owned()
            });
            for rule in object["rules"].as_sequence().expect("rules") {
                let list = |key: &str| -> Vec<String> {
                    rule[key]
                        .as_sequence()
                        .unwrap_or_else(|| panic!("{role}: a rule without {key}"))
                        .iter()
                        .map(|v| v.as_str().expect("a string").to_owned())
                        .collect()
                };
                for group in list("apiGroups") {
                    for resource in list("resources") {
                        for verb in list("verbs") {
                            assert!(
                                group != "*" && resource != "*" && verb != "*",
                                "{role}: wildcards grant more than anything can prove"
                            );
                            grants.push(Grant {
                                role: role.clone(),
                                verb,
                                group: group.clone(),
                                resource: resource.clone(),
                                namespace: namespace.clone(),
                            });
                        }
                    }
                }
            }
        }
    }
    grants
}

use serde::Deserialize as _;

#[test]
fn the_shipped_rbac_grants_exactly_what_the_operator_uses() {
    let accesses = collect_accesses();
    let grants = shipped_grants();
    let ungranted: Vec<&Access> = accesses
        .iter()
        .filter(|a| !grants.iter().any(|g| g.allows(a)))
        .collect();
    let unused: Vec<&Grant> = grants
        .iter()
        .filter(|g| !accesses.iter().any(|a| g.allows(a)))
        .collect();
    assert!(
        ungranted.is_empty() && unused.is_empty(),
        "operator requests the RBAC does not grant:\n{ungranted:#?}\n\nrights no scenario used:\n{unused:#?}"
    );
    // Secrets only in the operator's namespace, never cluster-wide.
    for grant in grants.iter().filter(|g| g.resource == "secrets") {
        assert_eq!(
            grant.namespace.as_deref(),
            Some(OPERATOR_NAMESPACE),
            "{grant:?}"
        );
    }
    // Patch rights on others' objects only in the enforcement role.
    for grant in grants.iter().filter(|g| g.verb == "patch") {
        let own = matches!(
            grant.group.as_str(),
            "sluice.dev" | "events.k8s.io" | "wgpolicyk8s.io"
        );
        assert!(
            own || grant.role == "ClusterRole/sluice-enforcement",
            "{grant:?}"
        );
    }
}
