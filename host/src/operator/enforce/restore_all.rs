//! `sluice operator restore-all`: undo every recorded enforcement in the cluster — before an
//! uninstall, or to hand control back at once. Each object with a `sluice.dev/enforcement`
//! record gets back what sluice recorded (fields a person changed since are left as they
//! are) and loses the record, in one patch per object.

use kube::api::{Api, DynamicObject, ListParams};
use kube::core::ApiResource;

use crate::operator::correlate::{workload_kinds, workload_resource};
use crate::operator::enforce::record::{ANNOTATION, Annotation, EnforcementRecord};
use crate::operator::enforce::target::{Step, restore_changes, round_trip};
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
        resources.push(workload_resource(group, kind));
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
            match restore_object(&api, &name, &label, dry_run).await {
                Ok(Some(restored)) => {
                    if !restored.fields.is_empty() {
                        let fields = restored.fields.join(", ");
                        summary.restored.push(format!("{label}: {fields}"));
                    }
                    if !restored.left.is_empty() {
                        let fields = restored.left.join(", ");
                        summary.left.push(format!("{label}: {fields}"));
                    }
                }
                Ok(None) => {}
                Err(e) => summary.errors.push(e),
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

/// Restores everything recorded on one object in one patch (none in a dry run). `Ok(None)`:
/// nothing recorded (or the object is gone).
async fn restore_object(
    api: &Api<DynamicObject>,
    name: &str,
    label: &str,
    dry_run: bool,
) -> Result<Option<Restored>, String> {
    let outcome = round_trip(api, name, label, None, |object| {
        let record = match EnforcementRecord::read(object) {
            Ok(Annotation::Record(record)) => record,
            Ok(_) => return Step::Finish(Ok(None)),
            Err(e) => return Step::Finish(Err(format!("{label}: {e}"))),
        };
        let restoration = restore_changes(object, record.entries.iter().flat_map(|e| &e.changes));
        let restored = Restored {
            fields: restoration.fields,
            left: restoration.changed_since,
        };
        if dry_run {
            return Step::Finish(Ok(Some(restored)));
        }
        Step::Write {
            record: EnforcementRecord::empty(),
            patches: restoration.patches,
            outcome: Ok(Some(restored)),
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    outcome.unwrap_or(Ok(None))
}

/// The fields restored on one object, and those left as a person changed them.
#[derive(Debug)]
struct Restored {
    fields: Vec<String>,
    left: Vec<String>,
}
