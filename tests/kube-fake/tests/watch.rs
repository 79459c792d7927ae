//! kube's watcher against the fake: selectors, transitions, 410 re-list, CRDs coming and going.

mod common;

use common::{GUARD, Widget, WidgetSpec, install_widget_crd, next};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use sluice_kube_fake::FakeApiServer;

fn cm(name: &str, app: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": app}}}))
        .expect("valid ConfigMap")
}

fn name_of(ev: &Event<ConfigMap>) -> String {
    match ev {
        Event::Apply(o) | Event::Delete(o) | Event::InitApply(o) => o.name_any(),
        Event::Init => "<init>".into(),
        Event::InitDone => "<init-done>".into(),
    }
}

#[tokio::test]
async fn watcher_with_label_selector_sees_transitions() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    api.create(&PostParams::default(), &cm("a", "x"))
        .await
        .expect("create a");
    api.create(&PostParams::default(), &cm("b", "y"))
        .await
        .expect("create b");

    let mut w = watcher::watcher(api.clone(), watcher::Config::default().labels("app=x")).boxed();
    assert!(matches!(next(&mut w).await.expect("init"), Event::Init));
    assert_eq!(name_of(&next(&mut w).await.expect("init apply")), "a");
    assert!(matches!(
        next(&mut w).await.expect("init done"),
        Event::InitDone
    ));

    // b starts matching: ADDED on the wire, Apply for kube.
    let relabel = |app: &str| Patch::Merge(json!({"metadata": {"labels": {"app": app}}}));
    api.patch("b", &PatchParams::default(), &relabel("x"))
        .await
        .expect("relabel b");
    let ev = next(&mut w).await.expect("b applied");
    assert!(matches!(ev, Event::Apply(_)), "{ev:?}");
    assert_eq!(name_of(&ev), "b");

    // a stops matching: DELETED.
    api.patch("a", &PatchParams::default(), &relabel("z"))
        .await
        .expect("relabel a");
    let ev = next(&mut w).await.expect("a deleted");
    assert!(matches!(ev, Event::Delete(_)), "{ev:?}");
    assert_eq!(name_of(&ev), "a");

    // c never matches, so the next event is b's deletion.
    api.create(&PostParams::default(), &cm("c", "y"))
        .await
        .expect("create c");
    api.delete("b", &DeleteParams::default())
        .await
        .expect("delete b");
    let ev = next(&mut w).await.expect("b deleted");
    assert!(matches!(ev, Event::Delete(_)), "{ev:?}");
    assert_eq!(name_of(&ev), "b");
}

#[tokio::test]
async fn compaction_makes_the_watcher_relist() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    api.create(&PostParams::default(), &cm("a", "x"))
        .await
        .expect("create a");
    let mut w = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    for _ in 0..3 {
        next(&mut w).await.expect("initial list");
    }
    // An event proves the watch is open (the watcher only watches once polled past InitDone).
    api.create(&PostParams::default(), &cm("b", "x"))
        .await
        .expect("create b");
    assert_eq!(name_of(&next(&mut w).await.expect("b")), "b");
    fake.compact();
    fake.drop_watches();
    match next(&mut w).await {
        Err(watcher::Error::WatchError(s)) => assert_eq!(s.code, 410),
        other => panic!("expected an in-stream 410, got {other:?}"),
    }
    assert!(matches!(next(&mut w).await.expect("re-list"), Event::Init));
    assert_eq!(name_of(&next(&mut w).await.expect("re-list apply")), "a");
    assert_eq!(name_of(&next(&mut w).await.expect("re-list apply")), "b");
    assert!(matches!(
        next(&mut w).await.expect("re-list done"),
        Event::InitDone
    ));
    let watches = fake.requests().into_iter().filter(|r| r.is_watch()).count();
    assert!(
        watches >= 2,
        "the watcher should have watched again, saw {watches} watch requests"
    );
}

#[tokio::test]
async fn changes_between_list_and_watch_are_replayed_and_bookmarks_flow() {
    let fake = FakeApiServer::new();
    fake.set_bookmark_interval(std::time::Duration::from_millis(50));
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    api.create(&PostParams::default(), &cm("a", "x"))
        .await
        .expect("create a");
    let list_rv = fake.resource_version();
    api.create(&PostParams::default(), &cm("b", "x"))
        .await
        .expect("create b");
    let wp = kube::api::WatchParams::default().timeout(60);
    let mut s = api
        .watch(&wp, &list_rv.to_string())
        .await
        .expect("watch")
        .boxed();
    match next(&mut s).await.expect("replayed") {
        kube::core::WatchEvent::Added(o) => assert_eq!(o.name_any(), "b"),
        other => panic!("expected b ADDED from history, got {other:?}"),
    }
    match next(&mut s).await.expect("bookmark") {
        kube::core::WatchEvent::Bookmark(b) => {
            assert_eq!(
                b.metadata.resource_version,
                fake.resource_version().to_string()
            )
        }
        other => panic!("expected a BOOKMARK, got {other:?}"),
    }
}

#[tokio::test]
async fn crd_installed_after_the_watcher_started() {
    let fake = FakeApiServer::new();
    let api: Api<Widget> = Api::all(fake.client());
    let mut w = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    assert!(matches!(next(&mut w).await.expect("init"), Event::Init));
    match next(&mut w).await {
        Err(watcher::Error::InitialListFailed(kube::Error::Api(s))) => assert_eq!(s.code, 404),
        other => panic!("expected a 404 before the CRD exists, got {other:?}"),
    }
    install_widget_crd(&fake);
    let ns_api: Api<Widget> = Api::namespaced(fake.client(), "team");
    ns_api
        .create(
            &PostParams::default(),
            &Widget::new(
                "w1",
                WidgetSpec {
                    size: 1,
                    suspend: None,
                },
            ),
        )
        .await
        .expect("create widget");
    let seen = tokio::time::timeout(GUARD, async {
        loop {
            match next(&mut w).await {
                Ok(Event::InitApply(o)) | Ok(Event::Apply(o)) => return o,
                _ => continue,
            }
        }
    })
    .await
    .expect("the widget reached the watcher");
    assert_eq!(seen.name_any(), "w1");
    assert_eq!(seen.namespace().as_deref(), Some("team"));
}

#[tokio::test]
async fn deleting_the_crd_deletes_its_objects_and_ends_watches() {
    let fake = FakeApiServer::new();
    install_widget_crd(&fake);
    let api: Api<Widget> = Api::namespaced(fake.client(), "default");
    api.create(
        &PostParams::default(),
        &Widget::new("w1", WidgetSpec::default()),
    )
    .await
    .expect("create");
    let mut w = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    for _ in 0..3 {
        next(&mut w).await.expect("initial list");
    }
    api.create(
        &PostParams::default(),
        &Widget::new("w2", WidgetSpec::default()),
    )
    .await
    .expect("create");
    assert!(matches!(next(&mut w).await, Ok(Event::Apply(o)) if o.name_any() == "w2"));
    fake.delete_crd("widgets.example.sluice.dev")
        .expect("CRD deleted");
    let mut deleted = Vec::new();
    for _ in 0..2 {
        match next(&mut w).await {
            Ok(Event::Delete(o)) => deleted.push(o.name_any()),
            other => panic!("expected the widgets deleted, got {other:?}"),
        }
    }
    deleted.sort();
    assert_eq!(deleted, ["w1", "w2"]);
    // The stream ended, and watching again fails: the kind is gone.
    assert!(next(&mut w).await.is_err());
    let err = api.get("w1").await.expect_err("kind is gone");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404));
    assert!(!fake.serves("example.sluice.dev/v1", "widgets"));
}

#[tokio::test]
async fn streaming_lists_end_with_the_initial_events_bookmark() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    api.create(&PostParams::default(), &cm("a", "x"))
        .await
        .expect("create a");
    let mut w = watcher::watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    assert!(matches!(next(&mut w).await.expect("init"), Event::Init));
    assert_eq!(name_of(&next(&mut w).await.expect("init apply")), "a");
    assert!(matches!(
        next(&mut w).await.expect("init done"),
        Event::InitDone
    ));
    api.create(&PostParams::default(), &cm("b", "x"))
        .await
        .expect("create b");
    assert_eq!(name_of(&next(&mut w).await.expect("b")), "b");
    let watch = fake
        .requests()
        .into_iter()
        .find(|r| r.is_watch())
        .expect("a watch request");
    assert_eq!(
        watch.query_param("sendInitialEvents").as_deref(),
        Some("true")
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.method != "GET" || r.is_watch()),
        "no LIST with streaming lists"
    );
}

#[tokio::test]
async fn crds_are_watchable_so_late_kinds_can_be_picked_up() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let fake = FakeApiServer::new();
    let crds: Api<CustomResourceDefinition> = Api::all(fake.client());
    let mut w = watcher::watcher(crds, watcher::Config::default()).boxed();
    assert!(matches!(next(&mut w).await.expect("init"), Event::Init));
    assert!(matches!(
        next(&mut w).await.expect("init done"),
        Event::InitDone
    ));
    install_widget_crd(&fake);
    match next(&mut w).await.expect("crd") {
        Event::Apply(crd) => {
            assert_eq!(crd.name_any(), "widgets.example.sluice.dev");
            assert_eq!(crd.spec.names.kind, "Widget");
        }
        other => panic!("expected the CRD, got {other:?}"),
    }
    fake.delete_crd("widgets.example.sluice.dev")
        .expect("delete");
    assert!(matches!(
        next(&mut w).await.expect("crd gone"),
        Event::Delete(_)
    ));
}

#[tokio::test]
async fn watches_close_at_timeout_seconds_and_on_drop_watches() {
    let fake = FakeApiServer::new();
    // No bookmark may race the one-second timeout.
    fake.set_bookmark_interval(std::time::Duration::from_secs(3600));
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    let rv = fake.resource_version().to_string();
    let mut short = api
        .watch(
            &kube::api::WatchParams::default()
                .timeout(1)
                .disable_bookmarks(),
            &rv,
        )
        .await
        .expect("watch")
        .boxed();
    let ended = tokio::time::timeout(GUARD, short.next())
        .await
        .expect("closed by the server");
    assert!(
        ended.is_none(),
        "no events, then the end of the stream: {ended:?}"
    );
    let mut long = api
        .watch(&kube::api::WatchParams::default().disable_bookmarks(), &rv)
        .await
        .expect("watch")
        .boxed();
    fake.drop_watches();
    let ended = tokio::time::timeout(GUARD, long.next())
        .await
        .expect("closed by drop_watches");
    assert!(ended.is_none());
}

#[tokio::test]
async fn injected_watch_failure_is_retried_by_the_watcher() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), "default");
    fake.fail_next(None, "watch=true", 500, "InternalError", 1);
    let mut w = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    assert!(matches!(next(&mut w).await.expect("init"), Event::Init));
    assert!(matches!(
        next(&mut w).await.expect("init done"),
        Event::InitDone
    ));
    assert!(next(&mut w).await.is_err(), "the injected 500 surfaces");
    api.create(&PostParams::default(), &cm("a", "x"))
        .await
        .expect("create a");
    assert_eq!(name_of(&next(&mut w).await.expect("a")), "a");
    let lists = fake.requests().iter().filter(|r| !r.is_watch()).count();
    assert_eq!(
        lists, 2,
        "one LIST and the create: an HTTP error on watch does not re-list"
    );
}
