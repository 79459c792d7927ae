//! Enforcement scenarios (issue 10): every action applied and reversed through the real
//! controllers on the fake API server, with a fake alert receiver, and the faults a security
//! operator must survive without doing harm.

#[path = "support/fake_github.rs"]
#[allow(dead_code)]
mod fake_github;
#[path = "support/operator.rs"]
mod operator;
#[path = "support/webhook.rs"]
mod webhook;

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use sha2::Sha256;
use sluice::operator::clock::Clock;
use sluice::operator::{EnforcementMode, OperatorConfig};

use operator::*;
use webhook::Receiver;

const POLICIES: &str = "pipelinesecuritypolicies";
const ENFORCEMENT: &str = "sluice.dev/enforcement";
const ARGO: &str = "argoproj.io/v1alpha1";

fn enforcing(identity: &str, mode: EnforcementMode, clock: &Clock) -> OperatorConfig {
    let mut config = Harness::config(identity);
    config.settings.enforcement = mode;
    config.settings.operator_namespace = Some("sluice-system".to_owned());
    config.settings.clock = clock.clone();
    config
}

fn policy_api(h: &Harness, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "sluice.dev".into(),
        version: "v1alpha1".into(),
        api_version: SLUICE_API.into(),
        kind: "PipelineSecurityPolicy".into(),
        plural: POLICIES.into(),
    };
    Api::namespaced_with(h.client.clone(), namespace, &resource)
}

fn add_policy(h: &Harness, namespace: &str, name: &str, spec: Value) {
    h.fake
        .insert(
            json!({"apiVersion": SLUICE_API, "kind": "PipelineSecurityPolicy",
                       "metadata": {"name": name, "namespace": namespace}, "spec": spec}),
        )
        .expect("policy");
}

async fn patch_policy(h: &Harness, namespace: &str, name: &str, patch: Value) {
    policy_api(h, namespace)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("policy patched");
}

async fn delete_policy(h: &Harness, namespace: &str, name: &str) {
    policy_api(h, namespace)
        .delete(name, &DeleteParams::default())
        .await
        .expect("policy deleted");
}

/// A Secret in the operator's namespace with the receiver's URL and a signing key.
fn alert_secret(h: &Harness, receiver: &Receiver) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    h.fake
        .insert(json!({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "alerts", "namespace": "sluice-system"},
                       "data": {"url": b64(&receiver.url), "key": b64("s3cret")}}))
        .expect("secret");
}

fn webhook_target() -> Value {
    json!({"type": "webhook", "secretRef": {"name": "alerts", "key": "url"},
           "signingSecretRef": {"name": "alerts", "key": "key"}})
}

fn deployment(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
           "spec": {"selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
}

fn app(h: &Harness) -> Value {
    h.fake
        .get(ARGO, "applications", "argocd", "shop")
        .expect("the application exists")
}

fn annotation<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

fn record(object: &Value) -> Option<Value> {
    annotation(object, ENFORCEMENT).map(|r| serde_json::from_str(r).expect("a JSON record"))
}

fn entries(report: &Value) -> Vec<(String, String)> {
    report
        .pointer("/status/enforcement")
        .and_then(Value::as_array)
        .map(|e| {
            e.iter()
                .map(|r| {
                    (
                        r["action"].as_str().unwrap_or_default().to_owned(),
                        r["result"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn report_with(h: &Harness, namespace: &str, name: &str, want: &[(&str, &str)]) -> Value {
    let fake = h.fake.clone();
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, r)| ((*a).to_owned(), (*r).to_owned()))
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let report = fake.get(SLUICE_API, REPORTS, namespace, name);
        if let Some(report) = report.as_ref().filter(|r| entries(r) == want) {
            return report.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {namespace}/{name} enforcement {want:?}; last seen: {:#}",
            report.map(|r| r["status"].clone()).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

fn events(h: &Harness, namespace: &str, reason: &str) -> Vec<String> {
    h.fake
        .list("events.k8s.io/v1", "events", Some(namespace))
        .into_iter()
        .filter(|e| e["reason"] == reason)
        .map(|e| e["note"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// PATCH requests to any Application, by anyone.
fn application_patches(h: &Harness) -> usize {
    h.fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/applications/"))
        .count()
}

/// Report status writes with a `Failed` enforcement entry (their bodies).
fn failed_report_writes(h: &Harness) -> Vec<String> {
    h.fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/status") && r.path.contains(REPORTS))
        .filter(|r| r.body.contains(r#""result":"Failed""#))
        .map(|r| r.body.clone())
        .collect()
}

/// Serves the fake over HTTP; the directory holds a `kubeconfig` for it. Keep both alive.
async fn over_http(h: &Harness) -> (sluice_kube_fake::ServerHandle, tempfile::TempDir) {
    let server = h.fake.serve_http().await.expect("the fake serves HTTP");
    let dir = tempfile::tempdir().expect("temporary directory");
    h.fake
        .write_kubeconfig(&server, &dir.path().join("kubeconfig"))
        .expect("kubeconfig");
    (server, dir)
}

/// PATCH requests to the Application that changed its sync policy.
fn sync_patches(h: &Harness) -> usize {
    h.fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == "PATCH"
                && r.path.ends_with("/applications/shop")
                && r.status == 200
                && serde_json::from_str::<Value>(&r.body)
                    .is_ok_and(|b| b.pointer("/spec/syncPolicy").is_some())
        })
        .count()
}

/// One operator with its own clock.
async fn solo(h: &Harness, mode: EnforcementMode) -> Running {
    h.start(enforcing("solo", mode, &Clock::default())).await
}

/// Any critical finding makes the subject Critical.
fn strict() -> Value {
    json!({"maxCritical": 0})
}

fn suspend_at_critical() -> Value {
    json!({"thresholds": strict(), "enforcement": [{"action": "suspendSync", "trigger": "Critical"}]})
}

/// Every action on an Argo CD Application: applied at Critical, partly reversed when the
/// policy is relaxed to Warning, and everything undone when the policy is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_is_applied_and_reversed_exactly() {
    let h = Harness::new();
    h.deployed_shop();
    h.fake
        .insert(deployment("shop", "web"))
        .expect("deployment");
    let receiver = Receiver::start();
    alert_secret(&h, &receiver);
    let original = app(&h)["spec"]["syncPolicy"].clone();
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "annotate", "trigger": "Warning"},
            {"action": "suspendSync", "trigger": "Critical"},
            {"action": "labelWorkloads", "trigger": "NonCompliant"},
            {"action": "alert", "trigger": "Critical", "alertTarget": webhook_target()},
            {"action": "alert", "trigger": "NonCompliant",
             "alertTarget": {"type": "slack", "secretRef": {"name": "alerts", "key": "url"}}}]}),
    );
    let running = solo(&h, EnforcementMode::On).await;

    let report = report_with(
        &h,
        "argocd",
        "application-shop",
        &[
            ("alert", "Applied"),
            ("alert", "Applied"),
            ("annotate", "Applied"),
            ("labelWorkloads", "Applied"),
            ("suspendSync", "Applied"),
        ],
    )
    .await;
    let shop = app(&h);
    // The upstream v3.5.1 CRD has automated.enabled: sync is paused without losing the block.
    assert_eq!(
        shop["spec"]["syncPolicy"]["automated"],
        json!({"prune": true, "enabled": false})
    );
    assert_eq!(
        annotation(&shop, "sluice.dev/compliance-state"),
        Some("Critical")
    );
    assert_eq!(
        annotation(&shop, "sluice.dev/report"),
        Some("application-shop")
    );
    let recorded = record(&shop).expect("the record");
    let actions: Vec<&str> = recorded["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "annotate",
            "suspendSync",
            "labelWorkloads",
            "alert",
            "alert"
        ],
        "{recorded:#}"
    );
    let suspend = &recorded["entries"][1];
    assert_eq!(
        suspend["changes"],
        json!([{"path": "/spec/syncPolicy/automated/enabled", "applied": false}])
    );
    assert_eq!(suspend["policies"], json!(["argocd/strict"]));
    assert_eq!(
        recorded["entries"][2]["targets"],
        json!(["apps/v1/Deployment/shop/web"])
    );
    let web = h
        .fake
        .get("apps/v1", "deployments", "shop", "web")
        .expect("deployment");
    assert_eq!(
        web["metadata"]["labels"]["sluice.dev/pipeline-risk"],
        "Critical"
    );
    assert!(record(&web).is_some(), "the workload records its label");
    let targets = report["status"]["enforcement"][3]["targets"].clone();
    assert_eq!(targets, json!(["Deployment/shop/web"]));

    // One alert per receiver for the transition to Critical: a signed webhook and a Slack
    // message.
    let alerts = receiver.delivered();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let (signed, slack): (Vec<_>, Vec<_>) = alerts
        .iter()
        .partition(|a| a.headers.contains_key("x-sluice-signature-256"));
    assert_eq!((signed.len(), slack.len()), (1, 1));
    assert!(
        slack[0].json()["text"]
            .as_str()
            .expect("text")
            .contains("is Critical under policy argocd/strict")
    );
    let alert = signed[0];
    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").expect("key");
    mac.update(&alert.body);
    assert_eq!(
        alert.headers["x-sluice-signature-256"],
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let body = alert.json();
    assert_eq!(body["event"], "triggered");
    assert_eq!(body["state"], "Critical");
    assert_eq!(body["subject"]["name"], "shop");
    assert_eq!(body["policy"], "argocd/strict");
    assert_eq!(
        alert.headers["x-sluice-delivery"],
        body["deliveryId"].as_str().expect("id")
    );
    assert!(!events(&h, "argocd", "SyncSuspended").is_empty());

    // Relaxed to Warning: sync resumes exactly, the workload label goes, the annotation
    // follows the state, and the alert is resolved.
    patch_policy(
        &h,
        "argocd",
        "strict",
        json!({"spec": {"thresholds": {"maxCritical": 5, "maxHigh": 5, "maxMedium": 5}}}),
    )
    .await;
    report_with(&h, "argocd", "application-shop", &[("annotate", "Applied")]).await;
    let fake = h.fake.clone();
    eventually("the resolved alerts", || {
        (receiver.delivered().len() == 4).then_some(())
    })
    .await;
    for resolved in &receiver.delivered()[2..] {
        assert_eq!(resolved.headers["x-sluice-event"], "resolved");
    }
    let shop = app(&h);
    assert_eq!(shop["spec"]["syncPolicy"], original, "restored exactly");
    assert_eq!(
        annotation(&shop, "sluice.dev/compliance-state"),
        Some("Warning")
    );
    let web = fake
        .get("apps/v1", "deployments", "shop", "web")
        .expect("web");
    assert!(
        web["metadata"]["labels"]
            .get("sluice.dev/pipeline-risk")
            .is_none()
    );
    assert_eq!(web["metadata"]["labels"], json!({"app": "web"}));
    assert!(record(&web).is_none(), "the workload's record is gone");
    assert!(!events(&h, "argocd", "SyncResumed").is_empty());

    // Deleted: everything it did is undone, nothing of sluice is left on the objects.
    delete_policy(&h, "argocd", "strict").await;
    eventually("the annotations removed", || {
        let shop = fake.get(ARGO, "applications", "argocd", "shop")?;
        (annotation(&shop, "sluice.dev/compliance-state").is_none()
            && annotation(&shop, ENFORCEMENT).is_none())
        .then_some(())
    })
    .await;
    let shop = app(&h);
    assert_eq!(shop["spec"]["syncPolicy"], original);
    assert!(annotation(&shop, "sluice.dev/report").is_none());
    assert_eq!(receiver.delivered().len(), 4, "no alert without a policy");

    let metrics = running.handle.shared.metrics.encode();
    for line in [
        r#"sluice_enforcement_actions_total{action="suspendSync",result="applied"} 1"#,
        r#"sluice_enforcement_actions_total{action="suspendSync",result="reversed"} 1"#,
        r#"sluice_enforcement_actions_total{action="alert",result="applied"} 2"#,
        r#"sluice_enforcement_actions_total{action="alert",result="reversed"} 2"#,
        r#"sluice_enforcement_actions_total{action="labelWorkloads",result="reversed"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    running.stop().await;
}

/// An Application without automated sync is never given it: there is nothing to suspend,
/// and so nothing to "restore".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_without_automated_sync_is_never_given_it() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    let mut manual = application(
        "argocd",
        "shop",
        "https://github.com/octo/shop",
        Some(&commit),
    );
    manual["spec"]["syncPolicy"] = json!({"syncOptions": ["CreateNamespace=true"]});
    h.fake.insert(manual).expect("application");
    add_policy(&h, "argocd", "strict", suspend_at_critical());
    let running = solo(&h, EnforcementMode::On).await;
    let report = report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Skipped")],
    )
    .await;
    assert!(
        report["status"]["enforcement"][0]["message"]
            .as_str()
            .expect("message")
            .contains("automated sync is not enabled"),
        "{report:#}"
    );
    delete_policy(&h, "argocd", "strict").await;
    report_with(&h, "argocd", "application-shop", &[]).await;
    let shop = app(&h);
    assert_eq!(
        shop["spec"]["syncPolicy"],
        json!({"syncOptions": ["CreateNamespace=true"]})
    );
    assert!(record(&shop).is_none());
    assert_eq!(sync_patches(&h), 0);
    running.stop().await;
}

/// Flux: the source and the Kustomization applying it are suspended with their prior values
/// and restored exactly; the action fires on the subject's (worst) state, which here comes
/// from another policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_sources_and_appliers_are_suspended_by_the_worst_state_and_resumed() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/platform");
    h.fake
        .insert(git_repository(
            "flux-system",
            "platform",
            "https://github.com/octo/platform",
            Some(&commit),
        ))
        .expect("source");
    let mut applier = kustomization(
        "flux-system",
        "apps",
        "platform",
        &["shop_web_apps_Deployment"],
    );
    applier["spec"]["suspend"] = json!(false);
    h.fake.insert(applier).expect("kustomization");
    // Lenient on its own (Warning), but it suspends at Critical.
    add_policy(
        &h,
        "flux-system",
        "lenient",
        json!({"thresholds": {"maxCritical": 9, "maxHigh": 9, "maxMedium": 9},
               "enforcement": [{"action": "suspendSync", "trigger": "Critical"}]}),
    );
    add_policy(&h, "flux-system", "strict", json!({"thresholds": strict()}));
    let running = solo(&h, EnforcementMode::On).await;
    let report = report_with(
        &h,
        "flux-system",
        "gitrepository-platform",
        &[("suspendSync", "Applied")],
    )
    .await;
    assert_eq!(report["status"]["state"], "Critical");
    assert_eq!(
        report["status"]["enforcement"][0]["targets"],
        json!([
            "GitRepository/flux-system/platform",
            "Kustomization/flux-system/apps"
        ])
    );
    let source_api = "source.toolkit.fluxcd.io/v1";
    let source = h
        .fake
        .get(source_api, "gitrepositories", "flux-system", "platform")
        .expect("source");
    assert_eq!(source["spec"]["suspend"], true);
    let kustomization = h
        .fake
        .get(
            "kustomize.toolkit.fluxcd.io/v1",
            "kustomizations",
            "flux-system",
            "apps",
        )
        .expect("kustomization");
    assert_eq!(kustomization["spec"]["suspend"], true);
    assert_eq!(
        record(&kustomization).expect("record")["entries"][0]["changes"],
        json!([{"path": "/spec/suspend", "prior": false, "applied": true}])
    );

    // The strict policy goes: the state is Warning, both resume with their prior values.
    delete_policy(&h, "flux-system", "strict").await;
    report_with(&h, "flux-system", "gitrepository-platform", &[]).await;
    let fake = h.fake.clone();
    let kustomization = eventually("the kustomization resumed", || {
        fake.get(
            "kustomize.toolkit.fluxcd.io/v1",
            "kustomizations",
            "flux-system",
            "apps",
        )
        .filter(|k| k["spec"]["suspend"] == false && record(k).is_none())
    })
    .await;
    assert_eq!(kustomization["spec"]["suspend"], false);
    let source = eventually("the source resumed", || {
        fake.get(source_api, "gitrepositories", "flux-system", "platform")
            .filter(|s| record(s).is_none())
    })
    .await;
    assert!(source["spec"].get("suspend").is_none(), "{source:#}");
    running.stop().await;
}

/// A person re-enables sync while the trigger holds: sluice says so and leaves it; when the
/// trigger clears it does not overwrite the person's value either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_resumes_sync_is_not_overridden() {
    let h = Harness::new();
    h.deployed_shop();
    add_policy(&h, "argocd", "strict", suspend_at_critical());
    let running = solo(&h, EnforcementMode::On).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Applied")],
    )
    .await;
    applications(&h.client, "argocd")
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"syncPolicy": {"automated": {"enabled": true}}}})),
        )
        .await
        .expect("a person resumes sync");
    let report = report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Skipped")],
    )
    .await;
    assert!(
        report["status"]["enforcement"][0]["message"]
            .as_str()
            .expect("message")
            .contains("someone changed"),
        "{report:#}"
    );
    let fake = h.fake.clone();
    eventually("the EnforcementSkipped event", || {
        (!events(&h, "argocd", "EnforcementSkipped").is_empty()).then_some(())
    })
    .await;
    // Another pass (a label change triggers one) still leaves it.
    applications(&h.client, "argocd")
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})),
        )
        .await
        .expect("touched");
    settled(&h.fake, Duration::from_millis(500)).await;
    assert_eq!(app(&h)["spec"]["syncPolicy"]["automated"]["enabled"], true);
    delete_policy(&h, "argocd", "strict").await;
    eventually("the record dropped", || {
        fake.get(ARGO, "applications", "argocd", "shop")
            .filter(|a| record(a).is_none())
    })
    .await;
    assert_eq!(
        app(&h)["spec"]["syncPolicy"]["automated"],
        json!({"prune": true, "enabled": true})
    );
    assert_eq!(
        sync_patches(&h),
        2,
        "one suspension by sluice, one resume by the person"
    );
    running.stop().await;
}

/// `sluice.dev/enforcement: disabled` opts a subject out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opted_out_subject_is_left_alone() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    let mut opted = application(
        "argocd",
        "shop",
        "https://github.com/octo/shop",
        Some(&commit),
    );
    opted["metadata"]["annotations"] = json!({ENFORCEMENT: "disabled"});
    h.fake.insert(opted).expect("application");
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "suspendSync", "trigger": "Critical"},
            {"action": "annotate", "trigger": "Warning"}]}),
    );
    let running = solo(&h, EnforcementMode::On).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("annotate", "Skipped"), ("suspendSync", "Skipped")],
    )
    .await;
    eventually("the EnforcementSkipped events", || {
        (events(&h, "argocd", "EnforcementSkipped").len() == 2).then_some(())
    })
    .await;
    assert_eq!(application_patches(&h), 0);
    assert_eq!(annotation(&app(&h), ENFORCEMENT), Some("disabled"));
    running.stop().await;
}

/// Dry run: Events and report entries say what would be done; nothing is changed or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_reports_what_it_would_do_and_changes_nothing() {
    let h = Harness::new();
    h.deployed_shop();
    let receiver = Receiver::start();
    alert_secret(&h, &receiver);
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "suspendSync", "trigger": "Critical"},
            {"action": "alert", "trigger": "NonCompliant", "alertTarget": webhook_target()}]}),
    );
    let running = solo(&h, EnforcementMode::DryRun).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("alert", "DryRun"), ("suspendSync", "DryRun")],
    )
    .await;
    eventually("the dry-run events", || {
        (events(&h, "argocd", "EnforcementDryRun").len() == 2).then_some(())
    })
    .await;
    settled(&h.fake, Duration::from_millis(300)).await;
    assert_eq!(application_patches(&h), 0);
    assert!(receiver.received().is_empty());
    assert!(record(&app(&h)).is_none());
    running.stop().await;
}

/// A grace period: nothing happens until the trigger has held that long (counted from the
/// report's stateSince), then the action fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_waits_for_its_grace_period() {
    let h = Harness::new();
    h.deployed_shop();
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "suspendSync", "trigger": "Critical", "gracePeriod": "1h"}]}),
    );
    let clock = Clock::default();
    let running = h
        .start(enforcing("solo", EnforcementMode::On, &clock))
        .await;
    let report = report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Pending")],
    )
    .await;
    let since: k8s_openapi::jiff::Timestamp = report["status"]["stateSince"]
        .as_str()
        .expect("stateSince")
        .parse()
        .expect("a time stamp");
    let due: k8s_openapi::jiff::Timestamp = report["status"]["enforcement"][0]["due"]
        .as_str()
        .expect("due")
        .parse()
        .expect("a time stamp");
    assert_eq!(due.duration_since(since).as_secs(), 3600);
    assert_eq!(sync_patches(&h), 0);
    // 59 minutes later: still waiting.
    clock.advance(Duration::from_secs(59 * 60));
    touch(&h).await;
    settled(&h.fake, Duration::from_millis(400)).await;
    assert_eq!(sync_patches(&h), 0);
    // Past the hour: it fires.
    clock.advance(Duration::from_secs(61));
    touch(&h).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Applied")],
    )
    .await;
    assert_eq!(app(&h)["spec"]["syncPolicy"]["automated"]["enabled"], false);
    running.stop().await;
}

/// Waits until nothing but Lease renewals has been written for `quiet`.
async fn quiet_but_for_leases(h: &Harness, quiet: Duration) {
    let writes = || {
        h.fake
            .writes()
            .iter()
            .filter(|w| !w.path.contains("/leases/"))
            .count()
    };
    let mut last = writes();
    let mut since = tokio::time::Instant::now();
    let deadline = since + Duration::from_secs(30);
    while since.elapsed() < quiet {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = writes();
        if now != last {
            last = now;
            since = tokio::time::Instant::now();
        }
        assert!(tokio::time::Instant::now() < deadline, "never quiet");
    }
}

/// Triggers a reconcile of the Application (a label change).
async fn touch(h: &Harness) {
    let stamp = format!("{}", h.fake.resource_version());
    applications(&h.client, "argocd")
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"touched": stamp}}})),
        )
        .await
        .expect("touched");
}

/// A 409 on the enforcement patch: re-read, decide again, apply once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_patch_is_re_read_and_applied_once() {
    let h = Harness::new();
    h.deployed_shop();
    add_policy(&h, "argocd", "strict", suspend_at_critical());
    h.fake
        .fail_next(Some("PATCH"), "/applications/shop", 409, "Conflict", 1);
    let running = solo(&h, EnforcementMode::On).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Applied")],
    )
    .await;
    let patches: Vec<u16> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/applications/shop"))
        .map(|r| r.status)
        .collect();
    assert_eq!(patches, [409, 200]);
    let recorded = record(&app(&h)).expect("record");
    assert_eq!(recorded["entries"].as_array().expect("entries").len(), 1);
    running.stop().await;
}

/// API 5xx on the patch: the pass fails (the report says `Failed`, nothing is recorded as
/// done), is retried with backoff, and converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_nothing_is_recorded_until_done() {
    let h = Harness::new();
    h.deployed_shop();
    add_policy(&h, "argocd", "strict", suspend_at_critical());
    h.fake.fail_next(
        Some("PATCH"),
        "/applications/shop",
        503,
        "ServiceUnavailable",
        3,
    );
    let running = solo(&h, EnforcementMode::On).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Applied")],
    )
    .await;
    let requests = h.fake.requests();
    let statuses: Vec<u16> = requests
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/applications/shop"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 503, 200]);
    // The failed passes were reported as failed, never as applied.
    assert!(
        !failed_report_writes(&h).is_empty(),
        "a Failed entry was written"
    );
    assert_eq!(sync_patches(&h), 1);
    let metrics = running.handle.shared.metrics.encode();
    assert!(
        metrics
            .contains(r#"sluice_enforcement_actions_total{action="suspendSync",result="failed"}"#),
        "{metrics}"
    );
    running.stop().await;
}

/// A restart between suspending and writing the report, and between restoring and writing
/// the report: the next operator converges without suspending or restoring twice (the change
/// and its record are one patch, so there is no state in between).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_transition_converges() {
    let h = Harness::new();
    h.deployed_shop();
    let original = app(&h)["spec"]["syncPolicy"].clone();
    add_policy(&h, "argocd", "strict", suspend_at_critical());
    let clock = Clock::default();
    // The first status write after the report is created waits: the operator stops there.
    let held = h.fake.hold_next(Some("PUT"), "/status", 1);
    let first = h
        .start(enforcing("first", EnforcementMode::On, &clock))
        .await;
    let fake = h.fake.clone();
    eventually("suspended by the first operator", || {
        fake.get(ARGO, "applications", "argocd", "shop")
            .filter(|a| a["spec"]["syncPolicy"]["automated"]["enabled"] == false)
    })
    .await;
    first.stop().await;
    drop(held);
    let second = h
        .start(enforcing("second", EnforcementMode::On, &clock))
        .await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Applied")],
    )
    .await;
    settled(&h.fake, Duration::from_millis(300)).await;
    assert_eq!(sync_patches(&h), 1, "suspended once");

    // Now between restoring and the report write.
    let held = h.fake.hold_next(Some("PUT"), "/status", 1);
    delete_policy(&h, "argocd", "strict").await;
    eventually("restored by the second operator", || {
        fake.get(ARGO, "applications", "argocd", "shop")
            .filter(|a| record(a).is_none())
    })
    .await;
    second.stop().await;
    drop(held);
    let third = h
        .start(enforcing("third", EnforcementMode::On, &clock))
        .await;
    report_with(&h, "argocd", "application-shop", &[]).await;
    settled(&h.fake, Duration::from_millis(300)).await;
    assert_eq!(sync_patches(&h), 2, "restored once");
    assert_eq!(app(&h)["spec"]["syncPolicy"], original);
    third.stop().await;
}

/// Two replicas: the leader alerts and suspends; when it goes (in the middle of a pass: its
/// report write is held), the new leader finds both recorded and does neither again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_change_mid_transition_does_not_alert_twice() {
    let h = Harness::new();
    h.deployed_shop();
    let receiver = Receiver::start();
    alert_secret(&h, &receiver);
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "suspendSync", "trigger": "Critical"},
            {"action": "alert", "trigger": "Critical", "alertTarget": webhook_target()}]}),
    );
    let clock = Clock::default();
    let held = h
        .fake
        .hold_next(Some("PUT"), "/pipelinesecurityreports/", 1);
    let mut a = enforcing("replica-a", EnforcementMode::On, &clock);
    a.lease = Some(Harness::lease("replica-a"));
    let a = h.start(a).await;
    eventually("a leads", || a.is_leading().then_some(())).await;
    let mut b = enforcing("replica-b", EnforcementMode::On, &clock);
    b.lease = Some(Harness::lease("replica-b"));
    let b = h.start(b).await;
    eventually("the alert delivered", || {
        (receiver.delivered().len() == 1).then_some(())
    })
    .await;
    let fake = h.fake.clone();
    eventually("the delivery recorded", || {
        fake.get(ARGO, "applications", "argocd", "shop")
            .and_then(|a| record(&a))
            .filter(|r| {
                r["entries"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["delivered"].is_string()))
            })
    })
    .await;
    a.stop().await;
    drop(held);
    eventually("b leads", || b.is_leading().then_some(())).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("alert", "Applied"), ("suspendSync", "Applied")],
    )
    .await;
    quiet_but_for_leases(&h, Duration::from_millis(800)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "one alert across both leaders"
    );
    let patches: Vec<String> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/applications/shop"))
        .map(|r| format!("{} {}", r.status, r.body))
        .collect();
    assert_eq!(sync_patches(&h), 1, "{patches:#?}");
    b.stop().await;
}

/// The receiver is down: the alert is retried with backoff (the report says Failed), then
/// delivered exactly once when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_to_a_receiver_that_was_down_is_delivered_once() {
    let h = Harness::new();
    h.deployed_shop();
    let receiver = Receiver::start();
    receiver.set_down(true);
    alert_secret(&h, &receiver);
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "alert", "trigger": "Critical", "alertTarget": {"type": "slack", "secretRef": {"name": "alerts", "key": "url"}}}]}),
    );
    let running = solo(&h, EnforcementMode::On).await;
    let report = report_with(&h, "argocd", "application-shop", &[("alert", "Failed")]).await;
    let message = report["status"]["enforcement"][0]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("HTTP 503"), "{message}");
    assert!(
        !message.contains("secret-token"),
        "the URL is never shown: {message}"
    );
    eventually("a retry", || (receiver.received().len() >= 2).then_some(())).await;
    receiver.set_down(false);
    report_with(&h, "argocd", "application-shop", &[("alert", "Applied")]).await;
    settled(&h.fake, Duration::from_millis(500)).await;
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), 1);
    // Each refused attempt is counted once.
    let refused = receiver.received().len() - 1;
    let metrics = running.handle.shared.metrics.encode();
    let line =
        format!(r#"sluice_enforcement_actions_total{{action="alert",result="failed"}} {refused}"#);
    assert!(metrics.contains(&line), "{line} in\n{metrics}");
    assert_eq!(delivered[0].path, "/hooks/T000/B000/secret-token");
    let text = delivered[0].json()["text"]
        .as_str()
        .expect("slack text")
        .to_owned();
    assert!(
        text.contains("Application argocd/shop is Critical"),
        "{text}"
    );
    running.stop().await;
}

/// `restore-all` undoes every recorded change in the cluster (before an uninstall).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_all_undoes_every_recorded_change() {
    let h = Harness::new();
    h.deployed_shop();
    h.fake
        .insert(deployment("shop", "web"))
        .expect("deployment");
    let original = app(&h)["spec"]["syncPolicy"].clone();
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "suspendSync", "trigger": "Critical"},
            {"action": "annotate", "trigger": "Critical"},
            {"action": "labelWorkloads", "trigger": "Critical"}]}),
    );
    let running = solo(&h, EnforcementMode::On).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[
            ("annotate", "Applied"),
            ("labelWorkloads", "Applied"),
            ("suspendSync", "Applied"),
        ],
    )
    .await;
    // The operator is stopped first (a running one would enforce again), then the command an
    // admin runs before uninstalling, against the API over HTTP.
    running.stop().await;
    let (_server, dir) = over_http(&h).await;
    let kubeconfig = dir.path().join("kubeconfig");
    let restore_all = |extra: &'static [&'static str]| {
        let kubeconfig = kubeconfig.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
                .args(["operator", "restore-all", "--kubeconfig"])
                .arg(&kubeconfig)
                .args(extra)
                .output()
                .expect("sluice runs")
        })
    };
    let dry = restore_all(&["--dry-run"]).await.expect("joined");
    let stdout = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(
        dry.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        stdout
            .contains("would restore Application/argocd/shop: metadata.annotations.sluice.dev/compliance-state, metadata.annotations.sluice.dev/report, spec.syncPolicy.automated.enabled"),
        "{stdout}"
    );
    assert!(
        stdout.contains("would restore Deployment/shop/web"),
        "{stdout}"
    );
    assert!(record(&app(&h)).is_some(), "a dry run changes nothing");
    let done = restore_all(&[]).await.expect("joined");
    let stdout = String::from_utf8_lossy(&done.stdout).into_owned();
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("restored "))
            .count(),
        2,
        "{stdout}"
    );
    let shop = app(&h);
    assert_eq!(shop["spec"]["syncPolicy"], original);
    assert!(record(&shop).is_none());
    assert!(annotation(&shop, "sluice.dev/compliance-state").is_none());
    let web = h
        .fake
        .get("apps/v1", "deployments", "shop", "web")
        .expect("web");
    assert_eq!(web["metadata"]["labels"], json!({"app": "web"}));
    assert!(record(&web).is_none());
}

/// Every kind sluice may change, changed and restored: an OCIRepository and the HelmRelease
/// applying it (suspendSync), a Tekton Pipeline (annotate) and each workload kind
/// (labelWorkloads). The RBAC proof (`tests/rbac.rs`) needs each of them in the request log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_enforceable_kind_is_changed_and_restored() {
    let h = Harness::new();
    let commit = h.risky_repo("octo/shop");
    let workloads = [
        ("apps/v1", "deployments", "Deployment", "web"),
        ("apps/v1", "statefulsets", "StatefulSet", "db"),
        ("apps/v1", "daemonsets", "DaemonSet", "agent"),
        ("batch/v1", "jobs", "Job", "migrate"),
        ("batch/v1", "cronjobs", "CronJob", "backup"),
    ];
    let mut shop = application(
        "argocd",
        "shop",
        "https://github.com/octo/shop",
        Some(&commit),
    );
    shop["status"]["resources"] = workloads
        .iter()
        .map(|(api, _, kind, name)| {
            json!({"group": api.split('/').next(), "version": "v1", "kind": kind,
                   "namespace": "shop", "name": name})
        })
        .collect();
    h.fake
        .insert(shop)
        .expect("the application with its workloads");
    for (api, _, kind, name) in workloads {
        h.fake
            .insert(json!({"apiVersion": api, "kind": kind,
                           "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
                           "spec": {}}))
            .expect("workload");
    }
    h.fake
        .insert(json!({
            "apiVersion": "tekton.dev/v1", "kind": "Pipeline",
            "metadata": {"name": "build", "namespace": "ci"},
            "spec": {"params": [{"name": "branch", "type": "string"}],
                     "tasks": [{"name": "echo", "taskSpec": {"steps": [
                         {"name": "say", "image": "alpine", "script": "echo $(params.branch)\n"}]}}]}
        }))
        .expect("pipeline");
    h.fake
        .insert(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
            "metadata": {"name": "manifests", "namespace": "flux-system"},
            "spec": {"interval": "5m", "url": "oci://ghcr.io/octo/manifests"},
            "status": {"artifact": {"revision": "latest@sha256:0123", "metadata": {
                "org.opencontainers.image.source": "https://github.com/octo/shop",
                "org.opencontainers.image.revision": format!("main@sha1:{commit}")
            }}}
        }))
        .expect("oci repository");
    h.fake
        .insert(json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "app", "namespace": "flux-system"},
            "spec": {"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": "manifests"}}
        }))
        .expect("helm release");
    add_policy(
        &h,
        "argocd",
        "label",
        json!({"thresholds": strict(), "enforcement": [{"action": "labelWorkloads", "trigger": "Critical"}]}),
    );
    add_policy(&h, "flux-system", "suspend", suspend_at_critical());
    add_policy(
        &h,
        "ci",
        "annotate",
        json!({"enforcement": [{"action": "annotate", "trigger": "Warning"}]}),
    );
    let running = solo(&h, EnforcementMode::On).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("labelWorkloads", "Applied")],
    )
    .await;
    report_with(
        &h,
        "flux-system",
        "ocirepository-manifests",
        &[("suspendSync", "Applied")],
    )
    .await;
    report_with(&h, "ci", "pipeline-build", &[("annotate", "Applied")]).await;
    for (api, plural, _, name) in workloads {
        let workload = h.fake.get(api, plural, "shop", name).expect("workload");
        assert_eq!(
            workload["metadata"]["labels"]["sluice.dev/pipeline-risk"], "Critical",
            "{workload:#}"
        );
    }
    let release = h
        .fake
        .get(
            "helm.toolkit.fluxcd.io/v2",
            "helmreleases",
            "flux-system",
            "app",
        )
        .expect("helm release");
    assert_eq!(release["spec"]["suspend"], true);
    let pipeline = h
        .fake
        .get("tekton.dev/v1", "pipelines", "ci", "build")
        .expect("pipeline");
    assert!(annotation(&pipeline, "sluice.dev/compliance-state").is_some());

    for (namespace, name) in [
        ("argocd", "label"),
        ("flux-system", "suspend"),
        ("ci", "annotate"),
    ] {
        delete_policy(&h, namespace, name).await;
    }
    let fake = h.fake.clone();
    eventually("everything restored", || {
        let labels_gone = workloads.iter().all(|(api, plural, _, name)| {
            fake.get(api, plural, "shop", name).is_some_and(|w| {
                w["metadata"]["labels"] == json!({"app": name}) && record(&w).is_none()
            })
        });
        let release = fake.get(
            "helm.toolkit.fluxcd.io/v2",
            "helmreleases",
            "flux-system",
            "app",
        )?;
        let source = fake.get(
            "source.toolkit.fluxcd.io/v1",
            "ocirepositories",
            "flux-system",
            "manifests",
        )?;
        let pipeline = fake.get("tekton.dev/v1", "pipelines", "ci", "build")?;
        (labels_gone
            && release["spec"].get("suspend").is_none()
            && source["spec"].get("suspend").is_none()
            && record(&pipeline).is_none()
            && annotation(&pipeline, "sluice.dev/compliance-state").is_none())
        .then_some(())
    })
    .await;
    running.stop().await;
}

/// A scan that cannot run (`Unknown`) neither triggers nor reverses anything: the suspension in
/// effect stays, even when its policy is deleted meanwhile; once the scan works again, the
/// deleted policy's suspension is undone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_neither_triggers_nor_reverses() {
    let h = Harness::new();
    let commit = h.deployed_shop();
    add_policy(&h, "argocd", "strict", suspend_at_critical());
    let running = solo(&h, EnforcementMode::On).await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Applied")],
    )
    .await;

    // Argo CD now reports a deployed commit GitHub does not have: the scan fails.
    deploy(&h, "0000000000000000000000000000000000000bad").await;
    let fake = h.fake.clone();
    let unknown = eventually("the report Unknown", || {
        fake.get(SLUICE_API, REPORTS, "argocd", "application-shop")
            .filter(|r| r["status"]["state"] == "Unknown")
    })
    .await;
    assert_eq!(
        entries(&unknown),
        [("suspendSync".to_owned(), "Applied".to_owned())]
    );
    delete_policy(&h, "argocd", "strict").await;
    settled(&h.fake, Duration::from_millis(500)).await;
    let shop = app(&h);
    assert_eq!(
        shop["spec"]["syncPolicy"]["automated"]["enabled"], false,
        "still suspended"
    );
    assert!(record(&shop).is_some());
    assert_eq!(sync_patches(&h), 1);

    // The scan works again: no policy wants the suspension any more, so it is undone.
    deploy(&h, &commit).await;
    eventually("the suspension undone", || {
        fake.get(ARGO, "applications", "argocd", "shop")
            .filter(|a| {
                record(a).is_none()
                    && a["spec"]["syncPolicy"]["automated"] == json!({"prune": true})
            })
    })
    .await;
    running.stop().await;
}

/// `--enforcement off` (the default): policies' actions are not applied and not reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforcement_off_changes_and_reports_nothing() {
    let h = Harness::new();
    h.deployed_shop();
    let receiver = Receiver::start();
    alert_secret(&h, &receiver);
    add_policy(
        &h,
        "argocd",
        "strict",
        json!({"thresholds": strict(), "enforcement": [
            {"action": "suspendSync", "trigger": "Critical"},
            {"action": "annotate", "trigger": "Warning"},
            {"action": "alert", "trigger": "Critical", "alertTarget": webhook_target()}]}),
    );
    let running = solo(&h, EnforcementMode::Off).await;
    let fake = h.fake.clone();
    let report = eventually("the Critical report", || {
        fake.get(SLUICE_API, REPORTS, "argocd", "application-shop")
            .filter(|r| r["status"]["state"] == "Critical")
    })
    .await;
    settled(&h.fake, Duration::from_millis(300)).await;
    assert!(entries(&report).is_empty(), "{report:#}");
    assert_eq!(application_patches(&h), 0);
    assert!(receiver.received().is_empty());
    running.stop().await;
}

/// Points Application argocd/shop at `commit`, as Argo CD does after a sync.
async fn deploy(h: &Harness, commit: &str) {
    applications(&h.client, "argocd")
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"sync": {"revision": commit}}})),
        )
        .await
        .expect("application patched");
}

/// A patch that times out (the client gives up while the API server still holds it): the pass
/// is reported `Failed`, nothing is recorded as done, and the retry converges to exactly one
/// suspension — the late patch, if it lands, carries the resourceVersion it was decided on and
/// is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_patch_is_retried_and_applied_once() {
    let h = Harness::new();
    h.deployed_shop();
    add_policy(&h, "argocd", "strict", suspend_at_critical());
    // Bookmarks keep the watches busy, so only the held patch hits the read timeout.
    h.fake.set_bookmark_interval(Duration::from_millis(200));
    let (_server, dir) = over_http(&h).await;
    let kubeconfig =
        kube::config::Kubeconfig::read_from(dir.path().join("kubeconfig")).expect("kubeconfig");
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    config.read_timeout = Some(Duration::from_secs(1));
    let client = kube::Client::try_from(config).expect("client");
    h.fake.delay_next(
        Some("PATCH"),
        "/applications/shop",
        Duration::from_secs(3),
        1,
    );
    let running = h
        .start_on(
            client,
            enforcing("solo", EnforcementMode::On, &Clock::default()),
            registry(),
        )
        .await;
    report_with(
        &h,
        "argocd",
        "application-shop",
        &[("suspendSync", "Applied")],
    )
    .await;
    let failed = failed_report_writes(&h);
    assert!(!failed.is_empty(), "the timed-out pass was reported Failed");
    let message = failed[0]
        .split(r#""result":"Failed","message":""#)
        .nth(1)
        .and_then(|m| m.split('"').next())
        .expect("the entry's message");
    assert!(message.contains("timed out"), "{message}");
    // Wait past the held patch's release, then count what took effect.
    tokio::time::sleep(Duration::from_secs(3)).await;
    settled(&h.fake, Duration::from_millis(300)).await;
    assert_eq!(sync_patches(&h), 1, "exactly one suspension took effect");
    let recorded = record(&app(&h)).expect("record");
    assert_eq!(recorded["entries"].as_array().expect("entries").len(), 1);
    running.stop().await;
}
