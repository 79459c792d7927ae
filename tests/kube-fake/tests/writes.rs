//! Write semantics through unmodified kube APIs: conflicts, patches, SSA, finalizers, GC.

mod common;

use common::{Widget, WidgetSpec, install_widget_crd};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use sluice_kube_fake::FakeApiServer;

fn api_code(e: kube::Error) -> (u16, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn cm(name: &str, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": data}))
        .expect("valid ConfigMap")
}

#[tokio::test]
async fn stale_replace_and_duplicate_create_conflict() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let first = api
        .create(&PostParams::default(), &cm("a", json!({"k": "1"})))
        .await
        .expect("create");
    let dup = api
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .expect_err("duplicate");
    assert_eq!(api_code(dup), (409, "AlreadyExists".into()));

    let mut fresh = first.clone();
    fresh.data = Some([("k".to_string(), "2".to_string())].into());
    let replaced = api
        .replace("a", &PostParams::default(), &fresh)
        .await
        .expect("replace with current RV");
    assert_ne!(replaced.resource_version(), first.resource_version());
    let stale = api
        .replace("a", &PostParams::default(), &first)
        .await
        .expect_err("stale");
    assert_eq!(api_code(stale), (409, "Conflict".into()));
    let missing = api
        .replace("nope", &PostParams::default(), &cm("nope", json!({})))
        .await
        .expect_err("missing");
    assert_eq!(api_code(missing).0, 404);
}

#[tokio::test]
async fn merge_patch_null_deletes_and_rv_in_patch_is_a_precondition() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let c = api
        .create(
            &PostParams::default(),
            &cm("a", json!({"keep": "1", "drop": "2"})),
        )
        .await
        .expect("create");
    let p = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"drop": null}})),
        )
        .await
        .expect("patch");
    assert_eq!(p.data, Some([("keep".to_string(), "1".to_string())].into()));
    let stale = json!({"metadata": {"resourceVersion": c.resource_version()}, "data": {"x": "y"}});
    let err = api
        .patch("a", &PatchParams::default(), &Patch::Merge(stale))
        .await
        .expect_err("stale RV");
    assert_eq!(api_code(err), (409, "Conflict".into()));
}

#[tokio::test]
async fn json_patch_test_failure_is_422_and_strategic_on_crd_is_415() {
    let fake = FakeApiServer::new();
    install_widget_crd(&fake);
    let api: Api<Widget> = Api::namespaced(fake.client(), "default");
    api.create(
        &PostParams::default(),
        &Widget::new(
            "w",
            WidgetSpec {
                size: 1,
                suspend: Some(false),
            },
        ),
    )
    .await
    .expect("create");
    let bad: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/size", "value": 2},
        {"op": "replace", "path": "/spec/size", "value": 3},
    ]))
    .expect("valid patch");
    let err = api
        .patch("w", &PatchParams::default(), &Patch::<()>::Json(bad))
        .await
        .expect_err("test op fails");
    assert_eq!(api_code(err).0, 422);
    let good: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/size", "value": 1},
        {"op": "remove", "path": "/spec/suspend"},
    ]))
    .expect("valid patch");
    let w = api
        .patch("w", &PatchParams::default(), &Patch::<()>::Json(good))
        .await
        .expect("test op passes");
    assert_eq!(w.spec.suspend, None);
    let err = api
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 9}})),
        )
        .await
        .expect_err("415");
    assert_eq!(api_code(err).0, 415);

    // Built-ins take strategic merge (as a plain merge).
    let deps: Api<Deployment> = Api::namespaced(fake.client(), "default");
    let d: Deployment = serde_json::from_value(
        json!({"metadata": {"name": "d"}, "spec": {"selector": {}, "template": {}}}),
    )
    .expect("valid");
    deps.create(&PostParams::default(), &d)
        .await
        .expect("create deployment");
    let d = deps
        .patch(
            "d",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"x": "1"}}})),
        )
        .await
        .expect("strategic");
    assert_eq!(d.labels().get("x").map(String::as_str), Some("1"));
    assert_eq!(
        d.metadata.generation,
        Some(1),
        "label changes do not bump generation"
    );
}

#[tokio::test]
async fn server_side_apply_creates_merges_and_detects_conflicts() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let body = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"owned": v}});
    let created = api
        .patch("a", &PatchParams::apply("one"), &Patch::Apply(body("1")))
        .await
        .expect("apply creates");
    assert_eq!(
        created
            .data
            .as_ref()
            .and_then(|d| d.get("owned"))
            .map(String::as_str),
        Some("1")
    );
    let err = api
        .patch("a", &PatchParams::apply("two"), &Patch::Apply(body("2")))
        .await
        .expect_err("conflict");
    assert_eq!(api_code(err), (409, "Conflict".into()));
    let forced = api
        .patch(
            "a",
            &PatchParams::apply("two").force(),
            &Patch::Apply(body("2")),
        )
        .await
        .expect("forced");
    assert_eq!(
        forced
            .data
            .as_ref()
            .and_then(|d| d.get("owned"))
            .map(String::as_str),
        Some("2")
    );
    // "one" applies a different field set: its old field is now "two"'s, so it stays.
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"mine": "x"}});
    let merged = api
        .patch("a", &PatchParams::apply("one"), &Patch::Apply(other))
        .await
        .expect("apply");
    assert_eq!(
        merged.data,
        Some(
            [
                ("owned".to_string(), "2".to_string()),
                ("mine".to_string(), "x".to_string())
            ]
            .into()
        )
    );
    let last = fake.requests().pop().expect("logged");
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
}

#[tokio::test]
async fn finalizers_delay_deletion_and_owner_references_cascade() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let owner = api
        .create(&PostParams::default(), &cm("owner", json!({})))
        .await
        .expect("owner");
    let child = |name: &str, finalizers: serde_json::Value| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name, "finalizers": finalizers, "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.uid().expect("uid")}
        ]}}))
        .expect("valid")
    };
    api.create(&PostParams::default(), &child("plain", json!([])))
        .await
        .expect("child");
    api.create(
        &PostParams::default(),
        &child("held", json!(["example.com/hold"])),
    )
    .await
    .expect("child");
    api.delete("owner", &DeleteParams::default())
        .await
        .expect("delete owner");
    assert!(api.get_opt("owner").await.expect("get").is_none());
    assert!(
        api.get_opt("plain").await.expect("get").is_none(),
        "dependent collected"
    );
    let held = api.get("held").await.expect("held is only marked");
    assert!(held.metadata.deletion_timestamp.is_some());
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("unblock");
    assert!(
        api.get_opt("held").await.expect("get").is_none(),
        "deleted once finalizers are gone"
    );
    let deleted_paths: Vec<String> = fake
        .writes()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        deleted_paths,
        ["/api/v1/namespaces/default/configmaps/owner"]
    );
}

#[tokio::test]
async fn generate_name_selectors_and_leases() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let template: ConfigMap = serde_json::from_value(
        json!({"metadata": {"generateName": "run-", "labels": {"tier": "web"}}}),
    )
    .expect("valid");
    let made = api
        .create(&PostParams::default(), &template)
        .await
        .expect("generateName");
    assert!(made.name_any().starts_with("run-") && made.name_any().len() > 4);
    api.create(&PostParams::default(), &cm("other", json!({})))
        .await
        .expect("create");
    let listed = api
        .list(&ListParams::default().labels("tier in (web,db)"))
        .await
        .expect("list");
    assert_eq!(
        listed
            .items
            .iter()
            .map(|c| c.name_any())
            .collect::<Vec<_>>(),
        [made.name_any()]
    );
    let by_field = api
        .list(&ListParams::default().fields("metadata.name=other"))
        .await
        .expect("list");
    assert_eq!(by_field.items.len(), 1);
    assert!(
        !by_field
            .metadata
            .resource_version
            .unwrap_or_default()
            .is_empty()
    );

    let leases: Api<Lease> = Api::namespaced(fake.client(), "default");
    let l: Lease = serde_json::from_value(
        json!({"metadata": {"name": "leader"}, "spec": {"holderIdentity": "a"}}),
    )
    .expect("valid");
    let l = leases
        .create(&PostParams::default(), &l)
        .await
        .expect("create lease");
    let mut taken = l.clone();
    taken.spec.as_mut().expect("spec").holder_identity = Some("b".into());
    leases
        .replace("leader", &PostParams::default(), &taken)
        .await
        .expect("take over");
    let err = leases
        .replace("leader", &PostParams::default(), &l)
        .await
        .expect_err("stale holder");
    assert_eq!(api_code(err).0, 409);
}

#[tokio::test]
async fn injected_faults_and_request_log() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    fake.fail_next(Some("GET"), "/configmaps", 404, "NotFound", 1);
    let err = api
        .list(&ListParams::default())
        .await
        .expect_err("injected");
    assert_eq!(api_code(err), (404, "NotFound".into()));
    api.list(&ListParams::default())
        .await
        .expect("fault used up");
    api.create(&PostParams::default(), &cm("a", json!({})))
        .await
        .expect("create");
    let log = fake.requests();
    let summary: Vec<(String, u16)> = log.iter().map(|r| (r.method.clone(), r.status)).collect();
    assert_eq!(
        summary,
        [
            ("GET".into(), 404),
            ("GET".into(), 200),
            ("POST".into(), 201)
        ]
    );
    assert!(log[2].body.contains("\"name\":\"a\""));
    assert_eq!(fake.writes().len(), 1);
    fake.clear_log();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn gc_keeps_dependents_with_other_owners_and_honours_orphan() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let a = api
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .expect("a");
    let b = api
        .create(&PostParams::default(), &cm("b", json!({})))
        .await
        .expect("b");
    let r = |o: &ConfigMap| json!({"apiVersion": "v1", "kind": "ConfigMap", "name": o.name_any(), "uid": o.uid().expect("uid")});
    let shared: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "shared", "ownerReferences": [r(&a), r(&b)]}}),
    )
    .expect("valid");
    api.create(&PostParams::default(), &shared)
        .await
        .expect("shared");
    api.delete("a", &DeleteParams::default())
        .await
        .expect("delete a");
    let left = api.get("shared").await.expect("still owned by b");
    assert_eq!(
        left.owner_references()
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    api.delete("b", &DeleteParams::orphan())
        .await
        .expect("orphan b");
    let orphaned = api.get("shared").await.expect("orphaned, not deleted");
    assert!(orphaned.owner_references().is_empty());

    let stale = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            resource_version: Some("1".into()),
            uid: None,
        }),
        ..DeleteParams::default()
    };
    let err = api
        .delete("shared", &stale)
        .await
        .expect_err("precondition");
    assert_eq!(api_code(err), (409, "Conflict".into()));
}

#[tokio::test]
async fn deleting_a_namespace_deletes_its_objects() {
    use k8s_openapi::api::core::v1::Namespace;
    let fake = FakeApiServer::new();
    let nss: Api<Namespace> = Api::all(fake.client());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "team"}})).expect("valid"),
    )
    .await
    .expect("namespace");
    let team: Api<ConfigMap> = Api::namespaced(fake.client(), "team");
    let default: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    team.create(&PostParams::default(), &cm("x", json!({})))
        .await
        .expect("in team");
    default
        .create(&PostParams::default(), &cm("y", json!({})))
        .await
        .expect("in default");
    nss.delete("team", &DeleteParams::default())
        .await
        .expect("delete namespace");
    assert!(team.get_opt("x").await.expect("get").is_none());
    assert!(default.get_opt("y").await.expect("get").is_some());
}

#[tokio::test]
async fn apply_conflicts_with_fields_set_by_ordinary_writes() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let pp = PostParams {
        field_manager: Some("creator".into()),
        ..PostParams::default()
    };
    api.create(&pp, &cm("a", json!({"k": "1"})))
        .await
        .expect("create");
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "2"}});
    let err = api
        .patch("a", &PatchParams::apply("operator"), &Patch::Apply(&body))
        .await
        .expect_err("k is creator's");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(s.message.contains("\"creator\""), "{}", s.message);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let same = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "1"}});
    api.patch("a", &PatchParams::apply("operator"), &Patch::Apply(&same))
        .await
        .expect("same value is no conflict");
}

#[tokio::test]
async fn held_requests_let_others_go_first() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let gate = fake.hold_next(Some("GET"), "/configmaps?", 1);
    let slow_api = api.clone();
    let slow = tokio::spawn(async move { slow_api.list(&ListParams::default()).await });
    common::eventually(|| {
        let fake = fake.clone();
        async move { (fake.pending_faults() == 0).then_some(()) }
    })
    .await;
    api.create(&PostParams::default(), &cm("a", json!({})))
        .await
        .expect("create while the list waits");
    gate.release();
    let listed = slow.await.expect("task").expect("list");
    assert_eq!(
        listed.items.len(),
        1,
        "the held list is served after the create"
    );
    let order: Vec<String> = fake.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(order, ["POST", "GET"]);

    // A delayed request is still served normally.
    fake.delay_next(
        None,
        "/configmaps/a",
        std::time::Duration::from_millis(10),
        1,
    );
    assert_eq!(
        api.get("a")
            .await
            .expect("served after the delay")
            .name_any(),
        "a"
    );
    assert_eq!(fake.pending_faults(), 0);
}
