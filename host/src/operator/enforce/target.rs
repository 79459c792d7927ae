//! Converging one object towards what an action wants: apply (recording the prior values),
//! keep, or restore exactly what was recorded — never on a field a person changed since.
//!
//! The change and its record go out in one merge patch with the object's resourceVersion as a
//! precondition: there is no moment where an object is changed but not recorded, or restored
//! but still recorded, so a restart or a leader change at any point converges. A conflict
//! re-reads the object and decides again.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::{Value, json};

use crate::operator::context::{Shared, WriteGate};
use crate::operator::enforce::change::{FieldChange, Restore};
use crate::operator::enforce::record::{ANNOTATION, Annotation, EnforcementRecord, RecordEntry};
use crate::operator::kinds::WatchedKind;

/// Conflicting patches retried before the reconcile gives up (and is retried with backoff).
const ATTEMPTS: usize = 4;

/// An object sluice may change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Target {
    /// `Kind/namespace/name`, as reports and Events show it.
    pub fn display(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }

    /// `apiVersion/Kind/namespace/name`, as records keep it.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.api_version, self.kind, self.namespace, self.name
        )
    }

    /// Reads a [`Target::key`].
    pub fn from_key(key: &str) -> Option<Target> {
        let mut parts = key.rsplitn(4, '/');
        let name = parts.next()?;
        let namespace = parts.next()?;
        let kind = parts.next()?;
        let api_version = parts.next()?;
        (!name.is_empty() && !namespace.is_empty() && !kind.is_empty() && !api_version.is_empty())
            .then(|| Target {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            })
    }

    /// The target for a watched object.
    pub fn of(object: &DynamicObject, fallback_kind: WatchedKind) -> Target {
        let (api_version, kind) = object.types.as_ref().map_or_else(
            || {
                (
                    format!("{}/{}", fallback_kind.group(), fallback_kind.versions()[0]),
                    fallback_kind.kind().to_owned(),
                )
            },
            |t| (t.api_version.clone(), t.kind.clone()),
        );
        Target {
            api_version,
            kind,
            namespace: object.metadata.namespace.clone().unwrap_or_default(),
            name: object.metadata.name.clone().unwrap_or_default(),
        }
    }

    fn resource(&self) -> ApiResource {
        let (group, version) = match self.api_version.rsplit_once('/') {
            Some((group, version)) => (group.to_owned(), version.to_owned()),
            None => (String::new(), self.api_version.clone()),
        };
        let plural = WatchedKind::from_kind(&self.kind).map_or_else(
            || format!("{}s", self.kind.to_ascii_lowercase()),
            |k| k.plural().to_owned(),
        );
        ApiResource {
            group,
            version,
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            plural,
        }
    }

    /// The live object, if it exists.
    pub async fn get(&self, client: &kube::Client) -> Result<Option<DynamicObject>, kube::Error> {
        self.api(client).get_opt(&self.name).await
    }

    fn api(&self, client: &kube::Client) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), &self.namespace, &self.resource())
    }
}

/// What an action wants of an object.
pub enum Desire<'a> {
    /// Keep the action in effect for `policies`; put it in effect only when `fire`.
    Keep {
        fire: bool,
        policies: Vec<String>,
        /// The changes the action makes to the object as it is now (empty: nothing to do).
        changes: &'a (dyn Fn(&Value) -> Vec<FieldChange> + Sync),
        /// On the subject: the other objects the action changed.
        targets: Vec<String>,
    },
    /// Undo what was recorded, if anything.
    Release,
}

impl std::fmt::Debug for Desire<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Desire::Keep { fire, policies, .. } => f
                .debug_struct("Keep")
                .field("fire", fire)
                .field("policies", policies)
                .finish_non_exhaustive(),
            Desire::Release => f.write_str("Release"),
        }
    }
}

/// Where the object ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Converged {
    /// The object does not exist (any more).
    Gone,
    /// `sluice.dev/enforcement: disabled`.
    OptedOut,
    /// The record annotation cannot be read; the object is left alone.
    Unreadable(String),
    /// The trigger holds within its grace period and nothing is in effect yet.
    NotYet,
    /// The action fires but the object needs no change (e.g. no automated sync to turn off).
    NothingToChange,
    /// The action was put in effect now (`written: false` in dry-run mode).
    Applied {
        changes: Vec<FieldChange>,
        written: bool,
    },
    /// The action was already in effect (its values updated if the state moved).
    InEffect,
    /// A person changed a field sluice had set; sluice leaves the object alone until the
    /// trigger clears. `newly`: noticed in this pass.
    Yielded { fields: Vec<String>, newly: bool },
    /// The recorded values were restored (`written: false` in dry-run mode);
    /// `changed_since` lists fields left as a person set them.
    Restored {
        fields: Vec<String>,
        changed_since: Vec<String>,
        written: bool,
    },
    /// Nothing was recorded; nothing to undo.
    Released,
}

/// Why an object could not be converged.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{target}: {}", chain(source))]
    Kube { target: String, source: kube::Error },
    #[error("{0}: the object kept changing under the patch ({ATTEMPTS} conflicts)")]
    Conflicts(String),
    #[error("not the leader any more; {0} left as it is")]
    NotLeader(String),
}

/// An error with its causes: kube's transport errors say "client error (SendRequest)" and
/// keep the reason (a timeout, a refused connection) in their sources.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Converges `target` for `action`. In dry-run mode nothing is written and the outcome says
/// what would have been done.
pub async fn converge(
    shared: &Shared,
    target: &Target,
    action: &str,
    desire: &Desire<'_>,
    dry_run: bool,
    now: &str,
) -> Result<Converged, TargetError> {
    let api = target.api(&shared.client);
    let label = target.display();
    let outcome = round_trip(&api, &target.name, &label, Some(&shared.writes), |object| {
        let mut record = match EnforcementRecord::read(object) {
            Ok(Annotation::OptedOut) => return Step::Finish(Converged::OptedOut),
            Ok(Annotation::Absent) => EnforcementRecord::empty(),
            Ok(Annotation::Record(record)) => record,
            Err(e) => return Step::Finish(Converged::Unreadable(e.to_string())),
        };
        let entry = record.take(action, None);
        let (outcome, patches) = decide(object, &mut record, entry, action, desire, now);
        match patches {
            _ if dry_run => Step::Finish(unwritten(outcome)),
            None => Step::Finish(outcome),
            Some(patches) => Step::Write {
                record,
                patches,
                outcome,
            },
        }
    })
    .await?;
    Ok(outcome.unwrap_or(Converged::Gone))
}

/// Rewrites the record on `target` with `edit`, which says whether it changed anything
/// (alert deliveries, forgotten entries). `Ok(false)`: nothing to write, or the object is gone
/// or opted out.
pub async fn edit_record(
    shared: &Shared,
    target: &Target,
    edit: &(dyn Fn(&mut EnforcementRecord) -> bool + Sync),
) -> Result<bool, TargetError> {
    let api = target.api(&shared.client);
    let label = target.display();
    let written = round_trip(&api, &target.name, &label, Some(&shared.writes), |object| {
        let mut record = match EnforcementRecord::read(object) {
            Ok(Annotation::Record(record)) => record,
            Ok(Annotation::Absent) => EnforcementRecord::empty(),
            Ok(Annotation::OptedOut) | Err(_) => return Step::Finish(false),
        };
        if !edit(&mut record) {
            return Step::Finish(false);
        }
        Step::Write {
            record,
            patches: Vec::new(),
            outcome: true,
        }
    })
    .await?;
    Ok(written.unwrap_or(false))
}

/// What to do with the object just read.
pub(super) enum Step<T> {
    Finish(T),
    /// Write the record with these field patches, then finish with `outcome`.
    Write {
        record: EnforcementRecord,
        patches: Vec<Value>,
        outcome: T,
    },
}

/// Read, decide, write with the read resourceVersion as precondition; a conflict reads again.
/// `None`: the object does not exist. With a `gate`, nothing is written once it closes (the
/// operator lost the lease); `restore-all` runs without one.
pub(super) async fn round_trip<T>(
    api: &Api<DynamicObject>,
    name: &str,
    label: &str,
    gate: Option<&WriteGate>,
    step: impl Fn(&Value) -> Step<T>,
) -> Result<Option<T>, TargetError> {
    let kube_error = |source| TargetError::Kube {
        target: label.to_owned(),
        source,
    };
    for _ in 0..ATTEMPTS {
        let Some(live) = api.get_opt(name).await.map_err(kube_error)? else {
            return Ok(None);
        };
        let object = serde_json::to_value(&live).expect("an object from the API serializes");
        let (record, patches, outcome) = match step(&object) {
            Step::Finish(outcome) => return Ok(Some(outcome)),
            Step::Write {
                record,
                patches,
                outcome,
            } => (record, patches, outcome),
        };
        if gate.is_some_and(|g| !g.is_open()) {
            return Err(TargetError::NotLeader(label.to_owned()));
        }
        let mut patch = json!({
            "metadata": {
                "resourceVersion": live.metadata.resource_version,
                "annotations": {
                    ANNOTATION: (!record.entries.is_empty()).then(|| record.to_annotation()),
                },
            },
        });
        for change in patches {
            merge(&mut patch, change);
        }
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(Some(outcome)),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                tracing::debug!(target = %label, "enforcement patch conflicted; re-reading");
            }
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(None),
            Err(e) => return Err(kube_error(e)),
        }
    }
    Err(TargetError::Conflicts(label.to_owned()))
}

/// What restoring recorded changes on an object comes to.
#[derive(Debug, Default)]
pub(super) struct Restoration {
    /// Fields that get their prior value back.
    pub fields: Vec<String>,
    /// Fields a person changed since; left as they are.
    pub changed_since: Vec<String>,
    pub patches: Vec<Value>,
}

/// Restores `changes` on `object` as it is now.
pub(super) fn restore_changes<'c>(
    object: &Value,
    changes: impl IntoIterator<Item = &'c FieldChange>,
) -> Restoration {
    let mut restoration = Restoration::default();
    for change in changes {
        match change.restore(object) {
            Restore::Patch(patch) => {
                restoration.fields.push(field_name(&change.path));
                restoration.patches.push(patch);
            }
            Restore::ChangedSince { .. } => {
                restoration.changed_since.push(field_name(&change.path));
            }
        }
    }
    restoration
}

/// The decision for one object: the outcome, and the field patches to write with the
/// (updated) record — `None` when nothing needs writing.
fn decide(
    object: &Value,
    record: &mut EnforcementRecord,
    entry: Option<RecordEntry>,
    action: &str,
    desire: &Desire<'_>,
    now: &str,
) -> (Converged, Option<Vec<Value>>) {
    match (desire, entry) {
        (
            Desire::Keep {
                policies,
                changes,
                targets,
                ..
            },
            Some(mut entry),
        ) => {
            let before = entry.clone();
            entry.policies.clone_from(policies);
            entry.targets.clone_from(targets);
            if entry.yielded {
                let write = entry != before;
                record.entries.push(entry);
                return (
                    Converged::Yielded {
                        fields: Vec::new(),
                        newly: false,
                    },
                    write.then(Vec::new),
                );
            }
            let touched: Vec<String> = entry
                .changes
                .iter()
                .filter(|c| object.pointer(&c.path) != c.applied.as_ref())
                .map(|c| field_name(&c.path))
                .collect();
            if !touched.is_empty() {
                // Someone changed what sluice set while the trigger holds: leave it to them.
                entry.yielded = true;
                entry.changes.clear();
                record.entries.push(entry);
                return (
                    Converged::Yielded {
                        fields: touched,
                        newly: true,
                    },
                    Some(Vec::new()),
                );
            }
            // The state moved (e.g. the annotated state): update what sluice set, keeping
            // the value from before sluice.
            let mut patches = Vec::new();
            for wanted in changes(object) {
                match entry.changes.iter_mut().find(|c| c.path == wanted.path) {
                    Some(existing) => {
                        existing.applied.clone_from(&wanted.applied);
                        patches.push(wanted.apply_patch());
                    }
                    None => {
                        patches.push(wanted.apply_patch());
                        entry.changes.push(wanted);
                    }
                }
            }
            let write = entry != before;
            record.entries.push(entry);
            (Converged::InEffect, write.then_some(patches))
        }
        (
            Desire::Keep {
                fire,
                policies,
                changes,
                targets,
            },
            None,
        ) => {
            if !fire {
                return (Converged::NotYet, None);
            }
            let changes = changes(object);
            if changes.is_empty() && targets.is_empty() {
                return (Converged::NothingToChange, None);
            }
            let patches = changes.iter().map(FieldChange::apply_patch).collect();
            record.entries.push(RecordEntry {
                action: action.to_owned(),
                policies: policies.clone(),
                changes: changes.clone(),
                targets: targets.clone(),
                yielded: false,
                delivered: None,
                at: now.to_owned(),
            });
            (
                Converged::Applied {
                    changes,
                    written: true,
                },
                Some(patches),
            )
        }
        (Desire::Release, Some(entry)) => {
            let restored = restore_changes(object, &entry.changes);
            (
                Converged::Restored {
                    fields: restored.fields,
                    changed_since: restored.changed_since,
                    written: true,
                },
                Some(restored.patches),
            )
        }
        (Desire::Release, None) => (Converged::Released, None),
    }
}

/// Marks outcomes of a dry run as not written.
fn unwritten(outcome: Converged) -> Converged {
    match outcome {
        Converged::Applied { changes, .. } => Converged::Applied {
            changes,
            written: false,
        },
        Converged::Restored {
            fields,
            changed_since,
            ..
        } => Converged::Restored {
            fields,
            changed_since,
            written: false,
        },
        other => other,
    }
}

/// `spec.syncPolicy.automated` for `/spec/syncPolicy/automated`.
fn field_name(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Merges JSON merge patch `from` into `into` (later values win at the leaves).
fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value);
                    }
                    _ => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (into, from) => *into = from,
    }
}

/// Sets `metadata.<field>.<key>` (`field`: `annotations` or `labels`) to `value`.
pub fn metadata_change(object: &Value, field: &str, key: &str, value: &str) -> Option<FieldChange> {
    let escaped = key.replace('~', "~0").replace('/', "~1");
    FieldChange::set(
        object,
        &format!("/metadata/{field}/{escaped}"),
        Some(Value::String(value.to_owned())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep<'a>(
        fire: bool,
        changes: &'a (dyn Fn(&Value) -> Vec<FieldChange> + Sync),
    ) -> Desire<'a> {
        Desire::Keep {
            fire,
            policies: vec!["shop/strict".into()],
            changes,
            targets: Vec::new(),
        }
    }

    fn suspend(object: &Value) -> Vec<FieldChange> {
        FieldChange::set(object, "/spec/suspend", Some(json!(true)))
            .into_iter()
            .collect()
    }

    #[test]
    fn keys_round_trip_including_core_and_grouped_kinds() {
        for target in [
            Target {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "web".into(),
            },
            Target {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                namespace: "shop".into(),
                name: "settings".into(),
            },
        ] {
            assert_eq!(Target::from_key(&target.key()), Some(target.clone()));
        }
        assert_eq!(Target::from_key("Deployment/shop/web"), None);
        let resource = Target::from_key("kustomize.toolkit.fluxcd.io/v1/Kustomization/flux/apps")
            .expect("key")
            .resource();
        assert_eq!(resource.plural, "kustomizations");
        assert_eq!(resource.group, "kustomize.toolkit.fluxcd.io");
    }

    #[test]
    fn applying_records_the_prior_value_and_a_second_pass_changes_nothing() {
        let object = json!({"spec": {"suspend": false}});
        let mut record = EnforcementRecord::empty();
        let (outcome, patches) = decide(
            &object,
            &mut record,
            None,
            "suspendSync",
            &keep(true, &suspend),
            "t",
        );
        assert!(matches!(outcome, Converged::Applied { .. }));
        assert_eq!(patches, Some(vec![json!({"spec": {"suspend": true}})]));
        let entry = record.take("suspendSync", None).expect("recorded");
        assert_eq!(entry.changes[0].prior, Some(json!(false)));

        let suspended = json!({"spec": {"suspend": true}});
        let (outcome, patches) = decide(
            &suspended,
            &mut record,
            Some(entry.clone()),
            "suspendSync",
            &keep(true, &suspend),
            "t",
        );
        assert_eq!(outcome, Converged::InEffect);
        assert_eq!(patches, None, "an unchanged pass writes nothing");

        let mut record = EnforcementRecord::empty();
        let (outcome, patches) = decide(
            &suspended,
            &mut record,
            Some(entry),
            "suspendSync",
            &Desire::Release,
            "t",
        );
        assert_eq!(
            outcome,
            Converged::Restored {
                fields: vec!["spec.suspend".into()],
                changed_since: Vec::new(),
                written: true
            }
        );
        assert_eq!(patches, Some(vec![json!({"spec": {"suspend": false}})]));
        assert!(record.entries.is_empty());
    }

    #[test]
    fn a_field_a_person_changed_is_never_overwritten() {
        let object = json!({"spec": {"suspend": false}});
        let mut record = EnforcementRecord::empty();
        decide(
            &object,
            &mut record,
            None,
            "suspendSync",
            &keep(true, &suspend),
            "t",
        );
        let entry = record.take("suspendSync", None).expect("recorded");
        // The person resumed it by hand while the trigger still holds.
        let (outcome, patches) = decide(
            &object,
            &mut record,
            Some(entry.clone()),
            "suspendSync",
            &keep(true, &suspend),
            "t",
        );
        assert_eq!(
            outcome,
            Converged::Yielded {
                fields: vec!["spec.suspend".into()],
                newly: true
            }
        );
        assert_eq!(patches, Some(Vec::new()), "only the record is written");
        let yielded = record.take("suspendSync", None).expect("kept as yielded");
        assert!(yielded.yielded && yielded.changes.is_empty());
        // Later passes leave it alone.
        let (outcome, patches) = decide(
            &object,
            &mut record,
            Some(yielded.clone()),
            "suspendSync",
            &keep(true, &suspend),
            "t",
        );
        assert!(matches!(outcome, Converged::Yielded { newly: false, .. }));
        assert_eq!(patches, None);
        // Reversal restores nothing over the person's value.
        let mut record = EnforcementRecord::empty();
        let (_, patches) = decide(
            &object,
            &mut record,
            Some(entry),
            "suspendSync",
            &Desire::Release,
            "t",
        );
        assert_eq!(patches, Some(Vec::new()));
    }

    #[test]
    fn within_the_grace_period_nothing_new_is_applied() {
        let object = json!({"spec": {}});
        let mut record = EnforcementRecord::empty();
        let (outcome, patches) = decide(
            &object,
            &mut record,
            None,
            "suspendSync",
            &keep(false, &suspend),
            "t",
        );
        assert_eq!(outcome, Converged::NotYet);
        assert_eq!(patches, None);
    }

    #[test]
    fn patches_merge_deeply() {
        let mut patch = json!({"metadata": {"annotations": {"a": "1"}, "resourceVersion": "7"}});
        merge(&mut patch, json!({"metadata": {"annotations": {"b": "2"}}}));
        merge(
            &mut patch,
            json!({"spec": {"syncPolicy": {"automated": null}}}),
        );
        assert_eq!(
            patch,
            json!({"metadata": {"annotations": {"a": "1", "b": "2"}, "resourceVersion": "7"},
                   "spec": {"syncPolicy": {"automated": null}}})
        );
    }
}
