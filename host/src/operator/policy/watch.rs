//! Caches of the policies and of the namespaces (their labels, for `namespaceSelector`), and
//! the signal that makes every subject controller re-evaluate when any of them changes.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store, store::Writer};
use kube::runtime::watcher::{self, Event};
use tokio::sync::broadcast;

use crate::api::{ClusterPipelineSecurityPolicy, PipelineSecurityPolicy};
use crate::operator::context::Owned;
use crate::operator::kinds::WatchedKind;

use super::select::{SelectedPolicy, SubjectLabels, selecting};

/// How long a reconcile waits for the policy caches' first list before evaluating without
/// them (a missing policy CRD must not stall the operator; the first list re-triggers).
const FIRST_LIST_PATIENCE: Duration = Duration::from_secs(5);

struct Stores {
    namespaced: Vec<Store<PipelineSecurityPolicy>>,
    cluster: Store<ClusterPipelineSecurityPolicy>,
    namespaces: Store<Namespace>,
}

/// The policy caches, filled while this replica leads.
pub struct PolicyStores {
    stores: RwLock<Option<Stores>>,
    changes: broadcast::Sender<()>,
    /// Set once waiting for a first list timed out, so later reconciles do not wait again.
    patience_spent: Arc<AtomicBool>,
}

impl Default for PolicyStores {
    fn default() -> Self {
        PolicyStores {
            stores: RwLock::new(None),
            changes: broadcast::channel(16).0,
            patience_spent: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl std::fmt::Debug for PolicyStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStores").finish_non_exhaustive()
    }
}

impl PolicyStores {
    /// Starts the reflectors (namespaced policies in every watched namespace, cluster
    /// policies, namespaces); they stop when the returned tasks are dropped.
    pub fn start(&self, client: &kube::Client, namespaces: &[String]) -> Vec<Owned> {
        let mut tasks = Vec::new();
        let mut namespaced = Vec::new();
        let scopes: Vec<Option<&String>> = if namespaces.is_empty() {
            vec![None]
        } else {
            namespaces.iter().map(Some).collect()
        };
        for scope in scopes {
            let api: Api<PipelineSecurityPolicy> = match scope {
                Some(ns) => Api::namespaced(client.clone(), ns),
                None => Api::all(client.clone()),
            };
            let (store, task) = self.reflect(api, namespaced_spec);
            namespaced.push(store);
            tasks.push(task);
        }
        let (cluster, task) = self.reflect(
            Api::<ClusterPipelineSecurityPolicy>::all(client.clone()),
            cluster_spec,
        );
        tasks.push(task);
        let (namespaces, task) = self.reflect(Api::<Namespace>::all(client.clone()), labels);
        tasks.push(task);
        *self.stores.write().expect("policy stores lock") = Some(Stores {
            namespaced,
            cluster,
            namespaces,
        });
        tasks
    }

    /// Forgets the caches (leadership lost).
    pub fn stop(&self) {
        *self.stores.write().expect("policy stores lock") = None;
    }

    /// A reflector whose changes are signalled only when `relevant` (what selection reads)
    /// changed: a policy's status written by the operator itself must not re-evaluate
    /// every subject.
    fn reflect<K>(&self, api: Api<K>, relevant: fn(&K) -> String) -> (Store<K>, Owned)
    where
        K: kube::Resource<DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug
            + Send
            + Sync
            + 'static,
    {
        let writer = Writer::<K>::default();
        let store = writer.as_reader();
        let changes = self.changes.clone();
        let patience_spent = Arc::clone(&self.patience_spent);
        let events = reflector::reflector(
            writer,
            watcher::watcher(api, watcher::Config::default()).default_backoff(),
        );
        let task = tokio::spawn(async move {
            let mut seen: HashMap<ObjectRef<K>, String> = HashMap::new();
            let mut listing: HashMap<ObjectRef<K>, String> = HashMap::new();
            let mut listed_before = false;
            let mut events = std::pin::pin!(events);
            while let Some(event) = events.next().await {
                let changed = match event {
                    Ok(Event::Init) => {
                        listing.clear();
                        false
                    }
                    Ok(Event::InitApply(object)) => {
                        listing.insert(ObjectRef::from_obj(&object), relevant(&object));
                        false
                    }
                    // A re-list signals only when it differs from what was seen. The first list
                    // needs no signal: reconciles wait for it, unless they stopped waiting.
                    Ok(Event::InitDone) => {
                        let differs = listing != seen;
                        seen = std::mem::take(&mut listing);
                        let first = !std::mem::replace(&mut listed_before, true);
                        if first {
                            patience_spent.load(Ordering::Relaxed)
                        } else {
                            differs
                        }
                    }
                    Ok(Event::Apply(object)) => {
                        let now = relevant(&object);
                        seen.insert(ObjectRef::from_obj(&object), now.clone()) != Some(now)
                    }
                    Ok(Event::Delete(object)) => {
                        seen.remove(&ObjectRef::from_obj(&object));
                        true
                    }
                    Err(e) => {
                        tracing::debug!("watching {}: {e}", K::kind(&()));
                        false
                    }
                };
                if changed {
                    // No receiver (no subject controller yet) is fine.
                    let _ = changes.send(());
                }
            }
        });
        (store, Owned(task))
    }

    /// One item per change of a policy or namespace (a lagging receiver gets one item for
    /// what it missed): feed to `Controller::reconcile_all_on`.
    pub fn changes(&self) -> impl Stream<Item = ()> + Send + 'static {
        futures::stream::unfold(self.changes.subscribe(), |mut rx| async move {
            match rx.recv().await {
                Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => Some(((), rx)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
    }

    /// Waits (once, briefly) for the first lists, so a subject is not first evaluated without
    /// the policies that select it.
    pub async fn wait_ready(&self) {
        if self.patience_spent.load(Ordering::Relaxed) {
            return;
        }
        let stores: Vec<_> = {
            let guard = self.stores.read().expect("policy stores lock");
            let Some(stores) = guard.as_ref() else {
                return;
            };
            let mut waits: Vec<futures::future::BoxFuture<'static, ()>> = Vec::new();
            for store in &stores.namespaced {
                let store = store.clone();
                waits.push(Box::pin(async move {
                    let _ = store.wait_until_ready().await;
                }));
            }
            let cluster = stores.cluster.clone();
            waits.push(Box::pin(async move {
                let _ = cluster.wait_until_ready().await;
            }));
            let namespaces = stores.namespaces.clone();
            waits.push(Box::pin(async move {
                let _ = namespaces.wait_until_ready().await;
            }));
            waits
        };
        let all = futures::future::join_all(stores);
        if tokio::time::timeout(FIRST_LIST_PATIENCE, all)
            .await
            .is_err()
        {
            tracing::warn!("the policy caches did not sync; evaluating with what is cached");
            self.patience_spent.store(true, Ordering::Relaxed);
        }
    }

    /// Every cached policy, namespaced and cluster; `None` while not watching.
    #[allow(clippy::type_complexity)]
    pub fn policies(
        &self,
    ) -> Option<(
        Vec<Arc<PipelineSecurityPolicy>>,
        Vec<Arc<ClusterPipelineSecurityPolicy>>,
    )> {
        let guard = self.stores.read().expect("policy stores lock");
        let stores = guard.as_ref()?;
        Some((
            stores.namespaced.iter().flat_map(Store::state).collect(),
            stores.cluster.state(),
        ))
    }

    /// The policies selecting a subject of `kind` in `namespace` with `labels`.
    pub fn select(
        &self,
        kind: WatchedKind,
        namespace: &str,
        labels: BTreeMap<String, String>,
    ) -> Vec<SelectedPolicy> {
        let guard = self.stores.read().expect("policy stores lock");
        let Some(stores) = guard.as_ref() else {
            return Vec::new();
        };
        let namespaced: Vec<PipelineSecurityPolicy> = stores
            .namespaced
            .iter()
            .flat_map(Store::state)
            .map(|p| (*p).clone())
            .collect();
        let cluster: Vec<ClusterPipelineSecurityPolicy> = stores
            .cluster
            .state()
            .iter()
            .map(|p| (**p).clone())
            .collect();
        let namespace_labels = stores
            .namespaces
            .get(&ObjectRef::new(namespace))
            .map(|ns| ns.metadata.labels.clone().unwrap_or_default());
        let subject = SubjectLabels {
            namespace,
            labels,
            namespace_labels,
        };
        selecting(kind, &subject, &namespaced, &cluster)
    }
}

/// What evaluation reads of a policy: its spec (not its status, which the operator writes).
fn namespaced_spec(policy: &PipelineSecurityPolicy) -> String {
    format!("{:?}", policy.spec)
}

fn cluster_spec(policy: &ClusterPipelineSecurityPolicy) -> String {
    format!("{:?}", policy.spec)
}

/// What selection reads of a namespace: its labels.
fn labels(namespace: &Namespace) -> String {
    format!("{:?}", namespace.metadata.labels)
}
