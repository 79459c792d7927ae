//! `--policy-reports`: wgpolicyk8s.io/v1alpha2 PolicyReports written by the real controllers
//! against the fake Kubernetes API server with the real PolicyReport CRD installed
//! (`tests/fixtures/upstream-crds/wgpolicyk8s-policyreport.yaml`). The fake does not validate
//! objects, so every PolicyReport read here is checked against the CRD's v1alpha2 schema:
//! JSON Schema keywords (types, enums, required) and, like the API server's pruning, no field
//! the schema does not declare.

#[path = "support/fake_github.rs"]
#[allow(dead_code)]
mod fake_github;
#[path = "support/operator.rs"]
mod operator;

use std::time::Duration;

use serde_json::{Value, json};

use operator::*;

const POLR_API: &str = "wgpolicyk8s.io/v1alpha2";
const POLRS: &str = "policyreports";

fn policy_report_crd_yaml() -> String {
    let path = repo_root().join("tests/fixtures/upstream-crds/wgpolicyk8s-policyreport.yaml");
    std::fs::read_to_string(&path).expect("the PolicyReport CRD fixture")
}

fn policy_report_crd() -> Value {
    serde_yaml::from_str(&policy_report_crd_yaml()).expect("the CRD is YAML")
}

/// A harness with the upstream CRDs and, when `with_crd`, the PolicyReport CRD.
fn harness(with_crd: bool) -> Harness {
    let h = Harness::new();
    if with_crd {
        h.fake
            .install_crd_yaml(&policy_report_crd_yaml())
            .expect("the PolicyReport CRD installs");
    }
    h
}

fn config(policy_reports: bool) -> sluice::operator::OperatorConfig {
    let mut config = Harness::config("solo");
    config.settings.policy_reports = policy_reports;
    config
}

fn v1alpha2_schema() -> Value {
    policy_report_crd()["spec"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["name"] == "v1alpha2")
        .expect("the CRD serves v1alpha2")["schema"]["openAPIV3Schema"]
        .clone()
}

/// Fields of `value` that `schema` does not declare (the API server would drop them).
fn undeclared(schema: &Value, value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        // `metadata: {type: object}`: the API server's own schema applies there.
        Value::Object(_) if path == ".metadata" => {}
        Value::Object(map) => {
            let declared = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                match (declared.and_then(|d| d.get(key)), additional) {
                    (Some(child_schema), _) => undeclared(child_schema, child, &child_path, found),
                    (None, Some(additional)) if additional.is_object() => {
                        undeclared(additional, child, &child_path, found)
                    }
                    (None, _) => found.push(child_path),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    undeclared(item_schema, item, &format!("{path}[{i}]"), found);
                }
            }
        }
        _ => {}
    }
}

/// Every schema problem of `report`, empty when the CRD accepts it.
fn schema_problems(report: &Value) -> Vec<String> {
    let schema = v1alpha2_schema();
    let validator = jsonschema::draft7::new(&schema).expect("the openAPIV3Schema is a schema");
    let mut problems: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    let mut fields = Vec::new();
    undeclared(&schema, report, "", &mut fields);
    problems.extend(fields.into_iter().map(|f| format!("undeclared field {f}")));
    problems
}

#[test]
fn the_schema_check_rejects_what_the_api_server_would() {
    let valid = json!({
        "apiVersion": POLR_API, "kind": "PolicyReport",
        "metadata": {"name": "x", "namespace": "ns", "labels": {"a": "b"}},
        "summary": {"pass": 0, "fail": 1},
        "results": [{"policy": "FG-001", "result": "fail", "severity": "high",
                     "properties": {"line": "3"}, "timestamp": {"seconds": 1, "nanos": 0}}]
    });
    assert_eq!(schema_problems(&valid), Vec::<String>::new());
    for (broken, pointer, value) in [
        (
            "an unknown severity",
            "/results/0/severity",
            json!("severe"),
        ),
        ("an unknown result", "/results/0/result", json!("failed")),
        ("a number property", "/results/0/properties/line", json!(3)),
        ("an undeclared field", "/results/0/ruleId", json!("FG-001")),
        ("a string count", "/summary/fail", json!("1")),
    ] {
        let mut report = valid.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
        report
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("parent object")
            .insert(key.to_owned(), value);
        assert!(
            !schema_problems(&report).is_empty(),
            "{broken} was accepted"
        );
    }
    let mut no_policy = valid.clone();
    no_policy["results"][0]
        .as_object_mut()
        .expect("result")
        .remove("policy");
    assert!(
        !schema_problems(&no_policy).is_empty(),
        "a result without policy was accepted"
    );
}

fn policy_report_writes(h: &Harness) -> Vec<String> {
    h.fake
        .writes()
        .into_iter()
        .filter(|r| r.path.contains(POLRS))
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

/// The PolicyReport `name` in `namespace` once `accept` holds, checked against the schema.
async fn policy_report(
    h: &Harness,
    namespace: &str,
    name: &str,
    what: &str,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let fake = h.fake.clone();
    let report = eventually(&format!("PolicyReport {namespace}/{name} {what}"), || {
        fake.get(POLR_API, POLRS, namespace, name)
            .filter(|r| accept(r))
    })
    .await;
    let problems = schema_problems(&report);
    assert!(problems.is_empty(), "{problems:#?}\n{report:#}");
    report
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().expect("results")
}

fn summary_of(results: &[Value]) -> Value {
    let count = |outcome: &str| results.iter().filter(|r| r["result"] == outcome).count();
    json!({"pass": count("pass"), "fail": count("fail"), "warn": count("warn"),
           "error": count("error"), "skip": count("skip")})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_risky_repository_gets_a_policy_report_that_follows_its_fix() {
    let h = harness(true);
    let commit = h.deployed_shop();
    let running = h.start(config(true)).await;
    let sluice_report = h.report("argocd", "application-shop").await;
    let polr = policy_report(
        &h,
        "argocd",
        "sluice-application-shop",
        "with results",
        |r| r["results"].as_array().is_some_and(|a| !a.is_empty()),
    )
    .await;
    let app = h
        .fake
        .get("argoproj.io/v1alpha1", "applications", "argocd", "shop")
        .expect("the application");

    assert_eq!(
        polr["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "sluice"
    );
    assert_eq!(
        polr["metadata"]["ownerReferences"],
        json!([{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "name": "shop",
                "uid": app["metadata"]["uid"]}]),
        "owned like the sluice report: no controller flag, no blockOwnerDeletion"
    );
    assert_eq!(
        polr["scope"],
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "name": "shop",
               "namespace": "argocd", "uid": app["metadata"]["uid"]})
    );

    // One result per finding the sluice report lists, in its order; under the default limits
    // critical and high findings break a limit (fail), the others only warn.
    let listed = sluice_report["status"]["findings"]
        .as_array()
        .expect("listed findings");
    let results = results(&polr);
    assert_eq!(results.len(), listed.len(), "{polr:#}");
    for (result, finding) in results.iter().zip(listed) {
        let severity = finding["severity"].as_str().expect("severity");
        let expected = if matches!(severity, "critical" | "high") {
            "fail"
        } else {
            "warn"
        };
        assert_eq!(result["policy"], finding["ruleId"], "{result:#}");
        assert_eq!(result["severity"], severity);
        assert_eq!(result["result"], expected, "{result:#}");
        assert_eq!(result["message"], finding["message"]);
        assert_eq!(result["source"], "sluice");
        assert_eq!(result["scored"], true);
        assert!(result["rule"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(result["category"].as_str().is_some_and(|c| !c.is_empty()));
        let properties = &result["properties"];
        assert_eq!(properties["file"], finding["path"]);
        assert_eq!(properties["line"], finding["line"].to_string());
        assert_eq!(properties["fingerprint"], finding["fingerprint"]);
        assert_eq!(properties["repository"], "octo/shop");
        assert_eq!(properties["commit"], commit.as_str());
        assert_eq!(properties["pack"], "github-actions");
        assert!(
            result["timestamp"]["seconds"]
                .as_i64()
                .is_some_and(|s| s > 0)
        );
    }
    let outcomes: Vec<&str> = results
        .iter()
        .filter_map(|r| r["result"].as_str())
        .collect();
    assert!(
        outcomes.contains(&"fail") && outcomes.contains(&"warn"),
        "the risky workflow has findings of both kinds: {outcomes:?}"
    );
    assert_eq!(polr["summary"], summary_of(results));

    // An unchanged pass (every watch re-lists) writes nothing, PolicyReport included.
    settled(&h.fake, Duration::from_millis(500)).await;
    h.fake.clear_log();
    relist_all(&h, &running, 1).await;
    assert!(
        h.fake.requests().iter().any(|r| r.path.contains(POLRS)),
        "the PolicyReport was read again"
    );
    assert_eq!(h.fake.writes().len(), 0, "{:?}", h.fake.writes());

    // The repository is fixed and the fix deployed: the PolicyReport follows.
    let fixed = h
        .github
        .add_repo("octo/shop", &[(".github/workflows/ci.yml", SAFE_WORKFLOW)]);
    deploy(&h, &fixed).await;
    let clean = policy_report(
        &h,
        "argocd",
        "sluice-application-shop",
        "after the fix",
        |r| r["results"][0]["result"] == "pass",
    )
    .await;
    let results = crate::results(&clean);
    assert_eq!(results.len(), 1, "{clean:#}");
    assert_eq!(results[0]["properties"]["commit"], fixed.as_str());
    assert_eq!(
        clean["summary"],
        json!({"pass": 1, "fail": 0, "warn": 0, "error": 0, "skip": 0})
    );
    assert_eq!(
        clean["metadata"]["uid"], polr["metadata"]["uid"],
        "updated in place, not re-created"
    );

    // After losing the write gate (leadership), a change is evaluated but not written.
    settled(&h.fake, Duration::from_millis(500)).await;
    running.handle.shared.writes.open(false);
    let scans = running.handle.shared.scanner.counts().scans;
    h.fake.clear_log();
    let risky_again = h.github.add_repo(
        "octo/shop",
        &[(".github/workflows/release.yml", RISKY_WORKFLOW)],
    );
    deploy(&h, &risky_again).await;
    let shared = running.handle.shared.clone();
    eventually("the new commit to be scanned", || {
        (shared.scanner.counts().scans > scans).then_some(())
    })
    .await;
    settled(&h.fake, Duration::from_millis(500)).await;
    assert_eq!(policy_report_writes(&h), Vec::<String>::new());
    running.stop().await;
}

/// Points Application argocd/shop at `commit` (as Argo CD does after a sync).
async fn deploy(h: &Harness, commit: &str) {
    applications(&h.fake.client(), "argocd")
        .patch(
            "shop",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&json!({"status": {"sync": {"revision": commit}}})),
        )
        .await
        .expect("application patched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scan_is_an_error_and_an_unscannable_source_a_skip() {
    let h = harness(true);
    for (name, url) in [
        ("gone", "https://github.com/octo/gone"),
        ("elsewhere", "https://gitlab.com/octo/shop"),
    ] {
        h.fake
            .insert(application("argocd", name, url, None))
            .expect("application");
    }
    let running = h.start(config(true)).await;
    for (name, outcome, reason) in [
        ("gone", "error", "RepositoryNotFound"),
        ("elsewhere", "skip", "UnsupportedHost"),
    ] {
        let sluice_report = h.report("argocd", &format!("application-{name}")).await;
        assert_eq!(sluice_report["status"]["state"], "Unknown");
        assert_eq!(sluice_report["status"]["reason"], reason);
        let polr = policy_report(
            &h,
            "argocd",
            &format!("sluice-application-{name}"),
            &format!("with a {outcome} result"),
            |r| r["results"][0]["result"] == outcome,
        )
        .await;
        let results = results(&polr);
        assert_eq!(results.len(), 1, "{polr:#}");
        assert_eq!(results[0]["policy"], "sluice-scan");
        assert_eq!(results[0]["rule"], reason);
        assert_eq!(results[0]["properties"]["reason"], reason);
        let condition = sluice_report["status"]["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .find(|c| c["type"] == "Scanned")
            .expect("a Scanned condition");
        assert_eq!(results[0]["message"], condition["message"]);
        assert_eq!(polr["summary"], summary_of(results));
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_crd_the_sluice_reports_still_work_and_nothing_is_retried() {
    let h = harness(false);
    h.deployed_shop();
    let other = h.risky_repo("octo/other");
    h.fake
        .insert(application(
            "argocd",
            "other",
            "https://github.com/octo/other",
            Some(&other),
        ))
        .expect("application");
    let running = h.start(config(true)).await;
    for name in ["application-shop", "application-other"] {
        let report = h.report("argocd", name).await;
        assert_eq!(report["status"]["state"], "Critical", "{report:#}");
    }
    // Another pass over both subjects.
    settled(&h.fake, Duration::from_millis(500)).await;
    relist_all(&h, &running, 2).await;
    let requests = h.fake.requests();
    let discovery: Vec<_> = requests
        .iter()
        .filter(|r| r.path == format!("/apis/{POLR_API}"))
        .collect();
    assert_eq!(
        discovery.len(),
        1,
        "asked once for four reconciles: {discovery:?}"
    );
    assert_eq!(discovery[0].status, 404);
    let tried: Vec<_> = requests.iter().filter(|r| r.path.contains(POLRS)).collect();
    assert!(tried.is_empty(), "{tried:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_no_policy_report_is_written() {
    let h = harness(true);
    h.deployed_shop();
    let running = h.start(config(false)).await;
    h.report("argocd", "application-shop").await;
    settled(&h.fake, Duration::from_millis(500)).await;
    let touched: Vec<_> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("wgpolicyk8s.io"))
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
    running.stop().await;
}
