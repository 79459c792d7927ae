//! `sluice operator restore-all`: undo every recorded enforcement in the cluster — before an
//! uninstall, or to hand control back at once. Each object with a `sluice.dev/enforcement`
//! record gets back what sluice recorded (fields a person changed since are left as they
//! are) and loses the record, in one patch per object.

use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::json;

use crate::operator::correlate::workload_kinds;
use crate::operator::enforce::change::Restore;
use crate::operator::enforce::record::{ANNOTATION, Annotation, EnforcementRecord};
use crate::operator::kinds::WatchedKind;

/// What `restore-all` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    /// `Kind/namespace/name: field, field` restored.
    pub restored: Vec<String>,
    /// Fields left as a person changed them.
    pub left: Vec<String>,
    /// Objects that could not be restored (the command exits non-zero).
    pub errors: Vec<String>,
    /// Kinds not installed in the cluster (nothing to do there).
    pub absent_kinds: Vec<String>,
}

/// Every kind sluice may change: the watched kinds at each version they are served in, and
/// the workload kinds.
fn resources() -> Vec<ApiResource> {
    let mut resources = Vec::new();
    for kind in WatchedKind::ALL {
        for version in kind.versions() {
            resources.push(kind.api_resource(version));
        }
    }
    for (group, kind) in workload_kinds() {
        resources.push(ApiResource {
            group: (*group).to_owned(),
            version: "v1".to_owned(),
            api_version: format!("{group}/v1"),
            kind: (*kind).to_owned(),
            plural: format!("{}s", kind.to_ascii_lowercase()),
        });
    }
    resources
}

/// Restores every recorded change (`dry_run`: reports what it would restore, writes nothing).
pub async fn restore_all(client: &kube::Client, dry_run: bool) -> RestoreSummary {
    let mut summary = RestoreSummary::default();
    let mut done_kinds: Vec<String> = Vec::new();
    for resource in resources() {
        if done_kinds.contains(&resource.kind) {
            // The kind was listed at an earlier (preferred) version.
            continue;
        }
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let listed = match api.list_metadata(&ListParams::default()).await {
            Ok(list) => list,
            Err(kube::Error::Api(status)) if status.code == 404 => continue,
            Err(e) => {
                summary
                    .errors
                    .push(format!("cannot list {}: {e}", resource.plural));
                done_kinds.push(resource.kind.clone());
                continue;
            }
        };
        done_kinds.push(resource.kind.clone());
        for item in listed.items {
            let recorded = item
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(ANNOTATION))
                .is_some_and(|v| v.trim() != "disabled");
            if !recorded {
                continue;
            }
            let namespace = item.metadata.namespace.clone().unwrap_or_default();
            let name = item.metadata.name.clone().unwrap_or_default();
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), &namespace, &resource);
            let label = format!("{}/{namespace}/{name}", resource.kind);
            if let Err(e) = restore_object(&api, &name, &label, dry_run, &mut summary).await {
                summary.errors.push(format!("{label}: {e}"));
            }
        }
    }
    for kind in WatchedKind::ALL {
        if !done_kinds.iter().any(|k| k == kind.kind()) {
            summary.absent_kinds.push(kind.kind().to_owned());
        }
    }
    summary
}

async fn restore_object(
    api: &Api<DynamicObject>,
    name: &str,
    label: &str,
    dry_run: bool,
    summary: &mut RestoreSummary,
) -> Result<(), String> {
    for _ in 0..4 {
        let Some(live) = api.get_opt(name).await.map_err(|e| e.to_string())? else {
            return Ok(());
        };
        let object = serde_json::to_value(&live).expect("an object from the API serializes");
        let record = match EnforcementRecord::read(&object) {
            Ok(Annotation::Record(record)) => record,
            Ok(_) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        let mut patch = json!({
            "metadata": {
                "resourceVersion": live.metadata.resource_version,
                "annotations": {ANNOTATION: null},
            },
        });
        let mut restored = Vec::new();
        let mut left = Vec::new();
        for entry in &record.entries {
            for change in &entry.changes {
                match change.restore(&object) {
                    Restore::Patch(field) => {
                        super::target::merge(&mut patch, field);
                        restored.push(super::target::field_name(&change.path));
                    }
                    Restore::ChangedSince { .. } => {
                        left.push(super::target::field_name(&change.path));
                    }
                }
            }
        }
        if !dry_run {
            match api
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 409 => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        if !restored.is_empty() {
            summary
                .restored
                .push(format!("{label}: {}", restored.join(", ")));
        }
        if !left.is_empty() {
            summary.left.push(format!("{label}: {}", left.join(", ")));
        }
        return Ok(());
    }
    Err("the object kept changing under the patch".to_owned())
}
