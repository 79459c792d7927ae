//! The deployment artefacts (issue 11): the kustomize base and components, the Helm chart, the
//! Containerfile, the dashboard and alerts. Rendered with the project-local kubectl 1.35 and
//! helm 4 from `deploy/tools/install.sh` (a missing tool fails these tests, never skips them),
//! validated with kubernetes-validate (built-in kinds) and deploy/tools/validate-crs.py
//! (custom resources against their CRDs), and checked against the restricted Pod Security
//! Standard and the binary itself (flags, ports, metric names, read-only root filesystem).

#[path = "support/deploy_compare.rs"]
mod deploy_compare;
#[path = "support/deploy_tools.rs"]
mod deploy_tools;
#[path = "support/metric_names.rs"]
mod metric_names;
#[path = "support/pss.rs"]
mod pss;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use deploy_compare::assert_same_objects;
use deploy_tools::{
    documents, find, helm_template, helm_template_args, kustomize, repo_root, run_ok, text, tools,
    write_yaml,
};
use metric_names::{dashboard_exprs, exported_metric_names, metric_names};

/// `kubectl kustomize` targets and the `helm template --set` values that must render the same
/// objects (less the Namespace, which Helm leaves to `--create-namespace`). The install guide
/// shows these very commands.
const BASE: &str = "deploy/kustomize/base";
const FULL: &str = "deploy/kustomize/overlays/full";
const FULL_SETS: &[&str] = &[
    "enforcement=on",
    "serviceMonitor.enabled=true",
    "prometheusRule.enabled=true",
    "dashboard.enabled=true",
];
const HELM_TEMPLATE: &str =
    ".tools/bin/helm template sluice deploy/helm/sluice --namespace sluice-system --include-crds";
/// Kubernetes versions the rendered objects are validated against: the oldest the operator is
/// built for and the newest kubernetes-validate knows.
const KUBE_VERSIONS: &[&str] = &["1.33.0", "1.37.0"];

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn both_renderings() -> Vec<(String, Vec<Value>)> {
    vec![
        (format!("kustomize {BASE}"), documents(&kustomize(BASE))),
        (format!("kustomize {FULL}"), documents(&kustomize(FULL))),
        ("helm (defaults)".into(), documents(&helm_template(&[]))),
        (
            format!("helm {}", FULL_SETS.join(" ")),
            documents(&helm_template(FULL_SETS)),
        ),
    ]
}

// ----- the tools -----

#[test]
fn the_tools_are_the_pinned_project_local_ones() {
    let tools = tools();
    let kubectl = run_ok(tools.kubectl().args(["version", "--client"]));
    assert!(kubectl.contains("v1.35."), "{kubectl}");
    let helm = run_ok(tools.helm().args(["version", "--short"]));
    assert!(helm.starts_with("v4."), "{helm}");
    let hadolint = run_ok(tools.command("hadolint").arg("--version"));
    assert!(hadolint.contains("2.15.1"), "{hadolint}");
    // A second run is a no-op that still reports every tool.
    let again = run_ok(Command::new("bash").arg(repo_root().join("deploy/tools/install.sh")));
    for tool in ["kubectl", "helm", "hadolint", "kubernetes-validate"] {
        assert!(again.contains(tool), "{again}");
    }
    let ci = read(".ci/run");
    let install = ci
        .find("deploy/tools/install.sh")
        .expect(".ci/run installs the tools");
    let test = ci.find("cargo test").expect(".ci/run runs the tests");
    assert!(install < test, "the tools are installed before the tests");
}

// ----- copies that kustomize and Helm need inside their roots -----

#[test]
fn the_copies_of_crds_dashboard_and_alerts_match_their_sources() {
    let root = repo_root();
    let names = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    let source = root.join("crds");
    for copy in ["deploy/kustomize/base/crds", "deploy/helm/sluice/crds"] {
        assert_eq!(names(&source), names(&root.join(copy)), "{copy}");
        for name in names(&source) {
            // Not assert_eq!: a drifted CRD would print two 20 KB files.
            assert!(
                read(&format!("crds/{name}")) == read(&format!("{copy}/{name}")),
                "{copy}/{name} differs from crds/{name}: run deploy/tools/sync-copies.sh"
            );
        }
    }
    let dashboard = read("deploy/grafana/sluice-dashboard.json");
    for copy in [
        "deploy/kustomize/components/dashboard/sluice-dashboard.json",
        "deploy/helm/sluice/files/sluice-dashboard.json",
    ] {
        assert_eq!(
            dashboard,
            read(copy),
            "{copy}: run deploy/tools/sync-copies.sh"
        );
    }
    assert_eq!(
        read("deploy/kustomize/components/prometheusrule/prometheusrule.yaml"),
        read("deploy/helm/sluice/files/prometheusrule.yaml"),
        "run deploy/tools/sync-copies.sh"
    );
}

// ----- kustomize and Helm render the same objects -----

#[test]
fn kustomize_and_helm_render_the_same_objects_by_default() {
    let objects = assert_same_objects(&kustomize(BASE), &helm_template(&[]));
    let kinds: BTreeSet<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    let expected = [
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "Deployment",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
    ];
    assert_eq!(kinds, expected.into_iter().collect());
    // Enforcement is off: its role is neither rendered nor bound, and the flag is absent.
    assert!(
        !objects
            .iter()
            .any(|o| o["metadata"]["name"] == "sluice-enforcement")
    );
    let args = container(find(&objects, "Deployment", "sluice-operator"))["args"].clone();
    assert!(!args.to_string().contains("--enforcement"), "{args}");
}

#[test]
fn kustomize_and_helm_render_the_same_objects_with_enforcement_and_monitoring() {
    let objects = assert_same_objects(&kustomize(FULL), &helm_template(FULL_SETS));
    for (kind, name) in [
        ("ClusterRole", "sluice-enforcement"),
        ("ClusterRoleBinding", "sluice-enforcement"),
        ("ServiceMonitor", "sluice-operator"),
        ("PrometheusRule", "sluice-operator"),
        ("ConfigMap", "sluice-dashboard"),
    ] {
        find(&objects, kind, name);
    }
    let args = container(find(&objects, "Deployment", "sluice-operator"))["args"].clone();
    assert_eq!(
        args.as_array().and_then(|a| a.last()),
        Some(&json!("--enforcement=on"))
    );
    let dashboard = find(&objects, "ConfigMap", "sluice-dashboard");
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
}

#[test]
fn kustomize_and_helm_agree_on_policy_reports() {
    // An overlay outside the repository, as a user would write one (kustomize takes only
    // relative paths).
    let dir = tempfile::tempdir().expect("tempdir");
    let up = "../".repeat(dir.path().components().count() - 1);
    let root = repo_root();
    let root = root
        .to_str()
        .expect("UTF-8 repository path")
        .trim_start_matches('/');
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {up}{root}/{BASE}\ncomponents:\n  - {up}{root}/deploy/kustomize/components/policy-reports\n"
        ),
    )
    .expect("write overlay");
    let overlay = dir.path().to_str().expect("UTF-8 temp path");
    let objects = assert_same_objects(&kustomize(overlay), &helm_template(&["policyReports=true"]));
    let role = find(&objects, "ClusterRole", "sluice-policy-reports");
    assert_eq!(role["rules"][0]["apiGroups"], json!(["wgpolicyk8s.io"]));
    find(&objects, "ClusterRoleBinding", "sluice-policy-reports");
    let args = container(find(&objects, "Deployment", "sluice-operator"))["args"].clone();
    assert!(args.to_string().contains("--policy-reports"), "{args}");
}

#[test]
fn helm_lint_strict_passes() {
    let out = run_ok(
        tools()
            .helm()
            .args(["lint", "--strict", "deploy/helm/sluice", "--set"])
            .arg(FULL_SETS.join(",")),
    );
    assert!(out.contains("0 chart(s) failed"), "{out}");
}

#[test]
fn helm_dry_run_binds_enforcement_and_refuses_unknown_modes() {
    let objects = documents(&helm_template(&["enforcement=dry-run"]));
    find(&objects, "ClusterRoleBinding", "sluice-enforcement");
    let args = container(find(&objects, "Deployment", "sluice-operator"))["args"].clone();
    assert!(args.to_string().contains("--enforcement=dry-run"), "{args}");

    let output = tools()
        .helm()
        .args([
            "template",
            "sluice",
            "deploy/helm/sluice",
            "--set",
            "enforcement=maybe",
        ])
        .output()
        .expect("run helm");
    assert!(!output.status.success(), "{}", text(&output));
}

#[test]
fn helm_values_for_namespaces_app_auth_and_packs_reach_the_deployment() {
    // A values file as an installer writes one: ids are numbers there, which Go templates
    // see as floats.
    let dir = tempfile::tempdir().expect("tempdir");
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        "watchedNamespaces: [argocd, flux-system]\ngithub:\n  auth: app\n  app:\n    id: 12345678\n    installationId: 87654321\npacks:\n  configMap: my-packs\n",
    )
    .expect("write values");
    let objects = documents(&helm_template_args(&[
        "--values".into(),
        values.to_str().expect("UTF-8 temp path").into(),
    ]));
    let deployment = find(&objects, "Deployment", "sluice-operator");
    let args: Vec<&str> = container(deployment)["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [
        "--namespace=argocd",
        "--namespace=flux-system",
        "--github-app-id=12345678",
        "--github-installation-id=87654321",
        "--github-app-key=/etc/sluice/github/private-key.pem",
        "--pack-dir=/etc/sluice/packs",
    ] {
        assert!(args.contains(&expected), "{expected} not in {args:?}");
    }
    assert!(!args.iter().any(|a| a.starts_with("--github-token-file")));
    let volumes = &deployment["spec"]["template"]["spec"]["volumes"];
    assert!(
        volumes
            .as_array()
            .expect("volumes")
            .iter()
            .any(|v| v["configMap"]["name"] == "my-packs"),
        "{volumes}"
    );
    assert!(pss::check_deployment(deployment).is_empty());
    assert_flags_accepted(&args);
}

// ----- schemas -----

/// Kinds validated against CRD schemas instead of Kubernetes' own.
fn is_custom(obj: &Value) -> bool {
    obj["apiVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("monitoring.coreos.com/") || v.starts_with("sluice.dev/"))
}

#[test]
fn rendered_objects_pass_kubernetes_validate_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (label, objects) in both_renderings() {
        let builtin: Vec<&Value> = objects.iter().filter(|o| !is_custom(o)).collect();
        let file = dir.path().join("builtin.yaml");
        write_yaml(&file, &builtin);
        for version in KUBE_VERSIONS {
            let output = tools()
                .command("kubernetes-validate")
                .args(["--strict", "-k", version])
                .arg(&file)
                .output()
                .expect("run kubernetes-validate");
            let out = text(&output);
            assert!(output.status.success(), "{label} against {version}:\n{out}");
            // A kind without a schema is only a warning there: none may go unchecked.
            assert!(!out.contains("Couldn't find schema"), "{label}:\n{out}");
            for obj in &builtin {
                let line = format!(
                    "passed for resource {}/{}",
                    obj["kind"].as_str().expect("kind").to_lowercase(),
                    obj["metadata"]["name"].as_str().expect("name")
                );
                assert!(
                    out.contains(&line),
                    "{label} {version}: no `{line}` in\n{out}"
                );
            }
        }
    }
}

#[test]
fn kubernetes_validate_strict_rejects_an_unknown_field() {
    let mut objects = documents(&kustomize(BASE));
    let deployment = objects
        .iter_mut()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment");
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContex"] = json!({});
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.yaml");
    write_yaml(&file, &[deployment]);
    let output = tools()
        .command("kubernetes-validate")
        .args(["--strict", "-k", KUBE_VERSIONS[0]])
        .arg(&file)
        .output()
        .expect("run kubernetes-validate");
    assert!(!output.status.success(), "{}", text(&output));
}

fn validate_crs(crds: &[PathBuf], manifest: &Path) -> std::process::Output {
    let mut command = tools().command("python");
    command.arg(repo_root().join("deploy/tools/validate-crs.py"));
    for crd in crds {
        command.arg("--crd").arg(crd);
    }
    command.arg(manifest).output().expect("run validate-crs.py")
}

fn upstream_and_own_crds() -> Vec<PathBuf> {
    let root = repo_root();
    let mut crds: Vec<PathBuf> = [
        "prometheus-servicemonitor.yaml",
        "prometheus-prometheusrule.yaml",
    ]
    .iter()
    .map(|f| root.join("tests/fixtures/upstream-crds").join(f))
    .collect();
    for entry in std::fs::read_dir(root.join("crds")).expect("crds/") {
        crds.push(entry.expect("entry").path());
    }
    crds
}

#[test]
fn custom_resources_match_their_crd_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crds = upstream_and_own_crds();
    let mut checked = BTreeSet::new();
    for (label, objects) in both_renderings() {
        let custom: Vec<&Value> = objects.iter().filter(|o| is_custom(o)).collect();
        if custom.is_empty() {
            continue;
        }
        let file = dir.path().join("custom.yaml");
        write_yaml(&file, &custom);
        let output = validate_crs(&crds, &file);
        assert!(output.status.success(), "{label}:\n{}", text(&output));
        assert_eq!(text(&output).matches("PASS ").count(), custom.len());
        checked.extend(custom.iter().map(|o| o["kind"].to_string()));
    }
    assert_eq!(
        checked,
        ["\"PrometheusRule\"", "\"ServiceMonitor\""]
            .map(String::from)
            .into_iter()
            .collect()
    );
    // The operator's own kinds, through the examples the docs point at.
    for entry in std::fs::read_dir(repo_root().join("examples/operator")).expect("examples") {
        let path = entry.expect("entry").path();
        let output = validate_crs(&crds, &path);
        assert!(
            output.status.success(),
            "{}:\n{}",
            path.display(),
            text(&output)
        );
        assert!(text(&output).contains("PASS "));
    }
}

#[test]
fn the_crd_validator_rejects_unknown_fields_and_unknown_kinds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crds = upstream_and_own_crds();
    let mut monitor = documents(&read(
        "deploy/kustomize/components/servicemonitor/servicemonitor.yaml",
    ))
    .remove(0);
    monitor["spec"]["endpoints"][0]["intervall"] = json!("30s");
    let file = dir.path().join("bad.yaml");
    write_yaml(&file, &[&monitor]);
    let output = validate_crs(&crds, &file);
    assert!(!output.status.success());
    assert!(text(&output).contains("intervall"), "{}", text(&output));

    let unknown =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    write_yaml(&file, &[&unknown]);
    let output = validate_crs(&crds, &file);
    assert!(!output.status.success());
    assert!(text(&output).contains("no CRD"), "{}", text(&output));
}

// ----- Pod Security Standard "restricted" -----

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn rendered_deployments_meet_the_restricted_profile() {
    for (label, objects) in both_renderings() {
        let deployment = find(&objects, "Deployment", "sluice-operator");
        let violations = pss::check_deployment(deployment);
        assert!(violations.is_empty(), "{label}: {violations:#?}");
    }
}

#[test]
fn the_restricted_checker_catches_every_rule() {
    let objects = documents(&kustomize(BASE));
    let good = find(&objects, "Deployment", "sluice-operator").clone();
    assert!(pss::check_deployment(&good).is_empty());
    type Mutation = fn(&mut Value);
    let mutations: &[(&str, Mutation)] = &[
        ("hostNamespaces", |p| p["spec"]["hostPID"] = json!(true)),
        ("privileged", |p| {
            p["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true)
        }),
        ("capabilitiesAdd", |p| {
            p["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
                json!(["SYS_ADMIN"])
        }),
        ("capabilitiesDrop", |p| {
            p["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"] =
                json!(["NET_RAW"])
        }),
        ("hostPathVolumes", |p| {
            push(
                &mut p["spec"]["volumes"],
                json!({"name": "h", "hostPath": {"path": "/"}}),
            )
        }),
        ("hostPorts", |p| {
            p["spec"]["containers"][0]["ports"][0]["hostPort"] = json!(8080)
        }),
        ("appArmor", |p| {
            p["spec"]["securityContext"]["appArmorProfile"] = json!({"type": "Unconfined"})
        }),
        ("seLinux", |p| {
            p["spec"]["containers"][0]["securityContext"]["seLinuxOptions"] =
                json!({"type": "spc_t"})
        }),
        ("procMount", |p| {
            p["spec"]["containers"][0]["securityContext"]["procMount"] = json!("Unmasked")
        }),
        ("seccomp", |p| {
            p["spec"]["containers"][0]["securityContext"]["seccompProfile"] =
                json!({"type": "Unconfined"})
        }),
        ("sysctls", |p| {
            p["spec"]["securityContext"]["sysctls"] =
                json!([{"name": "kernel.msgmax", "value": "1"}])
        }),
        ("windowsHostProcess", |p| {
            p["spec"]["securityContext"]["windowsOptions"] = json!({"hostProcess": true})
        }),
        ("volumeTypes", |p| {
            push(
                &mut p["spec"]["volumes"],
                json!({"name": "n", "nfs": {"server": "x", "path": "/"}}),
            )
        }),
        ("allowPrivilegeEscalation", |p| {
            p["spec"]["containers"][0]["securityContext"]
                .as_object_mut()
                .expect("securityContext")
                .remove("allowPrivilegeEscalation");
        }),
        ("runAsNonRoot", |p| {
            p["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false)
        }),
        ("runAsUser", |p| {
            p["spec"]["securityContext"]["runAsUser"] = json!(0)
        }),
        ("readOnlyRootFilesystem", |p| {
            p["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = json!(false)
        }),
        ("resources", |p| {
            p["spec"]["containers"][0]["resources"]
                .as_object_mut()
                .expect("resources")
                .remove("limits");
        }),
    ];
    let covered: BTreeSet<&str> = mutations.iter().map(|(rule, _)| *rule).collect();
    assert_eq!(
        covered,
        pss::RULES.iter().copied().collect(),
        "a rule without a mutation"
    );
    for (rule, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad["spec"]["template"]);
        let violations = pss::check_deployment(&bad);
        assert!(
            violations.iter().any(|v| v.rule == *rule),
            "{rule}: not caught, got {violations:?}"
        );
    }
    // An init container is checked like the others.
    let mut bad = good.clone();
    push(
        &mut bad["spec"]["template"]["spec"]["initContainers"],
        json!({"name": "init", "image": "x"}),
    );
    let rules: BTreeSet<&str> = pss::check_deployment(&bad).iter().map(|v| v.rule).collect();
    for rule in [
        "allowPrivilegeEscalation",
        "capabilitiesDrop",
        "readOnlyRootFilesystem",
    ] {
        assert!(
            rules.contains(rule),
            "{rule} not reported for the init container"
        );
    }
}

fn push(list: &mut Value, item: Value) {
    if list.is_null() {
        *list = json!([]);
    }
    list.as_array_mut().expect("a list").push(item);
}

// ----- the manifests agree with the binary -----

/// `sluice operator ARGS --help` exits 0 only when every flag and value before `--help` parses.
fn assert_flags_accepted(args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .arg("--help")
        .env_clear()
        .output()
        .expect("run sluice");
    assert!(
        output.status.success(),
        "sluice refuses {args:?}:\n{}",
        text(&output)
    );
}

/// The port in a `[default: 0.0.0.0:PORT]` line of the flag's help.
fn default_port(help: &str, flag: &str) -> u64 {
    let start = help
        .find(&format!("{flag} <"))
        .unwrap_or_else(|| panic!("{flag} in help"));
    let rest = &help[start..];
    let default = &rest[rest.find("[default: ").expect("a default") + 10..];
    let addr = &default[..default.find(']').expect("]")];
    addr.rsplit(':')
        .next()
        .expect("a port")
        .parse()
        .expect("a numeric port")
}

#[test]
fn ports_probes_and_flags_are_the_ones_the_binary_serves() {
    let help = run_ok(Command::new(env!("CARGO_BIN_EXE_sluice")).args(["operator", "--help"]));
    let metrics = default_port(&help, "--metrics-addr");
    let health = default_port(&help, "--health-addr");
    for (label, objects) in both_renderings() {
        let deployment = find(&objects, "Deployment", "sluice-operator");
        let c = container(deployment);
        let ports: BTreeMap<&str, u64> = c["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().expect("name"),
                    p["containerPort"].as_u64().expect("port"),
                )
            })
            .collect();
        assert_eq!(ports["metrics"], metrics, "{label}");
        assert_eq!(ports["health"], health, "{label}");
        for (probe, path) in [
            ("startupProbe", "/healthz"),
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
        ] {
            assert_eq!(c[probe]["httpGet"]["path"], path, "{label} {probe}");
            assert_eq!(c[probe]["httpGet"]["port"], "health", "{label} {probe}");
        }
        let service = find(&objects, "Service", "sluice-operator-metrics");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], "metrics");
        let policy = find(&objects, "NetworkPolicy", "sluice-operator");
        assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], metrics);
        assert_eq!(policy["spec"]["ingress"].as_array().map(Vec::len), Some(1));
        // Two replicas need leader election; the Lease namespace and identity come from the
        // downward API.
        assert_eq!(deployment["spec"]["replicas"], 2);
        let env: BTreeMap<&str, &Value> = c["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|e| (e["name"].as_str().expect("name"), e))
            .collect();
        assert_eq!(
            env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.namespace"
        );
        assert_eq!(
            env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.name"
        );
        let args: Vec<&str> = c["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(args.contains(&"--leader-elect"), "{label}: {args:?}");
        assert_flags_accepted(&args);
        // The cache is the emptyDir, and the image's variable points at the same place.
        let cache = env["SLUICE_CACHE_DIR"]["value"]
            .as_str()
            .expect("SLUICE_CACHE_DIR");
        let mount = c["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .find(|m| m["mountPath"] == cache)
            .expect("the cache directory is mounted");
        let volume = deployment["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == mount["name"])
            .expect("the cache volume");
        assert!(volume["emptyDir"].is_object(), "{volume}");
        assert!(
            read("deploy/Containerfile").contains(&format!("ENV SLUICE_CACHE_DIR={cache}")),
            "the image's SLUICE_CACHE_DIR is {cache}"
        );
    }
}

// ----- RBAC shape (the request-log proof is the operator suite's) -----

#[test]
fn rbac_grants_no_wildcards_and_secrets_only_in_the_operator_namespace() {
    for (label, objects) in both_renderings() {
        for role in objects
            .iter()
            .filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "Role")
        {
            let name = &role["metadata"]["name"];
            for rule in role["rules"].as_array().expect("rules") {
                for field in ["apiGroups", "resources", "verbs"] {
                    assert!(
                        !rule[field].to_string().contains('*'),
                        "{label}: {name} has a wildcard {field}"
                    );
                }
                let resources = rule["resources"].to_string();
                if resources.contains("\"secrets\"") {
                    assert_eq!(
                        role["kind"], "Role",
                        "{label}: {name} grants secrets cluster-wide"
                    );
                    assert_eq!(rule["verbs"], json!(["get"]));
                }
                let verbs = rule["verbs"].to_string();
                if verbs.contains("patch") && role["metadata"]["name"] == "sluice-operator" {
                    // Only the operator's own objects and Events are patched without enforcement.
                    let groups = rule["apiGroups"].to_string();
                    assert!(
                        groups.contains("sluice.dev") || resources.contains("events"),
                        "{label}: sluice-operator patches {resources}"
                    );
                }
            }
        }
        let bindings = objects
            .iter()
            .filter(|o| o["kind"] == "ClusterRoleBinding" || o["kind"] == "RoleBinding");
        for binding in bindings {
            assert_eq!(
                binding["subjects"],
                json!([{"kind": "ServiceAccount", "name": "sluice-operator", "namespace": "sluice-system"}]),
                "{label}"
            );
        }
    }
}

// ----- dashboard and alerts use only exported metrics -----

#[test]
fn dashboard_and_alerts_use_only_exported_metrics() {
    let exported = exported_metric_names();
    assert!(exported.contains("sluice_scans_total"), "{exported:?}");
    assert!(
        exported.contains("sluice_evaluation_duration_seconds_bucket"),
        "{exported:?}"
    );
    let dashboard: Value = serde_json::from_str(&read("deploy/grafana/sluice-dashboard.json"))
        .expect("dashboard JSON");
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard["panels"], &mut exprs);
    let titles: BTreeSet<&str> = exprs.iter().map(|(t, _)| t.as_str()).collect();
    for required in [
        "Compliance by state",
        "Findings by severity",
        "Enforcement actions",
        "Evaluation latency",
        "GitHub rate limit remaining",
        "Rule pack errors",
    ] {
        assert!(titles.contains(required), "no panel {required}");
    }
    let rule = documents(&read(
        "deploy/kustomize/components/prometheusrule/prometheusrule.yaml",
    ))
    .remove(0);
    let mut alerts = BTreeSet::new();
    for group in rule["spec"]["groups"].as_array().expect("groups") {
        for r in group["rules"].as_array().expect("rules") {
            let alert = r["alert"].as_str().expect("alert name");
            alerts.insert(alert.to_owned());
            exprs.push((
                alert.to_owned(),
                r["expr"].as_str().expect("expr").to_owned(),
            ));
        }
    }
    assert_eq!(
        alerts,
        [
            "SluiceGithubRateLimitLow",
            "SluicePackErrors",
            "SluiceScansFailing",
            "SluiceSubjectCritical"
        ]
        .map(String::from)
        .into_iter()
        .collect()
    );
    let mut used = BTreeSet::new();
    for (owner, expr) in &exprs {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{owner}: `{expr}` uses no sluice metric");
        for name in names {
            assert!(
                exported.contains(&name),
                "{owner}: {name} is not exported ({exported:?})"
            );
            used.insert(name);
        }
    }
    assert!(used.len() >= 8, "{used:?}");
}

// ----- the image -----

#[test]
fn the_containerfile_is_hadolint_clean_and_runs_as_non_root() {
    let output = tools()
        .command("hadolint")
        .arg("deploy/Containerfile")
        .output()
        .expect("run hadolint");
    assert!(output.status.success(), "{}", text(&output));
    // hadolint does lint: a Containerfile with known problems fails.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("Containerfile");
    std::fs::write(&bad, "FROM debian:latest\nRUN apt-get install curl\n").expect("write");
    let output = tools()
        .command("hadolint")
        .arg(&bad)
        .output()
        .expect("run hadolint");
    assert!(!output.status.success(), "{}", text(&output));

    let containerfile = read("deploy/Containerfile");
    let runtime = &containerfile[containerfile.rfind("\nFROM ").expect("a final stage")..];
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    let uid: u32 = user
        .split(':')
        .next()
        .expect("uid")
        .parse()
        .expect("a numeric user");
    assert_ne!(uid, 0);
    assert!(runtime.contains("distroless"), "a distroless runtime");
    for label in [
        "title", "source", "version", "revision", "licenses", "created",
    ] {
        assert!(
            runtime.contains(&format!("org.opencontainers.image.{label}=")),
            "no org.opencontainers.image.{label}"
        );
    }
    assert!(containerfile.contains("cargo build --release"));
    assert!(containerfile.contains("wasm32-wasip2"));
}

/// Runs `sluice scan` with the whole filesystem read-only except the cache directory: a user
/// and mount namespace (`unshare --map-root-user`) where every mount is remounted read-only
/// and the cache directory is a writable bind mount, as in the Deployment.
#[test]
fn the_binary_scans_with_a_read_only_root_filesystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&cache).expect("mkdir cache");
    std::fs::create_dir_all(&home).expect("mkdir home");
    let script = r#"
set -eu
cache="$1"; shift
mount --bind "$cache" "$cache"
for m in $(awk '{print $5}' /proc/self/mountinfo); do
  case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"$cache") continue ;; esac
  mount -o remount,bind,ro "$m"
done
# Proof that the remount holds: writing beside the cache directory fails.
if touch "$(dirname "$cache")/probe" 2>/dev/null; then echo "root is writable" >&2; exit 90; fi
exec "$@"
"#;
    let example = repo_root().join("examples/insecure-pipelines");
    let output = Command::new("unshare")
        .args(["--mount", "--map-root-user", "--propagation", "private"])
        .args(["sh", "-c", script, "sh"])
        .arg(&cache)
        .arg(env!("CARGO_BIN_EXE_sluice"))
        .args(["scan", "--format", "json"])
        .arg(&example)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", &home)
        .env("SLUICE_CACHE_DIR", &cache)
        .output()
        .expect("run unshare");
    let code = output.status.code();
    // 1: findings at or above --fail-on (the example is insecure on purpose); 0 would be clean.
    assert_eq!(code, Some(1), "{}", text(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert!(
        report["errors"].as_array().is_some_and(Vec::is_empty),
        "{report}"
    );
    assert!(report["findings"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(!dir.path().join("probe").exists());
    let compiled: Vec<_> = std::fs::read_dir(&cache)
        .expect("read cache")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert!(
        !compiled.is_empty(),
        "no compiled pack in the cache directory"
    );
    let home_entries = std::fs::read_dir(&home).expect("read home").count();
    assert_eq!(home_entries, 0, "something was written to HOME");
}

// ----- the install guide shows the commands these tests run -----

#[test]
fn the_install_guide_shows_the_tested_commands() {
    let guide = read("docs/operator/install.md");
    let full_helm = format!(
        "{HELM_TEMPLATE} {}",
        FULL_SETS
            .iter()
            .map(|s| format!("--set {s}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for command in [
        "deploy/tools/install.sh".to_owned(),
        format!(".tools/bin/kubectl kustomize {BASE}"),
        format!(".tools/bin/kubectl kustomize {FULL}"),
        HELM_TEMPLATE.to_owned(),
        full_helm,
        format!(
            ".tools/bin/kubernetes-validate --strict -k {}",
            KUBE_VERSIONS[0]
        ),
        "deploy/tools/validate-crs.py".to_owned(),
        "sluice operator restore-all".to_owned(),
    ] {
        assert!(
            guide.contains(&command),
            "docs/operator/install.md lacks `{command}`"
        );
    }
}
