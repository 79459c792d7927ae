//! A kube_runtime Controller on a CRD with a status subresource: reconciles, writes status (merge
//! patch on /status and server-side apply), publishes Events through the Recorder.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Widget, WidgetSpec, eventually, install_widget_crd};
use futures::StreamExt;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;
use sluice_kube_fake::FakeApiServer;

struct Ctx {
    client: kube::Client,
    recorder: Recorder,
}

#[derive(Debug, thiserror::Error)]
#[error("reconcile failed: {0}")]
struct ReconcileError(#[source] kube::Error);

async fn reconcile(w: Arc<Widget>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let api: Api<Widget> = Api::namespaced(ctx.client.clone(), &w.namespace().expect("namespaced"));
    let generation = w.metadata.generation.expect("server sets generation");
    if w.status.as_ref().and_then(|s| s.observed_generation) == Some(generation) {
        return Ok(Action::await_change());
    }
    let apply = json!({
        "apiVersion": "example.sluice.dev/v1",
        "kind": "Widget",
        "status": {"observedGeneration": generation},
    });
    api.patch_status(
        &w.name_any(),
        &PatchParams::apply("widget-controller").force(),
        &Patch::Apply(&apply),
    )
    .await
    .map_err(ReconcileError)?;
    let merge = json!({"status": {"message": format!("size {}", w.spec.size)}});
    api.patch_status(
        &w.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&merge),
    )
    .await
    .map_err(ReconcileError)?;
    let event = Event {
        type_: EventType::Normal,
        reason: "Reconciled".into(),
        note: Some(format!("generation {generation}")),
        action: "Reconcile".into(),
        secondary: None,
    };
    ctx.recorder
        .publish(&event, &w.object_ref(&()))
        .await
        .map_err(ReconcileError)?;
    Ok(Action::await_change())
}

fn error_policy(_: Arc<Widget>, _: &ReconcileError, _: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_millis(50))
}

#[tokio::test]
async fn controller_reconciles_and_writes_status_and_events() {
    let fake = FakeApiServer::new();
    install_widget_crd(&fake);
    let client = fake.client();
    let api: Api<Widget> = Api::namespaced(client.clone(), "default");
    api.create(
        &PostParams::default(),
        &Widget::new(
            "w1",
            WidgetSpec {
                size: 3,
                suspend: None,
            },
        ),
    )
    .await
    .expect("create");

    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "widget-controller".into(),
            instance: None,
        },
    );
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        recorder,
    });
    // A conflict on the first status write must be retried through the error policy.
    fake.fail_next(Some("PATCH"), "/widgets/w1/status", 409, "Conflict", 1);
    let controller = tokio::spawn(
        Controller::new(
            Api::<Widget>::all(client.clone()),
            watcher::Config::default(),
        )
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {}),
    );

    let w = eventually(|| {
        let api = api.clone();
        async move {
            let w = api.get("w1").await.ok()?;
            let s = w.status.clone()?;
            (s.observed_generation == Some(1) && s.message.is_some()).then_some(w)
        }
    })
    .await;
    assert_eq!(
        w.status.as_ref().and_then(|s| s.message.as_deref()),
        Some("size 3")
    );
    // Status writes do not bump generation, and main writes cannot touch status.
    assert_eq!(w.metadata.generation, Some(1));
    let sneaky = json!({"spec": {"size": 5}, "status": {"message": "from the main resource"}});
    let patched = api
        .patch("w1", &PatchParams::default(), &Patch::Merge(&sneaky))
        .await
        .expect("spec patch");
    assert_eq!(
        patched.status.and_then(|s| s.message).as_deref(),
        Some("size 3")
    );
    assert_eq!(patched.metadata.generation, Some(2));
    let w = eventually(|| {
        let api = api.clone();
        async move {
            let w = api.get("w1").await.ok()?;
            (w.status.as_ref()?.observed_generation == Some(2)).then_some(w)
        }
    })
    .await;
    assert_eq!(w.metadata.generation, Some(2));
    let w = eventually(|| {
        let api = api.clone();
        async move {
            let w = api.get("w1").await.ok()?;
            (w.status.as_ref()?.message.as_deref() == Some("size 5")).then_some(w)
        }
    })
    .await;
    assert_eq!(w.spec.size, 5);

    let events: Api<K8sEvent> = Api::namespaced(client.clone(), "default");
    // The Recorder folds repeats into one Event: the second reconcile patches its series.
    let list = eventually(|| {
        let events = events.clone();
        async move {
            let l = events.list(&ListParams::default()).await.ok()?;
            l.items
                .iter()
                .any(|e| e.series.as_ref().is_some_and(|s| s.count >= 2))
                .then_some(l)
        }
    })
    .await;
    assert!(!list.items.is_empty());
    for e in &list.items {
        assert_eq!(e.reason.as_deref(), Some("Reconciled"));
        assert_eq!(
            e.regarding.as_ref().and_then(|r| r.name.as_deref()),
            Some("w1")
        );
    }
    let status_writes = fake
        .writes()
        .into_iter()
        .filter(|r| r.path.ends_with("/widgets/w1/status"))
        .collect::<Vec<_>>();
    assert_eq!(
        status_writes.first().map(|r| r.status),
        Some(409),
        "the injected conflict was served first"
    );
    assert!(status_writes.iter().any(|r| r.content_type.as_deref()
        == Some("application/apply-patch+yaml")
        && r.query_param("fieldManager").as_deref() == Some("widget-controller")));
    controller.abort();
}

#[tokio::test]
async fn recorder_repeats_patch_the_event_series() {
    let fake = FakeApiServer::new();
    let client = fake.client();
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let cm = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "c"}})).expect("valid"),
        )
        .await
        .expect("create");
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "test".into(),
            instance: None,
        },
    );
    let event = Event {
        type_: EventType::Warning,
        reason: "Odd".into(),
        note: None,
        action: "Check".into(),
        secondary: None,
    };
    recorder
        .publish(&event, &cm.object_ref(&()))
        .await
        .expect("first publish creates");
    recorder
        .publish(&event, &cm.object_ref(&()))
        .await
        .expect("second publish patches");
    let writes = fake.writes();
    let methods: Vec<&str> = writes
        .iter()
        .filter(|r| r.path.contains("/events"))
        .map(|r| r.method.as_str())
        .collect();
    assert_eq!(methods, ["POST", "PATCH"]);
    let stored = fake.list("events.k8s.io/v1", "events", Some("default"));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].pointer("/series/count"), Some(&json!(2)));
}
