//! Starts and stops the per-kind controllers as CRDs come and go: a kind whose CRD is not
//! installed is simply not watched (no error, no retry storm), and is picked up the moment
//! its CRD appears.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::watcher::{self, Event};
use kube::{ResourceExt, runtime::WatchStreamExt};

use crate::operator::context::{KindContext, Owned, Shared};
use crate::operator::kinds::WatchedKind;
use crate::operator::reconcile::{error_policy, reconcile};

/// Readiness: the CRD list is synced and every running kind's cache is.
#[derive(Debug, Default)]
pub struct Sync {
    crds_synced: bool,
    /// (kind, namespace) caches not synced yet.
    pending: HashSet<(WatchedKind, String)>,
}

impl Sync {
    pub fn ready(&self) -> bool {
        self.crds_synced && self.pending.is_empty()
    }
}

struct Running {
    version: String,
    /// Aborted when dropped: stopping a kind, or the manager itself, stops its controllers.
    _tasks: Vec<Owned>,
}

/// Watches CRDs until the task is aborted.
pub async fn manage_kinds(shared: Arc<Shared>, sync: Arc<Mutex<Sync>>) {
    let crds: Api<CustomResourceDefinition> = Api::all(shared.client.clone());
    let mut running: HashMap<WatchedKind, Running> = HashMap::new();
    let mut seen_in_init: HashSet<WatchedKind> = HashSet::new();
    let mut events = watcher(crds).boxed();
    // sluice's own CRDs are always installed; were they not, these watches retry with backoff
    // and subjects are evaluated with the default limits.
    let _policy_status = Owned(tokio::spawn(
        crate::operator::policy::matched::publish_matched_loop(Arc::clone(&shared)),
    ));
    let _policy_watches = shared
        .policies
        .start(&shared.client, &shared.settings.namespaces);
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Init) => seen_in_init.clear(),
            Ok(Event::InitApply(crd)) | Ok(Event::Apply(crd)) => {
                if let Some(kind) = WatchedKind::from_crd_name(&crd.name_any()) {
                    seen_in_init.insert(kind);
                    ensure_running(&shared, &sync, &mut running, kind, &crd);
                }
            }
            Ok(Event::InitDone) => {
                // Kinds whose CRD vanished while the watch was down.
                let gone: Vec<WatchedKind> = running
                    .keys()
                    .filter(|k| !seen_in_init.contains(k))
                    .copied()
                    .collect();
                for kind in gone {
                    stop(&shared, &sync, &mut running, kind);
                }
                sync.lock().expect("sync lock").crds_synced = true;
            }
            Ok(Event::Delete(crd)) => {
                if let Some(kind) = WatchedKind::from_crd_name(&crd.name_any()) {
                    tracing::info!(kind = kind.kind(), "CRD deleted; no longer watching");
                    stop(&shared, &sync, &mut running, kind);
                }
            }
            Err(e) => tracing::warn!("watching CRDs: {e}"),
        }
    }
}

fn watcher(
    crds: Api<CustomResourceDefinition>,
) -> impl futures::Stream<Item = Result<Event<CustomResourceDefinition>, watcher::Error>> {
    watcher::watcher(crds, watcher::Config::default()).default_backoff()
}

/// The version to read: the first of ours the CRD serves.
fn served_version(kind: WatchedKind, crd: &CustomResourceDefinition) -> Option<String> {
    let served: Vec<&str> = crd
        .spec
        .versions
        .iter()
        .filter(|v| v.served)
        .map(|v| v.name.as_str())
        .collect();
    kind.versions()
        .iter()
        .find(|v| served.contains(v))
        .map(|v| (*v).to_owned())
}

fn ensure_running(
    shared: &Arc<Shared>,
    sync: &Arc<Mutex<Sync>>,
    running: &mut HashMap<WatchedKind, Running>,
    kind: WatchedKind,
    crd: &CustomResourceDefinition,
) {
    let Some(version) = served_version(kind, crd) else {
        tracing::warn!(
            kind = kind.kind(),
            "the installed CRD serves none of the versions sluice reads ({}); not watched",
            kind.versions().join(", ")
        );
        stop(shared, sync, running, kind);
        return;
    };
    if running.get(&kind).is_some_and(|r| r.version == version) {
        return;
    }
    stop(shared, sync, running, kind);
    tracing::info!(kind = kind.kind(), version, "CRD installed; watching");
    let resource = kind.api_resource(&version);
    let namespaces: Vec<Option<String>> = if shared.settings.namespaces.is_empty() {
        vec![None]
    } else {
        shared
            .settings
            .namespaces
            .iter()
            .cloned()
            .map(Some)
            .collect()
    };
    let mut tasks = Vec::new();
    let mut stores = Vec::new();
    for namespace in namespaces {
        let api: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(shared.client.clone(), ns, &resource),
            None => Api::all_with(shared.client.clone(), &resource),
        };
        let key = (kind, namespace.clone().unwrap_or_default());
        sync.lock().expect("sync lock").pending.insert(key.clone());
        let writer = Writer::new(resource.clone());
        let store = writer.as_reader();
        let sync_flag = Arc::clone(sync);
        // Readiness comes from the watch events themselves: the kind is synced once its first
        // complete list has been applied to the cache.
        let events = reflector::reflector(
            writer,
            watcher::watcher(api, watcher::Config::default()).default_backoff(),
        )
        .inspect(move |event| {
            if matches!(event, Ok(Event::InitDone)) {
                sync_flag.lock().expect("sync lock").pending.remove(&key);
            }
        });
        if kind.is_subject() {
            let controller = Controller::for_stream_with(
                events.applied_objects(),
                store.clone(),
                resource.clone(),
            )
            .with_config(
                ControllerConfig::default().concurrency(shared.settings.reconcile_concurrency),
            )
            // Any policy or namespace change may change which policies select a subject.
            .reconcile_all_on(shared.policies.changes());
            let ctx = Arc::new(KindContext {
                kind,
                shared: Arc::clone(shared),
            });
            tasks.push(tokio::spawn(async move {
                controller
                    .run(reconcile, error_policy, ctx)
                    .for_each(|_| futures::future::ready(()))
                    .await;
            }));
        } else {
            tasks.push(tokio::spawn(async move {
                events.for_each(|_| futures::future::ready(())).await;
            }));
        }
        stores.push(store);
    }
    shared
        .stores
        .write()
        .expect("stores lock")
        .insert(kind, stores);
    running.insert(
        kind,
        Running {
            version,
            _tasks: tasks.into_iter().map(Owned).collect(),
        },
    );
}

fn stop(
    shared: &Arc<Shared>,
    sync: &Arc<Mutex<Sync>>,
    running: &mut HashMap<WatchedKind, Running>,
    kind: WatchedKind,
) {
    // Dropping the entry aborts the kind's tasks.
    running.remove(&kind);
    shared.stores.write().expect("stores lock").remove(&kind);
    sync.lock()
        .expect("sync lock")
        .pending
        .retain(|(k, _)| *k != kind);
    shared.forget_kind(kind);
}
