//! Each policy's `status`: how many subjects it selects (`matchedSubjects`) and the
//! generation that was read (`observedGeneration`), written only when they change.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::api::PolicyStatus;
use crate::operator::context::Shared;
use crate::operator::kinds::WatchedKind;

use super::{CLUSTER_KIND, NAMESPACED_KIND};

/// How often the counts are refreshed without a policy change (subjects come and go without
/// a signal here).
const REFRESH: Duration = Duration::from_secs(10);

type PolicyKey = (&'static str, Option<String>, String);

/// Refreshes the counts after every policy change and every [`REFRESH`], until aborted.
pub async fn publish_matched_loop(shared: Arc<Shared>) {
    let mut changes = Box::pin(shared.policies.changes());
    loop {
        tokio::select! {
            _ = changes.next() => {}
            () = tokio::time::sleep(REFRESH) => {}
        }
        publish_matched(&shared).await;
    }
}

/// Counts, for every cached policy, the cached subjects it selects, and writes the status of
/// the policies whose count or generation changed.
pub async fn publish_matched(shared: &Shared) {
    if !shared.writes.is_open() {
        return;
    }
    let Some((namespaced, cluster)) = shared.policies.policies() else {
        return;
    };
    let mut counts: HashMap<PolicyKey, u32> = HashMap::new();
    for kind in WatchedKind::SUBJECTS {
        for object in shared.objects(kind) {
            let namespace = object.namespace().unwrap_or_default();
            for policy in shared
                .policies
                .select(kind, &namespace, object.labels().clone())
            {
                *counts
                    .entry((policy.kind, policy.namespace, policy.name))
                    .or_default() += 1;
            }
        }
    }
    for policy in namespaced {
        let namespace = policy.namespace().unwrap_or_default();
        let key = (NAMESPACED_KIND, Some(namespace.clone()), policy.name_any());
        let api = Api::namespaced(shared.client.clone(), &namespace);
        write_if_changed(
            shared,
            api,
            &*policy,
            policy.status.as_ref(),
            counts.get(&key),
        )
        .await;
    }
    for policy in cluster {
        let key = (CLUSTER_KIND, None, policy.name_any());
        let api = Api::all(shared.client.clone());
        write_if_changed(
            shared,
            api,
            &*policy,
            policy.status.as_ref(),
            counts.get(&key),
        )
        .await;
    }
}

async fn write_if_changed<K>(
    shared: &Shared,
    api: Api<K>,
    policy: &K,
    status: Option<&PolicyStatus>,
    matched: Option<&u32>,
) where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let generation = policy.meta().generation;
    let matched = matched.copied().unwrap_or(0);
    if status.is_some_and(|s| s.observed_generation == generation && s.matched_subjects == matched)
    {
        return;
    }
    if !shared.writes.is_open() {
        return;
    }
    let patch = json!({"status": {"observedGeneration": generation, "matchedSubjects": matched}});
    let name = policy.name_any();
    if let Err(e) = api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        tracing::warn!(policy = %name, "cannot write the policy status: {e}");
    }
}
