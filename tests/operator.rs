//! The operator's scenarios: the real controllers, in-process, against the fake Kubernetes
//! API server (with the real upstream CRDs) and the fake GitHub API.

#[path = "support/fake_github.rs"]
#[allow(dead_code)]
mod fake_github;
#[path = "support/operator.rs"]
mod operator;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use operator::*;

fn str_at<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn condition<'v>(report: &'v Value, type_: &str) -> &'v Value {
    report
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
        .unwrap_or_else(|| panic!("no {type_} condition in {report:#}"))
}

/// Writes the operator sent to sluice's own reports (status or object).
fn report_writes(h: &Harness) -> Vec<String> {
    h.fake
        .writes()
        .into_iter()
        .filter(|r| r.path.contains(REPORTS))
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_cluster_gets_full_reports_and_a_second_pass_writes_nothing() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    let flux_commit = h.github.add_repo(
        "octo/platform",
        &[(".github/workflows/ci.yml", SAFE_WORKFLOW)],
    );
    for ns in ["argocd", "flux-system"] {
        h.fake.insert(namespace(ns)).expect("namespace");
    }
    h.fake
        .insert(application(
            "argocd",
            "shop",
            "https://github.com/octo/shop.git",
            Some(&commit),
        ))
        .expect("application");
    h.fake
        .insert(git_repository(
            "flux-system",
            "platform",
            "ssh://git@github.com/octo/platform",
            Some(&flux_commit),
        ))
        .expect("git repository");
    h.fake
        .insert(kustomization(
            "flux-system",
            "apps",
            "platform",
            &[
                "prod_api_apps_Deployment",
                "prod_api__Service",
                "prod_nightly_batch_CronJob",
            ],
        ))
        .expect("kustomization");

    let running = h.start(Harness::config("solo")).await;
    let app = h.report("argocd", "application-shop").await;
    let status = &app["status"];
    assert_eq!(status["source"]["repository"], "octo/shop", "{app:#}");
    assert_eq!(status["source"]["commit"], commit.as_str());
    assert_eq!(status["source"]["host"], "github.com");
    assert_eq!(status["state"], "Critical", "{app:#}");
    assert!(
        status["summary"]["total"].as_u64().unwrap_or(0) >= 2,
        "{app:#}"
    );
    let findings = status["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| str_at(f, "/ruleId").starts_with("FG-"))
    );
    assert!(
        findings
            .iter()
            .all(|f| !str_at(f, "/fingerprint").is_empty())
    );
    assert_eq!(status["findingsOmitted"], 0);
    assert_eq!(
        status["workloads"],
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web"}])
    );
    assert!(
        status["packs"].as_array().is_some_and(|p| p.len() == 6),
        "{app:#}"
    );
    assert_eq!(condition(&app, "Scanned")["status"], "True");
    assert_eq!(condition(&app, "ScanFailed")["status"], "False");
    let owner = &app["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Application");
    assert_eq!(owner["name"], "shop");
    assert!(!str_at(owner, "/uid").is_empty());

    let flux = h.report("flux-system", "gitrepository-platform").await;
    assert_eq!(flux["status"]["state"], "Compliant", "{flux:#}");
    assert_eq!(flux["status"]["source"]["repository"], "octo/platform");
    assert_eq!(flux["status"]["source"]["ref"], "main");
    assert_eq!(flux["status"]["source"]["commit"], flux_commit.as_str());
    assert_eq!(
        flux["status"]["workloads"],
        json!([
            {"apiVersion": "batch/v1", "kind": "CronJob", "namespace": "prod", "name": "nightly"},
            {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod", "name": "api"}
        ])
    );
    // Events on the subject: new findings (one Event) and the first state.
    let events = h.fake.list("events.k8s.io/v1", "events", Some("argocd"));
    let reasons: Vec<&str> = events.iter().map(|e| str_at(e, "/reason")).collect();
    assert!(reasons.contains(&"PipelineFindingDetected"), "{reasons:?}");
    assert!(reasons.contains(&"ComplianceStateChanged"), "{reasons:?}");
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == "PipelineFindingDetected")
            .count(),
        1
    );

    // Second pass: a compacted history makes every watch re-list (an in-stream 410), so every
    // subject is reconciled again. Nothing changed: no write, no new scan, no new Event.
    settled(&h.fake, Duration::from_millis(500)).await;
    let scans = running.handle.shared.scanner.counts().scans;
    let hits = running.handle.shared.scanner.counts().cache_hits;
    h.fake.clear_log();
    h.github.clear();
    h.fake.compact();
    h.fake.drop_watches();
    let fake = h.fake.clone();
    eventually("the watches to re-list", || {
        fake.requests()
            .iter()
            .filter(|r| r.path.contains("/applications") && !r.query.contains("watch=true"))
            .count()
            .checked_sub(1)
    })
    .await;
    let shared = running.handle.shared.clone();
    eventually("the re-listed subjects to be reconciled", || {
        (shared.scanner.counts().cache_hits >= hits + 2).then_some(())
    })
    .await;
    settled(&h.fake, Duration::from_millis(500)).await;
    assert_eq!(
        h.fake.writes().len(),
        0,
        "writes on an unchanged pass: {:?}",
        h.fake.writes()
    );
    assert_eq!(running.handle.shared.scanner.counts().scans, scans);
    assert!(
        h.github.seen().is_empty(),
        "GitHub requests on an unchanged pass: {:?}",
        h.github.seen()
    );
    running.stop().await;

    // A restarted operator (empty memory, same cache volume) also writes nothing, and asks
    // GitHub only conditional questions.
    h.fake.clear_log();
    let again = h.start(Harness::config("restarted")).await;
    let fake = h.fake.clone();
    eventually("the restarted operator to sync", || {
        again.ready().then_some(())
    })
    .await;
    let shared = again.handle.shared.clone();
    eventually("both subjects re-evaluated", || {
        (shared.scanner.counts().scans + shared.scanner.counts().cache_hits >= 2).then_some(())
    })
    .await;
    settled(&fake, Duration::from_millis(500)).await;
    assert!(
        report_writes(&h).is_empty(),
        "a restart rewrote reports: {:?}",
        report_writes(&h)
    );
    assert!(
        h.fake.writes().iter().all(|w| !w.path.contains("/events")),
        "a restart repeated events"
    );
    let unconditional: Vec<_> = h
        .github
        .seen()
        .into_iter()
        .filter(|s| s.if_none_match.is_none() || s.status != 304)
        .collect();
    assert!(unconditional.is_empty(), "{unconditional:?}");
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_in_ssh_and_scp_forms_name_the_same_github_repository() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    h.fake
        .insert(application(
            "argocd",
            "scp",
            "git@github.com:octo/shop.git",
            Some(&commit),
        ))
        .expect("application");
    h.fake
        .insert(git_repository(
            "flux-system",
            "ssh",
            "ssh://git@github.com:22/octo/shop.git",
            Some(&commit),
        ))
        .expect("git repository");
    let running = h.start(Harness::config("solo")).await;
    for (ns, name) in [
        ("argocd", "application-scp"),
        ("flux-system", "gitrepository-ssh"),
    ] {
        let report = h.report(ns, name).await;
        assert_eq!(
            report["status"]["source"]["repository"], "octo/shop",
            "{report:#}"
        );
        assert_eq!(report["status"]["state"], "Critical");
    }
    // One scan served both subjects.
    assert_eq!(running.handle.shared.scanner.counts().scans, 1);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gitlab_url_is_unknown_and_never_sent_to_github() {
    let h = Harness::new();
    h.risky_repo("octo/shop");
    h.fake
        .insert(application(
            "argocd",
            "elsewhere",
            "https://gitlab.com/octo/shop.git",
            None,
        ))
        .expect("application");
    let running = h.start(Harness::config("solo")).await;
    let report = h.report("argocd", "application-elsewhere").await;
    assert_eq!(report["status"]["state"], "Unknown", "{report:#}");
    assert_eq!(report["status"]["reason"], "UnsupportedHost");
    assert_eq!(condition(&report, "Scanned")["status"], "False");
    assert_eq!(condition(&report, "Scanned")["reason"], "UnsupportedHost");
    assert_eq!(report["status"]["source"]["host"], "gitlab.com");
    assert!(h.github.seen().is_empty(), "{:?}", h.github.seen());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_repository_is_unknown_with_scan_failed_and_is_retried() {
    let h = Harness::new();
    h.fake
        .insert(application(
            "argocd",
            "gone",
            "https://github.com/octo/gone",
            None,
        ))
        .expect("application");
    let running = h.start(Harness::config("solo")).await;
    let report = h.report("argocd", "application-gone").await;
    assert_eq!(report["status"]["state"], "Unknown", "{report:#}");
    assert_eq!(report["status"]["reason"], "RepositoryNotFound");
    let failed = condition(&report, "ScanFailed");
    assert_eq!(failed["status"], "True");
    assert!(str_at(failed, "/message").contains("not found"), "{failed}");
    // Retried with backoff (200 ms, doubling) rather than left for the interval (1 h).
    let github = &h.github;
    eventually("a retry of the failed scan", || {
        (github_requests_for(github, "octo/gone") >= 3).then_some(())
    })
    .await;
    // The repository appears: the next retry scans it.
    h.risky_repo("octo/gone");
    let fake = h.fake.clone();
    let scanned = eventually("the report to recover", || {
        fake.get(SLUICE_API, REPORTS, "argocd", "application-gone")
            .filter(|r| r["status"]["state"] == "Critical")
    })
    .await;
    assert_eq!(condition(&scanned, "ScanFailed")["status"], "False");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_revision_is_scanned_not_the_branch_head() {
    let h = Harness::new();
    let deployed = h.risky_repo("octo/shop");
    let head = h
        .github
        .add_repo("octo/shop", &[(".github/workflows/ci.yml", SAFE_WORKFLOW)]);
    assert_ne!(deployed, head);
    h.fake
        .insert(application(
            "argocd",
            "shop",
            "https://github.com/octo/shop",
            Some(&deployed),
        ))
        .expect("application");
    h.fake
        .insert(application(
            "argocd",
            "head",
            "https://github.com/octo/shop",
            None,
        ))
        .expect("application");
    let running = h.start(Harness::config("solo")).await;
    let report = h.report("argocd", "application-shop").await;
    assert_eq!(report["status"]["source"]["commit"], deployed.as_str());
    assert_eq!(report["status"]["state"], "Critical");
    let at_head = h.report("argocd", "application-head").await;
    assert_eq!(at_head["status"]["source"]["commit"], head.as_str());
    assert_eq!(at_head["status"]["state"], "Compliant", "{at_head:#}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_subject_deletes_its_report() {
    let h = Harness::new();
    h.deployed_shop();
    let running = h.start(Harness::config("solo")).await;
    h.report("argocd", "application-shop").await;
    let apps = applications(&h.fake.client(), "argocd");
    apps.delete("shop", &DeleteParams::default())
        .await
        .expect("delete");
    let fake = h.fake.clone();
    eventually("the report to be garbage-collected", || {
        fake.get(SLUICE_API, REPORTS, "argocd", "application-shop")
            .is_none()
            .then_some(())
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_installed_after_start_is_picked_up() {
    let h = Harness::bare();
    let commit = h.risky_repo("octo/shop");
    let running = h.start(Harness::config("solo")).await;
    eventually("readiness without any watched CRD", || {
        running.ready().then_some(())
    })
    .await;
    assert!(report_writes(&h).is_empty());
    h.install_upstream_crds();
    h.fake
        .insert(git_repository(
            "flux-system",
            "late",
            "https://github.com/octo/shop",
            Some(&commit),
        ))
        .expect("git repository");
    let report = h.report("flux-system", "gitrepository-late").await;
    assert_eq!(report["status"]["state"], "Critical");
    // Deleting the CRD stops that kind without errors; the others keep running.
    h.fake
        .delete_crd("gitrepositories.source.toolkit.fluxcd.io")
        .expect("delete CRD");
    h.fake
        .insert(application(
            "argocd",
            "still",
            "https://github.com/octo/shop",
            Some(&commit),
        ))
        .expect("application");
    h.report("argocd", "application-still").await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_that_cannot_run_makes_the_state_unknown_never_compliant() {
    let h = Harness::new();
    let commit = h
        .github
        .add_repo("octo/clean", &[(".github/workflows/ci.yml", SAFE_WORKFLOW)]);
    h.fake
        .insert(application(
            "argocd",
            "clean",
            "https://github.com/octo/clean",
            Some(&commit),
        ))
        .expect("application");
    let dir = tempfile::tempdir().expect("temporary directory");
    let broken = dir.path().join("broken.wasm");
    std::fs::write(&broken, b"not a component").expect("write the broken pack");
    let packs = registry_with(vec![
        sluice::pack::PackSource::from_file(&broken).expect("readable"),
    ]);
    let running = h.start_with(Harness::config("solo"), packs).await;
    let report = h.report("argocd", "application-clean").await;
    assert_eq!(report["status"]["state"], "Unknown", "{report:#}");
    assert_eq!(report["status"]["reason"], "PackError");
    let failed = condition(&report, "ScanFailed");
    assert_eq!(failed["status"], "True");
    assert!(
        str_at(failed, "/message").contains("broken.wasm"),
        "{failed}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_status_write_is_retried() {
    let h = Harness::new();
    h.deployed_shop();
    h.fake.fail_next(Some("PUT"), "/status", 409, "Conflict", 1);
    let running = h.start(Harness::config("solo")).await;
    let report = h.report("argocd", "application-shop").await;
    assert_eq!(report["status"]["state"], "Critical");
    let statuses: Vec<u16> = h
        .fake
        .writes()
        .iter()
        .filter(|w| w.path.ends_with("/status"))
        .map(|w| w.status)
        .collect();
    assert_eq!(statuses.first(), Some(&409), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tekton_pipelines_and_oci_sources_are_scanned() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/manifests");
    h.fake
        .insert(json!({
            "apiVersion": "tekton.dev/v1", "kind": "Pipeline",
            "metadata": {"name": "build", "namespace": "ci"},
            "spec": {
                "params": [{"name": "branch", "type": "string"}],
                "tasks": [{"name": "echo", "taskSpec": {"steps": [
                    {"name": "say", "image": "alpine", "script": "echo $(params.branch)\n"}
                ]}}]
            }
        }))
        .expect("pipeline");
    h.fake
        .insert(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
            "metadata": {"name": "manifests", "namespace": "flux-system"},
            "spec": {"interval": "5m", "url": "oci://ghcr.io/octo/manifests"},
            "status": {"artifact": {"revision": "latest@sha256:0123", "metadata": {
                "org.opencontainers.image.source": "https://github.com/octo/manifests",
                "org.opencontainers.image.revision": format!("main@sha1:{commit}")
            }}}
        }))
        .expect("oci repository");
    let running = h.start(Harness::config("solo")).await;
    let pipeline = h.report("ci", "pipeline-build").await;
    assert!(pipeline["status"].get("source").is_none(), "{pipeline:#}");
    let rules: Vec<&str> = pipeline["status"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| str_at(f, "/ruleId"))
        .collect();
    assert!(rules.iter().any(|r| r.starts_with("TK-")), "{pipeline:#}");
    assert_eq!(github_requests_for(&h.github, "octo/build"), 0);
    let oci = h.report("flux-system", "ocirepository-manifests").await;
    assert_eq!(
        oci["status"]["source"]["commit"],
        commit.as_str(),
        "{oci:#}"
    );
    assert_eq!(oci["status"]["state"], "Critical");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_elect_one_writer_and_the_standby_takes_over() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    h.fake
        .insert(namespace("sluice-system"))
        .expect("namespace");
    h.fake
        .insert(application(
            "argocd",
            "first",
            "https://github.com/octo/shop",
            Some(&commit),
        ))
        .expect("application");
    let mut a_config = Harness::config("replica-a");
    a_config.lease = Some(Harness::lease("replica-a"));
    let a = h.start(a_config).await;
    eventually("replica a to lead", || a.is_leading().then_some(())).await;
    let mut b_config = Harness::config("replica-b");
    b_config.lease = Some(Harness::lease("replica-b"));
    let b = h.start(b_config).await;
    h.report("argocd", "application-first").await;
    // Both run for a while: only one ever leads, and every Event names it.
    for _ in 0..20 {
        assert!(!(a.is_leading() && b.is_leading()), "two leaders");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(a.is_leading() && !b.is_leading());
    let instances: Vec<String> = h
        .fake
        .list("events.k8s.io/v1", "events", Some("argocd"))
        .iter()
        .map(|e| str_at(e, "/reportingInstance").to_owned())
        .collect();
    assert!(!instances.is_empty());
    assert!(instances.iter().all(|i| i == "replica-a"), "{instances:?}");
    let leases: Api<Lease> = Api::namespaced(h.fake.client(), "sluice-system");
    let lease = leases.get("sluice-operator").await.expect("lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("replica-a")
    );

    // The leader stops: the standby takes over and handles new subjects.
    a.stop().await;
    eventually("replica b to take over", || b.is_leading().then_some(())).await;
    h.fake
        .insert(application(
            "argocd",
            "second",
            "https://github.com/octo/shop",
            Some(&commit),
        ))
        .expect("application");
    h.report("argocd", "application-second").await;
    let lease = leases.get("sluice-operator").await.expect("lease");
    let spec = lease.spec.expect("spec");
    assert_eq!(spec.holder_identity.as_deref(), Some("replica-b"));
    assert!(spec.lease_transitions.unwrap_or_default() >= 1);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_probes_are_served() {
    let h = Harness::new();
    h.deployed_shop();
    let mut config = Harness::config("solo");
    config.metrics_addr = Some("127.0.0.1:0".parse().expect("address"));
    config.health_addr = Some("127.0.0.1:0".parse().expect("address"));
    let running = h.start(config).await;
    h.report("argocd", "application-shop").await;
    let metrics = running.handle.metrics_addr.expect("metrics bound");
    let health = running.handle.health_addr.expect("health bound");
    let text = http_get(metrics, "/metrics").await;
    for expected in [
        r#"sluice_compliance_state{kind="Application",namespace="argocd",name="shop",state="Critical"} 1"#,
        r#"sluice_subjects_discovered{kind="Application"} 1"#,
        "sluice_scans_total 1",
        "sluice_evaluation_duration_seconds_count",
        "sluice_github_api_requests_total{endpoint=",
        "sluice_github_rate_limit_remaining",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(http_get(health, "/healthz").await.contains("ok"));
    let ready = running.clone_ready();
    eventually("readiness", || ready().then_some(())).await;
    assert!(http_get(health, "/readyz").await.contains("ready"));
    running.stop().await;
}

/// A GET over a plain TCP connection (the probes speak HTTP/1.1).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    })
    .await
    .expect("request thread")
}

trait ReadyProbe {
    fn clone_ready(&self) -> Box<dyn Fn() -> bool + Send>;
}

impl ReadyProbe for Running {
    fn clone_ready(&self) -> Box<dyn Fn() -> bool + Send> {
        let sync = self.handle.sync.clone();
        Box::new(move || sync.lock().expect("sync").ready())
    }
}

/// The core scenarios against a real cluster (kind, k3d, …) when `SLUICE_E2E_KUBECONFIG`
/// names a kubeconfig whose cluster has the Argo CD Application CRD and sluice's CRDs
/// installed (`sluice crds | kubectl apply -f -`). GitHub is still the local fake. Runs in a
/// fresh namespace, deleted at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_cluster_scenarios() {
    let Some(kubeconfig) = std::env::var_os("SLUICE_E2E_KUBECONFIG") else {
        println!("skipped: SLUICE_E2E_KUBECONFIG is not set (see README, Operator: end-to-end)");
        return;
    };
    real_cluster_body(std::path::Path::new(&kubeconfig)).await;
}

/// The end-to-end body itself, run here against the fake served over loopback HTTP through a
/// kubeconfig, so the code a real cluster would run is exercised on every test run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_to_end_scenarios_pass_over_http_against_the_fake() {
    let fake = sluice_kube_fake::FakeApiServer::new();
    fake.load_crds_from_dir(&sluice_kube_fake::upstream_crds_dir().expect("upstream CRDs"))
        .expect("upstream CRDs load");
    fake.load_crds_from_dir(&repo_root().join("crds"))
        .expect("sluice CRDs load");
    let server = fake.serve_http().await.expect("serve over HTTP");
    let dir = tempfile::tempdir().expect("temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&server, &kubeconfig)
        .expect("kubeconfig");
    real_cluster_body(&kubeconfig).await;
}

async fn real_cluster_body(kubeconfig: &std::path::Path) {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::PostParams;
    let h = Harness::real_cluster(kubeconfig).await;
    let ns = format!("sluice-e2e-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(h.client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(namespace(&ns)).expect("namespace"),
        )
        .await
        .expect("create the test namespace");
    let apps = applications(&h.client, &ns);
    let commit = h.risky_repo("octo/shop");
    for app in [
        application(&ns, "shop", "git@github.com:octo/shop.git", Some(&commit)),
        application(&ns, "elsewhere", "https://gitlab.com/octo/shop", None),
    ] {
        apps.create(
            &PostParams::default(),
            &serde_json::from_value(app).expect("app"),
        )
        .await
        .expect("create an Application");
    }
    let mut config = Harness::config("e2e");
    config.settings.namespaces = vec![ns.clone()];
    let running = h.start(config).await;
    let reports: Api<DynamicObject> = Api::namespaced_with(
        h.client.clone(),
        &ns,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("sluice.dev", "v1alpha1", "PipelineSecurityReport"),
            REPORTS,
        ),
    );
    let mut shop = None;
    let mut elsewhere = None;
    for _ in 0..300 {
        shop = reports.get_opt("application-shop").await.expect("get");
        elsewhere = reports.get_opt("application-elsewhere").await.expect("get");
        let done = |r: &Option<DynamicObject>| {
            r.as_ref()
                .is_some_and(|r| r.data.pointer("/status/lastEvaluated").is_some())
        };
        if done(&shop) && done(&elsewhere) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shop = shop.expect("report for shop").data;
    assert_eq!(shop["status"]["state"], "Critical", "{shop:#}");
    assert_eq!(shop["status"]["source"]["commit"], commit.as_str());
    let elsewhere = elsewhere.expect("report for elsewhere").data;
    assert_eq!(
        elsewhere["status"]["reason"], "UnsupportedHost",
        "{elsewhere:#}"
    );
    apps.delete("shop", &DeleteParams::default())
        .await
        .expect("delete");
    let mut collected = false;
    for _ in 0..300 {
        if reports
            .get_opt("application-shop")
            .await
            .expect("get")
            .is_none()
        {
            collected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    running.stop().await;
    let _ = namespaces.delete(&ns, &DeleteParams::default()).await;
    assert!(
        collected,
        "the report was not garbage-collected with its Application"
    );
}

/// Not a test: a demo cluster for trying the operator by hand. Serves the fake API server
/// over HTTP with a kubeconfig at `$SLUICE_DEMO_DIR/kubeconfig` (default
/// `/tmp/sluice-demo`), seeds a few subjects, runs the operator, and keeps going for
/// `SLUICE_DEMO_SECONDS` (default 120) so `kubectl --kubeconfig … get psr -A` can look.
/// `cargo test --release --test operator -- --ignored --nocapture demo_cluster`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a manual demo, not a test"]
async fn demo_cluster() {
    let dir = std::path::PathBuf::from(
        std::env::var("SLUICE_DEMO_DIR").unwrap_or_else(|_| "/tmp/sluice-demo".to_owned()),
    );
    std::fs::create_dir_all(&dir).expect("demo directory");
    let h = Harness::new();
    let shop = h.risky_repo("octo/shop");
    let platform = h.github.add_repo(
        "octo/platform",
        &[(".github/workflows/ci.yml", SAFE_WORKFLOW)],
    );
    for ns in ["argocd", "flux-system", "ci"] {
        h.fake.insert(namespace(ns)).expect("namespace");
    }
    for value in [
        application(
            "argocd",
            "shop",
            "git@github.com:octo/shop.git",
            Some(&shop),
        ),
        application(
            "argocd",
            "legacy",
            "https://gitlab.com/octo/legacy.git",
            None,
        ),
        application("argocd", "gone", "https://github.com/octo/gone", None),
        git_repository(
            "flux-system",
            "platform",
            "ssh://git@github.com/octo/platform",
            Some(&platform),
        ),
        kustomization(
            "flux-system",
            "apps",
            "platform",
            &["prod_api_apps_Deployment"],
        ),
        json!({
            "apiVersion": "tekton.dev/v1", "kind": "Pipeline",
            "metadata": {"name": "build", "namespace": "ci"},
            "spec": {"params": [{"name": "branch"}], "tasks": [{"name": "echo", "taskSpec": {"steps": [
                {"name": "say", "image": "alpine:3", "script": "echo $(params.branch)\n"}]}}]}
        }),
    ] {
        h.fake.insert(value).expect("seed");
    }
    let server = h.fake.serve_http().await.expect("serve");
    h.fake
        .write_kubeconfig(&server, &dir.join("kubeconfig"))
        .expect("kubeconfig");
    // Enforcement on, with a policy that annotates and suspends Argo CD sync.
    h.fake
        .insert(policy(
            "argocd",
            "strict",
            json!({"thresholds": {"maxCritical": 0},
                   "enforcement": [{"action": "annotate", "trigger": "Warning"},
                                   {"action": "suspendSync", "trigger": "Critical"}]}),
        ))
        .expect("policy");
    let mut config = Harness::config("demo");
    config.settings.enforcement = sluice::operator::EnforcementMode::On;
    let running = h.start(config).await;
    println!("kubeconfig: {}", dir.join("kubeconfig").display());
    let seconds: u64 = std::env::var("SLUICE_DEMO_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    running.stop().await;
}

// ----- policies (issue 10, part 1: evaluation) -----

const POLICIES: &str = "pipelinesecuritypolicies";
const CLUSTER_POLICIES: &str = "clusterpipelinesecuritypolicies";

fn policy_resource(cluster: bool) -> ApiResource {
    let (kind, plural) = if cluster {
        ("ClusterPipelineSecurityPolicy", CLUSTER_POLICIES)
    } else {
        ("PipelineSecurityPolicy", POLICIES)
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("sluice.dev", "v1alpha1", kind),
        plural,
    )
}

fn policy_api(h: &Harness, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(h.fake.client(), ns, &policy_resource(false)),
        None => Api::all_with(h.fake.client(), &policy_resource(true)),
    }
}

fn policy(namespace: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": SLUICE_API, "kind": "PipelineSecurityPolicy",
           "metadata": {"name": name, "namespace": namespace}, "spec": spec})
}

fn cluster_policy(name: &str, spec: Value) -> Value {
    json!({"apiVersion": SLUICE_API, "kind": "ClusterPipelineSecurityPolicy",
           "metadata": {"name": name}, "spec": spec})
}

async fn patch_policy(h: &Harness, namespace: Option<&str>, name: &str, patch: Value) {
    policy_api(h, namespace)
        .patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .expect("policy patched");
}

async fn delete_policy(h: &Harness, namespace: Option<&str>, name: &str) {
    policy_api(h, namespace)
        .delete(name, &DeleteParams::default())
        .await
        .expect("policy deleted");
}

/// The report once it is in `state` (and, when given, has `policies` results).
async fn report_in(
    h: &Harness,
    namespace: &str,
    name: &str,
    state: &str,
    policies: usize,
) -> Value {
    let fake = h.fake.clone();
    eventually(
        &format!("{namespace}/{name} {state} with {policies} policy result(s)"),
        || {
            fake.get(SLUICE_API, REPORTS, namespace, name).filter(|r| {
                r.pointer("/status/state") == Some(&json!(state))
                    && r.pointer("/status/policies")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                        == policies
            })
        },
    )
    .await
}

fn policy_results(report: &Value) -> Vec<(String, String, String)> {
    report["status"]["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| {
            (
                str_at(p, "/kind").to_owned(),
                str_at(p, "/name").to_owned(),
                str_at(p, "/state").to_owned(),
            )
        })
        .collect()
}

/// The risky workflow has one critical (FG-001), one high (FG-002), one medium and one low
/// finding: Critical under the default limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_created_relaxed_combined_and_deleted_change_the_state() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    h.fake
        .insert(json!({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": "shop", "labels": {"audit": "on"}}}))
        .expect("namespace");
    let mut labelled = application("shop", "web", "https://github.com/octo/shop", Some(&commit));
    labelled["metadata"]["labels"] = json!({"team": "pay"});
    h.fake.insert(labelled).expect("application");
    h.fake
        .insert(application(
            "shop",
            "other",
            "https://github.com/octo/shop",
            Some(&commit),
        ))
        .expect("application");
    let running = h.start(Harness::config("solo")).await;
    report_in(&h, "shop", "application-web", "Critical", 0).await;
    report_in(&h, "shop", "application-other", "Critical", 0).await;

    // A policy created after the subjects: only the labelled one is selected.
    h.fake
        .insert(policy(
            "shop",
            "payments",
            json!({"selector": {"cicdKinds": ["Application"], "matchLabels": {"team": "pay"}},
                   "thresholds": {"maxCritical": 1, "maxHigh": 0}}),
        ))
        .expect("policy");
    let report = report_in(&h, "shop", "application-web", "NonCompliant", 1).await;
    assert_eq!(
        policy_results(&report),
        [(
            "PipelineSecurityPolicy".into(),
            "payments".into(),
            "NonCompliant".into()
        )]
    );
    let reasons = &report["status"]["policies"][0]["reasons"];
    assert_eq!(
        reasons,
        &json!(["1 high finding(s), more than maxHigh 0"]),
        "{report:#}"
    );
    assert_eq!(report["status"]["policies"][0]["namespace"], "shop");

    // Relaxed: maxHigh raised, the state improves.
    patch_policy(
        &h,
        Some("shop"),
        "payments",
        json!({"spec": {"thresholds": {"maxHigh": 3}}}),
    )
    .await;
    report_in(&h, "shop", "application-web", "Warning", 1).await;

    // A second, stricter cluster policy for namespaces labelled audit=on: the worst wins, and
    // both results are recorded, sorted.
    h.fake
        .insert(cluster_policy(
            "baseline",
            json!({"namespaceSelector": {"matchLabels": {"audit": "on"}},
                   "thresholds": {"maxCritical": 0}}),
        ))
        .expect("cluster policy");
    let report = report_in(&h, "shop", "application-web", "Critical", 2).await;
    assert_eq!(
        policy_results(&report),
        [
            (
                "ClusterPipelineSecurityPolicy".into(),
                "baseline".into(),
                "Critical".into()
            ),
            (
                "PipelineSecurityPolicy".into(),
                "payments".into(),
                "Warning".into()
            ),
        ]
    );
    assert!(report["status"]["policies"][0].get("namespace").is_none());
    // The unlabelled subject is selected by the cluster policy alone.
    let other = report_in(&h, "shop", "application-other", "Critical", 1).await;
    assert_eq!(policy_results(&other)[0].1, "baseline");

    // Each policy's status counts the subjects it selects, for the generation read.
    let fake = h.fake.clone();
    eventually("the policies' matchedSubjects", || {
        let payments = fake.get(SLUICE_API, POLICIES, "shop", "payments")?;
        let baseline = fake.get(SLUICE_API, CLUSTER_POLICIES, "", "baseline")?;
        (payments.pointer("/status/matchedSubjects") == Some(&json!(1))
            && payments.pointer("/status/observedGeneration")
                == Some(&payments["metadata"]["generation"])
            && baseline.pointer("/status/matchedSubjects") == Some(&json!(2)))
        .then_some(())
    })
    .await;

    // Deleting the policies: back to the one that is left, then to the default limits.
    delete_policy(&h, None, "baseline").await;
    report_in(&h, "shop", "application-web", "Warning", 1).await;
    report_in(&h, "shop", "application-other", "Critical", 0).await;
    delete_policy(&h, Some("shop"), "payments").await;
    report_in(&h, "shop", "application-web", "Critical", 0).await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_override_does_not_apply() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    h.fake.insert(namespace("shop")).expect("namespace");
    h.fake
        .insert(application(
            "shop",
            "web",
            "https://github.com/octo/shop",
            Some(&commit),
        ))
        .expect("application");
    h.fake
        .insert(policy(
            "shop",
            "exceptions",
            json!({"thresholds": {"maxCritical": 0, "maxHigh": 5},
            "ruleOverrides": [
                {"rule": "FG-001", "severity": "ignore", "reason": "accepted until fixed",
                 "expires": "2020-01-31"},
                {"rule": "FG-002", "severity": "ignore", "reason": "not ours",
                 "repositories": ["someone-else/*"]}
            ]}),
        ))
        .expect("policy");
    let running = h.start(Harness::config("solo")).await;
    let report = report_in(&h, "shop", "application-web", "Critical", 1).await;
    let reasons = report["status"]["policies"][0]["reasons"].to_string();
    assert!(
        reasons.contains("FG-001 expired on 2020-01-31"),
        "{reasons}"
    );
    assert!(reasons.contains("1 critical finding(s)"), "{reasons}");
    let fake = h.fake.clone();
    let expired = eventually("the RuleOverrideExpired event", || {
        let notes: Vec<String> = fake
            .list("events.k8s.io/v1", "events", Some("shop"))
            .into_iter()
            .filter(|e| e["reason"] == "RuleOverrideExpired")
            .map(|e| e["note"].as_str().unwrap_or_default().to_owned())
            .collect();
        (!notes.is_empty()).then_some(notes)
    })
    .await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert!(
        expired[0].contains("FG-001 expired on 2020-01-31"),
        "{expired:?}"
    );

    // The same override, not expired, applies: only the high finding (allowed) and below.
    patch_policy(
        &h,
        Some("shop"),
        "exceptions",
        json!({"spec": {"ruleOverrides": [
            {"rule": "FG-001", "severity": "ignore", "reason": "accepted until fixed",
             "expires": "2999-12-31"},
            {"rule": "FG-002", "severity": "critical", "reason": "ours",
             "repositories": ["octo/*"]}
        ]}}),
    )
    .await;
    // FG-001 ignored, FG-002 remapped to critical for octo/*: still Critical, for FG-002.
    // The state does not move, so wait for the reasons to.
    let fake = h.fake.clone();
    let reasons = eventually(
        "the critical reason to be FG-002's, nothing expired",
        || {
            fake.get(SLUICE_API, REPORTS, "shop", "application-web")
                .map(|r| r["status"]["policies"][0]["reasons"].clone())
                .filter(|r| !r.to_string().contains("expired"))
        },
    )
    .await;
    let report = report_in(&h, "shop", "application-web", "Critical", 1).await;
    assert_eq!(
        reasons,
        json!(["1 critical finding(s), more than maxCritical 0"]),
        "{report:#}"
    );
    // Remapped: the high finding now counts as critical, so the summary (raw findings) and
    // the policy's count differ on purpose.
    assert_eq!(report["status"]["summary"]["critical"], 1, "{report:#}");
    patch_policy(
        &h,
        Some("shop"),
        "exceptions",
        json!({"spec": {"ruleOverrides": [
            {"rule": "FG-001", "severity": "ignore", "reason": "accepted until fixed",
             "expires": "2999-12-31"}
        ]}}),
    )
    .await;
    report_in(&h, "shop", "application-web", "Warning", 1).await;
    running.stop().await;
}

/// `requirePinnedActions` counts the `unpinned-reference` tag of every platform's pack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_pinned_actions_holds_gitlab_and_circleci_subjects() {
    let h = Harness::new();
    let gitlab = h.github.add_repo(
        "octo/gitlab-app",
        &[(
            ".gitlab-ci.yml",
            "include:\n  - project: platform/ci-templates\n    ref: main\n    file: /build.yml\ntest:\n  script:\n    - make test\n",
        )],
    );
    let circle = h.github.add_repo(
        "octo/circle-app",
        &[(
            ".circleci/config.yml",
            "version: 2.1\norbs:\n  node: circleci/node@5\nworkflows:\n  build:\n    jobs:\n      - node/test\n",
        )],
    );
    h.fake.insert(namespace("ci")).expect("namespace");
    h.fake
        .insert(application(
            "ci",
            "gitlab",
            "https://github.com/octo/gitlab-app",
            Some(&gitlab),
        ))
        .expect("application");
    h.fake
        .insert(git_repository(
            "ci",
            "circle",
            "https://github.com/octo/circle-app",
            Some(&circle),
        ))
        .expect("git repository");
    let running = h.start(Harness::config("solo")).await;
    // One medium unpinned-reference finding each: a Warning under the default limits.
    let gl = report_in(&h, "ci", "application-gitlab", "Warning", 0).await;
    assert_eq!(gl["status"]["findings"][0]["ruleId"], "GL-003", "{gl:#}");
    let cc = report_in(&h, "ci", "gitrepository-circle", "Warning", 0).await;
    assert_eq!(cc["status"]["findings"][0]["ruleId"], "CC-003", "{cc:#}");

    h.fake
        .insert(policy(
            "ci",
            "pinned",
            json!({"thresholds": {"requirePinnedActions": true}}),
        ))
        .expect("policy");
    for name in ["application-gitlab", "gitrepository-circle"] {
        let report = report_in(&h, "ci", name, "NonCompliant", 1).await;
        assert_eq!(
            report["status"]["policies"][0]["reasons"],
            json!(["1 unpinned reference(s) while requirePinnedActions is set"]),
            "{report:#}"
        );
    }

    // An unchanged evaluation writes nothing: every watch re-lists (policies included, which
    // re-evaluates every subject) and no report, no Event is written.
    settled(&h.fake, Duration::from_millis(500)).await;
    h.fake.clear_log();
    relist_all(&h, &running, 2).await;
    assert_eq!(h.fake.writes().len(), 0, "{:?}", h.fake.writes());
    running.stop().await;
}

/// A report left behind by a deleted and re-created subject (garbage collection not done yet)
/// is deleted and made anew for the new subject, never taken over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_left_by_a_re_created_subject_is_replaced() {
    let h = Harness::new();
    h.fake
        .insert(
            json!({"apiVersion": SLUICE_API, "kind": "PipelineSecurityReport",
                       "metadata": {"name": "application-shop", "namespace": "argocd"},
                       "spec": {"subject": {"apiVersion": "argoproj.io/v1alpha1",
                                            "kind": "Application", "name": "shop",
                                            "uid": "the-deleted-one"}}}),
        )
        .expect("the stale report");
    h.deployed_shop();
    let uid = h
        .fake
        .get("argoproj.io/v1alpha1", "applications", "argocd", "shop")
        .expect("application")["metadata"]["uid"]
        .clone();
    let running = h.start(Harness::config("solo")).await;
    let fake = h.fake.clone();
    let report = eventually("the report of the new subject", || {
        fake.get(SLUICE_API, REPORTS, "argocd", "application-shop")
            .filter(|r| r["spec"]["subject"]["uid"] == uid && r["status"]["state"] == "Critical")
    })
    .await;
    assert_eq!(report["metadata"]["ownerReferences"][0]["uid"], uid);
    let deletes = h
        .fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == "DELETE"
                && r.path
                    .ends_with("/pipelinesecurityreports/application-shop")
        })
        .count();
    assert_eq!(deletes, 1);
    running.stop().await;
}
